//! Helpers shared by the HTTP tests: the router over a store holding 锦江区, requests through
//! it without a socket, and the shape every error body must have.
#![allow(dead_code)]

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::Value;
use shezhi_domain::geocode::Locator;
use shezhi_domain::territory::RegionCode;
use shezhi_http::{AppState, router};
use shezhi_store::Store;
use std::collections::HashMap;
use tower::ServiceExt;

use shezhi_store::testing::one_district as jinjiang;

pub async fn app(store: &Store) -> axum::Router {
    router(state(store).await)
}

/// State over a store holding 锦江区, with its point index.
pub async fn state(store: &Store) -> AppState {
    store
        .put_regions(jinjiang())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let leaves = store.leaf_regions().await.unwrap_or_else(|e| panic!("{e}"));
    let mut names: HashMap<RegionCode, String> = HashMap::new();
    for r in jinjiang() {
        names.insert(r.code.clone(), r.name.clone());
    }
    let locator = Locator::new(
        leaves.into_iter().map(|l| (l.code, l.shape)).collect(),
        names,
    );
    AppState::new(store.clone(), locator)
}

pub async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    send(app, "GET", uri, None).await
}

/// An error body must carry the code and a message in both languages.
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    let zh = body["error"]["zh"].as_str().unwrap_or_default();
    assert!(
        zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "no Chinese in {body}"
    );
    assert!(
        !body["error"]["en"].as_str().unwrap_or_default().is_empty(),
        "no English in {body}"
    );
}

/// A user with these bindings (no usable password) and an API token for them.
pub async fn token_for(
    store: &Store,
    username: &str,
    bindings: Vec<shezhi_domain::access::Binding>,
    resident_id: Option<i64>,
) -> String {
    use shezhi_store::access::{AuditNote, NewUser};
    let note = AuditNote {
        at_ms: 1_795_400_000_000,
        actor: "test".into(),
        action: "user_created".into(),
        target: String::new(),
        region_code: None,
        ip: None,
        detail: Value::Null,
    };
    let user = NewUser {
        username: username.into(),
        display_name: username.into(),
        password_hash: "!".into(),
        resident_id,
        bindings,
    };
    let id = store
        .create_user(&user, &note)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let token = format!("test-token-{username}-{id}");
    store
        .create_api_token(
            id,
            "probe",
            &shezhi_domain::access::secret_hash(&token),
            &note,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    token
}

/// The router with every request sent under an API token.
pub fn with_token(app: axum::Router, token: &str) -> axum::Router {
    let value = axum::http::HeaderValue::from_str(&format!("Bearer {token}"))
        .unwrap_or_else(|e| panic!("{e}"));
    app.layer(axum::middleware::map_request(
        move |mut req: Request<Body>| {
            let value = value.clone();
            async move {
                req.headers_mut()
                    .insert(axum::http::header::AUTHORIZATION, value);
                req
            }
        },
    ))
}

/// A request with a JSON body (or none) through the router.
pub async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, _, bytes) = send_raw(app, method, uri, body).await;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

/// The same, answering the status, the headers and the body's bytes as they came.
pub async fn send_raw(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    match body {
        Some(b) => {
            let headers = [("content-type", "application/json")];
            send_bytes(app, method, uri, &headers, b.to_string().into_bytes()).await
        }
        None => send_bytes(app, method, uri, &[], Vec::new()).await,
    }
}

/// A request of any bytes with these headers through the router: the status, the headers
/// and the body's bytes.
pub async fn send_bytes(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = to_bytes(resp.into_body(), 64 << 20)
        .await
        .unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
    (status, headers, bytes.to_vec())
}

/// The cells of the workbook's first sheet as text, row by row, as `python3`'s standard
/// library reads them (the ZIP's CRCs are checked on the way).
pub fn read_xlsx(bytes: &[u8]) -> Vec<Vec<String>> {
    use std::io::Write;
    let script = r#"
import io, json, sys, zipfile, xml.etree.ElementTree as ET
z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
assert z.testzip() is None
names = set(z.namelist())
for part in ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"]:
    assert part in names, part
    ET.fromstring(z.read(part))
ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
rows = []
for row in sheet.iterfind("m:sheetData/m:row", ns):
    cells = {}
    for c in row.iterfind("m:c", ns):
        ref = c.get("r")
        col = ord(ref[0]) - 65
        if c.get("t") == "inlineStr":
            cells[col] = "".join(t.text or "" for t in c.iterfind("m:is/m:t", ns))
        else:
            cells[col] = c.findtext("m:v", "", ns)
    rows.append([cells.get(i, "") for i in range(max(cells) + 1)])
print(json.dumps(rows))
"#;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 reads the workbook: {e}"));
    child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("stdin"))
        .write_all(bytes)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"))
}

/// One role binding over a region (by code) or for a unit.
pub fn bind(
    role: shezhi_domain::access::Role,
    scope: Option<&str>,
    unit: Option<&str>,
) -> Vec<shezhi_domain::access::Binding> {
    vec![shezhi_domain::access::Binding {
        role,
        scope: scope.map(|s| {
            shezhi_domain::territory::RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
        }),
        unit: unit.map(str::to_string),
    }]
}
