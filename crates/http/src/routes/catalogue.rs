//! The catalogue of case categories (with suggestions from a description) and the handling
//! units cases are dispatched to.

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::extract::{ApiPath, ApiQuery};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use shezhi_domain::access::Action;
use shezhi_domain::cases::Category;
use shezhi_store::access::{AuditNote, HandlingUnit};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/categories", get(categories))
        .route("/api/v1/categories/{code}", put(put_category))
        .route("/api/v1/units", get(units))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryQuery {
    /// A description: the categories it suggests come first, in `suggested`.
    pub q: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Catalogue {
    #[schema(value_type = Vec<CategoryDoc>)]
    pub items: Vec<Category>,
    /// Codes of leaf categories the description suggests, best first.
    pub suggested: Vec<String>,
}

/// The catalogue: groups and leaf categories with their handling unit kind, priority, time
/// limits and Open311 service code.
#[utoipa::path(get, path = "/api/v1/categories", tag = "cases", params(CategoryQuery),
    responses((status = 200, body = Catalogue)))]
pub async fn categories(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<CategoryQuery>,
) -> Result<Json<Catalogue>, ApiError> {
    let items = s.store.categories().await?;
    let suggested =
        q.q.as_deref()
            .map(|t| shezhi_domain::cases::catalogue::suggest(&items, t, 5))
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.code.clone())
            .collect();
    Ok(Json(Catalogue { items, suggested }))
}

/// A category of the catalogue, as sent and stored (`shezhi_domain::cases::catalogue::Category`,
/// which knows nothing of OpenAPI, described here).
#[derive(utoipa::ToSchema)]
#[schema(as = Category)]
#[allow(dead_code)] // Only describes the domain's type.
struct CategoryDoc {
    /// Lowercase letters, digits, dots and underscores, at most 60; the same as the path's
    /// (else `400 invalid_category`). Also the Open311 `service_code`.
    #[schema(pattern = "^[a-z0-9._]{1,60}$", example = "order.vendor")]
    code: String,
    /// The group it belongs to; leaves have one and groups none (else `400 invalid_category`).
    parent: Option<String>,
    /// Not blank (else `400 invalid_category`).
    #[schema(pattern = r"\S")]
    name_zh: String,
    name_en: String,
    #[schema(value_type = crate::schemas::CategoryKind)]
    kind: String,
    /// Only leaves are chosen for a case.
    leaf: bool,
    #[schema(value_type = crate::schemas::UnitKind)]
    unit_kind: String,
    #[schema(value_type = crate::schemas::Priority)]
    priority: String,
    limits: StageLimitsDoc,
    /// Words people use for it, to suggest the category from a description.
    keywords: Vec<String>,
}

/// How long each stage of a case of the category may take.
#[derive(utoipa::ToSchema)]
#[schema(as = StageLimits)]
#[allow(dead_code)] // Only describes the domain's type.
struct StageLimitsDoc {
    accept: TimeLimitDoc,
    dispatch: TimeLimitDoc,
    sign: TimeLimitDoc,
    handle: TimeLimitDoc,
    verify: TimeLimitDoc,
}

/// How long a stage may take (`shezhi_domain::calendar::TimeLimit`).
#[derive(utoipa::ToSchema)]
#[schema(as = TimeLimit)]
#[serde(tag = "unit", content = "n", rename_all = "snake_case")]
#[allow(dead_code)] // Only describes the domain's type.
enum TimeLimitDoc {
    /// Wall-clock hours, holidays included.
    Hours(u32),
    WorkingDays(u32),
    /// Before midnight (China time) of the day it starts.
    SameDay,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryVersion {
    pub code: String,
    pub version: i64,
}

/// Store a new version of a category (administrators). Cases already raised keep the version
/// they were raised under.
#[utoipa::path(put, path = "/api/v1/categories/{code}", tag = "cases",
    params(("code" = String, Path, pattern = "^[a-z0-9._]{1,60}$", description = "Category code: lowercase letters, digits, dots and underscores, at most 60")), request_body(content = CategoryDoc, description = "The category; its code is the path's"),
    responses((status = 200, body = CategoryVersion), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_category(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(c): ApiJson<Category>,
) -> Result<Json<CategoryVersion>, ApiError> {
    caller.require(Action::ManageCatalogue)?;
    let valid_code = !code.is_empty()
        && code.len() <= 60
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
    if c.code != code || !valid_code || c.name_zh.trim().is_empty() || c.leaf != c.parent.is_some()
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_category",
            "类别编码须与地址一致（小写字母、数字、点、下划线），须有中文名称，叶子类别须有上级",
            "the category code must match the path (lowercase letters, digits, dots, underscores), have a Chinese name, and leaves need a parent",
        ));
    }
    let note = AuditNote {
        at_ms: s.clock.now_ms(),
        actor: caller.actor(),
        action: "category.put".into(),
        target: String::new(),
        region_code: None,
        ip: caller.ip.clone(),
        detail: serde_json::Value::Null,
    };
    let version = s.store.put_category(&c, &note).await?;
    Ok(Json(CategoryVersion { code, version }))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnitList {
    pub items: Vec<HandlingUnit>,
}

/// Handling units (departments, utilities, property companies, street and community offices).
#[utoipa::path(get, path = "/api/v1/units", tag = "cases",
    responses((status = 200, body = UnitList)))]
pub async fn units(State(s): State<AppState>, caller: Caller) -> Result<Json<UnitList>, ApiError> {
    caller.require_signed_in()?;
    Ok(Json(UnitList {
        items: s.store.units(None).await?,
    }))
}
