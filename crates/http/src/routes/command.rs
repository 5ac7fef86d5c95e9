//! The command view's reads: live counters of a region and its children (for the map), the
//! evaluation indicators of any scope over a period, and the caller's notices. All of them
//! read counters kept with each step, never the cases themselves.

use crate::auth::Caller;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use shezhi_domain::access::{Action, Reach};
use shezhi_domain::people::Date;
use shezhi_store::cases::{Indicators, Notification};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/indicators", get(indicators))
        .route("/api/v1/notifications", get(notifications))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct OverviewQuery {
    /// The region to look at (default: the caller's first scope).
    pub region: Option<String>,
}

/// Live figures of one region.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RegionFigures {
    pub code: String,
    pub name: String,
    /// `open`, `overdue_open`, and today's flows as `today.intake`, `today.closed`, …
    pub counts: BTreeMap<String, i64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub region: RegionFigures,
    pub children: Vec<RegionFigures>,
    /// Today's figures as indicators (on-time rate, satisfaction …) of the region.
    pub today: Indicators,
}

/// The live command view of a region: its counters and its children's, for the map.
#[utoipa::path(get, path = "/api/v1/overview", tag = "command", params(OverviewQuery),
    responses((status = 200, body = Overview), (status = 403, body = crate::error::ErrorBody)))]
pub async fn overview(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<OverviewQuery>,
) -> Result<Json<Overview>, ApiError> {
    caller.require_signed_in()?;
    let code = match q.region.as_deref() {
        Some(r) => super::register::existing_region(&s, r).await?,
        None => match caller.grants.reach(Action::ViewIndicators) {
            Reach::Regions(rs) if !rs.is_empty() => rs[0].clone(),
            _ => {
                let root = s.store.root_code().await?.unwrap_or_default();
                super::parse_code(&root)?
            }
        },
    };
    caller.require_in(Action::ViewIndicators, &code)?;
    let row = s
        .store
        .region(&code)
        .await?
        .ok_or_else(|| ApiError::not_found("区划", "region", code.as_str()))?;
    let children = s.store.children(&code).await?;
    let mut keys: Vec<String> = children.iter().map(|c| c.code.clone()).collect();
    keys.push(code.as_str().to_string());
    let today = Date::from_epoch_ms_cst(s.clock.now_ms());
    let mut live = s.store.live_counts(&keys, today).await?;
    let figures = |code: &str, name: &str, live: &mut BTreeMap<String, BTreeMap<String, i64>>| {
        RegionFigures {
            code: code.to_string(),
            name: name.to_string(),
            counts: live.remove(code).unwrap_or_default(),
        }
    };
    let kids = children
        .iter()
        .map(|c| figures(&c.code, &c.name, &mut live))
        .collect();
    Ok(Json(Overview {
        region: figures(code.as_str(), &row.name, &mut live),
        children: kids,
        today: s.store.indicators(code.as_str(), today, today).await?,
    }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct IndicatorQuery {
    /// A region code, or (city-wide command only) `unit:CODE`, `cat:CODE`, `src:CODE`.
    pub scope: String,
    /// First day, `YYYY-MM-DD` (default: the first of this month).
    pub from: Option<String>,
    /// Last day, inclusive (default: today).
    pub to: Option<String>,
}

fn day(raw: Option<&str>, default: Date) -> Result<Date, ApiError> {
    match raw {
        None => Ok(default),
        Some(d) => Date::parse(d.trim()).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_date",
                format!("日期“{d}”应为 YYYY-MM-DD"),
                format!("date {d:?} must be YYYY-MM-DD"),
            )
        }),
    }
}

/// Evaluation indicators (按期结案率, 结案率, 准确派遣率, 返工率, 平均处置时长, 响应率, 解决率,
/// 满意率) of a region, unit, category or channel over a period.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "command", params(IndicatorQuery),
    responses((status = 200, body = Indicators), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn indicators(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<IndicatorQuery>,
) -> Result<Json<Indicators>, ApiError> {
    caller.require_signed_in()?;
    let today = Date::from_epoch_ms_cst(s.clock.now_ms());
    let first = Date::new(today.year(), today.month(), 1).unwrap_or(today);
    let (from, to) = (day(q.from.as_deref(), first)?, day(q.to.as_deref(), today)?);
    if to < from || to.days_since_epoch() - from.days_since_epoch() > 3660 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_period",
            "时间段无效（起止颠倒或超过十年）",
            "the period is reversed or longer than ten years",
        ));
    }
    let scope = q.scope.trim();
    if scope.contains(':') {
        // Slices across the whole city are for those who see the whole city.
        let root = s.store.root_code().await?.unwrap_or_default();
        caller.require_in(Action::ViewIndicators, &super::parse_code(&root)?)?;
    } else {
        let code = super::register::existing_region(&s, scope).await?;
        caller.require_in(Action::ViewIndicators, &code)?;
    }
    Ok(Json(s.store.indicators(scope, from, to).await?))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    pub items: Vec<Notification>,
}

/// The caller's notices: to them, to their units, and to the regions they answer for.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "cases",
    responses((status = 200, body = NotificationList)))]
pub async fn notifications(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<NotificationList>, ApiError> {
    caller.require_signed_in()?;
    let mut to: Vec<String> = vec![caller.actor()];
    for b in &caller.grants.bindings {
        if let Some(u) = &b.unit {
            to.push(format!("unit:{u}"));
        }
        // Notices to a region are for those who may see its cases.
        if let (Some(sc), true) = (&b.scope, b.role.allows(Action::ViewCases)) {
            to.push(format!("region:{}", sc.as_str()));
        }
    }
    Ok(Json(NotificationList {
        items: s.store.notifications(&to, 100).await?,
    }))
}
