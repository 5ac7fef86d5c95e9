//! The built-in web pages: every asset is compiled into the binary, nothing is fetched
//! from elsewhere. Each page is a small HTML shell that loads the shared module
//! (`common.js`) and its own; the territory browser is a plain script of its own.

use crate::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// (file name, content type, body) of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("../../web/app.js")),
    ("app.css", CSS, include_str!("../../web/app.css")),
    ("shell.css", CSS, include_str!("../../web/shell.css")),
    ("common.js", JS, include_str!("../../web/common.js")),
    ("home.js", JS, include_str!("../../web/home.js")),
    ("command.js", JS, include_str!("../../web/command.js")),
    ("desk.js", JS, include_str!("../../web/desk.js")),
    ("field.js", JS, include_str!("../../web/field.js")),
    ("resident.js", JS, include_str!("../../web/resident.js")),
    ("directives.js", JS, include_str!("../../web/directives.js")),
    ("campaigns.js", JS, include_str!("../../web/campaigns.js")),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

const TERRITORY_HTML: &str = include_str!("../../web/territory.html");
const SERVICE_WORKER: &str = include_str!("../../web/sw.js");

/// (path, script) of every page but the territory browser.
const PAGES: &[(&str, &str)] = &[
    ("/", "home.js"),
    ("/command", "command.js"),
    ("/desk", "desk.js"),
    ("/directives", "directives.js"),
    ("/campaigns", "campaigns.js"),
    ("/field", "field.js"),
    ("/resident", "resident.js"),
];

pub fn router() -> Router<AppState> {
    let mut r = Router::new()
        .route(
            "/territory",
            get(|| respond(HTML, TERRITORY_HTML.to_string())),
        )
        .route("/assets/{name}", get(asset))
        // The service worker lives at the root so that it may serve `/field` offline.
        .route("/sw.js", get(|| respond(JS, SERVICE_WORKER.to_string())));
    for (path, script) in PAGES {
        let html = shell(script);
        r = r.route(path, get(move || respond(HTML, html.clone())));
    }
    r
}

/// The HTML shell of a page: the top bar, the error banner and the page's own module.
fn shell(script: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>社智在线</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/shell.css">
<link rel="modulepreload" href="/assets/common.js">
<script type="module" src="/assets/{script}"></script>
</head>
<body>
<header id="top" class="top"><span class="brand">社智在线</span></header>
<div id="error" class="error" role="alert" hidden></div>
<main id="main" class="page"><p class="muted">加载中… Loading…</p></main>
<noscript><p>本系统需要启用 JavaScript。This system needs JavaScript.</p></noscript>
</body>
</html>
"#
    )
}

async fn respond(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, body)) => (
            [
                (header::CONTENT_TYPE, *ct),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
