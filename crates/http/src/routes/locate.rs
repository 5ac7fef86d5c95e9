//! Point lookup: lon/lat → micro-grid → grid → community → street → district → city.

use crate::dto::{Location, RegionRef};
use crate::extract::ApiQuery;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use shezhi_domain::Bilingual;
use shezhi_domain::geocode::LocateError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/locate", get(locate))
}

/// Raw query; parsed here so that bad numbers get our error format.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    /// Longitude (WGS84-like degrees); required (else `400 invalid_point`)
    #[param(required = true, value_type = f64, minimum = -180, maximum = 180, example = 104.0657)]
    lon: Option<String>,
    /// Latitude; required (else `400 invalid_point`)
    #[param(required = true, value_type = f64, minimum = -90, maximum = 90, example = 30.6595)]
    lat: Option<String>,
}

fn coordinate(raw: Option<&str>, name: &str) -> Result<f64, ApiError> {
    raw.and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_point",
                format!("参数 {name} 缺失或不是数字"),
                format!("parameter {name} is missing or not a number"),
            )
        })
}

/// The regions holding a point, from the city down to the micro-grid.
#[utoipa::path(get, path = "/api/v1/locate", tag = "territory", params(LocateQuery),
    responses((status = 200, body = Location), (status = 400, body = crate::error::ErrorBody), (status = 422, description = "The point lies outside the territory", body = crate::error::ErrorBody)))]
pub async fn locate(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<LocateQuery>,
) -> Result<Json<Location>, ApiError> {
    let p = [
        coordinate(q.lon.as_deref(), "lon")?,
        coordinate(q.lat.as_deref(), "lat")?,
    ];
    let chain = s.locator.locate(p).map_err(|e| {
        let status = match e {
            LocateError::InvalidPoint => StatusCode::BAD_REQUEST,
            LocateError::Outside(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::client(status, &e as &dyn Bilingual)
    })?;
    let chain = chain
        .into_iter()
        .map(|l| RegionRef {
            code: l.code.to_string(),
            level: l.level.as_str().into(),
            name: l.name,
        })
        .collect();
    Ok(Json(Location { point: p, chain }))
}
