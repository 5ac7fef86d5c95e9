//! Liveness, readiness and metrics.

use crate::dto::{Health, Readiness};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers and the point index is loaded.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, body = Readiness),
    (status = 503, body = crate::error::ErrorBody),
))]
pub async fn readyz(State(s): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    s.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness: database unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "数据库暂不可用",
            "the database is unavailable",
        )
    })?;
    Ok(Json(Readiness {
        status: "ready",
        database: s.store.backend().as_str(),
        indexed_cells: s.locator.leaf_count(),
    }))
}

/// Prometheus metrics in the text exposition format. They tell request rates, queue depths
/// and timings that an outsider should not see: with a metrics token configured the scraper
/// sends it as `Authorization: Bearer …`; without one only this machine (loopback) is
/// answered.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String), (status = 403, body = crate::error::ErrorBody)))]
pub async fn metrics(
    State(s): State<AppState>,
    req: axum::extract::Request,
) -> Result<impl IntoResponse, ApiError> {
    let (parts, _) = req.into_parts();
    let peer = crate::auth::peer(&parts);
    let allowed = match &s.metrics_token {
        Some(token) => parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|sent| {
                shezhi_domain::access::secret_hash(sent.trim())
                    == shezhi_domain::access::secret_hash(token)
            }),
        None => peer.is_some_and(|p| p.is_loopback()),
    };
    if !allowed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "metrics_forbidden",
            "指标仅对本机或持有指标令牌的采集端开放",
            "metrics are served only to this machine or to a scraper holding the metrics token",
        ));
    }
    let body = s.metrics.as_ref().map(|m| m.render()).unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
