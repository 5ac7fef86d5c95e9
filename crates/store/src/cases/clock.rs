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

impl Store {
    /// Fire up to `max` timers due at `now`, oldest first.
    pub async fn sweep(
        &self,
        now: i64,
        cal: &WorkCalendar,
        max: i64,
    ) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        let due: Vec<i64> = with_pool!(self, p => {
            sqlx::query("SELECT id FROM case_timers WHERE fired_at_ms IS NULL AND due_at_ms <= $1 ORDER BY due_at_ms LIMIT $2")
                .bind(now).bind(max).fetch_all(p).await?
                .iter().map(|r| r.try_get(0)).collect::<Result<Vec<i64>, sqlx::Error>>()?
        });
        for timer in due {
            self.fire(timer, now, cal, &mut report).await?;
        }
        Ok(report)
    }

    async fn fire(
        &self,
        timer: i64,
        now: i64,
        cal: &WorkCalendar,
        report: &mut SweepReport,
    ) -> Result<(), StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let claimed = sqlx::query("UPDATE case_timers SET fired_at_ms = $1 WHERE id = $2 AND fired_at_ms IS NULL")
                .bind(now).bind(timer).execute(&mut *tx).await?;
            if claimed.rows_affected() == 0 {
                // Another sweeper fired it first.
                return Ok(());
            }
            let r = sqlx::query("SELECT t.case_id, t.gen, t.kind, t.unit_code, t.due_at_ms, c.clock_gen, c.stage, \
                                 (SELECT checked_in_at_ms FROM case_units u WHERE u.case_id = t.case_id AND u.round = t.gen AND u.unit_code = t.unit_code) \
                                 FROM case_timers t JOIN cases c ON c.id = t.case_id WHERE t.id = $1")
                .bind(timer).fetch_one(&mut *tx).await?;
            let (case_id, timer_gen, kind, unit, due_at): (i64, i64, String, Option<String>, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
            let (clock_gen, stage): (i64, String) = (r.try_get(5)?, r.try_get(6)?);
            let checked_in: Option<i64> = r.try_get(7)?;
            report.fired += 1;
            report.max_lag_ms = report.max_lag_ms.max(now - due_at);
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
                        Stage::Reported | Stage::Accepted => {
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
                // A case at the top of the ladder stays there, overdue.
                if s.step == Some(Step::Escalate) {
                    let top = sqlx::query("SELECT level FROM cases WHERE id = $1").bind(case_id).fetch_one(&mut *tx).await?;
                    if sqlx::Row::try_get::<String, _>(&top, 0)? == "city" {
                        report.escalated -= 1;
                        continue;
                    }
                }
                let _plan = step_in_tx!(DB, tx, case_id, s, now, cal);
            }
            // Late check-ins count against the unit that was late.
            if let (Some(u), true) = (&unit, kind == "check_in" && !steps.is_empty()) {
                let mut counts = super::counters::CaseCounts::default();
                counts.add(&[super::counters::ScopeKey::Unit(u.clone()).key()], now, "check_in_late", 1);
                super::counters::apply_case_counts!(DB, counts, tx);
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
