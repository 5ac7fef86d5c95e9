//! Reading cases: one case with its timeline, units and photos; lists for an inbox (by the
//! caller's territory, unit or own reports, filtered and ordered most urgent first, in keyset
//! pages); a photo; notices.

use super::search::TextCond;
use super::steps::case_not_found;
use crate::StoreError;
use crate::backend::{Store, with_pool};
use shezhi_domain::territory::RegionCode;
use sqlx::Row;

/// A case as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseSummary {
    pub id: i64,
    /// e.g. `SQ2026112300001`.
    pub number: String,
    pub title: String,
    pub category: String,
    pub source: String,
    pub priority: String,
    pub stage: String,
    /// The level the case sits at: grid, community, street, district or city.
    pub level: String,
    pub level_code: String,
    /// The micro-grid (or grid) it lies in.
    pub cell_code: String,
    pub address: String,
    pub point: Option<[f64; 2]>,
    pub lead_unit: Option<String>,
    /// Deadline of the current stage (epoch ms), if a clock runs.
    pub due_at_ms: Option<i64>,
    /// The handling deadline passed while it was open.
    pub overdue: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One step in a case's timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseEvent {
    pub seq: i64,
    pub at_ms: i64,
    pub step: String,
    /// `user:{id}`, `system:sla`, `anonymous`, ….
    pub actor: String,
    /// The display name of a `user:` actor, where the caller may see it.
    pub actor_name: Option<String>,
    pub capacity: String,
    pub note: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

/// A unit a case was sent to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseUnit {
    pub round: i64,
    pub unit_code: String,
    pub unit_name: Option<String>,
    /// `lead` or `assist`.
    pub role: String,
    pub assigned_at_ms: i64,
    pub check_in_due_ms: i64,
    pub checked_in_at_ms: Option<i64>,
}

/// A case with everything its page shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseDetail {
    pub case: CaseSummary,
    pub description: String,
    /// e.g. `138****1234`.
    pub contact_masked: Option<String>,
    pub reporter: String,
    pub rated: bool,
    pub satisfaction: Option<String>,
    pub reworks: i64,
    pub returns: i64,
    pub escalations: i64,
    pub supervised: i64,
    pub merged_into: Option<i64>,
    pub closed_at_ms: Option<i64>,
    /// The description staff published for the public (Open311, reporters nearby), if any.
    pub public_text: Option<String>,
    pub public_at_ms: Option<i64>,
    pub events: Vec<CaseEvent>,
    pub units: Vec<CaseUnit>,
    /// Photo ids, served at `/api/v1/cases/{id}/photos/{photo}`.
    pub photos: Vec<i64>,
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only these stages.
    pub stages: Vec<String>,
    /// Only cases sitting at exactly this level region.
    pub level_code: Option<String>,
    /// Only cases whose level region (where the case sits now) also lies within one of the
    /// scopes: what the caller's level answers for or supervises, not what has gone above it.
    pub level_within: bool,
    pub lead_unit: Option<String>,
    /// Cases this unit was ever sent to (lead or assisting).
    pub unit: Option<String>,
    pub reporter: Option<String>,
    pub category: Option<String>,
    pub overdue: bool,
    /// Words in the title, description or address.
    pub text: Option<String>,
    /// Only cases raised at or after this time (epoch ms) …
    pub created_from: Option<i64>,
    /// … and at or before this one.
    pub created_to: Option<i64>,
    /// Newest first (a reporter's own list) instead of the nearest deadline first.
    pub newest_first: bool,
}

/// A page of cases.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub next_cursor: Option<String>,
}

/// A notice in someone's inbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub recipient: String,
    pub case_id: i64,
    pub step: String,
    pub text_zh: String,
    pub text_en: String,
    pub at_ms: i64,
    pub read: bool,
}

pub(crate) const SUMMARY_COLUMNS: &str = "c.id, c.number, c.title, c.category_code, c.source, c.priority, c.stage, c.level, \
    c.level_code, c.cell_code, c.address, c.lon, c.lat, c.lead_unit, c.due_at_ms, c.overdue, c.created_at_ms, c.updated_at_ms";

fn summary<R: Row>(r: &R) -> Result<CaseSummary, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<f64>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let lon: Option<f64> = r.try_get(11)?;
    let lat: Option<f64> = r.try_get(12)?;
    Ok(CaseSummary {
        id: r.try_get(0)?,
        number: r.try_get(1)?,
        title: r.try_get(2)?,
        category: r.try_get(3)?,
        source: r.try_get(4)?,
        priority: r.try_get(5)?,
        stage: r.try_get(6)?,
        level: r.try_get(7)?,
        level_code: r.try_get(8)?,
        cell_code: r.try_get(9)?,
        address: r.try_get(10)?,
        point: lon.zip(lat).map(|(a, b)| [a, b]),
        lead_unit: r.try_get(13)?,
        due_at_ms: r.try_get(14)?,
        overdue: r.try_get::<i64, _>(15)? != 0,
        created_at_ms: r.try_get(16)?,
        updated_at_ms: r.try_get(17)?,
    })
}

/// The deadline of a case without one, in the list's order. The index `cases_due` (migration
/// 0009) is on the same expression, `COALESCE(due_at_ms, 9000000000000000)`: change both
/// together.
pub(crate) const NO_DUE: i64 = 9_000_000_000_000_000;

/// Keyset cursor: deadline (none sorts last) or time of intake, then id. Without a cursor, the
/// keys before the first case of the list's order.
pub(crate) fn cursor_keys(c: Option<&str>, newest_first: bool) -> (i64, i64) {
    match (c, newest_first) {
        (None, true) => (i64::MAX, i64::MAX),
        _ => c
            .and_then(|c| c.split_once('.'))
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .unwrap_or((i64::MIN, i64::MIN)),
    }
}

/// Whether a list is best read by walking the cases in deadline order until the page is
/// full: the most-urgent-first order, within territories of a street or larger (where a
/// page's cases are found within the first thousands), with no filter that an index of its
/// own narrows better (stages, a level region, a unit, a reporter; words are the caller's
/// to weigh: on SQLite a list with words tries windows of the deadline order instead).
pub(crate) fn walks_deadlines(scopes: Option<&[RegionCode]>, f: &CaseFilter) -> bool {
    use shezhi_domain::territory::Level;
    let large = |r: &RegionCode| matches!(r.level(), Level::City | Level::District | Level::Street);
    !f.newest_first
        && scopes.is_some_and(|s| !s.is_empty() && s.iter().all(large))
        && f.stages.is_empty()
        && f.level_code.is_none()
        && f.lead_unit.is_none()
        && f.unit.is_none()
        && f.reporter.is_none()
}

/// Sizes of the windows tried, in cases of the deadline order from the cursor on: a unit
/// with a fifth of the cases or more fills its page within the first, one with a few percent
/// within the second. A unit with fewer cases than the last window has its cases sorted
/// without trying any (a window costs about as much as sorting as many cases).
pub(crate) const LIST_WINDOWS: [i64; 2] = [256, 4_096];

/// The query of [`Store::cases`] for backend `$db`, after `$select` (its columns, or a request
/// for the plan of the same query). With `$window` `Some(n)`, only the first `n` cases of the
/// deadline order after the cursor are considered. `$text` is one of the conditions the
/// filter's words read (see [`Store::text_conditions`]).
macro_rules! case_list_query {
    ($db:ty, $select:expr, $scopes:expr, $f:expr, $due:expr, $id:expr, $limit:expr, $window:expr, $text:expr) => {{
        let (scopes, f, due, id, limit, window, text): (
            Option<&[shezhi_domain::territory::RegionCode]>,
            &$crate::cases::CaseFilter,
            i64,
            i64,
            i64,
            Option<i64>,
            Option<&$crate::cases::search::TextCond>,
        ) = ($scopes, $f, $due, $id, $limit, $window, $text);
        let sqlite = std::any::TypeId::of::<$db>() == std::any::TypeId::of::<sqlx::Sqlite>();
        let no_due = $crate::cases::query::NO_DUE;
        // On SQLite, a list of a large territory in deadline order walks `cases_due` (its
        // planner, without statistics, would read every case of the territory and sort them);
        // PostgreSQL's planner weighs the two ways itself.
        let due_index = if sqlite { " INDEXED BY cases_due" } else { "" };
        let hint = if text.is_none() && $crate::cases::query::walks_deadlines(scopes, f) {
            due_index
        } else {
            ""
        };
        let mut qb = sqlx::QueryBuilder::<$db>::new(format!("{} FROM ", $select));
        match window {
            // The window: ids in deadline order from the cursor on, read from `cases_due`.
            Some(n) => {
                qb.push(format!("(SELECT id AS wid FROM cases{due_index} WHERE (COALESCE(due_at_ms, {no_due}), id) > ("))
                    .push_bind(due)
                    .push(", ")
                    .push_bind(id)
                    .push(format!(") ORDER BY COALESCE(due_at_ms, {no_due}), id LIMIT "))
                    .push_bind(n)
                    // The window drives the join: on SQLite, CROSS JOIN fixes that order (its
                    // planner would otherwise walk every case in deadline order and look each
                    // up in the window).
                    .push(if sqlite { ") w CROSS JOIN cases c" } else { ") w JOIN cases c ON TRUE" })
                    .push(" WHERE c.id = w.wid");
            }
            None => {
                qb.push(format!("cases c{hint} WHERE 1 = 1"));
            }
        }
        if let Some(scopes) = scopes {
            qb.push(" AND (");
            for (i, s) in scopes.iter().enumerate() {
                let (lo, hi) = s.subtree_range();
                if i > 0 {
                    qb.push(" OR ");
                }
                qb.push("(c.cell_code >= ")
                    .push_bind(lo.clone())
                    .push(" AND c.cell_code < ")
                    .push_bind(hi.clone());
                if f.level_within {
                    qb.push(" AND c.level_code >= ")
                        .push_bind(lo)
                        .push(" AND c.level_code < ")
                        .push_bind(hi);
                }
                qb.push(")");
            }
            qb.push(")");
        }
        if !f.stages.is_empty() {
            qb.push(" AND c.stage IN (");
            let mut sep = qb.separated(", ");
            for s in &f.stages {
                sep.push_bind(s.clone());
            }
            qb.push(")");
        }
        if let Some(v) = &f.level_code {
            qb.push(" AND c.level_code = ").push_bind(v.clone());
        }
        if let Some(v) = &f.lead_unit {
            qb.push(" AND c.lead_unit = ").push_bind(v.clone());
        }
        if let Some(v) = &f.unit {
            if window.is_some() {
                // Each case of the window looked up among its units by the window's id, before
                // its row is read.
                qb.push(" AND EXISTS (SELECT 1 FROM case_units u WHERE u.case_id = w.wid AND u.unit_code = ")
                    .push_bind(v.clone())
                    .push(")");
            } else {
                qb.push(" AND c.id IN (SELECT case_id FROM case_units WHERE unit_code = ")
                    .push_bind(v.clone())
                    .push(")");
            }
        }
        if let Some(v) = &f.reporter {
            qb.push(" AND c.reporter = ").push_bind(v.clone());
        }
        if let Some(v) = &f.category {
            qb.push(" AND c.category_code = ").push_bind(v.clone());
        }
        if f.overdue {
            qb.push(" AND c.overdue = 1");
        }
        if let Some(t) = f.created_from {
            qb.push(" AND c.created_at_ms >= ").push_bind(t);
        }
        if let Some(t) = f.created_to {
            qb.push(" AND c.created_at_ms <= ").push_bind(t);
        }
        match text {
            // Cases whose indexed terms match. On PostgreSQL a correlated EXISTS, so that
            // its planner (which knows how common each term is) either walks the list's order
            // testing each case or reads the matches from the GIN index and sorts them.
            Some($crate::cases::search::TextCond::Index(q)) if sqlite => {
                qb.push(" AND c.id IN (SELECT rowid FROM case_search WHERE case_search MATCH ")
                    .push_bind(q.clone())
                    .push(")");
            }
            Some($crate::cases::search::TextCond::Index(q)) => {
                qb.push(" AND EXISTS (SELECT 1 FROM case_search s WHERE s.case_id = c.id AND s.terms @@ CAST(")
                    .push_bind(q.clone())
                    .push(" AS tsquery))");
            }
            // Cases found besides (not yet indexed, or named by number).
            Some($crate::cases::search::TextCond::Ids(ids)) if sqlite => {
                qb.push(" AND c.id IN (SELECT value FROM json_each(")
                    .push_bind(ids.clone())
                    .push("))");
            }
            Some($crate::cases::search::TextCond::Ids(ids)) => {
                qb.push(" AND c.id IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(")
                    .push_bind(ids.clone())
                    .push(" AS json)))");
            }
            None => {}
        }
        // After the cursor: a row comparison, which both databases serve from an index whose
        // leading columns are the list's order (a seek rather than a walk from the start).
        if f.newest_first {
            qb.push(" AND (c.created_at_ms, c.id) < (")
                .push_bind(due)
                .push(", ")
                .push_bind(id)
                .push(")");
            qb.push(" ORDER BY c.created_at_ms DESC, c.id DESC LIMIT ")
                .push_bind(limit);
        } else {
            qb.push(format!(" AND (COALESCE(c.due_at_ms, {no_due}), c.id) > ("))
                .push_bind(due)
                .push(", ")
                .push_bind(id)
                .push(")");
            qb.push(format!(
                " ORDER BY COALESCE(c.due_at_ms, {no_due}), c.id LIMIT "
            ))
            .push_bind(limit);
        }
        qb
    }};
}
#[cfg(any(test, feature = "testing"))]
pub(crate) use case_list_query;

impl Store {
    /// A case with its timeline, units and photos.
    pub async fn case_detail(&self, id: i64) -> Result<Option<CaseDetail>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, c.description, c.contact_masked, c.reporter, c.rated, c.satisfaction, c.reworks, c.returns, \
             c.escalations, c.supervised, c.merged_into, c.closed_at_ms, c.public_text, c.public_at_ms FROM cases c WHERE c.id = $1"
        );
        with_pool!(self, p => {
            let Some(r) = sqlx::query(&sql).bind(id).fetch_optional(p).await? else {
                return Ok(None);
            };
            let case = summary(&r)?;
            let mut events = sqlx::query("SELECT seq, at_ms, step, actor, capacity, note, detail FROM case_events WHERE case_id = $1 ORDER BY seq")
                .bind(id).fetch_all(p).await?
                .iter().map(|e| Ok(CaseEvent {
                    seq: e.try_get(0)?, at_ms: e.try_get(1)?, step: e.try_get(2)?, actor: e.try_get(3)?, actor_name: None, capacity: e.try_get(4)?,
                    note: e.try_get(5)?, detail: serde_json::from_str(&e.try_get::<String, _>(6)?).unwrap_or_default(),
                })).collect::<Result<Vec<_>, sqlx::Error>>()?;
            // Who the users among the actors are, in one read.
            let mut users: Vec<i64> = events.iter().filter_map(|e| e.actor.strip_prefix("user:")?.parse().ok()).collect();
            users.sort_unstable();
            users.dedup();
            if !users.is_empty() {
                let list = users.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                let names: std::collections::HashMap<String, String> = sqlx::query(&format!("SELECT id, display_name FROM users WHERE id IN ({list})"))
                    .fetch_all(p).await?
                    .iter().map(|u| Ok((format!("user:{}", u.try_get::<i64, _>(0)?), u.try_get(1)?)))
                    .collect::<Result<_, sqlx::Error>>()?;
                for e in &mut events {
                    e.actor_name = names.get(&e.actor).cloned();
                }
            }
            let units = sqlx::query("SELECT u.round, u.unit_code, h.name, u.role, u.assigned_at_ms, u.check_in_due_ms, u.checked_in_at_ms \
                                     FROM case_units u LEFT JOIN handling_units h ON h.code = u.unit_code WHERE u.case_id = $1 ORDER BY u.round, u.role DESC, u.unit_code")
                .bind(id).fetch_all(p).await?
                .iter().map(|u| Ok(CaseUnit {
                    round: u.try_get(0)?, unit_code: u.try_get(1)?, unit_name: u.try_get(2)?, role: u.try_get(3)?,
                    assigned_at_ms: u.try_get(4)?, check_in_due_ms: u.try_get(5)?, checked_in_at_ms: u.try_get(6)?,
                })).collect::<Result<Vec<_>, sqlx::Error>>()?;
            let photos = sqlx::query("SELECT id FROM case_photos WHERE case_id = $1 ORDER BY id")
                .bind(id).fetch_all(p).await?
                .iter().map(|x| x.try_get(0)).collect::<Result<Vec<i64>, sqlx::Error>>()?;
            Ok(Some(CaseDetail {
                case,
                description: r.try_get(18)?,
                contact_masked: r.try_get(19)?,
                reporter: r.try_get(20)?,
                rated: r.try_get::<i64, _>(21)? != 0,
                satisfaction: r.try_get(22)?,
                reworks: r.try_get(23)?,
                returns: r.try_get(24)?,
                escalations: r.try_get(25)?,
                supervised: r.try_get(26)?,
                merged_into: r.try_get(27)?,
                closed_at_ms: r.try_get(28)?,
                public_text: r.try_get(29)?,
                public_at_ms: r.try_get(30)?,
                events,
                units,
                photos,
            }))
        })
    }

    /// The id of the case with this readable number.
    pub async fn case_id_by_number(&self, number: &str) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(self, p => {
            sqlx::query("SELECT id FROM cases WHERE number = $1").bind(number).fetch_optional(p).await?
                .map(|r| r.try_get::<i64, _>(0)).transpose()?
        }))
    }

    /// Cases in any of `scopes` (None: anywhere, for unit and reporter lists) matching the
    /// filter, most urgent first, `limit` after `cursor`.
    pub async fn cases(
        &self,
        scopes: Option<&[RegionCode]>,
        f: &CaseFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<CaseList, StoreError> {
        // A unit's cases in deadline order: no index holds them in that order, and a
        // department may have been sent hundreds of thousands (sorting them all for each page
        // took half a second at a million cases), so SQLite first tries windows of the
        // deadline order. PostgreSQL's planner, which has statistics, weighs walking the
        // deadline order against sorting the unit's cases itself.
        let windows: &[i64] = match &f.unit {
            Some(unit) if !f.newest_first && self.backend() == crate::Backend::Sqlite => {
                let cap = LIST_WINDOWS[LIST_WINDOWS.len() - 1];
                if self.unit_cases_up_to(unit, cap).await? < cap {
                    &[]
                } else {
                    &LIST_WINDOWS
                }
            }
            _ => &[],
        };
        Ok(self
            .cases_in_windows(scopes, f, cursor, limit, windows)
            .await?
            .0)
    }

    /// How many cases were ever sent to `unit`, counted up to `cap` (from the unit's index
    /// alone).
    async fn unit_cases_up_to(&self, unit: &str, cap: i64) -> Result<i64, StoreError> {
        Ok(with_pool!(self, p => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM (SELECT 1 FROM case_units WHERE unit_code = $1 LIMIT $2) x")
                .bind(unit).bind(cap).fetch_one(p).await?
        }))
    }

    /// [`Store::cases`], trying `windows` first: the page read from the first `n` cases of
    /// the deadline order after the cursor is the page itself when it is full (every case
    /// past the window comes after all of them), and otherwise the next window is tried, then
    /// the whole list. Also returns the window that served the page (None: the whole list).
    pub(crate) async fn cases_in_windows(
        &self,
        scopes: Option<&[RegionCode]>,
        f: &CaseFilter,
        cursor: Option<&str>,
        limit: i64,
        windows: &[i64],
    ) -> Result<(CaseList, Option<i64>), StoreError> {
        let (due, id) = cursor_keys(cursor, f.newest_first);
        if scopes.is_some_and(|s| s.is_empty()) {
            return Ok((
                CaseList {
                    items: Vec::new(),
                    next_cursor: None,
                },
                None,
            ));
        }
        // Words: one query for each condition they read, the pages merged. On SQLite the
        // index's matches are first looked for in windows of the deadline order, as a unit's
        // cases are (its planner would read every match and sort them: 90 ms for a word in
        // one case in 20 of a million); PostgreSQL's planner chooses itself.
        let text = self.text_conditions(scopes, f).await?;
        let word_windows: &[i64] = match (&windows, self.backend()) {
            ([_, ..], _) => windows,
            ([], crate::Backend::Sqlite) if walks_deadlines(scopes, f) => &LIST_WINDOWS,
            _ => &[],
        };
        let conds: Vec<(Option<&TextCond>, &[i64])> = match &text {
            None => vec![(None, windows)],
            Some(conds) => conds
                .iter()
                .map(|c| match c {
                    TextCond::Index(_) => (Some(c), word_windows),
                    TextCond::Ids(_) => (Some(c), &[][..]),
                })
                .collect(),
        };
        let mut served = None;
        let mut items: Vec<CaseSummary> = Vec::new();
        for (n, (cond, windows)) in conds.iter().enumerate() {
            let (page, window) = self
                .page_in_windows(scopes, f, (due, id), limit, windows, *cond)
                .await?;
            if n == 0 {
                served = window;
            }
            items.extend(page);
        }
        if conds.len() > 1 {
            let key = |c: &CaseSummary| match f.newest_first {
                true => (-c.created_at_ms, -c.id),
                false => (c.due_at_ms.unwrap_or(NO_DUE), c.id),
            };
            items.sort_by_key(key);
            items.dedup_by_key(|c| c.id);
            items.truncate(limit.max(0) as usize);
        }
        let next_cursor = (items.len() as i64 == limit)
            .then(|| {
                items.last().map(|c| {
                    let key = if f.newest_first {
                        c.created_at_ms
                    } else {
                        c.due_at_ms.unwrap_or(NO_DUE)
                    };
                    format!("{key}.{}", c.id)
                })
            })
            .flatten();
        Ok((CaseList { items, next_cursor }, served))
    }

    /// A page of the list after the cursor keys `after`, with one condition on its words:
    /// from the first window that fills it, else from the whole list; and that window.
    async fn page_in_windows(
        &self,
        scopes: Option<&[RegionCode]>,
        f: &CaseFilter,
        after: (i64, i64),
        limit: i64,
        windows: &[i64],
        cond: Option<&TextCond>,
    ) -> Result<(Vec<CaseSummary>, Option<i64>), StoreError> {
        let (due, id) = after;
        for window in windows.iter().map(|w| Some(*w)).chain([None]) {
            let items = with_pool!(self, p, DB => {
                let mut qb = case_list_query!(DB, format!("SELECT {SUMMARY_COLUMNS}"), scopes, f, due, id, limit, window, cond);
                qb.build().fetch_all(p).await?.iter().map(summary).collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            if window.is_none() || items.len() as i64 == limit {
                return Ok((items, window));
            }
        }
        Ok((Vec::new(), None))
    }

    /// The newest cases raised in `[from, to]` (epoch ms), optionally of one category and
    /// some stages, at most `limit`: an index range on the time of intake (with the
    /// category first when one is given), never a scan of all cases.
    pub async fn cases_raised(
        &self,
        category: Option<&str>,
        stages: &[String],
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        Ok(with_pool!(self, p, DB => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {SUMMARY_COLUMNS} FROM cases c WHERE c.created_at_ms >= "));
            qb.push_bind(from).push(" AND c.created_at_ms <= ").push_bind(to);
            if let Some(cat) = category {
                qb.push(" AND c.category_code = ").push_bind(cat.to_string());
            }
            if !stages.is_empty() {
                qb.push(" AND c.stage IN (");
                let mut sep = qb.separated(", ");
                for s in stages {
                    sep.push_bind(s.clone());
                }
                qb.push(")");
            }
            qb.push(" ORDER BY c.created_at_ms DESC, c.id DESC LIMIT ").push_bind(limit);
            qb.build().fetch_all(p).await?.iter().map(summary).collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// The published public descriptions of those of `ids` that have one.
    pub async fn public_texts(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT id, public_text FROM cases WHERE public_text IS NOT NULL AND id IN ({list})"
            );
            let rows: Vec<(i64, String)> = with_pool!(self, p => {
                sqlx::query_as(&sql).fetch_all(p).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// A photo's type and bytes, with the case it belongs to.
    pub async fn case_photo(
        &self,
        case_id: i64,
        photo: i64,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(with_pool!(self, p => {
            match sqlx::query("SELECT content_type, bytes FROM case_photos WHERE id = $1 AND case_id = $2")
                .bind(photo).bind(case_id).fetch_optional(p).await? {
                None => None,
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            }
        }))
    }

    /// Notices for any of `recipients`, newest first.
    pub async fn notifications(
        &self,
        recipients: &[String],
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        if recipients.is_empty() {
            return Ok(Vec::new());
        }
        Ok(with_pool!(self, p, DB => {
            let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT id, recipient, case_id, step, text_zh, text_en, at_ms, read_at_ms FROM notifications WHERE recipient IN (");
            let mut sep = qb.separated(", ");
            for r in recipients {
                sep.push_bind(r.clone());
            }
            qb.push(") ORDER BY id DESC LIMIT ").push_bind(limit);
            qb.build().fetch_all(p).await?.iter().map(|r| Ok(Notification {
                id: r.try_get(0)?, recipient: r.try_get(1)?, case_id: r.try_get(2)?, step: r.try_get(3)?,
                text_zh: r.try_get(4)?, text_en: r.try_get(5)?, at_ms: r.try_get(6)?, read: r.try_get::<Option<i64>, _>(7)?.is_some(),
            })).collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// What decides how a caller stands to a case: cell, level, level region, reporter, lead
    /// and assisting units of the current round, stage and number of events.
    pub async fn case_facts(&self, id: i64) -> Result<StoredFacts, StoreError> {
        with_pool!(self, p => {
            let r = sqlx::query("SELECT cell_code, level, level_code, reporter, lead_unit, stage, events FROM cases WHERE id = $1")
                .bind(id).fetch_optional(p).await?.ok_or_else(|| case_not_found(id))?;
            let units = sqlx::query("SELECT unit_code FROM case_units WHERE case_id = $1 AND role = 'assist' \
                                     AND round = (SELECT MAX(round) FROM case_units WHERE case_id = $1)")
                .bind(id).fetch_all(p).await?
                .iter().map(|u| u.try_get(0)).collect::<Result<Vec<String>, sqlx::Error>>()?;
            Ok(StoredFacts {
                cell: r.try_get(0)?, level: r.try_get(1)?, level_code: r.try_get(2)?, reporter: r.try_get(3)?,
                lead_unit: r.try_get(4)?, stage: r.try_get(5)?, events: r.try_get(6)?, assist_units: units,
            })
        })
    }
}

impl StoredFacts {
    /// The same facts, read off a case already loaded.
    pub fn of(d: &CaseDetail) -> StoredFacts {
        let round = d.units.iter().map(|u| u.round).max().unwrap_or(0);
        StoredFacts {
            cell: d.case.cell_code.clone(),
            level: d.case.level.clone(),
            level_code: d.case.level_code.clone(),
            reporter: d.reporter.clone(),
            lead_unit: d.case.lead_unit.clone(),
            assist_units: d
                .units
                .iter()
                .filter(|u| u.round == round && u.role == "assist")
                .map(|u| u.unit_code.clone())
                .collect(),
            stage: d.case.stage.clone(),
            events: d.events.len() as i64,
        }
    }
}

/// The stored facts of a case that access decisions need (see [`Store::case_facts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFacts {
    pub cell: String,
    pub level: String,
    pub level_code: String,
    pub reporter: String,
    pub lead_unit: Option<String>,
    pub assist_units: Vec<String>,
    pub stage: String,
    pub events: i64,
}
