//! The SLA sweeper's side in the database: timers that are due fire exactly once, even with
//! several sweepers at once or after a restart, because each is claimed by a conditional
//! update inside the transaction that also writes what it causes. A warning notes the case;
//! an overdue mark climbs an unanswered case up the ladder (accept and dispatch clocks),
//! supervises a late unit (sign and handle clocks), or records a late check-in.

use super::StepInput;
use super::steps::step_in_tx;
use crate::StoreError;
use crate::backend::{Store, with_pool};
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::{Capacity, Stage, Step};
use sqlx::Row;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Timers claimed by this sweep.
    pub fired: u64,
    /// Claimed timers of a clock that had since restarted or stopped (nothing to do).
    pub stale: u64,
    pub warnings: u64,
    pub overdue: u64,
    pub escalated: u64,
    pub supervised: u64,
    pub late_check_ins: u64,
    /// The largest delay between a timer's due time and this sweep (ms).
    pub max_lag_ms: i64,
}

fn system(step: Step) -> StepInput {
    StepInput {
        step: Some(step),
        by: vec![Capacity::System],
        actor: "system:sla".into(),
        ..StepInput::default()
    }
}

/// A claimed timer: case, clock generation, kind, unit, due time, the unit's check-in.
type DueTimer = (i64, i64, String, Option<String>, i64, Option<i64>);

/// Timers fired in one transaction.
const BATCH: i64 = 500;

impl Store {
    /// Fire up to `max` timers due at `now`, oldest first, a batch per transaction.
    pub async fn sweep(
        &self,
        now: i64,
        cal: &WorkCalendar,
        max: i64,
    ) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        let mut left = max;
        while left > 0 {
            let n = self
                .fire_batch(now, cal, left.min(BATCH), &mut report)
                .await?;
            if n == 0 {
                break;
            }
            left -= n;
        }
        Ok(report)
    }

    /// Claim and fire one batch in one transaction; how many timers it claimed.
    async fn fire_batch(
        &self,
        now: i64,
        cal: &WorkCalendar,
        limit: i64,
        report: &mut SweepReport,
    ) -> Result<i64, StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            // Claim: on PostgreSQL rows other sweepers hold are skipped; on SQLite the write
            // lock, taken first, makes this sweeper the only one.
            let claim = match self.backend() {
                crate::Backend::Postgres => "SELECT id FROM case_timers WHERE fired_at_ms IS NULL AND due_at_ms <= $1 ORDER BY due_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED",
                crate::Backend::Sqlite => {
                    sqlx::query("UPDATE case_timers SET id = id WHERE 0 = 1").execute(&mut *tx).await?;
                    "SELECT id FROM case_timers WHERE fired_at_ms IS NULL AND due_at_ms <= $1 ORDER BY due_at_ms LIMIT $2"
                }
            };
            let ids: Vec<i64> = sqlx::query(claim).bind(now).bind(limit).fetch_all(&mut *tx).await?
                .iter().map(|r| r.try_get(0)).collect::<Result<Vec<i64>, sqlx::Error>>()?;
            if ids.is_empty() {
                return Ok(0);
            }
            let mut qb = sqlx::QueryBuilder::<DB>::new("UPDATE case_timers SET fired_at_ms = ");
            qb.push_bind(now).push(" WHERE fired_at_ms IS NULL AND id IN (");
            let mut sep = qb.separated(", ");
            for id in &ids {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build().execute(&mut *tx).await?;
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT t.case_id, t.gen, t.kind, t.unit_code, t.due_at_ms, \
                 (SELECT checked_in_at_ms FROM case_units u WHERE u.case_id = t.case_id AND u.round = t.gen AND u.unit_code = t.unit_code) \
                 FROM case_timers t WHERE t.id IN (");
            let mut sep = qb.separated(", ");
            for id in &ids {
                sep.push_bind(*id);
            }
            // Case order, so that concurrent sweepers lock case rows alike.
            qb.push(") ORDER BY t.case_id, t.id");
            let timers: Vec<DueTimer> = qb.build().fetch_all(&mut *tx).await?
                .iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let mut late = super::counters::CaseCounts::default();
            let mut notes = Vec::new();
            for (case_id, timer_gen, kind, unit, due_at, checked_in) in timers {
                report.fired += 1;
                report.max_lag_ms = report.max_lag_ms.max(now - due_at);
                let r = sqlx::query("SELECT clock_gen, stage, level FROM cases WHERE id = $1").bind(case_id).fetch_one(&mut *tx).await?;
                let (clock_gen, stage, level): (i64, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                let stage = Stage::parse(&stage).unwrap_or(Stage::Closed);
                let mut steps: Vec<StepInput> = Vec::new();
                match kind.as_str() {
                    "check_in" => {
                        // Assisting units' check-in clocks belong to their dispatch round.
                        if checked_in.is_none() && !stage.is_final() {
                            let mut s = system(Step::Overdue);
                            s.note = format!("协办单位 {} 未按时报到", unit.clone().unwrap_or_default());
                            s.units = unit.iter().cloned().collect();
                            steps.push(s);
                            report.late_check_ins += 1;
                            if let Some(u) = &unit {
                                late.add(&[super::counters::ScopeKey::Unit(u.clone()).key()], now, "check_in_late", 1);
                            }
                        }
                    }
                    _ if timer_gen != clock_gen || stage.is_final() || stage == Stage::Paused => {}
                    "warn" => {
                        let mut s = system(Step::Warn);
                        s.note = "即将超期".into();
                        steps.push(s);
                        report.warnings += 1;
                    }
                    _ => {
                        let mut s = system(Step::Overdue);
                        s.note = format!("{}超期", stage.zh());
                        steps.push(s);
                        report.overdue += 1;
                        match stage {
                            // A case at the top of the ladder stays there, overdue.
                            Stage::Reported | Stage::Accepted if level != "city" => {
                                steps.push(system(Step::Escalate));
                                report.escalated += 1;
                            }
                            Stage::Dispatched | Stage::Handling | Stage::PauseRequested => {
                                steps.push(system(Step::Supervise));
                                report.supervised += 1;
                            }
                            _ => {}
                        }
                    }
                }
                if steps.is_empty() {
                    report.stale += 1;
                }
                for s in &steps {
                    let (plan, note) = step_in_tx!(self, DB, tx, case_id, s, now, cal);
                    late.merge(plan.counts);
                    notes.push(note);
                }
            }
            crate::access::audit::audit_append_many!(DB, tx, notes, late, self.audit_key());
            tx.commit().await?;
            Ok(ids.len() as i64)
        })
    }
}
