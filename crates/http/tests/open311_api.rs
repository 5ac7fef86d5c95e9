//! Open311 GeoReport v2 over HTTP on SQLite and PostgreSQL: services and their definitions in
//! JSON and XML, requests raised form-encoded under an API key and read back by id, in lists
//! with filters and by token, and every refusal in the spec's error shape.

use axum::http::{StatusCode, header};
use serde_json::Value;
use shezhi_domain::access::{Binding, Role};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::territory::RegionCode;
use shezhi_http::router;
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

mod common;
use common::{send_bytes, state, token_for};

/// 2026-11-23 (Monday) 10:00 China time.
const NOW: i64 = 1_795_363_200_000 + 10 * 3_600_000;
/// A point in 锦江区.
const LAT: f64 = 30.6465;
const LONG: f64 = 104.0835;
const ROOT: &str = "/open311/v2";

struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn call(app: &axum::Router, method: &str, uri: &str, form: Option<&str>) -> Answer {
    let headers: &[(&str, &str)] = match form {
        Some(_) => &[("content-type", "application/x-www-form-urlencoded")],
        None => &[],
    };
    let body = form.unwrap_or_default().as_bytes().to_vec();
    let (status, headers, bytes) = send_bytes(app, method, uri, headers, body).await;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Answer {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &axum::Router, path: &str) -> Answer {
    call(app, "GET", &format!("{ROOT}/{path}"), None).await
}

async fn post(app: &axum::Router, path: &str, form: &str) -> Answer {
    call(app, "POST", &format!("{ROOT}/{path}"), Some(form)).await
}

/// A JSON error in the spec's shape, with this status, and text in both languages.
fn assert_json_error(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.content_type, "application/json");
    let body = a.json();
    let e = &body[0];
    assert_eq!(e["code"], status.as_u16(), "{}", a.text);
    let d = e["description"].as_str().unwrap_or_default();
    let (en, zh) = d
        .split_once(" / ")
        .unwrap_or_else(|| panic!("not bilingual: {d}"));
    assert!(!en.is_empty() && en.is_ascii(), "English first: {d}");
    assert!(
        zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "no Chinese: {d}"
    );
    assert_eq!(body.as_array().map(Vec::len), Some(1), "{}", a.text);
}

fn assert_xml_error(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.content_type, "text/xml; charset=utf-8");
    assert!(
        a.text
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
        "{}",
        a.text
    );
    let code = format!(
        "<errors><error><code>{}</code><description>",
        status.as_u16()
    );
    assert!(a.text.contains(&code), "{}", a.text);
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => {
                        (b as char).to_string()
                    }
                    b' ' => "+".into(),
                    b => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A whole report under `key`; each change replaces a field by name, adds it, or (when empty)
/// drops it.
fn report(key: &str, changes: &[(&str, &str)]) -> String {
    let lat = LAT.to_string();
    let long = LONG.to_string();
    let mut f = vec![
        ("api_key", key),
        ("jurisdiction_id", "510100000000"),
        ("service_code", "order.vendor"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("address_string", "锦江区某路 8 号 <东门> & 侧"),
        ("description", "小区门口占道摆摊，堵住消防通道"),
        ("first_name", "三"),
        ("last_name", "张"),
        ("email", "z@example.org"),
    ];
    for (name, value) in changes {
        f.retain(|(k, _)| k != name);
        if !value.is_empty() {
            f.push((name, value));
        }
    }
    form(&f)
}

async fn services(app: &axum::Router) {
    let a = get(app, "services.json").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.content_type, "application/json");
    let list = a.json();
    let vendor = list
        .as_array()
        .and_then(|l| l.iter().find(|s| s["service_code"] == "order.vendor"))
        .unwrap_or_else(|| panic!("no order.vendor in {list}"))
        .clone();
    assert_eq!(vendor["metadata"], false);
    assert_eq!(vendor["type"], "realtime");
    for field in ["service_name", "description", "keywords", "group"] {
        assert!(
            !vendor[field].as_str().unwrap_or_default().is_empty(),
            "{field}: {vendor}"
        );
    }
    let keys: Vec<&String> = vendor
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 7, "{vendor}");

    let x = get(app, "services.xml?jurisdiction_id=510100000000").await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text);
    assert_eq!(x.content_type, "text/xml; charset=utf-8");
    assert!(x.text.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service><service_code>"
    ));
    assert!(
        x.text.contains("<service_code>order.vendor</service_code>"),
        "{}",
        x.text
    );
    assert!(
        x.text
            .contains("<metadata>false</metadata><type>realtime</type>")
    );
    assert_eq!(
        x.text.matches("<service>").count(),
        list.as_array().map(Vec::len).unwrap_or_default()
    );

    let d = get(app, "services/order.vendor.json?jurisdiction_id=chengdu").await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(
        d.json(),
        serde_json::json!({"service_code": "order.vendor", "attributes": []})
    );
    let dx = get(app, "services/order.vendor.xml").await;
    assert!(
        dx.text.contains("<service_definition><service_code>order.vendor</service_code><attributes/></service_definition>"),
        "{}",
        dx.text
    );
    assert_json_error(
        &get(app, "services/no.such.json").await,
        StatusCode::NOT_FOUND,
    );
    assert_xml_error(
        &get(app, "services/no.such.xml").await,
        StatusCode::NOT_FOUND,
    );
    // A group is not a service.
    assert_json_error(
        &get(app, "services/order.json").await,
        StatusCode::NOT_FOUND,
    );
    assert_json_error(&get(app, "services.csv").await, StatusCode::NOT_FOUND);
    assert_json_error(&get(app, "services").await, StatusCode::NOT_FOUND);
    assert_json_error(&get(app, "requests/x.html").await, StatusCode::NOT_FOUND);
    assert_json_error(&get(app, "whatever.json").await, StatusCode::NOT_FOUND);
    assert_json_error(
        &get(app, "services.json?jurisdiction_id=beijing").await,
        StatusCode::NOT_FOUND,
    );
    assert_xml_error(
        &get(app, "requests.xml?jurisdiction_id=110000000000").await,
        StatusCode::NOT_FOUND,
    );
}

async fn refusals(app: &axum::Router, key: &str) {
    let no_key = form(&[
        ("service_code", "order.vendor"),
        ("lat", "30.6465"),
        ("long", "104.0835"),
    ]);
    assert_json_error(
        &post(app, "requests.json", &no_key).await,
        StatusCode::FORBIDDEN,
    );
    assert_xml_error(
        &post(app, "requests.xml", &no_key).await,
        StatusCode::FORBIDDEN,
    );
    let wrong = report("not-a-key", &[]);
    assert_json_error(
        &post(app, "requests.json", &wrong).await,
        StatusCode::FORBIDDEN,
    );
    let other_place = report(key, &[("jurisdiction_id", "440300000000")]);
    assert_json_error(
        &post(app, "requests.json", &other_place).await,
        StatusCode::NOT_FOUND,
    );
    let cases: &[(&[(&str, &str)], StatusCode)] = &[
        (&[("service_code", "")], StatusCode::BAD_REQUEST),
        (&[("service_code", "no.such")], StatusCode::BAD_REQUEST),
        (&[("service_code", "order")], StatusCode::BAD_REQUEST),
        (&[("lat", "abc")], StatusCode::BAD_REQUEST),
        (&[("long", "NaN")], StatusCode::BAD_REQUEST),
        (&[("lat", "91")], StatusCode::BAD_REQUEST),
        (&[("lat", ""), ("long", "")], StatusCode::BAD_REQUEST),
        (&[("lat", "0"), ("long", "0")], StatusCode::BAD_REQUEST),
        (&[("description", "")], StatusCode::BAD_REQUEST),
        (&[("description", "x")], StatusCode::BAD_REQUEST),
        (&[("phone", "12345")], StatusCode::BAD_REQUEST),
    ];
    for (changes, status) in cases {
        let a = post(app, "requests.json", &report(key, changes)).await;
        assert_json_error(&a, *status);
    }
    let json = [("content-type", "application/json")];
    let uri = format!("{ROOT}/requests.json");
    let (status, _, _) = send_bytes(app, "POST", &uri, &json, b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_json_error(&post(app, "services.json", "").await, StatusCode::NOT_FOUND);
    assert_json_error(&post(app, "requests.txt", "").await, StatusCode::NOT_FOUND);
}

/// Raise a request and give its id.
async fn raise(app: &axum::Router, fmt: &str, body: &str) -> String {
    let a = post(app, &format!("requests.{fmt}"), body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    if fmt == "json" {
        let v = a.json();
        let id = v[0]["service_request_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(id.starts_with("SQ20261123"), "{v}");
        assert_eq!(v[0]["token"], id.as_str());
        assert_eq!(v[0]["service_notice"], "");
        assert!(
            v[0]["account_id"].as_str().is_some_and(|x| !x.is_empty()),
            "{v}"
        );
        id
    } else {
        let start = a
            .text
            .find("<service_request_id>")
            .map(|i| i + 20)
            .unwrap_or(0);
        let end = a.text.find("</service_request_id>").unwrap_or(0);
        assert!(a.text.contains("<service_requests><request>"), "{}", a.text);
        a.text[start..end].to_string()
    }
}

async fn case_of(store: &Store, number: &str) -> shezhi_store::cases::CaseDetail {
    let id = store
        .case_id_by_number(number)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no case {number}"));
    store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no case {id}"))
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|r| {
                    r["service_request_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn open311(store: Store) {
    let st = state(&store).await;
    store
        .ensure_catalogue(0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let chain = st
        .locator
        .locate([LONG, LAT])
        .unwrap_or_else(|e| panic!("{e:?}"));
    let grid = chain[4].code.as_str().to_string();
    let no_vault = router(
        state(&store)
            .await
            .with_clock(Arc::new(FixedClock::new(NOW))),
    );
    let app = router(
        st.with_clock(Arc::new(FixedClock::new(NOW)))
            .with_vault(Some(Arc::new(Vault::new(&DataKey::from_bytes([3; 32]))))),
    );
    let resident = token_for(
        &store,
        "jumin",
        vec![Binding {
            role: Role::Resident,
            scope: None,
            unit: None,
        }],
        None,
    )
    .await;
    let worker = token_for(
        &store,
        "wangge",
        vec![Binding {
            role: Role::GridWorker,
            scope: Some(RegionCode::parse(&grid).unwrap_or_else(|e| panic!("{e}"))),
            unit: None,
        }],
        None,
    )
    .await;

    services(&app).await;
    refusals(&app, &resident).await;

    // A resident's report, with a phone kept sealed; read back in both formats.
    let first = raise(
        &app,
        "json",
        &report(
            &resident,
            &[
                ("phone", "+86 138-0013-8000"),
                ("media_url", "http://example.org/x.jpg"),
            ],
        ),
    )
    .await;
    let detail = case_of(&store, &first).await;
    assert_eq!(detail.case.source, "resident");
    assert_eq!(detail.contact_masked.as_deref(), Some("138****8000"));
    assert!(detail.reporter.starts_with("user:"), "{}", detail.reporter);
    assert_eq!(detail.case.address, "锦江区某路 8 号 <东门> & 侧");

    let one = get(
        &app,
        &format!("requests/{first}.json?jurisdiction_id=510100000000"),
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    let r = &one.json()[0];
    assert_eq!(r["service_request_id"], first.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["status_notes"], "待受理");
    assert_eq!(r["service_code"], "order.vendor");
    assert!(
        !r["service_name"].as_str().unwrap_or_default().is_empty(),
        "{r}"
    );
    assert_eq!(r["requested_datetime"], "2026-11-23T10:00:00+08:00");
    assert_eq!(r["updated_datetime"], "2026-11-23T10:00:00+08:00");
    // Public output holds nothing of the reporter: the position to about 100 m, the address
    // as the chain of regions (no register here, so no compound nearby), no words until staff
    // publish some (tests/public_output.rs).
    assert_eq!(r["lat"], 30.647);
    assert_eq!(r["long"], 104.084);
    let address = r["address"].as_str().unwrap_or_default();
    assert!(
        address.starts_with("锦江区") && address.contains("街道") && address.contains("社区"),
        "{r}"
    );
    assert!(!one.text.contains("某路"), "{}", one.text);
    assert_eq!(r["service_notice"], "");
    assert_eq!(r["description"], "", "{r}");
    assert!(r.get("media_url").is_none(), "{r}");
    let one_xml = get(&app, &format!("requests/{first}.xml")).await;
    assert_eq!(one_xml.content_type, "text/xml; charset=utf-8");
    assert!(one_xml.text.contains(&format!("<service_requests><request><service_request_id>{first}</service_request_id><status>open</status>")), "{}", one_xml.text);
    assert!(
        one_xml
            .text
            .contains(&format!("<address>{address}</address>")),
        "{}",
        one_xml.text
    );
    assert!(
        one_xml
            .text
            .contains("<lat>30.647</lat><long>104.084</long>"),
        "{}",
        one_xml.text
    );
    assert_json_error(
        &get(&app, "requests/SQ2026112399999.json").await,
        StatusCode::NOT_FOUND,
    );
    assert_xml_error(
        &get(&app, "requests/SQ2026112399999.xml").await,
        StatusCode::NOT_FOUND,
    );

    // A grid worker's report from the same door is a patrol report; sent as XML.
    let second = raise(
        &app,
        "xml",
        &report(&worker, &[("description", "占道经营 again")]),
    )
    .await;
    assert_eq!(case_of(&store, &second).await.case.source, "patrol");
    // Without a data key the phone is left out rather than refused.
    let third = raise(
        &no_vault,
        "json",
        &report(&resident, &[("phone", "13800138000")]),
    )
    .await;
    assert_eq!(case_of(&store, &third).await.contact_masked, None);

    let tok = get(&app, &format!("tokens/{first}.json")).await;
    assert_eq!(
        tok.json(),
        serde_json::json!([{"service_request_id": first, "token": first}])
    );
    assert_json_error(
        &get(&app, "tokens/nothing.json").await,
        StatusCode::NOT_FOUND,
    );

    // Lists: newest first, with filters.
    let all = get(&app, "requests.json").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(
        ids(&all.json()),
        vec![third.clone(), second.clone(), first.clone()]
    );
    let by_code = get(
        &app,
        "requests.json?service_code=order.vendor,order.vendor,env.none&status=open",
    )
    .await;
    assert_eq!(ids(&by_code.json()).len(), 3, "{}", by_code.text);
    let none = get(&app, "requests.json?service_code=env.none").await;
    assert_eq!(none.json(), serde_json::json!([]));
    assert_eq!(
        get(&app, "requests.json?status=closed").await.json(),
        serde_json::json!([])
    );
    let picked = get(
        &app,
        &format!("requests.json?service_request_id={first},%20{third},SQ1&status=closed"),
    )
    .await;
    assert_eq!(ids(&picked.json()), vec![first.clone(), third.clone()]);
    let window = get(
        &app,
        "requests.json?start_date=2026-11-23T09:59:59%2B08:00&end_date=2026-11-23T02:00:00Z",
    )
    .await;
    assert_eq!(ids(&window.json()).len(), 3, "{}", window.text);
    let later = get(&app, "requests.json?start_date=2026-11-23T10:00:01+08:00").await;
    assert_eq!(later.json(), serde_json::json!([]), "{}", later.text);
    let earlier = get(&app, "requests.json?end_date=2026-11-22").await;
    assert_eq!(earlier.json(), serde_json::json!([]), "{}", earlier.text);
    let xml = get(&app, "requests.xml?service_code=order.vendor").await;
    assert_eq!(xml.text.matches("<request>").count(), 3, "{}", xml.text);
    assert!(xml.text.contains("<service_requests><request>"));
    assert_eq!(
        get(&app, "requests.xml?status=closed").await.text,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests></service_requests>\n"
    );
    for bad in [
        "requests.json?start_date=yesterday",
        "requests.json?end_date=2026-11-23T10:00:00%2B8",
        "requests.json?status=pending",
        "requests.json?start_date=2026-11-23&end_date=2026-11-01",
        "requests.json?start_date=2026-01-01&end_date=2026-11-01",
    ] {
        assert_json_error(&get(&app, bad).await, StatusCode::BAD_REQUEST);
    }
    assert_xml_error(
        &get(&app, "requests.xml?status=x").await,
        StatusCode::BAD_REQUEST,
    );
}

on_both_backends!(open311);
