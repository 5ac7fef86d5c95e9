//! Counters for the command view and evaluation (综合评价), kept in the transaction of each
//! step: deltas per scope (the case's grid, community, street, district and city, its lead
//! unit, category and channel), day and metric. A figure over a period is a sum over its days;
//! `open` and `overdue_open` are running levels, summed over all days up to the period's end.
//! The city overview therefore reads a few hundred rows, never the cases.
//!
//! On SQLite each transaction adds its deltas to `case_counters` directly. On PostgreSQL the
//! step writer's groups (small, frequent, waited for by people) insert their deltas as one
//! row of `case_counter_log` instead of upserting some sixty counter rows, and
//! [`Store::fold_counter_log`], run in the background, adds them into `case_counters`; batch
//! writers (intake, the sweeper) upsert directly, since their large deltas would make every
//! read add them up until the fold. Readers read the view `case_counts`, which adds the log
//! rows not yet folded.

use crate::StoreError;
use crate::backend::{Store, with_pool};
use shezhi_domain::people::Date;
use shezhi_domain::territory::{Level, RegionCode};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// A scope figures are kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKey {
    Region(String),
    Unit(String),
    Category(String),
    /// A category within one district: the district command's category chart.
    DistrictCategory(String, String),
    Source(String),
}

impl ScopeKey {
    pub fn key(&self) -> String {
        match self {
            ScopeKey::Region(c) => c.clone(),
            ScopeKey::Unit(u) => format!("unit:{u}"),
            ScopeKey::Category(c) => format!("cat:{c}"),
            ScopeKey::DistrictCategory(d, c) => format!("dcat:{d}:{c}"),
            ScopeKey::Source(s) => format!("src:{s}"),
        }
    }
}

/// The scopes a case counts in: its regions from the grid up, and its unit, category, channel.
pub fn scopes_of(cell: &str, unit: Option<&str>, category: &str, source: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(c) = RegionCode::parse(cell) {
        for a in c.ancestors().into_iter().chain(std::iter::once(c.clone())) {
            if a.level() == Level::District {
                out.push(ScopeKey::DistrictCategory(a.as_str().into(), category.into()).key());
            }
            if a.level() != Level::MicroGrid {
                out.push(a.as_str().to_string());
            }
        }
    }
    if let Some(u) = unit {
        out.push(ScopeKey::Unit(u.to_string()).key());
    }
    out.push(ScopeKey::Category(category.to_string()).key());
    out.push(ScopeKey::Source(source.to_string()).key());
    out
}

/// Deltas to add, keyed by (scope, metric, day).
#[derive(Debug, Default, Clone)]
pub(crate) struct CaseCounts(HashMap<(String, String, i64), i64>);

impl CaseCounts {
    pub fn add(&mut self, scopes: &[String], at_ms: i64, metric: &str, delta: i64) {
        if delta == 0 {
            return;
        }
        let day = Date::from_epoch_ms_cst(at_ms).days_since_epoch();
        for s in scopes {
            *self
                .0
                .entry((s.clone(), metric.to_string(), day))
                .or_default() += delta;
        }
    }

    /// Add another set of deltas to these.
    pub fn merge(&mut self, other: CaseCounts) {
        for (k, d) in other.0 {
            *self.0.entry(k).or_default() += d;
        }
    }

    /// Rows in a fixed order, so that concurrent writers lock counter rows alike.
    pub fn sorted(&self) -> Vec<(&(String, String, i64), &i64)> {
        let mut v: Vec<_> = self.0.iter().filter(|(_, d)| **d != 0).collect();
        v.sort();
        v
    }
}

/// Upsert the deltas inside a transaction of either backend.
macro_rules! apply_case_counts {
    ($db:ty, $counts:expr, $tx:expr) => {{
        let items = $counts.sorted();
        for chunk in items.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO case_counters (scope, metric, day, value) ");
            qb.push_values(chunk, |mut b, ((scope, metric, day), v)| {
                b.push_bind(scope.as_str()).push_bind(metric.as_str()).push_bind(*day).push_bind(**v);
            });
            qb.push(" ON CONFLICT (scope, metric, day) DO UPDATE SET value = case_counters.value + excluded.value");
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use apply_case_counts;

/// Counter-log rows folded per transaction.
pub const FOLD_BATCH: i64 = 2_000;

/// An advisory lock key for the fold, so that servers sharing a database fold one at a time.
const FOLD_LOCK: i64 = 0x7368_657a_6869_0001;

impl Store {
    /// PostgreSQL: add up to `max` of the oldest counter-log rows into `case_counters` and
    /// delete them, in one transaction; returns how many rows were folded (0 when another
    /// server is folding, and always on SQLite, which has no log). Figures read the same
    /// before and after.
    pub async fn fold_counter_log(&self, max: i64) -> Result<u64, StoreError> {
        let crate::backend::Pool::Postgres(p) = &self.pool else {
            return Ok(0);
        };
        let mut tx = p.begin().await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(FOLD_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !got {
            return Ok(0);
        }
        // Sorted, so that the counter rows are locked in one order.
        let folded: i64 = sqlx::query_scalar(
            "WITH d AS (DELETE FROM case_counter_log WHERE id IN (SELECT id FROM case_counter_log ORDER BY id LIMIT $1) \
                        RETURNING scopes, metrics, days, deltas), \
                  s AS (SELECT x.scope, x.metric, x.day, CAST(SUM(x.value) AS BIGINT) AS value FROM d \
                        CROSS JOIN LATERAL unnest(d.scopes, d.metrics, d.days, d.deltas) AS x(scope, metric, day, value) \
                        GROUP BY 1, 2, 3), \
                  i AS (INSERT INTO case_counters (scope, metric, day, value) \
                        SELECT scope, metric, day, value FROM s WHERE value <> 0 ORDER BY 1, 2, 3 \
                        ON CONFLICT (scope, metric, day) DO UPDATE SET value = case_counters.value + excluded.value) \
             SELECT count(*) FROM d",
        )
        .bind(max)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(folded as u64)
    }

    /// Fold the whole counter log (PostgreSQL), batch after batch; returns the rows folded.
    pub async fn fold_counter_log_all(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let n = self.fold_counter_log(FOLD_BATCH).await?;
            total += n;
            if n < FOLD_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

/// The evaluation figures of one scope over a period (GB/T 30428-style).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicators {
    pub scope: String,
    pub from: String,
    pub to: String,
    /// Raw counts: intake, accepted, closed, closed_on_time, returned, reworked, … and the
    /// levels `open` and `overdue_open` at the end of the period.
    pub counts: BTreeMap<String, i64>,
    /// 按期结案率 = closed on time / (closed + open and overdue − paused).
    pub on_time_rate: Option<f64>,
    /// 结案率 = closed / intake.
    pub close_rate: Option<f64>,
    /// 准确派遣率 = 1 − returned / dispatched.
    pub dispatch_accuracy: Option<f64>,
    /// 返工率 = reworked / closed.
    pub rework_rate: Option<f64>,
    /// 平均处置时长, hours from intake to closing.
    pub avg_hours_to_close: Option<f64>,
    /// 响应率 = accepted in time / intake.
    pub response_rate: Option<f64>,
    /// 解决率 = 1 − "not fixed" / rated.
    pub resolve_rate: Option<f64>,
    /// 满意率 = satisfied or basically satisfied / rated.
    pub satisfaction_rate: Option<f64>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0)
}

impl Indicators {
    pub fn from_counts(scope: &str, from: Date, to: Date, counts: BTreeMap<String, i64>) -> Self {
        let g = |k: &str| counts.get(k).copied().unwrap_or(0);
        let due = g("closed") + g("overdue_open") - g("paused");
        Indicators {
            scope: scope.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            on_time_rate: ratio(g("closed_on_time"), due),
            close_rate: ratio(g("closed"), g("intake")),
            dispatch_accuracy: ratio(g("dispatched") - g("returned"), g("dispatched")),
            rework_rate: ratio(g("reworked"), g("closed")),
            avg_hours_to_close: (g("closed") > 0).then(|| {
                (g("handle_ms") as f64 / g("closed") as f64 / 3_600_000.0 * 100.0).round() / 100.0
            }),
            response_rate: ratio(g("accepted_on_time"), g("intake")),
            resolve_rate: ratio(g("rated") - g("not_fixed"), g("rated")),
            satisfaction_rate: ratio(g("satisfied"), g("rated")),
            counts,
        }
    }
}

impl Store {
    /// The figures of a scope key (a region code, `unit:…`, `cat:…`, `src:…`) over the days
    /// `from..=to` (China time).
    pub async fn indicators(
        &self,
        scope: &str,
        from: Date,
        to: Date,
    ) -> Result<Indicators, StoreError> {
        let (a, b) = (from.days_since_epoch(), to.days_since_epoch());
        let rows: Vec<(String, i64)> = with_pool!(self, p => {
            sqlx::query("SELECT metric, CAST(SUM(value) AS BIGINT) FROM case_counts WHERE scope = $1 AND day <= $3 \
                         AND (day >= $2 OR metric IN ('open', 'overdue_open')) GROUP BY metric")
                .bind(scope).bind(a).bind(b).fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let counts: BTreeMap<String, i64> = rows.into_iter().filter(|(_, v)| *v != 0).collect();
        Ok(Indicators::from_counts(scope, from, to, counts))
    }

    /// The figures of every scope key starting with `prefix` (e.g. `unit:` or
    /// `dcat:510104000000:`) over the days `from..=to`, as for [`Store::indicators`]: flows
    /// summed over the period, running levels up to its end. One range scan of the key.
    pub async fn figures_by_prefix(
        &self,
        prefix: &str,
        from: Date,
        to: Date,
    ) -> Result<BTreeMap<String, BTreeMap<String, i64>>, StoreError> {
        let (a, b) = (from.days_since_epoch(), to.days_since_epoch());
        // Every key starting with the prefix sorts between it and the prefix with its last
        // character bumped (':' → ';').
        let mut hi = prefix.to_string();
        let last = hi
            .pop()
            .map_or('\u{0}', |c| char::from_u32(c as u32 + 1).unwrap_or(c));
        hi.push(last);
        let rows: Vec<(String, String, i64)> = with_pool!(self, p => {
            sqlx::query("SELECT scope, metric, CAST(SUM(value) AS BIGINT) FROM case_counts WHERE scope >= $1 AND scope < $2 \
                         AND day <= $4 AND (day >= $3 OR metric IN ('open', 'overdue_open')) GROUP BY scope, metric")
                .bind(prefix).bind(hi.as_str()).bind(a).bind(b).fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (s, m, v) in rows.into_iter().filter(|r| r.2 != 0) {
            out.entry(s).or_default().insert(m, v);
        }
        Ok(out)
    }

    /// The daily flows of one scope over `from..=to`: (day, metric, value), for trend charts.
    pub async fn daily_flows(
        &self,
        scope: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<(Date, String, i64)>, StoreError> {
        let (a, b) = (from.days_since_epoch(), to.days_since_epoch());
        let rows: Vec<(i64, String, i64)> = with_pool!(self, p => {
            sqlx::query("SELECT day, metric, CAST(SUM(value) AS BIGINT) FROM case_counts WHERE scope = $1 AND day >= $2 AND day <= $3 \
                         AND metric NOT IN ('open', 'overdue_open') GROUP BY day, metric ORDER BY day, metric")
                .bind(scope).bind(a).bind(b).fetch_all(p).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows
            .into_iter()
            .filter(|r| r.2 != 0)
            .map(|(d, m, v)| (Date::from_days_since_epoch(d), m, v))
            .collect())
    }

    /// Running levels (`open`, `overdue_open`) and today's flows for many scopes at once: the
    /// live counters of the command view and the map's colours.
    pub async fn live_counts(
        &self,
        scopes: &[String],
        today: Date,
    ) -> Result<BTreeMap<String, BTreeMap<String, i64>>, StoreError> {
        let day = today.days_since_epoch();
        let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for chunk in scopes.chunks(500) {
            let rows: Vec<(String, String, i64)> = with_pool!(self, p, DB => {
                let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT scope, CASE WHEN metric IN ('open', 'overdue_open') THEN metric ELSE 'today.' || metric END, CAST(SUM(value) AS BIGINT) FROM case_counts WHERE scope IN (");
                let mut sep = qb.separated(", ");
                for s in chunk {
                    sep.push_bind(s.as_str());
                }
                qb.push(") AND (metric IN ('open', 'overdue_open') OR day = ");
                qb.push_bind(day);
                qb.push(") GROUP BY 1, 2");
                qb.build().fetch_all(p).await?
                    .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            for (s, m, v) in rows {
                out.entry(s).or_default().insert(m, v);
            }
        }
        Ok(out)
    }
}
