//! The register of houses and people, read side: households and residents of a region (paged,
//! personal data masked), one household with its people and history, one resident, search,
//! and live counts per region.

use super::parse_code;
use crate::auth::{Caller, forbidden};
use crate::dto::{HouseholdPage, RegionCounts, ResidentList, ResidentPage};
use crate::extract::{ApiPath, ApiQuery};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use shezhi_domain::access::Action;
use shezhi_domain::people::{Date, KeyTag};
use shezhi_store::access::AuditNote;
use shezhi_store::register::{HouseholdDetail, ResidentDetail, Search};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/regions/{code}/households", get(households))
        .route("/api/v1/regions/{code}/residents", get(residents))
        .route("/api/v1/regions/{code}/counts", get(counts))
        .route("/api/v1/households/{id}", get(household))
        .route("/api/v1/residents/search", get(search))
        .route("/api/v1/residents/{id}", get(resident))
}

/// What the register's read endpoints need.
pub const VIEW: Action = Action::ViewRegister;
/// What a search by a full identity number or phone needs beside `VIEW`.
pub const FULL_SEARCH: Action = Action::SearchFullNumber;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

/// Paging and filters of a list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<crate::schemas::Limit>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only residents with this key-population tag in force, e.g. `elderly_alone`.
    #[param(value_type = Option<crate::schemas::KeyTag>)]
    tag: Option<String>,
}

pub(crate) fn limit(raw: Option<&str>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_limit",
                    format!("limit 应为 1 到 {MAX_LIMIT} 之间的整数"),
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                )
            }),
    }
}

pub(crate) fn record_id(raw: &str, what_zh: &str, what_en: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_id",
            format!("{what_zh}编号“{raw}”应为正整数"),
            format!("{what_en} id {raw:?} must be a positive whole number"),
        )
    })
}

pub(crate) async fn existing_region(
    s: &AppState,
    raw: &str,
) -> Result<shezhi_domain::territory::RegionCode, ApiError> {
    let code = parse_code(raw)?;
    match s.store.region(&code).await? {
        Some(_) => Ok(code),
        None => Err(ApiError::not_found(
            "region_not_found",
            "区划",
            "region",
            code.as_str(),
        )),
    }
}

/// Paging of a list of households (the handler reads [`ListQuery`] and ignores its `tag`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Only describes the query.
struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<crate::schemas::Limit>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Households living in a region (any level), in micro-grid order.
#[utoipa::path(get, path = "/api/v1/regions/{code}/households", tag = "register",
    params(("code" = crate::schemas::RegionCode, Path, description = "Region code", example = "510104018001"), PageQuery),
    responses((status = 200, body = HouseholdPage), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn households(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<HouseholdPage>, ApiError> {
    caller.require_signed_in()?;
    let limit = limit(q.limit.as_deref())?;
    let code = existing_region(&s, &code).await?;
    let scopes = caller.within(VIEW, &code)?;
    let page = s
        .store
        .households_in(&scopes, q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(HouseholdPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// People living in a region, optionally only one key population. Numbers are masked.
#[utoipa::path(get, path = "/api/v1/regions/{code}/residents", tag = "register",
    params(("code" = crate::schemas::RegionCode, Path, description = "Region code", example = "510104018001"), ListQuery),
    responses((status = 200, body = ResidentPage), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn residents(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ResidentPage>, ApiError> {
    caller.require_signed_in()?;
    let limit = limit(q.limit.as_deref())?;
    let tag = match q.tag.as_deref() {
        None => None,
        Some(t) => Some(KeyTag::parse(t).ok_or_else(|| {
            let all: Vec<&str> = KeyTag::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_tag",
                format!("未知的重点人群标记“{t}”，可选：{}", all.join("、")),
                format!(
                    "unknown key-population tag {t:?}; one of {}",
                    all.join(", ")
                ),
            )
        })?),
    };
    let code = existing_region(&s, &code).await?;
    let scopes = caller.within(VIEW, &code)?;
    let page = s
        .store
        .residents_in(&scopes, tag.map(KeyTag::as_str), q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(ResidentPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Live counts of a region: households, residents (by residence), key people by tag, rooms,
/// buildings, compounds, staff assignments.
#[utoipa::path(get, path = "/api/v1/regions/{code}/counts", tag = "register",
    params(("code" = crate::schemas::RegionCode, Path, description = "Region code", example = "510104000000")),
    responses((status = 200, body = RegionCounts), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn counts(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<RegionCounts>, ApiError> {
    caller.require_signed_in()?;
    let code = existing_region(&s, &code).await?;
    caller.require_in(VIEW, &code)?;
    let counts = s.store.region_counts(&code).await?;
    Ok(Json(RegionCounts {
        code: code.as_str().to_string(),
        counts,
    }))
}

/// A household: address, everyone who lives or lived there, and its history.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "register",
    params(("id" = crate::schemas::RecordId, Path, description = "Household id")),
    responses((status = 200, body = HouseholdDetail), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn household(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<HouseholdDetail>, ApiError> {
    caller.require_signed_in()?;
    let id = record_id(&id, "户", "household")?;
    // Out of reach answers exactly like missing: existence itself is not for others to know.
    let h = match s.store.household(id).await? {
        Some(h) if caller.may(VIEW, &h.household.cell_code) => Some(h),
        Some(h) => caller
            .resident_id()
            .filter(|me| h.members.iter().any(|m| m.id == *me))
            .map(|me| as_member_sees(h, me)),
        None => None,
    };
    h.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "household_not_found",
            format!("未找到户 {id}"),
            format!("household {id} not found"),
        )
    })
}

/// A household as one of its members sees it: their own record whole; of the others only
/// who they are (name, relation, sex, birth date, status), without key-population tags or
/// masked numbers, since each of those records answers 404 to the member; of the history only
/// what concerns the household itself or the member, with staff named only as staff.
fn as_member_sees(mut h: HouseholdDetail, me: i64) -> HouseholdDetail {
    for m in h.members.iter_mut().filter(|m| m.id != me) {
        m.tags.clear();
        m.id_number_masked = None;
        m.phone_masked = None;
    }
    h.history.retain(|e| match e.resident_id {
        Some(r) => r == me,
        None => !e.kind.contains("tag"),
    });
    for e in &mut h.history {
        e.actor = "staff".into();
    }
    h
}

/// A resident with their key-population tags (in force and closed) and history.
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "register",
    params(("id" = crate::schemas::RecordId, Path, description = "Resident id")),
    responses((status = 200, body = ResidentDetail), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn resident(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ResidentDetail>, ApiError> {
    caller.require_signed_in()?;
    let id = record_id(&id, "人员", "resident")?;
    let r = match s.store.resident(id).await? {
        Some(r) if caller.may(VIEW, &r.resident.cell_code) => Some(r),
        // The resident's own record: staff appear as staff, not by their user ids.
        Some(mut r) if caller.resident_id() == Some(id) => {
            for e in &mut r.history {
                e.actor = "staff".into();
            }
            for t in &mut r.tags {
                t.set_by = "staff".into();
                t.cleared_by = t.cleared_by.as_ref().map(|_| "staff".into());
            }
            Some(r)
        }
        _ => None,
    };
    r.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "resident_not_found",
            format!("未找到人员 {id}"),
            format!("resident {id} not found"),
        )
    })
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Region to search in (the caller's territory); required (else `400 scope_required`).
    #[param(required = true, value_type = crate::schemas::RegionCode, example = "510104018001")]
    scope: Option<String>,
    /// A name or its start, a full or masked identity number (`51***************4`), or a
    /// full or masked phone (`138****1234`); 1 to 40 characters (else `400 invalid_search`).
    /// A full identity number must also carry a valid check digit and birth date, which the
    /// pattern cannot say.
    #[param(required = true, value_type = String, min_length = 1, max_length = 40,
        pattern = r"^\s*([^\s0-9+][\s\S]*|(\+86)?1[3-9][0-9]{9}|[0-9]{3}\*{4}[0-9]{4}|[0-9]{2}\*{15}[0-9Xx]|[1-9][0-9]{16}[0-9Xx])\s*$")]
    q: Option<String>,
    /// At most this many results, 1 to 500 (default 50).
    #[param(value_type = Option<crate::schemas::Limit>)]
    limit: Option<String>,
}

/// Find residents of a region by name, identity number or phone. Full numbers are matched by
/// keyed hash and never stored or returned in clear; a search by a full number needs
/// `search_full_number` as well (the roles that may reveal numbers), is limited per user and
/// is audited like a reveal.
#[utoipa::path(get, path = "/api/v1/residents/search", tag = "register", params(SearchQuery),
    responses((status = 200, body = ResidentList), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 429, description = "The caller's budget of searches by full number is spent (`search_budget_spent`)", body = crate::error::ErrorBody),
        (status = 409, description = "A full number was given but no data key is configured", body = crate::error::ErrorBody)))]
pub async fn search(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<ResidentList>, ApiError> {
    caller.require_signed_in()?;
    let limit = limit(q.limit.as_deref())?;
    let scope = q.scope.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "scope_required",
            "请用 scope 指定查找的区划",
            "give the region to search in as scope",
        )
    })?;
    let scope = existing_region(&s, scope).await?;
    let scopes = caller.within(VIEW, &scope)?;
    let today = Date::from_epoch_ms_cst(s.clock.now_ms());
    let search = q.q.as_deref().and_then(|t| Search::parse(t, today)).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_search",
            "请输入姓名（或其开头）、身份证号或手机号（完整或脱敏形式），不超过 40 个字符",
            "give a name (or its start), an identity number or a phone (full or masked), at most 40 characters",
        )
    })?;
    let full = match &search {
        Search::IdNumber(_) => Some("id_number"),
        Search::Phone(_) => Some("phone"),
        _ => None,
    };
    let Some(field) = full else {
        let items = s
            .store
            .search_residents(&scopes, &search, s.vault.as_deref(), limit)
            .await?;
        return Ok(Json(ResidentList { items }));
    };
    // A match on a full number confirms it as surely as showing it: only those who may see
    // numbers in clear may search by them, within a budget, and every search is audited
    // (with the number masked) before anything is answered.
    caller.require_in(FULL_SEARCH, &scope)?;
    let scopes: Vec<_> = scopes
        .into_iter()
        .filter(|c| caller.grants.can(FULL_SEARCH, c))
        .collect();
    if scopes.is_empty() {
        return Err(forbidden(FULL_SEARCH));
    }
    let user = caller.user.as_ref().map_or(0, |u| u.id);
    let now = s.clock.now_ms();
    if !s.limits.full_number_search.allow(&user.to_string(), now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "search_budget_spent",
            "按完整号码查找的次数已达上限，请一小时后再试",
            "you have used up your searches by full number for now; try again in an hour",
        ));
    }
    let items = s
        .store
        .search_residents(&scopes, &search, s.vault.as_deref(), limit)
        .await?;
    let masked = match &search {
        Search::IdNumber(id) => id.masked(),
        Search::Phone(p) => p.masked(),
        _ => String::new(),
    };
    s.store
        .audit(&AuditNote {
            at_ms: now,
            actor: caller.actor(),
            action: "personal.searched".into(),
            target: format!("region:{}", scope.as_str()),
            region_code: Some(scope.as_str().to_string()),
            ip: caller.ip.clone(),
            detail: serde_json::json!({
                "field": field,
                "number_masked": masked,
                "found": items.iter().map(|r| r.id).collect::<Vec<_>>(),
            }),
        })
        .await?;
    Ok(Json(ResidentList { items }))
}
