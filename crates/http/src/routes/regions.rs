//! The region tree: a node with its counts, its children, its children's map, and grids.

use super::parse_code;
use crate::dto::{
    GridFeature, GridProperties, Region, RegionFeature, RegionFeatureCollection, RegionList,
    RegionNode, RegionRef,
};
use crate::extract::ApiPath;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::value::RawValue;
use shezhi_domain::territory::{Level, RegionCode};
use shezhi_store::RegionRow;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/regions/{code}", get(region))
        .route("/api/v1/regions/{code}/children", get(children))
        .route("/api/v1/regions/{code}/map", get(map))
        .route("/api/v1/grids/{code}", get(grid))
}

async fn load(s: &AppState, code: &RegionCode) -> Result<RegionRow, ApiError> {
    s.store
        .region(code)
        .await?
        .ok_or_else(|| ApiError::not_found("region_not_found", "区划", "region", code.as_str()))
}

async fn ancestors(s: &AppState, code: &RegionCode) -> Result<Vec<RegionRef>, ApiError> {
    let rows = s.store.regions(&code.ancestors()).await?;
    Ok(rows
        .into_iter()
        .map(|r| RegionRef {
            code: r.code,
            level: r.level.as_str().into(),
            name: r.name,
        })
        .collect())
}

fn raw_geometry(g: Option<String>) -> Result<Option<Box<RawValue>>, ApiError> {
    g.map(RawValue::from_string)
        .transpose()
        .map_err(|e| ApiError::Internal(format!("stored geometry: {e}")))
}

/// A region with its ancestors and the number of regions below it by level.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "territory",
    params(("code" = crate::schemas::RegionCode, Path, description = "Region code: 12 digits (division), 15 (grid) or 18 (micro-grid)", example = "510104000000")),
    responses((status = 200, body = RegionNode), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn region(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<RegionNode>, ApiError> {
    let code = parse_code(&code)?;
    let row = load(&s, &code).await?;
    let counts = s
        .store
        .subtree_counts(&code)
        .await?
        .into_iter()
        .map(|(l, n)| (l.as_str().to_string(), n))
        .collect();
    Ok(Json(RegionNode {
        region: row.into(),
        ancestors: ancestors(&s, &code).await?,
        counts,
    }))
}

/// The regions directly below a region, in code order.
#[utoipa::path(get, path = "/api/v1/regions/{code}/children", tag = "territory",
    params(("code" = crate::schemas::RegionCode, Path, description = "Region code", example = "510104000000")),
    responses((status = 200, body = RegionList), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn children(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<RegionList>, ApiError> {
    let code = parse_code(&code)?;
    load(&s, &code).await?;
    let items = s
        .store
        .children(&code)
        .await?
        .into_iter()
        .map(Region::from)
        .collect();
    Ok(Json(RegionList { items }))
}

/// The children of a region as a GeoJSON FeatureCollection, for drawing the map.
#[utoipa::path(get, path = "/api/v1/regions/{code}/map", tag = "territory",
    params(("code" = crate::schemas::RegionCode, Path, description = "Region code", example = "510100000000")),
    responses((status = 200, body = RegionFeatureCollection, description = "A GeoJSON FeatureCollection (sent as `application/json`)"), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn map(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<RegionFeatureCollection>, ApiError> {
    let code = parse_code(&code)?;
    load(&s, &code).await?;
    let features = s
        .store
        .children_with_geometry(&code)
        .await?
        .into_iter()
        .map(|(row, g)| {
            Ok(RegionFeature {
                kind: "Feature",
                geometry: raw_geometry(g)?,
                properties: row.into(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(RegionFeatureCollection {
        kind: "FeatureCollection",
        features,
    }))
}

/// A grid or micro-grid as a GeoJSON Feature with its parent chain.
#[utoipa::path(get, path = "/api/v1/grids/{code}", tag = "territory",
    params(("code" = crate::schemas::GridCode, Path, description = "Grid code (15 digits) or micro-grid code (18 digits)", example = "510104017001001")),
    responses((status = 200, body = GridFeature), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn grid(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<GridFeature>, ApiError> {
    let code = parse_code(&code)?;
    if !matches!(code.level(), Level::Grid | Level::MicroGrid) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "not_a_grid",
            format!("代码 {code} 不是网格或微网格（应为15位或18位）"),
            format!("code {code} is not a grid or micro-grid (15 or 18 digits expected)"),
        ));
    }
    let row = load(&s, &code).await?;
    let geometry = raw_geometry(s.store.geometry(&code).await?)?;
    let properties = GridProperties {
        region: row.into(),
        ancestors: ancestors(&s, &code).await?,
    };
    Ok(Json(GridFeature {
        kind: "Feature",
        geometry,
        properties,
    }))
}
