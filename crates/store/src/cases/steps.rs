//! Taking a step on a case: one transaction that locks the row, reads what the step needs,
//! plans it (`plan.rs`) and writes the event, the row, units, timers, counters, notices,
//! photos and the audit entry together.

use super::StepInput;
use super::plan::CaseRow;
use crate::StoreError;
use crate::backend::{Store, with_pool};
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::{CaseLevel, CaseState, Stage};

/// What a step left behind.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepDone {
    pub case_id: i64,
    pub stage: String,
    pub level: String,
    /// Events on the case now (send it back as `expect_events` with the next step).
    pub events: i64,
}

pub(crate) fn case_not_found(id: i64) -> StoreError {
    StoreError::not_found(
        "case_not_found",
        format!("未找到案件 {id}"),
        format!("case {id} not found"),
    )
}

pub(crate) const ROW_COLUMNS: &str = "id, number, title, source, category_code, category_version, cell_code, stage, level, \
    level_code, lead_unit, rated, reworks, returns, escalations, reporter, contact_masked, clock_gen, due_at_ms, paused_at_ms, \
    overdue, events, created_at_ms, round";

/// The reports merged into a case, read with its row on PostgreSQL.
pub(crate) const MERGED_CHILDREN: &str =
    "(SELECT COUNT(*) FROM cases m WHERE m.merged_into = cases.id)";

/// PostgreSQL: lock and read a group's cases (`$1`, an array of ids) in id order, then lock
/// the audit head and read it (its sequence number, hash and where it is keyed from, columns
/// 25 to 27 of every row; the case columns are null if no case exists).
fn group_read_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "WITH c AS (SELECT {ROW_COLUMNS}, {MERGED_CHILDREN} AS merged FROM cases WHERE id = ANY($1) ORDER BY id FOR UPDATE), \
                  h AS (SELECT seq, hash, keyed_from FROM audit_head WHERE id = 1 AND (SELECT COUNT(*) FROM c) >= 0 FOR UPDATE) \
             SELECT c.*, h.seq, h.hash, h.keyed_from FROM h LEFT JOIN c ON true ORDER BY c.id"
        )
    })
}

/// The statement that locks a case row and reads it (see `step_in_tx`).
pub(crate) fn lock_row_sql(backend: crate::Backend) -> &'static str {
    static SQL: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let [pg, lite] = SQL.get_or_init(|| {
        [
            format!("SELECT {ROW_COLUMNS}, {MERGED_CHILDREN} FROM cases WHERE id = $1 FOR UPDATE"),
            format!("UPDATE cases SET events = events WHERE id = $1 RETURNING {ROW_COLUMNS}"),
        ]
    });
    match backend {
        crate::Backend::Postgres => pg,
        crate::Backend::Sqlite => lite,
    }
}

pub(crate) fn decode_row<R: sqlx::Row>(r: &R) -> Result<(CaseRow, i64), StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let bad = |what: &str, v: &str| StoreError::Corrupt(format!("case {what} {v:?}"));
    let stage: String = r.try_get(7)?;
    let level: String = r.try_get(8)?;
    let state = CaseState {
        stage: Stage::parse(&stage).ok_or_else(|| bad("stage", &stage))?,
        level: CaseLevel::parse(&level).ok_or_else(|| bad("level", &level))?,
        rated: r.try_get::<i64, _>(11)? != 0,
        reworks: r.try_get::<i64, _>(12)? as u32,
        returns: r.try_get::<i64, _>(13)? as u32,
        escalations: r.try_get::<i64, _>(14)? as u32,
    };
    let row = CaseRow {
        id: r.try_get(0)?,
        number: r.try_get(1)?,
        title: r.try_get(2)?,
        source: r.try_get(3)?,
        category: r.try_get(4)?,
        cell: r.try_get(6)?,
        state,
        level_code: r.try_get(9)?,
        lead_unit: r.try_get(10)?,
        reporter: r.try_get(15)?,
        has_contact: r.try_get::<Option<String>, _>(16)?.is_some(),
        clock_gen: r.try_get(17)?,
        due_at_ms: r.try_get(18)?,
        paused_at_ms: r.try_get(19)?,
        overdue: r.try_get::<i64, _>(20)? != 0,
        events: r.try_get(21)?,
        created_at_ms: r.try_get(22)?,
        round: r.try_get(23)?,
        merged_children: if r.len() > 24 {
            Some(r.try_get(24)?)
        } else {
            None
        },
    };
    Ok((row, r.try_get(5)?))
}

/// Category versions by (code, version).
pub(crate) type CategoryCache =
    std::collections::HashMap<(String, i64), std::sync::Arc<shezhi_domain::cases::Category>>;

impl Store {
    pub(crate) fn cached_category(
        &self,
        code: &str,
        version: i64,
    ) -> Option<std::sync::Arc<shezhi_domain::cases::Category>> {
        self.categories
            .lock()
            .ok()?
            .get(&(code.to_string(), version))
            .cloned()
    }

    pub(crate) fn unit_known(&self, code: &str) -> bool {
        self.units.lock().is_ok_and(|u| u.contains(code))
    }

    pub(crate) fn remember_unit(&self, code: &str) {
        if let Ok(mut u) = self.units.lock() {
            u.insert(code.to_string());
        }
    }

    pub(crate) fn remember_category(
        &self,
        code: &str,
        version: i64,
        body: &str,
    ) -> Result<std::sync::Arc<shezhi_domain::cases::Category>, StoreError> {
        let c: shezhi_domain::cases::Category = serde_json::from_str(body)
            .map_err(|e| StoreError::Corrupt(format!("category body: {e}")))?;
        let c = std::sync::Arc::new(c);
        if let Ok(mut m) = self.categories.lock() {
            m.insert((code.to_string(), version), c.clone());
        }
        Ok(c)
    }
}

/// Take `$input` on case `$id` inside transaction `$tx`: lock, read, plan, write. Evaluates
/// to the plan and the step's audit note (`Result` via `?` on the enclosing function); the
/// caller adds the plan's counters and appends the note before it commits. Refusals
/// (`NotFound`, `Refused`, `Invalid`) are all raised before anything is written.
macro_rules! step_in_tx {
    ($store:expr, $db:ty, $tx:expr, $id:expr, $input:expr, $now:expr, $cal:expr) => {{
        $crate::cases::steps::step_in_tx!($store, $db, $tx, $id, $input, $now, $cal, None, None)
    }};
    // `$ready`: the row and its category version, already locked and read in this transaction.
    // `$defer`: on PostgreSQL, where to leave the step's writes for the caller to send later
    // with others (`None`: write them now).
    ($store:expr, $db:ty, $tx:expr, $id:expr, $input:expr, $now:expr, $cal:expr, $ready:expr, $defer:expr) => {{
        let defer: Option<&mut Vec<Vec<$crate::cases::plan::Stmt>>> = $defer;
        let id: i64 = $id;
        let input: &$crate::cases::StepInput = $input;
        let now: i64 = $now;
        let ready: Option<($crate::cases::plan::CaseRow, i64)> = $ready;
        let (row, version) = match ready {
            Some(r) => r,
            None => {
                // Lock and read the row in one statement: a row lock on PostgreSQL; on SQLite
                // a no-op update, which takes the database's write lock before anything is read.
                let r = sqlx::query($crate::cases::steps::lock_row_sql($store.backend())).bind(id).fetch_optional(&mut *$tx).await?
                    .ok_or_else(|| $crate::cases::steps::case_not_found(id))?;
                $crate::cases::steps::decode_row(&r)?
            }
        };
        if let Some(seen) = input.expect_events {
            if seen != row.events {
                return Err(StoreError::refused(
                    "case_changed",
                    "案件已被他人更新，请刷新后再操作",
                    "the case has changed since you read it; reload and try again",
                ));
            }
        }
        // Versions never change once written, so each is read once per process.
        let cached = $store.cached_category(&row.category, version);
        let cat = match cached {
            Some(c) => c,
            None => {
                let body: String = sqlx::Row::try_get(
                    &sqlx::query("SELECT body FROM categories WHERE code = $1 AND version = $2")
                        .bind(row.category.as_str()).bind(version).fetch_one(&mut *$tx).await?, 0)?;
                $store.remember_category(&row.category, version, &body)?
            }
        };
        let mut ctx = $crate::cases::plan::Context::default();
        // Units are never removed, so one known to exist is remembered.
        let unknown: Vec<&String> = input.units.iter().filter(|u| !$store.unit_known(u)).collect();
        ctx.known_units.extend(input.units.iter().filter(|u| !unknown.contains(u)).cloned());
        if !unknown.is_empty() {
            let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT code FROM handling_units WHERE code IN (");
            let mut sep = qb.separated(", ");
            for u in &unknown {
                sep.push_bind(u.as_str());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *$tx).await? {
                let code: String = sqlx::Row::try_get(&r, 0)?;
                $store.remember_unit(&code);
                ctx.known_units.push(code);
            }
        }
        if let Some(target) = input.merge_into {
            if let Some(r) = sqlx::query("SELECT stage FROM cases WHERE id = $1").bind(target).fetch_optional(&mut *$tx).await? {
                let s: String = sqlx::Row::try_get(&r, 0)?;
                ctx.merge_target_stage = shezhi_domain::cases::Stage::parse(&s);
            }
        }
        let plan = $crate::cases::plan::plan_step(&row, &cat, input, &ctx, now, $cal)?;
        let step = input.step.map(|s| s.as_str()).unwrap_or_default();
        let mut writes = vec![$crate::cases::plan::event(id, &plan, step, input, now)];
        writes.extend(plan.stmts.iter().cloned());
        // Reports merged into this case follow it: their reporters hear when it is done.
        if plan.next.stage == shezhi_domain::cases::Stage::Closed && plan.next.stage != row.state.stage
            && row.merged_children != Some(0)
        {
            let children = sqlx::query("SELECT id, number, reporter FROM cases WHERE merged_into = $1")
                .bind(id).fetch_all(&mut *$tx).await?;
            for c in &children {
                let (child, number, reporter): (i64, String, String) =
                    (sqlx::Row::try_get(c, 0)?, sqlx::Row::try_get(c, 1)?, sqlx::Row::try_get(c, 2)?);
                if reporter.starts_with("user:") {
                    writes.extend($crate::cases::plan::notice(
                        &reporter,
                        child,
                        shezhi_domain::cases::Step::Verify,
                        format!("您反映的问题（{number}）已随案件 {} 一并办结", row.number),
                        format!("the problem you reported ({number}) was resolved with case {}", row.number),
                        now,
                    ));
                }
            }
        }
        // Everything the step writes: one round trip on PostgreSQL, statement by statement on
        // SQLite (where a statement costs no round trip).
        if let Some(later) = defer {
            later.push(writes);
        } else if $store.backend() == $crate::Backend::Postgres {
            let one = [$crate::cases::plan::combined(&writes)];
            $crate::cases::plan::run_stmts!($tx, one);
        } else {
            $crate::cases::plan::run_stmts!($tx, writes);
        }
        for p in &input.photos {
            $crate::cases::intake::insert_photo!($tx, id, plan.event_seq, p, now);
        }
        // The rows every step shares (the counters of the city and its district, the audit
        // chain's head) are the caller's to write, last, so that each is held only until the
        // commit and a group of steps writes them once.
        let note = $crate::access::audit::AuditNote {
            at_ms: now,
            actor: input.actor.clone(),
            action: format!("case.{step}"),
            target: format!("case:{id}"),
            region_code: Some(row.cell.clone()),
            ip: input.ip.clone(),
            detail: serde_json::json!({"number": row.number, "note": input.note.trim(), "step": plan.detail}),
        };
        (plan, note)
    }};
}
pub(crate) use step_in_tx;

impl Store {
    /// Take a step on a case. Refusals (wrong stage, not permitted, bad input, the case
    /// changed since it was read) change nothing.
    pub async fn take_step(
        &self,
        id: i64,
        input: &StepInput,
        now: i64,
        cal: &WorkCalendar,
    ) -> Result<StepDone, StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            let (plan, note) = step_in_tx!(self, DB, tx, id, input, now, cal);
            crate::access::audit::audit_append_many!(DB, tx, [note], plan.counts, self.audit_key());
            tx.commit().await?;
            Ok(StepDone {
                case_id: id,
                stage: plan.next.stage.as_str().to_string(),
                level: plan.next.level.as_str().to_string(),
                events: plan.event_seq,
            })
        })
    }
}

/// One step of a group (see [`Store::take_steps`]).
#[derive(Debug, Clone)]
pub struct StepJob {
    pub case_id: i64,
    pub input: StepInput,
    /// When the step is taken (the caller's clock).
    pub now: i64,
}

/// Whether a step's error is its own answer (a refusal, raised before the step wrote
/// anything) rather than a fault of the database.
fn is_answer(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::NotFound(_) | StoreError::Refused(_) | StoreError::Invalid(_)
    )
}

impl Store {
    /// Take several steps in one transaction, in order; one answer per step. A refused step
    /// writes nothing and gets its refusal; the others commit together, with their counters
    /// summed into one write (an upsert on SQLite, a counter log row on PostgreSQL) and their
    /// audit entries chained in one append, and none is answered before the commit. Steps on
    /// the same case see each other, in order. If the database fails before the commit, the
    /// group is rolled back and (if it holds several) each step is taken on its own; if the
    /// commit itself fails, whether it took effect is unknown, so no step is retried and the
    /// error is the answer to all.
    pub async fn take_steps(
        &self,
        jobs: &[StepJob],
        cal: &WorkCalendar,
    ) -> Result<Vec<Result<StepDone, StoreError>>, StoreError> {
        // A step alone: on SQLite as `take_step`; on PostgreSQL the group's way, which costs
        // it four round trips instead of six.
        if jobs.len() == 1 && self.backend() == crate::Backend::Sqlite {
            let j = &jobs[0];
            return Ok(vec![self.take_step(j.case_id, &j.input, j.now, cal).await]);
        }
        // `Err` before the commit; `Ok(Err(…))` from the commit itself.
        type Answers = Vec<Result<StepDone, StoreError>>;
        let grouped: Result<Result<Answers, StoreError>, StoreError> = with_pool!(self, p, DB => {
            async {
                // PostgreSQL plans the group's statements once per connection (a generic
                // plan; every one finds its rows by key) rather than again at each execution.
                let mut tx = if self.backend() == crate::Backend::Postgres {
                    p.begin_with("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan").await?
                } else {
                    p.begin().await?
                };
                // On PostgreSQL, lock and read the group's cases and the audit head first, in
                // one round trip, cases in id order and the head after them: each case's first
                // step then needs no read of its own, and the group cannot wait in a circle
                // with other writers (another server's step writer, the sweeper, intake),
                // which also lock cases in id order before the audit head. The steps' writes
                // then wait in `pending` and go with the audit entries and counter deltas in
                // one statement, so a group costs four round trips whatever its size. (SQLite
                // has one writer, whose no-op update takes the write lock; there each step
                // writes at once, a statement costing no round trip.)
                let mut read: std::collections::HashMap<i64, (CaseRow, i64)> = Default::default();
                let mut head: Option<(i64, String, Option<i64>)> = None;
                let mut pending: Option<Vec<Vec<crate::cases::plan::Stmt>>> = None;
                if let Some(pg) = crate::backend::as_postgres(&mut *tx) {
                    let mut ids: Vec<i64> = jobs.iter().map(|j| j.case_id).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    for r in sqlx::query(group_read_sql()).bind(&ids).fetch_all(&mut *pg).await? {
                        if head.is_none() {
                            head = Some((sqlx::Row::try_get(&r, 25)?, sqlx::Row::try_get(&r, 26)?, sqlx::Row::try_get(&r, 27)?));
                        }
                        if sqlx::Row::try_get::<Option<i64>, _>(&r, 0)?.is_some() {
                            let (row, version) = decode_row(&r)?;
                            read.insert(row.id, (row, version));
                        }
                    }
                    pending = Some(Vec::new());
                }
                let mut answers = Vec::with_capacity(jobs.len());
                let mut counts = crate::cases::counters::CaseCounts::default();
                let mut notes = Vec::with_capacity(jobs.len());
                // Cases whose pending writes a later step must see first.
                let mut touched = std::collections::HashSet::new();
                for j in jobs {
                    if let Some(waiting) = pending.as_mut()
                        && (touched.contains(&j.case_id) || j.input.merge_into.is_some_and(|m| touched.contains(&m)))
                    {
                        let now = crate::cases::plan::batched(std::mem::take(waiting), Vec::new());
                        crate::cases::plan::run_stmts!(tx, now);
                        touched.clear();
                    }
                    // Read once: a later step on the same case reads what the earlier wrote.
                    let ready = read.remove(&j.case_id);
                    let one: Result<_, StoreError> = async {
                        Ok(step_in_tx!(self, DB, tx, j.case_id, &j.input, j.now, cal, ready, pending.as_mut()))
                    }
                    .await;
                    match one {
                        Ok((plan, note)) => {
                            // A merge changes what the target's row said of its merged reports.
                            if let Some((t, _)) = j.input.merge_into.and_then(|target| read.get_mut(&target)) {
                                t.merged_children = None;
                            }
                            touched.insert(j.case_id);
                            touched.extend(j.input.merge_into);
                            counts.merge(plan.counts);
                            notes.push(note);
                            answers.push(Ok(StepDone {
                                case_id: j.case_id,
                                stage: plan.next.stage.as_str().to_string(),
                                level: plan.next.level.as_str().to_string(),
                                events: plan.event_seq,
                            }));
                        }
                        Err(e) if is_answer(&e) => answers.push(Err(e)),
                        Err(e) => return Err(e),
                    }
                }
                match (pending, head) {
                    (Some(waiting), Some((seq, prev, keyed_from))) => {
                        let items = counts.sorted();
                        let link = crate::access::audit::Linker::new(self.audit_key(), keyed_from)?;
                        let entries = crate::access::audit::chain(&notes, seq, prev, &link);
                        let head = entries.last().map(|(e, _, h)| (e.seq, h.as_str()));
                        let tail = crate::access::audit::pg_tail(head, &entries, &items, crate::access::audit::Counters::Log);
                        let all = crate::cases::plan::batched(waiting, tail);
                        crate::cases::plan::run_stmts!(tx, all);
                    }
                    _ => crate::access::audit::audit_append_many!(DB, tx, notes, counts, self.audit_key()),
                }
                Ok(tx.commit().await.map(|()| answers).map_err(StoreError::from))
            }
            .await
        });
        match grouped {
            Ok(committed) => committed,
            // A step alone failed on its own already.
            Err(e) if jobs.len() == 1 => Ok(vec![Err(e)]),
            Err(e) => {
                tracing::warn!(error = %e, steps = jobs.len(), "a group of steps failed; taking each on its own");
                let mut answers = Vec::with_capacity(jobs.len());
                for j in jobs {
                    answers.push(self.take_step(j.case_id, &j.input, j.now, cal).await);
                }
                Ok(answers)
            }
        }
    }
}
