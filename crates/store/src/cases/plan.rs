//! What a step does to the database, worked out in plain Rust before anything is written: the
//! event, the new case row, the units, the clock's timers, the counters and the notices, as a
//! list of statements that one small executor runs on either backend inside the step's
//! transaction. Keeping the decision apart from the I/O keeps both readable and lets the
//! sweeper take the same steps as people do.

use super::StepInput;
use super::counters::{CaseCounts, scopes_of};
use crate::StoreError;
use shezhi_domain::calendar::{TimeLimit, WorkCalendar};
use shezhi_domain::cases::{CaseLevel, CaseState, Category, Stage, Step, StepFacts};

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    I(i64),
    OI(Option<i64>),
    S(String),
    OS(Option<String>),
    /// Arrays, PostgreSQL only: rows of a multi-row write in one parameter per column, so
    /// that the statement's text does not depend on the number of rows.
    Ints(Vec<i64>),
    Texts(Vec<String>),
    OptTexts(Vec<Option<String>>),
}

/// One statement with its values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stmt {
    pub sql: String,
    pub args: Vec<Arg>,
}

fn stmt(sql: &str, args: Vec<Arg>) -> Stmt {
    Stmt {
        sql: sql.to_string(),
        args,
    }
}

/// Run statements inside a transaction of either backend.
macro_rules! run_stmts {
    ($tx:expr, $stmts:expr) => {{
        if let Some(pg) = $crate::backend::as_postgres(&mut *$tx) {
            for s in $stmts.iter() {
                $crate::cases::plan::run_pg(pg, s).await?;
            }
        } else {
            for s in $stmts.iter() {
                let mut q = sqlx::query(&s.sql);
                for a in &s.args {
                    q = match a {
                        $crate::cases::plan::Arg::I(v) => q.bind(*v),
                        $crate::cases::plan::Arg::OI(v) => q.bind(*v),
                        $crate::cases::plan::Arg::S(v) => q.bind(v.as_str()),
                        $crate::cases::plan::Arg::OS(v) => q.bind(v.as_deref()),
                        _ => Err(sqlx::Error::Protocol(
                            "array parameters are PostgreSQL's".into(),
                        ))?,
                    };
                }
                q.execute(&mut *$tx).await?;
            }
        }
    }};
}
pub(crate) use run_stmts;

/// Run one statement on PostgreSQL, array parameters included.
pub(crate) async fn run_pg(conn: &mut sqlx::PgConnection, s: &Stmt) -> Result<(), sqlx::Error> {
    let mut q = sqlx::query(&s.sql);
    for a in &s.args {
        q = match a {
            Arg::I(v) => q.bind(*v),
            Arg::OI(v) => q.bind(*v),
            Arg::S(v) => q.bind(v.as_str()),
            Arg::OS(v) => q.bind(v.as_deref()),
            Arg::Ints(v) => q.bind(v.as_slice()),
            Arg::Texts(v) => q.bind(v.as_slice()),
            Arg::OptTexts(v) => q.bind(v.as_slice()),
        };
    }
    q.execute(conn).await?;
    Ok(())
}

/// The event a step appends.
pub(crate) fn event(id: i64, plan: &Plan, step: &str, input: &StepInput, now: i64) -> Stmt {
    let capacity = plan.detail["capacity"].as_str().unwrap_or_default();
    stmt(
        "INSERT INTO case_events (case_id, seq, at_ms, step, actor, capacity, note, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            Arg::I(id),
            Arg::I(plan.event_seq),
            Arg::I(now),
            Arg::S(step.into()),
            Arg::S(input.actor.clone()),
            Arg::S(capacity.into()),
            Arg::S(input.note.trim().into()),
            Arg::S(plan.detail.to_string()),
        ],
    )
}

/// Several writes as one PostgreSQL statement: all but the last become data-modifying
/// `WITH` clauses, which run once each whatever the main statement reads, and the
/// placeholders are renumbered in order. The writes must not touch the same row twice (they
/// share one snapshot), which a step's writes never do: one event, one case row, distinct
/// timers, units and notices.
pub(crate) fn combined(stmts: &[Stmt]) -> Stmt {
    let Some((last, first)) = stmts.split_last() else {
        return stmt("SELECT 1", Vec::new());
    };
    if first.is_empty() {
        return last.clone();
    }
    let mut sql = String::from("WITH ");
    let mut args = Vec::new();
    for (i, s) in first.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("w{i} AS ("));
        sql.push_str(&renumber(&s.sql, args.len()));
        sql.push(')');
        args.extend(s.args.iter().cloned());
    }
    sql.push(' ');
    sql.push_str(&renumber(&last.sql, args.len()));
    args.extend(last.args.iter().cloned());
    Stmt { sql, args }
}

/// Steps whose writes go in one statement. A statement's text must repeat for PostgreSQL to
/// plan it once per connection; a few steps of a few kinds make few texts, while the writes
/// of a large group in one statement would make a new text almost every time.
const STEPS_PER_STATEMENT: usize = 4;

/// The writes of several steps on distinct cases, then `tail`, as a few combined statements:
/// the steps in the order of their statements' text (any order is right, the steps touching
/// distinct rows; a fixed one makes the same kinds of step the same text), a few at a time,
/// `tail` riding with the last.
pub(crate) fn batched(mut steps: Vec<Vec<Stmt>>, tail: Vec<Stmt>) -> Vec<Stmt> {
    steps.sort_by_cached_key(|w| {
        w.iter()
            .map(|s| s.sql.as_str())
            .collect::<Vec<_>>()
            .join(";")
    });
    let mut chunks: Vec<Vec<Stmt>> = steps
        .chunks(STEPS_PER_STATEMENT)
        .map(|c| c.concat())
        .collect();
    match chunks.last_mut() {
        Some(last) => last.extend(tail),
        None => chunks.push(tail),
    }
    chunks
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| combined(c))
        .collect()
}

/// `sql` with each placeholder `$n` outside quoted literals moved to `$(n + by)`.
fn renumber(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '$' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            let n: usize = n.parse().unwrap_or(0);
            out.push('$');
            out.push_str(&(n + by).to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A case as the step reads it, locked inside the transaction.
#[derive(Debug, Clone)]
pub(crate) struct CaseRow {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub source: String,
    pub category: String,
    pub cell: String,
    pub state: CaseState,
    pub level_code: String,
    pub lead_unit: Option<String>,
    pub reporter: String,
    pub has_contact: bool,
    pub clock_gen: i64,
    pub due_at_ms: Option<i64>,
    pub paused_at_ms: Option<i64>,
    pub overdue: bool,
    pub events: i64,
    pub created_at_ms: i64,
    /// The dispatch round of the current units.
    pub round: i64,
    /// How many reports were merged into it, when read with the row (PostgreSQL).
    pub merged_children: Option<i64>,
}

/// What else the step needs read before it is planned.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// Units that exist among those the step names.
    pub known_units: Vec<String>,
    /// Merge: the target case's stage, if it exists.
    pub merge_target_stage: Option<Stage>,
}

/// The outcome of planning a step.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub next: CaseState,
    pub stmts: Vec<Stmt>,
    pub counts: CaseCounts,
    pub event_seq: i64,
    pub detail: serde_json::Value,
}

fn refused(code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::refused(code, zh, en)
}

fn invalid(code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid(code, zh, en)
}

/// Characters a published public description may have.
pub const PUBLIC_TEXT_MIN: usize = 4;
pub const PUBLIC_TEXT_MAX: usize = 1000;

/// The clock a stage runs, from the category's limits.
pub(crate) fn stage_limit(stage: Stage, cat: &Category) -> Option<TimeLimit> {
    let l = &cat.limits;
    match stage {
        Stage::Reported => Some(l.accept),
        Stage::Accepted => Some(l.dispatch),
        Stage::Dispatched => Some(l.sign),
        Stage::Handling | Stage::PauseRequested => Some(l.handle),
        Stage::FedBack => Some(l.verify),
        _ => None,
    }
}

/// The warning and overdue timers of a clock running from `start` to `due`.
pub(crate) fn clock_timers(case_id: i64, clock: i64, start: i64, due: i64) -> Vec<Stmt> {
    let warn = start + (due - start) * 3 / 4;
    vec![stmt(
        "INSERT INTO case_timers (case_id, gen, kind, unit_code, due_at_ms, fired_at_ms) \
         VALUES ($1, $2, 'warn', NULL, $3, NULL), ($1, $2, 'overdue', NULL, $4, NULL)",
        vec![Arg::I(case_id), Arg::I(clock), Arg::I(warn), Arg::I(due)],
    )]
}

/// A notice to a recipient (`user:…`, `unit:…`, `region:…`).
pub(crate) fn notice(
    recipient: &str,
    case_id: i64,
    step: Step,
    zh: String,
    en: String,
    now: i64,
) -> Vec<Stmt> {
    vec![stmt(
        "INSERT INTO notifications (recipient, case_id, step, text_zh, text_en, at_ms, read_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        vec![
            Arg::S(recipient.into()),
            Arg::I(case_id),
            Arg::S(step.as_str().into()),
            Arg::S(zh),
            Arg::S(en),
            Arg::I(now),
        ],
    )]
}

/// An outbound text message to the reporter's contact number (sent by the outbox sender).
fn text_reporter(case_id: i64, body: String, now: i64) -> Vec<Stmt> {
    vec![stmt(
        "INSERT INTO outbox (channel, recipient, body, at_ms, sent_at_ms) \
             VALUES ('sms', $1, $2, $3, NULL)",
        vec![
            Arg::S(format!("case:{case_id}:contact")),
            Arg::S(body),
            Arg::I(now),
        ],
    )]
}

/// Plan `input` on `row`. The transition itself is the domain's; this adds everything the
/// database must record with it.
pub(crate) fn plan_step(
    row: &CaseRow,
    cat: &Category,
    input: &StepInput,
    ctx: &Context,
    now: i64,
    cal: &WorkCalendar,
) -> Result<Plan, StoreError> {
    let step = input
        .step
        .ok_or_else(|| invalid("step_required", "请指明操作", "name the step to take"))?;
    let facts = StepFacts {
        not_fixed: input.not_fixed,
    };
    let next = shezhi_domain::cases::transition(row.state, step, facts, &input.by)
        .map_err(|e| StoreError::Refused(shezhi_domain::Bilingual::text(&e)))?;
    let id = row.id;
    let mut stmts = Vec::new();
    let mut counts = CaseCounts::default();
    let mut lead = row.lead_unit.clone();
    let mut round = row.round;
    let mut detail = serde_json::json!({
        "from": {"stage": row.state.stage, "level": row.state.level},
        "to": {"stage": next.stage, "level": next.level},
    });
    let mut merged_into: Option<i64> = None;
    let reporter_user = row
        .reporter
        .starts_with("user:")
        .then(|| row.reporter.clone());
    let mut tell_reporter: Option<(String, String)> = None;
    let mut tell_units: Vec<String> = Vec::new();
    let mut tell_level = false;
    let (zh_title, en_title) = (
        format!("案件 {}「{}」", row.number, row.title),
        format!("case {}", row.number),
    );

    // What each kind of step carries and checks beyond the workflow.
    match step {
        Step::Dispatch | Step::Whistle => {
            let mut units = input.units.clone();
            units.dedup();
            let want = if step == Step::Dispatch {
                1..=1
            } else {
                2..=10
            };
            if !want.contains(&units.len()) {
                return Err(if step == Step::Dispatch {
                    invalid(
                        "one_unit_required",
                        "派遣须指定一个承办单位",
                        "dispatch names exactly one unit",
                    )
                } else {
                    invalid(
                        "whistle_units_required",
                        "吹哨须指定一个主办单位和至少一个协办单位（最多 10 个）",
                        "a whistle names one lead unit and 1 to 9 assisting units",
                    )
                });
            }
            if let Some(u) = units.iter().find(|u| !ctx.known_units.contains(u)) {
                return Err(StoreError::not_found(
                    "unit_not_found",
                    format!("未找到承办单位“{u}”"),
                    format!("no handling unit {u:?}"),
                ));
            }
            let sign_due = cat.limits.sign.due(cal, now);
            round += 1;
            for (i, u) in units.iter().enumerate() {
                let role = if i == 0 { "lead" } else { "assist" };
                stmts.push(stmt(
                    "INSERT INTO case_units (case_id, round, unit_code, role, assigned_at_ms, check_in_due_ms, checked_in_at_ms) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
                    vec![Arg::I(id), Arg::I(round), Arg::S(u.clone()), Arg::S(role.into()), Arg::I(now), Arg::I(sign_due)],
                ));
                if i > 0 {
                    stmts.push(stmt(
                        "INSERT INTO case_timers (case_id, gen, kind, unit_code, due_at_ms, fired_at_ms) \
                         VALUES ($1, $2, 'check_in', $3, $4, NULL)",
                        vec![Arg::I(id), Arg::I(round), Arg::S(u.clone()), Arg::I(sign_due)],
                    ));
                }
                tell_units.push(u.clone());
            }
            lead = units.first().cloned();
            detail["units"] = serde_json::json!({"lead": units[0], "assist": &units[1..]});
            tell_reporter = Some((
                "您的诉求已派遣办理".into(),
                "your report has been dispatched".into(),
            ));
        }
        Step::Sign | Step::CheckIn => {
            let units: Vec<String> = if step == Step::Sign {
                lead.iter().cloned().collect()
            } else {
                input.units.clone()
            };
            for u in &units {
                stmts.push(stmt(
                    "UPDATE case_units SET checked_in_at_ms = $1 WHERE case_id = $2 AND round = $3 AND unit_code = $4 AND checked_in_at_ms IS NULL",
                    vec![Arg::I(now), Arg::I(id), Arg::I(round), Arg::S(u.clone())],
                ));
            }
            detail["units"] = serde_json::json!(units);
        }
        Step::Return | Step::Reject => {
            if input.note.trim().chars().count() < 2 {
                return Err(invalid(
                    "reason_required",
                    "退单或不予受理须说明理由",
                    "a return or a rejection needs a reason",
                ));
            }
            if step == Step::Return {
                lead = None;
                tell_level = true;
            } else {
                tell_reporter = Some((
                    "您的诉求未予受理".into(),
                    "your report was not accepted".into(),
                ));
            }
        }
        Step::Merge => {
            let target = input.merge_into.ok_or_else(|| {
                invalid(
                    "merge_target_required",
                    "请指明并入的案件",
                    "name the case to merge into",
                )
            })?;
            if target == id {
                return Err(invalid(
                    "merge_into_itself",
                    "案件不能并入自身",
                    "a case cannot merge into itself",
                ));
            }
            match ctx.merge_target_stage {
                None => {
                    return Err(StoreError::not_found(
                        "case_not_found",
                        format!("未找到案件 {target}"),
                        format!("case {target} not found"),
                    ));
                }
                Some(s) if s.is_final() => {
                    return Err(refused(
                        "merge_target_closed",
                        "只能并入未办结的案件",
                        "merge into an open case only",
                    ));
                }
                Some(_) => {}
            }
            merged_into = Some(target);
            detail["merged_into"] = serde_json::json!(target);
            tell_reporter = Some((
                "您反映的问题已与同一问题合并办理".into(),
                "your report was merged with another report of the same problem".into(),
            ));
        }
        Step::RequestPause => {
            let until = input.pause_until_ms.ok_or_else(|| {
                invalid(
                    "pause_until_required",
                    "申请缓办须注明缓办截止时间",
                    "a pause request needs an end time",
                )
            })?;
            if until <= now || input.note.trim().chars().count() < 2 {
                return Err(invalid(
                    "invalid_pause",
                    "缓办截止时间须晚于现在，并说明理由",
                    "a pause must end in the future and give a reason",
                ));
            }
            detail["pause_until_ms"] = serde_json::json!(until);
            tell_level = true;
        }
        Step::Rate => {
            let s = input.satisfaction.ok_or_else(|| {
                invalid(
                    "satisfaction_required",
                    "请选择满意度",
                    "choose a satisfaction level",
                )
            })?;
            detail["satisfaction"] = serde_json::json!(s);
            detail["not_fixed"] = serde_json::json!(input.not_fixed);
            if input.not_fixed {
                tell_units.extend(lead.iter().cloned());
                tell_level = true;
            }
        }
        Step::Feedback | Step::SolveOnSpot => {
            if input.note.trim().chars().count() < 2 {
                return Err(invalid(
                    "note_required",
                    "请填写处置情况",
                    "describe what was done",
                ));
            }
            if step == Step::Feedback {
                tell_level = true;
            }
        }
        Step::Verify => {
            tell_reporter = Some((
                "您的诉求已办结，请评价".into(),
                "your report is closed; please rate it".into(),
            ));
        }
        Step::Accept => {
            tell_reporter = Some((
                "您的诉求已受理".into(),
                "your report has been accepted".into(),
            ));
        }
        Step::Escalate | Step::Supervise | Step::Warn | Step::Overdue => {
            tell_level = true;
            tell_units.extend(lead.iter().filter(|_| step != Step::Escalate).cloned());
        }
        Step::Rework => tell_units.extend(lead.iter().cloned()),
        Step::Publish => {
            let text = input.note.trim();
            let n = text.chars().count();
            if n != 0 && !(PUBLIC_TEXT_MIN..=PUBLIC_TEXT_MAX).contains(&n) {
                return Err(invalid(
                    "invalid_public_text",
                    "公开说明须为 4 至 1000 字（留空则撤回已公开的说明）",
                    "a public description has 4 to 1000 characters (empty withdraws the one published)",
                ));
            }
            detail["withdrawn"] = serde_json::json!(n == 0);
        }
        _ => {}
    }

    // The stage clock: a new stage (or a new level) starts its clock; a pause stops it; a
    // resume moves the deadline on by the time paused.
    let mut clock = row.clock_gen;
    let mut due = row.due_at_ms;
    let mut paused_at = row.paused_at_ms;
    let moved = next.stage != row.state.stage || next.level != row.state.level;
    let keeps_clock = matches!(
        (row.state.stage, next.stage),
        (Stage::Handling, Stage::PauseRequested) | (Stage::PauseRequested, Stage::Handling)
    ) && step != Step::Rework;
    if next.stage == Stage::Paused {
        clock += 1;
        paused_at = Some(now);
    } else if row.state.stage == Stage::Paused && next.stage == Stage::Handling {
        clock += 1;
        let shifted = due.map(|d| d + (now - row.paused_at_ms.unwrap_or(now)));
        due = shifted;
        paused_at = None;
        if let Some(d) = shifted {
            stmts.extend(clock_timers(id, clock, now, d.max(now)));
        }
    } else if (moved && !keeps_clock)
        || step == Step::Rework
        || (step == Step::Rate && input.not_fixed)
    {
        clock += 1;
        due = stage_limit(next.stage, cat).map(|l| l.due(cal, now));
        if let Some(d) = due {
            stmts.extend(clock_timers(id, clock, now, d));
        }
    }

    // Counters.
    let unit_scope = if step == Step::Return {
        row.lead_unit.as_deref()
    } else {
        lead.as_deref()
    };
    let scopes = scopes_of(&row.cell, unit_scope, &row.category, &row.source);
    let on_time = row.due_at_ms.is_none_or(|d| now <= d);
    let mut overdue = row.overdue;
    let mut closed_at: Option<i64> = None;
    let mut c = |m: &str, d: i64| counts.add(&scopes, now, m, d);
    match step {
        Step::Accept => {
            c("accepted", 1);
            c("accepted_on_time", i64::from(on_time));
        }
        Step::Reject => {
            c("rejected", 1);
            c("open", -1);
        }
        Step::Dispatch => c("dispatched", 1),
        Step::Whistle => {
            c("dispatched", 1);
            c("whistled", 1);
        }
        Step::Sign => {
            c("signed", 1);
            c("signed_on_time", i64::from(on_time));
        }
        Step::Return => c("returned", 1),
        Step::Rework => c("reworked", 1),
        Step::ApprovePause => c("paused", 1),
        Step::Escalate => c("escalated", 1),
        Step::Supervise => c("supervised", 1),
        Step::Merge => {
            c("merged", 1);
            c("open", -1);
        }
        Step::Verify | Step::SolveOnSpot => {
            c("closed", 1);
            c("closed_on_time", i64::from(!row.overdue));
            c("handle_ms", now - row.created_at_ms);
            c("open", -1);
            if step == Step::SolveOnSpot {
                c("solved_on_spot", 1);
            }
            if row.overdue {
                c("overdue_open", -1);
            }
            overdue = false;
            closed_at = Some(now);
        }
        Step::Rate => {
            c("rated", 1);
            let pleased = !input.not_fixed
                && input
                    .satisfaction
                    .is_some_and(|s| s != shezhi_domain::cases::Satisfaction::Unsatisfied);
            c("satisfied", i64::from(pleased));
            if input.not_fixed {
                c("not_fixed", 1);
                c("reworked", 1);
                c("open", 1);
            }
        }
        Step::Overdue => {
            c("overdue", 1);
            if matches!(row.state.stage, Stage::Handling | Stage::PauseRequested) && !row.overdue {
                c("overdue_open", 1);
                overdue = true;
            }
        }
        _ => {}
    }

    // Notices.
    let step_zh = step.zh();
    if let (Some((zh, en)), true) = (&tell_reporter, reporter_user.is_some() || row.has_contact) {
        if let Some(u) = &reporter_user {
            stmts.extend(notice(
                u,
                id,
                step,
                format!("{zh_title}：{zh}"),
                format!("{en_title}: {en}"),
                now,
            ));
        } else {
            stmts.extend(text_reporter(
                id,
                format!("【社智在线】{zh_title}：{zh}。"),
                now,
            ));
        }
    }
    for u in &tell_units {
        stmts.extend(notice(
            &format!("unit:{u}"),
            id,
            step,
            format!("{zh_title}：{step_zh}"),
            format!("{en_title}: {step}"),
            now,
        ));
    }
    if tell_level {
        let level_code = level_code_after(row, next.level);
        stmts.extend(notice(
            &format!("region:{level_code}"),
            id,
            step,
            format!("{zh_title}：{step_zh}"),
            format!("{en_title}: {step}"),
            now,
        ));
    }

    let event_seq = row.events + 1;
    let level_code = level_code_after(row, next.level);
    let public = (step == Step::Publish)
        .then(|| input.note.trim().to_string())
        .filter(|t| !t.is_empty());
    stmts.push(stmt(
        "UPDATE cases SET stage = $1, level = $2, level_code = $3, lead_unit = $4, rated = $5, reworks = $6, returns = $7, \
         escalations = $8, clock_gen = $9, due_at_ms = $10, paused_at_ms = $11, overdue = $12, events = $13, updated_at_ms = $14, \
         closed_at_ms = COALESCE($15, closed_at_ms), merged_into = COALESCE($16, merged_into), \
         satisfaction = COALESCE($17, satisfaction), supervised = supervised + $18, round = $19, \
         public_text = CASE WHEN $21 = 1 THEN $22 ELSE public_text END, \
         public_at_ms = CASE WHEN $21 = 1 THEN $23 ELSE public_at_ms END WHERE id = $20",
        vec![
            Arg::S(next.stage.as_str().into()),
            Arg::S(next.level.as_str().into()),
            Arg::S(level_code),
            Arg::OS(lead),
            Arg::I(i64::from(next.rated)),
            Arg::I(i64::from(next.reworks)),
            Arg::I(i64::from(next.returns)),
            Arg::I(i64::from(next.escalations)),
            Arg::I(clock),
            Arg::OI(due),
            Arg::OI(paused_at),
            Arg::I(i64::from(overdue)),
            Arg::I(event_seq),
            Arg::I(now),
            Arg::OI(closed_at),
            Arg::OI(merged_into),
            Arg::OS(input.satisfaction.map(|s| s.as_str().to_string())),
            Arg::I(i64::from(step == Step::Supervise)),
            Arg::I(round),
            Arg::I(id),
            Arg::I(i64::from(step == Step::Publish)),
            Arg::OS(public.clone()),
            Arg::OI(public.as_ref().map(|_| now)),
        ],
    ));
    detail["capacity"] = serde_json::json!(shezhi_domain::cases::workflow::acting_capacity(
        row.state, step, facts, &input.by
    ));
    detail["not_fixed"] = serde_json::json!(input.not_fixed);
    Ok(Plan {
        next,
        stmts,
        counts,
        event_seq,
        detail,
    })
}

/// The region a case answers to at `level`.
fn level_code_after(row: &CaseRow, level: CaseLevel) -> String {
    if level == row.state.level {
        return row.level_code.clone();
    }
    shezhi_domain::territory::RegionCode::parse(&row.cell)
        .ok()
        .and_then(|c| super::level_code(&c, level))
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| row.level_code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_move_outside_literals_only() {
        assert_eq!(
            renumber("VALUES ($1, '$2', $10, 'it''s $3') WHERE x = $2", 4),
            "VALUES ($5, '$2', $14, 'it''s $3') WHERE x = $6"
        );
        assert_eq!(renumber("SELECT 1", 3), "SELECT 1");
    }

    #[test]
    fn writes_combine_into_one_statement_in_order() {
        let a = stmt(
            "INSERT INTO t (a, b) VALUES ($1, $2)",
            vec![Arg::I(1), Arg::I(2)],
        );
        let b = stmt(
            "UPDATE u SET c = $1 WHERE id = $2",
            vec![Arg::I(3), Arg::I(4)],
        );
        let c = stmt("INSERT INTO v (d) VALUES ($1)", vec![Arg::S("x".into())]);
        let one = combined(&[a.clone(), b, c]);
        assert_eq!(
            one.sql,
            "WITH w0 AS (INSERT INTO t (a, b) VALUES ($1, $2)), w1 AS (UPDATE u SET c = $3 WHERE id = $4) \
             INSERT INTO v (d) VALUES ($5)"
        );
        assert_eq!(
            one.args,
            vec![
                Arg::I(1),
                Arg::I(2),
                Arg::I(3),
                Arg::I(4),
                Arg::S("x".into())
            ]
        );
        assert_eq!(combined(std::slice::from_ref(&a)), a);
    }
}
