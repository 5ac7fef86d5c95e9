//! Signing in and out over HTTP, on SQLite and PostgreSQL: cookie flags, CSRF on changes,
//! lockout after repeated failures, and no password anywhere in a response.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use shezhi_domain::access::{Binding, Role, password};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::territory::RegionCode;
use shezhi_http::router;
use shezhi_store::access::{AuditCheck, AuditNote, NewUser};
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;
use tower::ServiceExt;

mod common;
use common::{assert_error, state};

const NOW: i64 = 1_795_400_000_000;
const PASSWORD: &str = "锦江网格-2026";

async fn app(store: &Store) -> axum::Router {
    let hash = password::hash(PASSWORD, &[5; 16]).unwrap_or_else(|e| panic!("{e}"));
    let user = NewUser {
        username: "wangge".into(),
        display_name: "王格".into(),
        password_hash: hash,
        resident_id: None,
        bindings: vec![Binding {
            role: Role::GridWorker,
            scope: RegionCode::parse("510104018001001").ok(),
            unit: None,
        }],
    };
    let note = AuditNote {
        at_ms: NOW,
        actor: "cli".into(),
        action: "user_created".into(),
        target: String::new(),
        region_code: None,
        ip: None,
        detail: Value::Null,
    };
    store
        .create_user(&user, &note)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    router(
        state(store)
            .await
            .with_clock(Arc::new(FixedClock::new(NOW))),
    )
}

async fn call(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn sign_in(user: &str, pw: &str) -> Request<Body> {
    let body = serde_json::json!({"username": user, "password": pw}).to_string();
    Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn sign_in_sets_a_safe_cookie_and_csrf_guards_changes(store: Store) {
    let app = app(&store).await;
    let (status, headers, body) = call(&app, sign_in("wangge", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(cookie.starts_with("shezhi_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!body.to_string().contains(PASSWORD));
    // Neither the password nor the session secret is stored in clear.
    let secret = cookie
        .trim_start_matches("shezhi_session=")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    for table in ["users", "sessions", "audit_log"] {
        let dump = store
            .debug_dump_table(table)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!dump.is_empty(), "{table} is empty");
        assert!(!dump.contains(PASSWORD), "password in clear in {table}");
        assert!(
            !dump.contains(&secret),
            "session secret in clear in {table}"
        );
    }
    assert!(
        store
            .debug_dump_table("users")
            .await
            .unwrap_or_default()
            .contains("$argon2id$")
    );
    let csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
    assert_eq!(csrf.len(), 64);
    let session = cookie.split(';').next().unwrap_or_default().to_string();

    let me = Request::get("/api/v1/me")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _, me) = call(&app, me).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["bindings"][0]["role"], "grid_worker");
    assert_eq!(me["bindings"][0]["scope"], "510104018001001");

    // A change without the CSRF token is refused, with it accepted.
    let out = Request::delete("/api/v1/session")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _, body) = call(&app, out).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "csrf_failed");
    let out = Request::delete("/api/v1/session")
        .header(header::COOKIE, &session)
        .header("x-csrf-token", &csrf)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, headers, _) = call(&app, out).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    let me = Request::get("/api/v1/me")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, _, me) = call(&app, me).await;
    assert_eq!(me["user_id"], Value::Null, "the session is gone");
    // A stale cookie does not stand in the way of signing in again.
    let mut again = sign_in("wangge", PASSWORD);
    again.headers_mut().insert(
        header::COOKIE,
        session.parse().unwrap_or_else(|e| panic!("{e}")),
    );
    let (status, _, body) = call(&app, again).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Sign-in and sign-out were audited, and the chain holds.
    assert!(
        matches!(store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")), AuditCheck::Intact { entries, .. } if entries >= 2)
    );
}

async fn failures_are_refused_then_back_off(store: Store) {
    let app = app(&store).await;
    let (status, _, body) = call(&app, sign_in("nobody", PASSWORD)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "invalid_credentials");
    for _ in 0..5 {
        let (status, _, body) = call(&app, sign_in("wangge", "wrong-password-1")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Now even the right password waits until the back-off has passed.
    let (status, _, body) = call(&app, sign_in("wangge", PASSWORD)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "sign_in_wait");
    let bad = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"username\": 5"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _, body) = call(&app, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_json");
}

on_both_backends!(
    sign_in_sets_a_safe_cookie_and_csrf_guards_changes,
    failures_are_refused_then_back_off
);
