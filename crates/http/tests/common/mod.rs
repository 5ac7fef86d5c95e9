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
    let req = Request::get(uri)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 64 << 20)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
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
