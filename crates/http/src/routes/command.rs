//! The command view's reads: live counters of a region and its children (for the map), the
//! evaluation indicators of any scope over a period (and its report as a workbook), and the
//! caller's notices. All of them
//! read counters kept with each step, never the cases themselves.

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::xlsx::Cell;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use shezhi_domain::access::{Action, Reach};
use shezhi_domain::people::Date;
use shezhi_domain::territory::{Level, RegionCode};
use shezhi_store::cases::{Indicators, Notification};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/indicators", get(indicators))
        .route("/api/v1/indicators/report.xlsx", get(report_xlsx))
        .route("/api/v1/board", get(board))
        .route("/api/v1/notifications", get(notifications))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// The region to look at (default: the caller's first scope).
    #[param(value_type = Option<crate::schemas::RegionCode>)]
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

/// The region a command view looks at: the one asked for, else the caller's first scope,
/// else the root; the caller must see its indicators.
async fn command_region(
    s: &AppState,
    caller: &Caller,
    asked: Option<&str>,
) -> Result<RegionCode, ApiError> {
    caller.require_signed_in()?;
    let code = match asked {
        Some(r) => super::register::existing_region(s, r).await?,
        None => match caller.grants.reach(Action::ViewIndicators) {
            Reach::Regions(rs) if !rs.is_empty() => rs[0].clone(),
            _ => {
                let root = s.store.root_code().await?.unwrap_or_default();
                super::parse_code(&root)?
            }
        },
    };
    caller.require_in(Action::ViewIndicators, &code)?;
    Ok(code)
}

/// The live command view of a region: its counters and its children's, for the map.
#[utoipa::path(get, path = "/api/v1/overview", tag = "command", params(OverviewQuery),
    responses((status = 200, body = Overview), (status = 403, body = crate::error::ErrorBody), (status = 404, description = "The region asked for does not exist (`region_not_found`)", body = crate::error::ErrorBody)))]
pub async fn overview(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> Result<Json<Overview>, ApiError> {
    let code = command_region(&s, &caller, q.region.as_deref()).await?;
    let row =
        s.store.region(&code).await?.ok_or_else(|| {
            ApiError::not_found("region_not_found", "区划", "region", code.as_str())
        })?;
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
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// A region code, or (city-wide command only) `unit:CODE`, `cat:CODE`, `src:CODE`.
    #[param(value_type = crate::schemas::IndicatorScope)]
    pub scope: String,
    /// First day, `YYYY-MM-DD` (default: the first of this month); at most ten years before
    /// `to` (else `400 invalid_period`).
    #[param(value_type = Option<crate::schemas::Day>)]
    pub from: Option<String>,
    /// Last day, inclusive (default: today); not before `from`.
    #[param(value_type = Option<crate::schemas::Day>)]
    pub to: Option<String>,
}

/// The days asked for: from the first of this month to today unless given; at most ten
/// years, not reversed.
fn period(s: &AppState, from: Option<&str>, to: Option<&str>) -> Result<(Date, Date), ApiError> {
    let today = Date::from_epoch_ms_cst(s.clock.now_ms());
    let first = Date::new(today.year(), today.month(), 1).unwrap_or(today);
    let (from, to) = (day(from, first)?, day(to, today)?);
    if to < from || to.days_since_epoch() - from.days_since_epoch() > 3660 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_period",
            "时间段无效（起止颠倒或超过十年）",
            "the period is reversed or longer than ten years",
        ));
    }
    Ok((from, to))
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
    responses((status = 200, body = Indicators), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, description = "The region asked for does not exist (`region_not_found`)", body = crate::error::ErrorBody)))]
pub async fn indicators(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<IndicatorQuery>,
) -> Result<Json<Indicators>, ApiError> {
    caller.require_signed_in()?;
    let (from, to) = period(&s, q.from.as_deref(), q.to.as_deref())?;
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

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The region (default: the caller's first scope).
    #[param(value_type = Option<crate::schemas::RegionCode>)]
    pub region: Option<String>,
    /// First day, `YYYY-MM-DD` (default: the first of this month); at most ten years before
    /// `to` (else `400 invalid_period`).
    #[param(value_type = Option<crate::schemas::Day>)]
    pub from: Option<String>,
    /// Last day, inclusive (default: today); not before `from`.
    #[param(value_type = Option<crate::schemas::Day>)]
    pub to: Option<String>,
}

const REPORT_HEADER: [&str; 16] = [
    "类别 kind",
    "代码 code",
    "名称 name",
    "受理 intake",
    "结案 closed",
    "按期结案 on time",
    "在办 open",
    "超期在办 overdue",
    "按期结案率 on-time rate",
    "结案率 close rate",
    "准确派遣率 dispatch accuracy",
    "返工率 rework rate",
    "平均处置时长(小时) hours to close",
    "响应率 response rate",
    "解决率 resolve rate",
    "满意率 satisfaction",
];

/// One row of the evaluation report.
fn report_row(kind: &str, code: &str, name: &str, i: &Indicators) -> Vec<Cell> {
    let n = |k: &str| Cell::Int(i.counts.get(k).copied().unwrap_or(0));
    let share = |r: Option<f64>| r.map_or(Cell::Empty, Cell::Share);
    vec![
        Cell::Text(kind.into()),
        Cell::Text(code.into()),
        Cell::Text(name.into()),
        n("intake"),
        n("closed"),
        n("closed_on_time"),
        n("open"),
        n("overdue_open"),
        share(i.on_time_rate),
        share(i.close_rate),
        share(i.dispatch_accuracy),
        share(i.rework_rate),
        i.avg_hours_to_close
            .map_or(Cell::Empty, |h| Cell::Int(h.round() as i64)),
        share(i.response_rate),
        share(i.resolve_rate),
        share(i.satisfaction_rate),
    ]
}

/// The evaluation report (综合评价报表) of a region over a period, as an Excel workbook: the
/// region, each of its child regions (a grid's micro-grids have no figures of their own), and
/// each handling unit of the region with work in the period, one row each, with the counts
/// and every indicator. Read from counters.
#[utoipa::path(get, path = "/api/v1/indicators/report.xlsx", tag = "command", params(ReportQuery),
    responses((status = 200, description = "An Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, description = "The region asked for does not exist (`region_not_found`)", body = crate::error::ErrorBody)))]
pub async fn report_xlsx(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let code = command_region(&s, &caller, q.region.as_deref()).await?;
    let (from, to) = period(&s, q.from.as_deref(), q.to.as_deref())?;
    let mut regions = s.store.regions(std::slice::from_ref(&code)).await?;
    // A grid's micro-grids keep no counters of their own (see `scopes_of`): no rows for them.
    if code.level() != Level::Grid {
        regions.extend(s.store.children(&code).await?);
    }
    let mut rows = Vec::with_capacity(regions.len());
    for (i, r) in regions.iter().enumerate() {
        let kind = if i == 0 {
            "本级 region"
        } else {
            "下级 child"
        };
        let figures = s.store.indicators(&r.code, from, to).await?;
        rows.push(report_row(kind, &r.code, &r.name, &figures));
    }
    let mut unit_figures = s.store.figures_by_prefix("unit:", from, to).await?;
    for u in s.store.units(Some(&code)).await? {
        let scope = shezhi_store::cases::ScopeKey::Unit(u.code.clone()).key();
        if let Some(counts) = unit_figures.remove(&scope) {
            let figures = Indicators::from_counts(&scope, from, to, counts);
            rows.push(report_row("单位 unit", &u.code, &u.name, &figures));
        }
    }
    let bytes = crate::xlsx::workbook(
        &format!("{from} – {to}"),
        &REPORT_HEADER,
        &rows,
        &[12, 16, 22, 8, 8, 10, 8, 10, 12, 10, 12, 10, 14, 10, 10, 10],
    );
    let file = format!(
        "attachment; filename=\"evaluation-{}-{from}-{to}.xlsx\"",
        code.as_str()
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, file),
        ],
        bytes,
    ))
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

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// The region to look at (default: the caller's first scope).
    #[param(value_type = Option<crate::schemas::RegionCode>)]
    pub region: Option<String>,
    /// Days of trend, ending today (1 to 92, default 14; else `400 invalid_days`).
    #[param(minimum = 1, maximum = 92)]
    pub days: Option<u32>,
}

/// One day's flows of a region.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DayFigures {
    pub day: String,
    /// `intake`, `closed`, `overdue`, `accepted`, … of that day.
    pub counts: BTreeMap<String, i64>,
}

/// A handling unit's figures this month.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnitFigures {
    pub code: String,
    pub name: String,
    pub indicators: Indicators,
}

/// A category's figures in the region: open now and reported this month.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryFigures {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub open: i64,
    pub intake: i64,
}

/// The command centre's charts: the trend, the unit ranking and the category mix.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Board {
    pub region: String,
    /// Oldest first, one entry per day (days without flows have empty counts).
    pub trend: Vec<DayFigures>,
    /// Units of the region with work this month, best on-time rate first.
    pub units: Vec<UnitFigures>,
    /// Categories by open cases, most first. Kept for districts and the city; empty below.
    pub categories: Vec<CategoryFigures>,
}

/// The command centre's charts of a region: the daily trend, the ranking of its handling
/// units this month and its categories. Read from counters, never from the cases.
#[utoipa::path(get, path = "/api/v1/board", tag = "command", params(BoardQuery),
    responses((status = 200, body = Board), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, description = "The region asked for does not exist (`region_not_found`)", body = crate::error::ErrorBody)))]
pub async fn board(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> Result<Json<Board>, ApiError> {
    let code = command_region(&s, &caller, q.region.as_deref()).await?;
    let days = q.days.unwrap_or(14);
    if !(1..=92).contains(&days) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_days",
            "趋势天数应在 1 到 92 之间",
            "days must be between 1 and 92",
        ));
    }
    let today = Date::from_epoch_ms_cst(s.clock.now_ms());
    let first = Date::from_days_since_epoch(today.days_since_epoch() - i64::from(days) + 1);
    let mut by_day: BTreeMap<Date, BTreeMap<String, i64>> = (0..i64::from(days))
        .map(|i| {
            (
                Date::from_days_since_epoch(first.days_since_epoch() + i),
                BTreeMap::new(),
            )
        })
        .collect();
    for (d, m, v) in s.store.daily_flows(code.as_str(), first, today).await? {
        by_day.entry(d).or_default().insert(m, v);
    }
    let trend = by_day
        .into_iter()
        .map(|(d, counts)| DayFigures {
            day: d.to_string(),
            counts,
        })
        .collect();

    let month = Date::new(today.year(), today.month(), 1).unwrap_or(today);
    let mut unit_figures = s.store.figures_by_prefix("unit:", month, today).await?;
    let mut units: Vec<UnitFigures> = s
        .store
        .units(Some(&code))
        .await?
        .into_iter()
        .filter_map(|u| {
            let scope = shezhi_store::cases::ScopeKey::Unit(u.code.clone()).key();
            let counts = unit_figures.remove(&scope)?;
            Some(UnitFigures {
                indicators: Indicators::from_counts(&scope, month, today, counts),
                code: u.code,
                name: u.name,
            })
        })
        .collect();
    units.sort_by(|a, b| {
        let r = |u: &UnitFigures| u.indicators.on_time_rate.unwrap_or(-1.0);
        r(b).total_cmp(&r(a)).then_with(|| a.code.cmp(&b.code))
    });

    let prefix = match code.level() {
        Level::City => Some("cat:".to_string()),
        Level::District => Some(format!("dcat:{}:", code.as_str())),
        _ => None,
    };
    let mut categories = Vec::new();
    if let Some(prefix) = prefix {
        let names: BTreeMap<String, (String, String)> = s
            .store
            .categories()
            .await?
            .into_iter()
            .map(|c| (c.code, (c.name_zh, c.name_en)))
            .collect();
        for (scope, counts) in s.store.figures_by_prefix(&prefix, month, today).await? {
            let cat = &scope[prefix.len()..];
            let (zh, en) = names
                .get(cat)
                .cloned()
                .unwrap_or_else(|| (cat.into(), cat.into()));
            categories.push(CategoryFigures {
                code: cat.to_string(),
                name_zh: zh,
                name_en: en,
                open: counts.get("open").copied().unwrap_or(0),
                intake: counts.get("intake").copied().unwrap_or(0),
            });
        }
        categories.sort_by(|a, b| b.open.cmp(&a.open).then(b.intake.cmp(&a.intake)));
    }
    Ok(Json(Board {
        region: code.as_str().to_string(),
        trend,
        units,
        categories,
    }))
}
