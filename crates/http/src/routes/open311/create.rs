//! `POST requests.{fmt}`: a report sent form-encoded under an API key, raised as a case from
//! the key's user, through the same intake as `POST /api/v1/cases`.

use super::wire::{Doc, Fail, Val, reply, split_file};
use super::{File, Params, bad, jurisdiction, leaf, no_such_endpoint, shown, unknown_format};
use crate::AppState;
use crate::auth::{Caller, CallerUser, ClientIp};
use crate::routes::cases::{staff_source, submit};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use shezhi_domain::Bilingual;
use shezhi_domain::access::{Action, Grants, secret_hash};
use shezhi_domain::cases::Source;
use shezhi_domain::people::Phone;
use shezhi_store::cases::NewCase;

pub async fn create(
    State(s): State<AppState>,
    File(file): File,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let Some((name, format)) = split_file(&file) else {
        return unknown_format();
    };
    if name != "requests" {
        return reply(format, StatusCode::OK, Err(no_such_endpoint()));
    }
    reply(
        format,
        StatusCode::CREATED,
        take(&s, ip, &headers, q.as_deref(), &body).await,
    )
}

fn forbidden(en: &str, zh: &str) -> Fail {
    Fail::new(StatusCode::FORBIDDEN, en, zh)
}

/// The key's user as a caller, with their grants.
async fn key_caller(s: &AppState, p: &Params, ip: Option<String>) -> Result<Caller, Fail> {
    let key = p.get("api_key").ok_or_else(|| {
        forbidden(
            "api_key is required to create a request",
            "提交服务请求须提供 api_key",
        )
    })?;
    let id = s
        .store
        .api_token_user(&secret_hash(key), s.clock.now_ms())
        .await?
        .ok_or_else(|| {
            forbidden(
                "invalid api_key: unknown, expired or revoked",
                "api_key 无效、已过期或已撤销",
            )
        })?;
    Ok(Caller {
        user: Some(CallerUser {
            id,
            resident_id: s.store.user_resident(id).await?,
        }),
        grants: Grants::new(s.store.user_bindings(id).await?),
        ip,
        csrf_token: None,
        token_id: None,
    })
}

/// A coordinate from the form: a finite number within `limit` degrees.
fn degrees(p: &Params, name: &str, limit: f64) -> Result<f64, Fail> {
    let raw = p.get(name).ok_or_else(|| {
        bad(
            "lat and long are required (shezhi places a report by its point; address_string alone is not geocoded)",
            "须提供经纬度 lat 和 long（仅有 address_string 无法定位）",
        )
    })?;
    raw.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && v.abs() <= limit)
        .ok_or_else(|| {
            bad(
                &format!("{name} must be a number of degrees, not {:?}", shown(raw)),
                &format!("{name} 须为经纬度数值，而不是“{}”", shown(raw)),
            )
        })
}

async fn take(
    s: &AppState,
    ip: Option<String>,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<Doc, Fail> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-www-form-urlencoded");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(Fail::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the fields as application/x-www-form-urlencoded",
            "请以 application/x-www-form-urlencoded 表单提交",
        ));
    }
    // Some clients put the fields in the query string; the body's come first.
    let mut pairs = super::wire::form_pairs(body);
    pairs.extend(super::wire::form_pairs(
        query.unwrap_or_default().as_bytes(),
    ));
    let p = Params::new(pairs)?;
    jurisdiction(s, &p).await?;
    let caller = key_caller(s, &p, ip).await?;
    let code = p
        .get("service_code")
        .ok_or_else(|| bad("service_code is required", "缺少 service_code"))?;
    if leaf(s, code).await?.is_none() {
        return Err(bad(
            &format!("unknown service_code {:?}", shown(code)),
            &format!("没有服务 service_code“{}”", shown(code)),
        ));
    }
    let lat = degrees(&p, "lat", 90.0)?;
    let lon = degrees(&p, "long", 180.0)?;
    let outside = || bad("the point lies outside the territory", "该位置不在辖区内");
    let chain = s.locator.locate([lon, lat]).map_err(|_| outside())?;
    let cell = chain.last().ok_or_else(outside)?.code.clone();
    if s.store.region(&cell).await?.is_none() {
        return Err(outside());
    }
    let description = p.get("description").ok_or_else(|| {
        bad(
            "description is required (2 to 2000 characters)",
            "缺少问题描述 description（2 到 2000 字）",
        )
    })?;
    let phone = p
        .get("phone")
        .map(|raw| {
            Phone::parse(raw).map_err(|e| {
                let t = e.text();
                bad(&t.en, &t.zh)
            })
        })
        .transpose()?;
    // A phone can only be kept sealed: without a data key it is left out, not refused.
    let contact = phone.filter(|_| s.vault.is_some());
    let source = if caller.grants.can(Action::ReportCase, &cell) {
        staff_source(&caller)
    } else {
        Source::Resident
    };
    let case = NewCase {
        source,
        category: code.to_string(),
        title: String::new(),
        description: description.to_string(),
        cell,
        point: Some([lon, lat]),
        address: p.get("address_string").unwrap_or_default().to_string(),
        reporter: caller.actor(),
        contact,
        photos: Vec::new(),
        idempotency: None,
        ip: caller.ip.clone(),
    };
    let intake = submit(s, case).await.map_err(|e| {
        // The store's "unprocessable" checks are bad input in Open311's terms.
        let mut f = Fail::from(e);
        if f.status == StatusCode::UNPROCESSABLE_ENTITY {
            f.status = StatusCode::BAD_REQUEST;
        }
        f
    })?;
    let account = caller.user.map(|u| u.id.to_string()).unwrap_or_default();
    Ok(Doc::List {
        root: "service_requests",
        item: "request",
        records: vec![vec![
            ("service_request_id", intake.number.as_str().into()),
            ("service_notice", "".into()),
            ("account_id", Val::Text(account)),
            ("token", intake.number.into()),
        ]],
    })
}
