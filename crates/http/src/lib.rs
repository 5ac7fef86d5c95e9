//! HTTP layer of shezhi: an axum router with thin handlers over the store and the point
//! locator, one error type mapped to JSON in one place, Prometheus metrics, the OpenAPI
//! document generated from the handlers, the built-in web pages, security headers on every
//! answer, and the server loop with its connection timeouts.

pub mod auth;
pub mod base64;
pub mod common_answers;
mod dto;
pub mod endpoints;
mod error;
pub mod extract;
pub mod headers;
pub mod metrics;
pub mod openapi;
mod photos;
pub mod ratelimit;
mod routes;
pub mod schemas;
pub mod serve;
mod state;
pub mod xlsx;

pub use error::ApiError;
pub use serve::{ServeOptions, serve};
pub use state::{AppState, Limits, SystemClock, secure_cookies_for};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::trace::TraceLayer;

/// Largest request body accepted anywhere (uploads get their own limits).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(routes::health::router())
        .merge(routes::regions::router())
        .merge(routes::locate::router())
        .merge(routes::register::router())
        .merge(routes::register_edit::router())
        .merge(routes::cases::router())
        .merge(routes::case_steps::router())
        .merge(routes::catalogue::router())
        .merge(routes::open311::router())
        .merge(routes::command::router())
        .merge(routes::campaigns::router())
        .merge(routes::session::router())
        .merge(routes::users::router())
        .merge(routes::web::router())
        .merge(openapi::router())
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit_requests,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Outermost, so that every answer carries them: rate-limit refusals included.
        .layer(headers::layer())
        .with_state(state)
}
