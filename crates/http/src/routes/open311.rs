//! Open311 GeoReport v2 over the case loop, in JSON and XML: the catalogue as services, cases
//! as service requests (read and raised), in the spec's own shapes and error bodies. It follows
//! its own standard, so it is not part of the OpenAPI document.
//!
//! Requests are public, as the standard means them to be, but carry nothing of the reporter:
//! reports come from every channel and their words may name people who never agreed to
//! publication. A request's `description` is what staff published for the public (a step of
//! its own, personal details removed), its `address` the district, street and community with
//! the nearest named compound, and its position rounded to about a hundred metres.

mod create;
mod list;
mod wire;

use crate::AppState;
use axum::Router;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use shezhi_domain::cases::{Category, Stage};
use shezhi_store::cases::CaseSummary;
use std::collections::HashMap;
use wire::{Doc, Fail, Format, Record, Val, reply, split_file};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top).post(create::create))
        .route("/open311/v2/services/{file}", get(definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

/// The last segment of a path (`services.json`). A segment that is not UTF-8 text, or holds a
/// NUL, gets the standard's error, in JSON, rather than axum's plain text.
struct File(String);

impl<S: Send + Sync> FromRequestParts<S> for File {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(f)) if !f.contains('\0') => Ok(File(f)),
            _ => {
                let f = Fail::new(
                    StatusCode::BAD_REQUEST,
                    "the path is not valid text (UTF-8, without NUL characters)",
                    "请求地址无效（须为 UTF-8 文字，且不含空字符）",
                );
                Err(reply(Format::Json, StatusCode::OK, Err(f)))
            }
        }
    }
}

/// Whether a request may carry an Open311 `api_key` (a POST under `/open311/v2/`), which
/// the rate limiter then reads to count the request by its key rather than its address.
pub(crate) fn takes_form_key(parts: &Parts) -> bool {
    parts.method == axum::http::Method::POST && parts.uri.path().starts_with("/open311/v2/")
}

/// The API token (its id) that an Open311 request's `api_key`, in its query string or form
/// body, names, when it is valid now.
pub(crate) async fn form_key(s: &AppState, query: Option<&str>, body: &[u8]) -> Option<i64> {
    let mut pairs = wire::form_pairs(query.unwrap_or_default().as_bytes());
    pairs.extend(wire::form_pairs(body));
    let key = Params::new(pairs).ok()?.get("api_key")?.to_string();
    let hash = shezhi_domain::access::secret_hash(&key);
    match s.store.api_token(&hash, s.clock.now_ms()).await {
        Ok(found) => found.map(|(token, _)| token),
        Err(_) => None,
    }
}

/// Most requests one list answers (per the spec).
const MAX_RESULTS: usize = 1000;

/// Parameters of a query string or form: the first non-empty value of a name wins.
struct Params(Vec<(String, String)>);

impl Params {
    /// The pairs, refused when any holds a NUL character (no database stores one in text).
    fn new(pairs: Vec<(String, String)>) -> Result<Params, Fail> {
        if pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(bad(
                "a parameter contains a NUL character",
                "参数中含有空字符（NUL）",
            ));
        }
        Ok(Params(pairs))
    }

    fn query(raw: Option<&str>) -> Result<Params, Fail> {
        Params::new(wire::form_pairs(raw.unwrap_or_default().as_bytes()))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// A comma-separated list, without blanks or repeats.
    fn list(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in self.get(name).unwrap_or_default().split(',').map(str::trim) {
            if !v.is_empty() && !out.iter().any(|o| o == v) {
                out.push(v.to_string());
            }
        }
        out
    }
}

/// User input echoed in an error, cut short.
fn shown(s: &str) -> String {
    s.chars().take(60).collect()
}

fn bad(en: &str, zh: &str) -> Fail {
    Fail::new(StatusCode::BAD_REQUEST, en, zh)
}

fn unknown_format() -> Response {
    let f = Fail::new(
        StatusCode::NOT_FOUND,
        "unknown format: end the path in .json or .xml",
        "未知格式：路径须以 .json 或 .xml 结尾",
    );
    reply(Format::Json, StatusCode::OK, Err(f))
}

fn no_such_endpoint() -> Fail {
    Fail::new(StatusCode::NOT_FOUND, "no such endpoint", "没有这个地址")
}

/// The territory's root code, or `chengdu`, or nothing; any other jurisdiction is unknown.
async fn jurisdiction(s: &AppState, p: &Params) -> Result<(), Fail> {
    let Some(j) = p.get("jurisdiction_id") else {
        return Ok(());
    };
    if j == "chengdu" || s.store.root_code().await?.as_deref() == Some(j) {
        return Ok(());
    }
    Err(Fail::new(
        StatusCode::NOT_FOUND,
        &format!("unknown jurisdiction_id {:?}", shown(j)),
        &format!("未知的辖区 jurisdiction_id“{}”", shown(j)),
    ))
}

/// `services.{fmt}` and `requests.{fmt}`.
async fn top(State(s): State<AppState>, File(file): File, RawQuery(q): RawQuery) -> Response {
    let Some((name, format)) = split_file(&file) else {
        return unknown_format();
    };
    let answer = match (Params::query(q.as_deref()), name) {
        (Err(f), _) => Err(f),
        (Ok(p), "services") => services(&s, &p).await,
        (Ok(p), "requests") => list::requests(&s, &p).await,
        _ => Err(no_such_endpoint()),
    };
    reply(format, StatusCode::OK, answer)
}

async fn services(s: &AppState, p: &Params) -> Result<Doc, Fail> {
    jurisdiction(s, p).await?;
    let all = s.store.categories().await?;
    let group = |c: &Category| {
        c.parent
            .as_deref()
            .and_then(|g| all.iter().find(|x| x.code == g))
            .map(|g| g.name_zh.clone())
            .unwrap_or_default()
    };
    let records = all
        .iter()
        .filter(|c| c.leaf)
        .map(|c| {
            vec![
                ("service_code", c.code.as_str().into()),
                ("service_name", c.name_zh.as_str().into()),
                ("description", c.name_en.as_str().into()),
                ("metadata", Val::Bool(false)),
                ("type", "realtime".into()),
                ("keywords", c.keywords.join(",").into()),
                ("group", group(c).into()),
            ]
        })
        .collect();
    Ok(Doc::List {
        root: "services",
        item: "service",
        records,
    })
}

/// `services/{code}.{fmt}`: shezhi's categories ask nothing beyond the standard fields.
async fn definition(
    State(s): State<AppState>,
    File(file): File,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, format)) = split_file(&file) else {
        return unknown_format();
    };
    let answer = async {
        jurisdiction(&s, &Params::query(q.as_deref())?).await?;
        let category = leaf(&s, code).await?.ok_or_else(|| {
            Fail::new(
                StatusCode::NOT_FOUND,
                &format!("service_code {:?} not found", shown(code)),
                &format!("没有服务 service_code“{}”", shown(code)),
            )
        })?;
        Ok(Doc::One {
            root: "service_definition",
            record: vec![
                ("service_code", category.code.into()),
                ("attributes", Val::Empty),
            ],
        })
    };
    reply(format, StatusCode::OK, answer.await)
}

/// The current leaf category with this code.
async fn leaf(s: &AppState, code: &str) -> Result<Option<Category>, Fail> {
    Ok(s.store
        .category(code)
        .await?
        .map(|(c, _)| c)
        .filter(|c| c.leaf))
}

/// What a request's fields are read with: category and unit names.
struct Names {
    categories: HashMap<String, String>,
    units: HashMap<String, String>,
}

async fn names(s: &AppState) -> Result<Names, Fail> {
    let categories = s.store.categories().await?;
    let units = s.store.units(None).await?;
    Ok(Names {
        categories: categories
            .into_iter()
            .map(|c| (c.code, c.name_zh))
            .collect(),
        units: units.into_iter().map(|u| (u.code, u.name)).collect(),
    })
}

/// What the public reads of a set of requests beyond their rows: published descriptions
/// and public addresses, by case id.
pub(super) struct Public {
    texts: HashMap<i64, String>,
    addresses: HashMap<i64, String>,
}

/// Degrees of a public position: 0.001° is about 111 m north–south and 96 m east–west here.
const COARSE_DEG: f64 = 1000.0;

fn coarse(x: f64) -> f64 {
    (x * COARSE_DEG).round() / COARSE_DEG
}

pub(super) async fn public(s: &AppState, cases: &[CaseSummary]) -> Result<Public, Fail> {
    use shezhi_domain::territory::{Level, RegionCode};
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let texts = s.store.public_texts(&ids).await?;
    let cells: Vec<Option<RegionCode>> = cases
        .iter()
        .map(|c| RegionCode::parse(&c.cell_code).ok())
        .collect();
    let grid_of = |cell: &RegionCode| {
        std::iter::once(cell.clone())
            .chain(cell.ancestors())
            .find(|a| a.level() == Level::Grid)
    };
    let mut grids: Vec<String> = cases
        .iter()
        .zip(&cells)
        .filter(|(c, _)| c.point.is_some())
        .filter_map(|(_, cell)| Some(grid_of(cell.as_ref()?)?.as_str().to_string()))
        .collect();
    grids.sort();
    grids.dedup();
    let places = s.store.compounds_of_grids(&grids).await?;
    let mut addresses = HashMap::new();
    for (c, cell) in cases.iter().zip(&cells) {
        let Some(cell) = cell else { continue };
        let mut text: String = cell
            .ancestors()
            .iter()
            .filter(|a| {
                matches!(
                    a.level(),
                    Level::District | Level::Street | Level::Community
                )
            })
            .filter_map(|a| s.locator.name(a))
            .collect();
        let grid = grid_of(cell).map(|g| g.as_str().to_string());
        let nearest = c.point.and_then(|p| {
            places
                .iter()
                .filter(|n| Some(&n.grid_code) == grid.as_ref())
                .min_by(|a, b| {
                    let d = |n: &shezhi_store::register::NamedPlace| {
                        shezhi_domain::cases::distance_m(p, n.point)
                    };
                    d(a).total_cmp(&d(b))
                })
        });
        if let Some(n) = nearest {
            text.push_str(&format!("，{}附近", n.name));
        }
        addresses.insert(c.id, text);
    }
    Ok(Public { texts, addresses })
}

fn request_record(c: &CaseSummary, n: &Names, public: &Public) -> Record {
    let stage = Stage::parse(&c.stage);
    let closed = stage.is_some_and(Stage::is_final);
    let agency = c
        .lead_unit
        .as_ref()
        .map(|u| n.units.get(u).unwrap_or(u).clone())
        .unwrap_or_default();
    let mut r: Record = vec![
        ("service_request_id", c.number.as_str().into()),
        ("status", if closed { "closed" } else { "open" }.into()),
        (
            "status_notes",
            stage.map(Stage::zh).unwrap_or_default().into(),
        ),
        (
            "service_name",
            n.categories
                .get(&c.category)
                .cloned()
                .unwrap_or_default()
                .into(),
        ),
        ("service_code", c.category.as_str().into()),
        (
            "description",
            public.texts.get(&c.id).cloned().unwrap_or_default().into(),
        ),
        ("agency_responsible", agency.into()),
        ("service_notice", "".into()),
        ("requested_datetime", wire::w3c(c.created_at_ms).into()),
        ("updated_datetime", wire::w3c(c.updated_at_ms).into()),
        (
            "address",
            public
                .addresses
                .get(&c.id)
                .cloned()
                .unwrap_or_default()
                .into(),
        ),
    ];
    if let Some([lon, lat]) = c.point {
        r.push(("lat", Val::Num(coarse(lat))));
        r.push(("long", Val::Num(coarse(lon))));
    }
    r
}

async fn by_number(s: &AppState, number: &str) -> Result<Option<CaseSummary>, Fail> {
    let Some(id) = s.store.case_id_by_number(number).await? else {
        return Ok(None);
    };
    Ok(s.store.case_detail(id).await?.map(|d| d.case))
}

fn request_not_found(id: &str) -> Fail {
    Fail::new(
        StatusCode::NOT_FOUND,
        &format!("service_request_id {:?} not found", shown(id)),
        &format!("未找到服务请求“{}”", shown(id)),
    )
}

/// `requests/{id}.{fmt}`: one request, by its case number.
async fn one_request(
    State(s): State<AppState>,
    File(file): File,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((id, format)) = split_file(&file) else {
        return unknown_format();
    };
    let answer = async {
        jurisdiction(&s, &Params::query(q.as_deref())?).await?;
        let case = by_number(&s, id)
            .await?
            .ok_or_else(|| request_not_found(id))?;
        let public = public(&s, std::slice::from_ref(&case)).await?;
        Ok(Doc::List {
            root: "service_requests",
            item: "request",
            records: vec![request_record(&case, &names(&s).await?, &public)],
        })
    };
    reply(format, StatusCode::OK, answer.await)
}

/// `tokens/{token}.{fmt}`: requests are made at once, so a token is the case number itself.
async fn token(State(s): State<AppState>, File(file): File, RawQuery(q): RawQuery) -> Response {
    let Some((token, format)) = split_file(&file) else {
        return unknown_format();
    };
    let answer = async {
        jurisdiction(&s, &Params::query(q.as_deref())?).await?;
        let case = by_number(&s, token)
            .await?
            .ok_or_else(|| request_not_found(token))?;
        Ok(Doc::List {
            root: "service_requests",
            item: "request",
            records: vec![vec![
                ("service_request_id", case.number.as_str().into()),
                ("token", token.into()),
            ]],
        })
    };
    reply(format, StatusCode::OK, answer.await)
}
