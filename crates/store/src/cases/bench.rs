//! Raw baselines for the case benchmarks, measured on the same database as the application:
//! what the database does with single-row commits, and with the bare minimum of a step
//! (append an event, update the row) in one transaction each. Nothing of the application
//! runs here.

use crate::StoreError;
use crate::backend::{Store, with_pool};
use std::time::{Duration, Instant};

impl Store {
    /// Commit `n` single-row inserts, one transaction each, and return the time taken.
    pub async fn bench_single_row_commits(&self, n: i64) -> Result<Duration, StoreError> {
        with_pool!(self, p => {
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS bench_raw (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)").execute(p).await?;
            sqlx::raw_sql("DELETE FROM bench_raw").execute(p).await?;
            let start = Instant::now();
            for i in 0..n {
                sqlx::query("INSERT INTO bench_raw (id, payload) VALUES ($1, $2)")
                    .bind(i).bind("小区门口占道摆摊，堵住消防通道").execute(p).await?;
            }
            Ok(start.elapsed())
        })
    }

    /// For each case id, `steps` transactions that each append an event and update the case
    /// row (stage, event count, time), with `tasks` of them running at once.
    pub async fn bench_raw_steps(
        &self,
        ids: &[i64],
        steps: i64,
        tasks: usize,
    ) -> Result<Duration, StoreError> {
        let start = Instant::now();
        let chunks: Vec<Vec<i64>> = ids
            .chunks(ids.len().div_ceil(tasks.max(1)).max(1))
            .map(<[i64]>::to_vec)
            .collect();
        let mut handles = Vec::new();
        for chunk in chunks {
            let store = self.clone();
            handles.push(tokio::spawn(async move {
                for id in chunk {
                    for s in 0..steps {
                        with_pool!(store, p => {
                            let mut tx = p.begin().await?;
                            sqlx::query("INSERT INTO case_events (case_id, seq, at_ms, step, actor, capacity, note, detail) VALUES ($1, $2, $3, 'bench', 'bench', 'bench', '', '{}')")
                                .bind(id).bind(1_000 + s).bind(s).execute(&mut *tx).await?;
                            sqlx::query("UPDATE cases SET stage = stage, events = events + 1, updated_at_ms = $1 WHERE id = $2")
                                .bind(s).bind(id).execute(&mut *tx).await?;
                            tx.commit().await?;
                        });
                    }
                }
                Ok::<(), StoreError>(())
            }));
        }
        for h in handles {
            h.await
                .map_err(|e| StoreError::Unavailable(format!("benchmark task: {e}")))??;
        }
        Ok(start.elapsed())
    }
}

/// One report's rows as intake writes them, for the bare-write ceiling of
/// [`Store::bench_bare_intake`].
#[derive(Debug, Clone)]
pub struct BareReport {
    pub id: i64,
    pub number: String,
    pub category: String,
    /// The grid, which is also the level region (a report starts at its grid).
    pub cell: String,
    pub reporter: String,
    pub key: String,
    pub title: String,
    pub description: String,
    pub address: String,
    pub at_ms: i64,
    pub due_at_ms: i64,
}

impl Store {
    /// The database's own ceiling for intake: the rows each report adds (the case row with
    /// its indexes, the report event, two clock timers, the idempotency key and the audit
    /// entry), written as bare multi-row inserts in transactions of `per_tx` reports one after
    /// another, with nothing of the application around them: no checks, no key lookup, no
    /// numbering, no audit chain, no counters. Returns the time taken.
    pub async fn bench_bare_intake(
        &self,
        rows: &[BareReport],
        per_tx: usize,
    ) -> Result<Duration, StoreError> {
        let start = Instant::now();
        with_pool!(self, p, DB => {
            for group in rows.chunks(per_tx.max(1)) {
                let mut tx = p.begin().await?;
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO cases (id, number, source, category_code, category_version, priority, title, description, cell_code, lon, lat, address, \
                    reporter, contact_sealed, contact_masked, stage, level, level_code, lead_unit, clock_gen, due_at_ms, events, created_at_ms, updated_at_ms) ");
                qb.push_values(group, |mut b, r| {
                    b.push_bind(r.id).push_bind(r.number.as_str()).push_bind("resident").push_bind(r.category.as_str()).push_bind(1i64)
                        .push_bind("normal").push_bind(r.title.as_str()).push_bind(r.description.as_str()).push_bind(r.cell.as_str())
                        .push_bind(None::<f64>).push_bind(None::<f64>).push_bind(r.address.as_str())
                        .push_bind(r.reporter.as_str()).push_bind(None::<Vec<u8>>).push_bind(None::<String>).push_bind("reported")
                        .push_bind("grid").push_bind(r.cell.as_str()).push_bind(None::<String>).push_bind(1i64).push_bind(r.due_at_ms)
                        .push_bind(1i64).push_bind(r.at_ms).push_bind(r.at_ms);
                });
                qb.build().execute(&mut *tx).await?;
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_events (case_id, seq, at_ms, step, actor, capacity, note, detail) ");
                qb.push_values(group, |mut b, r| {
                    b.push_bind(r.id).push_bind(1i64).push_bind(r.at_ms).push_bind("report").push_bind(r.reporter.as_str())
                        .push_bind("reporter").push_bind(r.description.as_str()).push_bind(r#"{"to":{"stage":"reported","level":"grid"}}"#);
                });
                qb.build().execute(&mut *tx).await?;
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_timers (case_id, gen, kind, unit_code, due_at_ms, fired_at_ms) ");
                qb.push_values(group.iter().flat_map(|r| [(r, "warn", r.at_ms + (r.due_at_ms - r.at_ms) * 3 / 4), (r, "overdue", r.due_at_ms)]), |mut b, (r, kind, at)| {
                    b.push_bind(r.id).push_bind(1i64).push_bind(kind).push_bind(None::<String>).push_bind(at).push_bind(None::<i64>);
                });
                qb.build().execute(&mut *tx).await?;
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO intake_keys (principal, key, request_hash, case_id, at_ms) ");
                qb.push_values(group, |mut b, r| {
                    b.push_bind(r.reporter.as_str()).push_bind(r.key.as_str()).push_bind("h").push_bind(r.id).push_bind(r.at_ms);
                });
                qb.build().execute(&mut *tx).await?;
                // Sequence numbers far past the log's own entries; no hash chain.
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO audit_log (seq, at_ms, actor, action, target, region_code, ip, detail, prev_hash, hash) ");
                qb.push_values(group, |mut b, r| {
                    b.push_bind(1_000_000_000_000 + r.id).push_bind(r.at_ms).push_bind(r.reporter.as_str()).push_bind("case.report")
                        .push_bind(format!("case:{}", r.id)).push_bind(r.cell.as_str()).push_bind(None::<String>)
                        .push_bind(r#"{"category":"bench"}"#).push_bind("").push_bind("");
                });
                qb.build().execute(&mut *tx).await?;
                tx.commit().await?;
            }
        });
        Ok(start.elapsed())
    }
}

/// Reporters of the synthetic cases: case `id` is reported by `user:{id % BULK_REPORTERS}`.
pub const BULK_REPORTERS: i64 = 1_000_000;

/// A synthetic case for the scale benchmarks, written straight to the tables.
#[derive(Debug, Clone)]
pub struct BulkCase {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub source: String,
    pub cell: String,
    pub stage: String,
    pub level: String,
    pub level_code: String,
    pub lead_unit: Option<String>,
    pub due_at_ms: Option<i64>,
    pub overdue: bool,
    pub created_at_ms: i64,
    pub closed_at_ms: Option<i64>,
}

impl Store {
    /// Write synthetic cases (with their lead unit's dispatch record) in one transaction of
    /// multi-row inserts; counters are the caller's (see [`Store::bulk_counters`]).
    pub async fn bulk_cases(&self, rows: &[BulkCase]) -> Result<(), StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO cases (id, number, source, category_code, category_version, priority, title, description, \
                    cell_code, address, reporter, stage, level, level_code, lead_unit, clock_gen, due_at_ms, overdue, events, created_at_ms, updated_at_ms, closed_at_ms) ");
                qb.push_values(chunk, |mut b, c| {
                    b.push_bind(c.id).push_bind(format!("SQB{:012}", c.id)).push_bind(c.source.as_str()).push_bind(c.category.as_str()).push_bind(1i64)
                        .push_bind("normal").push_bind(c.title.as_str()).push_bind(c.description.as_str()).push_bind(c.cell.as_str()).push_bind("")
                        .push_bind(format!("user:{}", c.id % BULK_REPORTERS)).push_bind(c.stage.as_str()).push_bind(c.level.as_str()).push_bind(c.level_code.as_str())
                        .push_bind(c.lead_unit.as_deref()).push_bind(1i64).push_bind(c.due_at_ms).push_bind(i64::from(c.overdue)).push_bind(1i64)
                        .push_bind(c.created_at_ms).push_bind(c.created_at_ms).push_bind(c.closed_at_ms);
                });
                qb.build().execute(&mut *tx).await?;
                // The lead unit as a dispatch records it, for the lists of a unit's cases.
                let led: Vec<(&BulkCase, &str)> = chunk.iter().filter_map(|c| c.lead_unit.as_deref().map(|u| (c, u))).collect();
                if !led.is_empty() {
                    let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_units (case_id, round, unit_code, role, assigned_at_ms, check_in_due_ms, checked_in_at_ms) ");
                    qb.push_values(&led, |mut b, (c, u)| {
                        b.push_bind(c.id).push_bind(0i64).push_bind(*u).push_bind("lead").push_bind(c.created_at_ms)
                            .push_bind(c.created_at_ms + 3_600_000).push_bind(Some(c.created_at_ms + 600_000));
                    });
                    qb.build().execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Add counter deltas `(scope, metric, day, value)` in one transaction.
    pub async fn bulk_counters(
        &self,
        rows: &[(String, String, i64, i64)],
    ) -> Result<(), StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(2000) {
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_counters (scope, metric, day, value) ");
                qb.push_values(chunk, |mut b, (s, m, d, v)| {
                    b.push_bind(s.as_str()).push_bind(m.as_str()).push_bind(*d).push_bind(*v);
                });
                qb.push(" ON CONFLICT (scope, metric, day) DO UPDATE SET value = case_counters.value + excluded.value");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Add clock timers `(case, kind, due)` of generation 1 in one transaction.
    pub async fn bulk_timers(&self, rows: &[(i64, &str, i64)]) -> Result<(), StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(5000) {
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO case_timers (case_id, gen, kind, unit_code, due_at_ms, fired_at_ms) ");
                qb.push_values(chunk, |mut b, (id, kind, due)| {
                    b.push_bind(*id).push_bind(1i64).push_bind(*kind).push_bind(None::<String>).push_bind(*due).push_bind(None::<i64>);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Set the id sequence of cases past the bulk-written ones.
    pub async fn bulk_cases_done(&self, next_id: i64) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query("UPDATE id_sequences SET next_id = $1 WHERE name = 'cases'").bind(next_id).execute(p).await?;
            // Statistics, as a database in service has them (PostgreSQL's autovacuum would
            // gather them soon after a load this size).
            sqlx::raw_sql("ANALYZE").execute(p).await?;
            Ok(())
        })
    }

    /// The raw baseline of the overview: open and overdue cases counted from the cases
    /// themselves, by stage.
    pub async fn bench_group_by_stage(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        Ok(with_pool!(self, p => {
            sqlx::query("SELECT stage, COUNT(*), CAST(SUM(overdue) AS BIGINT) FROM cases GROUP BY stage")
                .fetch_all(p).await?
                .iter().map(|r| Ok((sqlx::Row::try_get(r, 0)?, sqlx::Row::try_get(r, 1)?, sqlx::Row::try_get(r, 2)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// The raw baseline of a page of a case list: the same columns of `ids`, read by primary
    /// key. Returns how many were found.
    pub async fn bench_rows_by_id(&self, ids: &[i64]) -> Result<usize, StoreError> {
        Ok(with_pool!(self, p, DB => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {} FROM cases c WHERE c.id IN (", super::query::SUMMARY_COLUMNS));
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build().fetch_all(p).await?.len()
        }))
    }

    /// Lags (fired − due, ms) of every fired timer, sorted.
    pub async fn bench_timer_lags(&self) -> Result<Vec<i64>, StoreError> {
        Ok(with_pool!(self, p => {
            sqlx::query("SELECT fired_at_ms - due_at_ms FROM case_timers WHERE fired_at_ms IS NOT NULL ORDER BY 1")
                .fetch_all(p).await?
                .iter().map(|r| sqlx::Row::try_get(r, 0)).collect::<Result<Vec<i64>, sqlx::Error>>()?
        }))
    }
}
