//! The server as an attacker meets it, over a real socket on port 0: security headers on
//! every kind of answer, connections that send their headers too slowly (or sit idle) closed
//! after the configured time, and the session cookie marked `Secure` when the public URL is
//! https. Nothing sleeps: each wait is for the server's own answer or end of stream, with a
//! guard that fails the test instead of hanging it.

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use shezhi_domain::access::{Binding, Role, password};
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::territory::RegionCode;
use shezhi_http::{AppState, ServeOptions, router, secure_cookies_for};
use shezhi_store::access::{AuditNote, NewUser};
use shezhi_store::{Store, on_both_backends};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::{state, token_for};

/// Longest any test waits for the server before failing (a guard, never a pause).
const GUARD: Duration = Duration::from_secs(20);
const POINT: [f64; 2] = [104.0835, 30.6465];
/// A valid 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// A running server and the way to stop it.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(app: Router, options: ServeOptions) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(shezhi_http::serve(listener, app, options, async move {
        let _ = rx.await;
    }));
    Server {
        addr,
        stop: Some(tx),
        task,
    }
}

impl Server {
    /// Ask for a graceful shutdown and wait until the server has returned.
    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let ended = tokio::time::timeout(GUARD, &mut self.task)
            .await
            .unwrap_or_else(|_| panic!("the server did not shut down"));
        ended
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// An answer as it came over the wire.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// One request on a new connection (`Connection: close`), read to the end.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    stream
        .write_all(req.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut raw = Vec::new();
    tokio::time::timeout(GUARD, stream.read_to_end(&mut raw))
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no answer"))
        .unwrap_or_else(|e| panic!("{e}"));
    parse(&raw).unwrap_or_else(|| panic!("{method} {path}: {}", String::from_utf8_lossy(&raw)))
}

/// Status, headers and body of one HTTP/1.1 answer (a fixed length or chunked body).
fn parse(raw: &[u8]) -> Option<Answer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).ok()?, 16).ok()?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break body;
            }
            body.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
    } else {
        rest.to_vec()
    };
    Some(Answer {
        status,
        headers,
        body,
    })
}

fn assert_security_headers(what: &str, a: &Answer) {
    let csp = a
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what} ({}): no Content-Security-Policy", a.status));
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp} lacks {directive}");
    }
    assert!(!csp.contains("unsafe"), "{what}: {csp}");
    assert_eq!(a.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        a.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert!(
        matches!(
            a.header("referrer-policy"),
            Some("same-origin" | "no-referrer")
        ),
        "{what}: {:?}",
        a.header("referrer-policy")
    );
}

async fn security_headers_on_every_kind_of_answer(store: Store) {
    let st = state(&store).await;
    store
        .ensure_catalogue(0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let command = token_for(
        &store,
        "zhihui",
        vec![Binding {
            role: Role::Command,
            scope: RegionCode::parse("510104000000").ok(),
            unit: None,
        }],
        None,
    )
    .await;
    let app = router(st.with_vault(Some(Arc::new(Vault::new(&DataKey::from_bytes([3; 32]))))));
    let server = start(app, ServeOptions::default()).await;
    let addr = server.addr;
    let bearer = format!("Bearer {command}");
    let auth = [("Authorization", bearer.as_str())];

    // An anonymous report with a photo, then the photo as the district's command sees it.
    let made = call(
        addr,
        "POST",
        "/api/v1/cases",
        &[("Idempotency-Key", "hardening-1")],
        Some(json!({"category": "order.vendor", "description": "小区门口占道摆摊",
            "lon": POINT[0], "lat": POINT[1], "address": "锦江区某路 8 号",
            "contact_phone": "13812345678", "photos": [{"content_type": "image/png", "data_base64": PNG}]})),
    )
    .await;
    assert!(
        made.status == 200 || made.status == 201,
        "{}",
        String::from_utf8_lossy(&made.body)
    );
    assert_security_headers("a report taken in", &made);
    let id = made.json()["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", made.json()));
    let case = call(addr, "GET", &format!("/api/v1/cases/{id}"), &auth, None).await;
    assert_eq!(case.status, 200, "{}", case.json());
    let photo_id = case.json()["photos"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", case.json()));
    let photo = call(
        addr,
        "GET",
        &format!("/api/v1/cases/{id}/photos/{photo_id}"),
        &auth,
        None,
    )
    .await;
    assert_eq!(photo.status, 200);
    assert_eq!(photo.header("content-type"), Some("image/png"));
    assert_security_headers("a photo", &photo);

    let mut seen = 0;
    for (what, path, headers, status) in [
        (
            "an API answer",
            "/api/v1/locate?lon=104.0835&lat=30.6465",
            &[][..],
            200,
        ),
        ("a page", "/field", &[][..], 200),
        ("the home page", "/", &[][..], 200),
        ("the territory page", "/territory", &[][..], 200),
        ("an asset", "/assets/common.js", &[][..], 200),
        ("the service worker", "/sw.js", &[][..], 200),
        ("the OpenAPI document", "/api/openapi.json", &[][..], 200),
        ("Open311", "/open311/v2/services.json", &[][..], 200),
        ("a health check", "/healthz", &[][..], 200),
        ("a 404 page", "/no/such/page", &[][..], 404),
        ("a 404 asset", "/assets/nothing.js", &[][..], 404),
        (
            "a 404 from the API",
            "/api/v1/cases/987654321",
            &auth[..],
            404,
        ),
        ("a 401", "/api/v1/cases/1", &[][..], 401),
        ("a 400", "/api/v1/locate?lon=x&lat=y", &[][..], 400),
    ] {
        let a = call(addr, "GET", path, headers, None).await;
        assert_eq!(a.status, status, "{what} {path}");
        assert_security_headers(what, &a);
        seen += 1;
    }
    assert_eq!(seen, 14);
    server.stop().await;
}

/// A router that answers the client's address, to see that `ConnectInfo` reaches handlers.
fn echo_address() -> Router {
    Router::new().route(
        "/",
        get(
            |axum::extract::ConnectInfo(a): axum::extract::ConnectInfo<SocketAddr>| async move {
                a.ip().to_string()
            },
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_half_its_headers_is_closed_after_the_timeout() {
    let options = ServeOptions {
        header_read_timeout: Duration::from_millis(300),
    };
    let server = start(echo_address(), options).await;
    let mut slow = TcpStream::connect(server.addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The request line and one header, then nothing more: the end of the head never comes.
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut got = Vec::new();
    let read = tokio::time::timeout(GUARD, slow.read_to_end(&mut got)).await;
    let read = read.unwrap_or_else(|_| panic!("the server kept a half-sent head open"));
    // Closed by the server: end of stream (or a reset), never an answer to the request.
    if let Ok(n) = read {
        assert!(
            !String::from_utf8_lossy(&got[..n]).contains("200 OK"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed_after_the_timeout() {
    let options = ServeOptions {
        header_read_timeout: Duration::from_millis(300),
    };
    let server = start(echo_address(), options).await;
    let mut conn = TcpStream::connect(server.addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The whole answer (kept alive), then the connection waits for another request that
    // never comes: the server closes it.
    let mut got = Vec::new();
    let read = tokio::time::timeout(GUARD, conn.read_to_end(&mut got)).await;
    read.unwrap_or_else(|_| panic!("the server kept an idle connection open"))
        .unwrap_or_else(|e| panic!("{e}"));
    let answer = parse(&got).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&got)));
    assert_eq!(answer.status, 200);
    // The handler saw the client's address, as under `axum::serve`.
    assert_eq!(answer.body, b"127.0.0.1");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_finishes_when_the_server_shuts_down() {
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let gate = Arc::new(tokio::sync::Mutex::new((
        Some(entered_tx),
        Some(release_rx),
    )));
    let app = Router::new().route(
        "/slow",
        get(move || {
            let gate = gate.clone();
            async move {
                let (entered, release) = {
                    let mut g = gate.lock().await;
                    (g.0.take(), g.1.take())
                };
                if let Some(tx) = entered {
                    let _ = tx.send(());
                }
                if let Some(rx) = release {
                    let _ = rx.await;
                }
                "done"
            }
        }),
    );
    let server = start(app, ServeOptions::default()).await;
    let addr = server.addr;
    let request = tokio::spawn(async move { call(addr, "GET", "/slow", &[], None).await });
    tokio::time::timeout(GUARD, entered_rx)
        .await
        .unwrap_or_else(|_| panic!("the request never reached the handler"))
        .unwrap_or_else(|e| panic!("{e}"));
    // Shut down while the request is in its handler; then let the handler finish.
    let stopping = tokio::spawn(server.stop());
    let _ = release_tx.send(());
    let answer = tokio::time::timeout(GUARD, request)
        .await
        .unwrap_or_else(|_| panic!("no answer"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"done");
    stopping.await.unwrap_or_else(|e| panic!("{e}"));
}

const PASSWORD: &str = "锦江网格-2026";

async fn signed_in_cookie(store: &Store, st: AppState) -> String {
    let user = NewUser {
        username: "wangge".into(),
        display_name: "王格".into(),
        password_hash: password::hash(PASSWORD, &[5; 16]).unwrap_or_else(|e| panic!("{e}")),
        resident_id: None,
        bindings: vec![Binding {
            role: Role::GridWorker,
            scope: RegionCode::parse("510104018001001").ok(),
            unit: None,
        }],
    };
    let note = AuditNote {
        at_ms: 1_795_400_000_000,
        actor: "test".into(),
        action: "user_created".into(),
        target: String::new(),
        region_code: None,
        ip: None,
        detail: Value::Null,
    };
    if store
        .user_by_username("wangge")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none()
    {
        store
            .create_user(&user, &note)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let server = start(router(st), ServeOptions::default()).await;
    let a = call(
        server.addr,
        "POST",
        "/api/v1/session",
        &[],
        Some(json!({"username": "wangge", "password": PASSWORD})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json());
    let cookie = a
        .header("set-cookie")
        .unwrap_or_else(|| panic!("no cookie"))
        .to_string();
    server.stop().await;
    cookie
}

async fn the_cookie_is_secure_when_the_public_url_is_https(store: Store) {
    let has_secure = |cookie: &str| {
        cookie
            .split(';')
            .any(|p| p.trim().eq_ignore_ascii_case("secure"))
    };
    let base = state(&store).await;
    for (public_url, secure_cookies, want) in [
        (Some("https://shezhi.example.gov.cn"), None, true),
        (Some("http://10.0.0.5:8080"), None, false),
        (None, None, false),
        (Some("https://shezhi.example.gov.cn"), Some(false), false),
        (None, Some(true), true),
    ] {
        let mut st = base.clone();
        st.secure_cookies = secure_cookies_for(public_url, secure_cookies);
        let cookie = signed_in_cookie(&store, st).await;
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert_eq!(
            has_secure(&cookie),
            want,
            "{public_url:?} {secure_cookies:?}: {cookie}"
        );
    }
}

on_both_backends!(
    security_headers_on_every_kind_of_answer,
    the_cookie_is_secure_when_the_public_url_is_https,
);
