//! The case workflow as data: the stages a case passes through (after GB/T 30428: 受理/立案 →
//! 派遣 → 处置 → 反馈 → 核实 → 结案 → 评价), the steps that move it, who may take each step,
//! and one transition function. The store keeps every step as an event and the case row as
//! the fold of its events through [`transition`]; nothing else changes a stage.

use crate::{Bilingual, labelled_enum};

labelled_enum! {
    /// Where a case is in its life.
    pub enum Stage {
        Reported = ("reported", "待受理"),
        Accepted = ("accepted", "已立案待派遣"),
        Dispatched = ("dispatched", "已派遣待签收"),
        Handling = ("handling", "处置中"),
        PauseRequested = ("pause_requested", "缓办待审批"),
        Paused = ("paused", "缓办中"),
        FedBack = ("fed_back", "已反馈待核实"),
        Closed = ("closed", "已结案"),
        Rejected = ("rejected", "不予受理"),
        Merged = ("merged", "已并案"),
    }
}

impl Stage {
    /// Whether the case is finished (nothing more is due from anyone but the reporter's rating).
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Closed | Stage::Rejected | Stage::Merged)
    }
}

labelled_enum! {
    /// The level of the ladder a case sits at: 群众呼网格应、网格呼社区应、社区呼上级应.
    pub enum CaseLevel {
        Grid = ("grid", "网格"),
        Community = ("community", "社区"),
        Street = ("street", "街道"),
        District = ("district", "区县"),
        City = ("city", "市"),
    }
}

impl CaseLevel {
    /// The next level up, if any.
    pub fn up(self) -> Option<CaseLevel> {
        use CaseLevel::*;
        match self {
            Grid => Some(Community),
            Community => Some(Street),
            Street => Some(District),
            District => Some(City),
            City => None,
        }
    }

    /// The territory level whose region this case level answers for.
    pub fn territory(self) -> crate::territory::Level {
        use crate::territory::Level as L;
        match self {
            CaseLevel::Grid => L::Grid,
            CaseLevel::Community => L::Community,
            CaseLevel::Street => L::Street,
            CaseLevel::District => L::District,
            CaseLevel::City => L::City,
        }
    }
}

labelled_enum! {
    /// The kinds of step; the stored event kind.
    pub enum Step {
        Report = ("report", "上报"),
        Accept = ("accept", "受理立案"),
        Reject = ("reject", "不予受理"),
        Escalate = ("escalate", "呼叫上级"),
        Dispatch = ("dispatch", "派遣"),
        Whistle = ("whistle", "吹哨"),
        Sign = ("sign", "签收"),
        CheckIn = ("check_in", "报到"),
        Return = ("return", "退单"),
        Feedback = ("feedback", "处置反馈"),
        Verify = ("verify", "核实结案"),
        Rework = ("rework", "返工"),
        RequestPause = ("request_pause", "申请缓办"),
        ApprovePause = ("approve_pause", "批准缓办"),
        DenyPause = ("deny_pause", "驳回缓办"),
        Resume = ("resume", "恢复办理"),
        Supervise = ("supervise", "督办"),
        Rate = ("rate", "评价"),
        Merge = ("merge", "并案"),
        SolveOnSpot = ("solve_on_spot", "自行处置"),
        Warn = ("warn", "临期预警"),
        Overdue = ("overdue", "超期"),
        Comment = ("comment", "备注"),
        /// Staff publish (or, with no text, withdraw) the public description of a case:
        /// what Open311 and other reporters nearby may read, free of personal details.
        Publish = ("publish", "公开说明"),
    }
}

labelled_enum! {
    /// How a caller stands to a case; the HTTP layer works these out from the caller's
    /// bindings and the case, and the workflow decides with them alone.
    pub enum Capacity {
        Reporter = ("reporter", "诉求人"),
        /// Staff of the level the case sits at, in whose territory it lies.
        LevelStaff = ("level_staff", "当前层级"),
        /// Staff of a level above the case's, in whose territory it lies.
        Supervisor = ("supervisor", "上级"),
        LeadUnit = ("lead_unit", "主办单位"),
        AssistUnit = ("assist_unit", "协办单位"),
        /// A grid worker of the case's grid.
        GridWorker = ("grid_worker", "本网格网格员"),
        /// Staff of the community the case lies in, once the case sits above it.
        LocalCommunity = ("local_community", "属地社区"),
        /// The server's own clock work (warnings, overdue marks, escalation).
        System = ("system", "系统"),
    }
}

/// Everything the workflow needs to know of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CaseState {
    pub stage: Stage,
    pub level: CaseLevel,
    /// The reporter has rated the current closing.
    pub rated: bool,
    pub reworks: u32,
    pub returns: u32,
    pub escalations: u32,
}

impl CaseState {
    /// A case as it comes in, at the level of whoever first answers it.
    pub fn new(level: CaseLevel) -> CaseState {
        CaseState {
            stage: Stage::Reported,
            level,
            rated: false,
            reworks: 0,
            returns: 0,
            escalations: 0,
        }
    }
}

use Capacity as C;
use Stage as S;

const OPEN: &[Stage] = &[
    S::Reported,
    S::Accepted,
    S::Dispatched,
    S::Handling,
    S::PauseRequested,
    S::Paused,
    S::FedBack,
];
const STAFF: &[Capacity] = &[C::LevelStaff, C::Supervisor];
const VERIFIERS: &[Capacity] = &[C::LevelStaff, C::Supervisor, C::LocalCommunity];

/// One rule: a step is allowed from these stages to these capacities, and leads to `to`
/// (None: the stage stays).
struct Rule {
    step: Step,
    from: &'static [Stage],
    to: Option<Stage>,
    by: &'static [Capacity],
}

const fn rule(
    step: Step,
    from: &'static [Stage],
    to: Option<Stage>,
    by: &'static [Capacity],
) -> Rule {
    Rule { step, from, to, by }
}

const RULES: &[Rule] = &[
    rule(Step::Accept, &[S::Reported], Some(S::Accepted), STAFF),
    rule(Step::Reject, &[S::Reported], Some(S::Rejected), STAFF),
    rule(
        Step::Escalate,
        &[S::Reported, S::Accepted],
        None,
        &[C::LevelStaff, C::Supervisor, C::System],
    ),
    rule(Step::Dispatch, &[S::Accepted], Some(S::Dispatched), STAFF),
    rule(Step::Whistle, &[S::Accepted], Some(S::Dispatched), STAFF),
    rule(
        Step::Sign,
        &[S::Dispatched],
        Some(S::Handling),
        &[C::LeadUnit],
    ),
    rule(
        Step::CheckIn,
        &[
            S::Dispatched,
            S::Handling,
            S::PauseRequested,
            S::Paused,
            S::FedBack,
        ],
        None,
        &[C::LeadUnit, C::AssistUnit],
    ),
    rule(
        Step::Return,
        &[S::Dispatched],
        Some(S::Accepted),
        &[C::LeadUnit],
    ),
    rule(
        Step::Feedback,
        &[S::Handling],
        Some(S::FedBack),
        &[C::LeadUnit],
    ),
    // The community the case lies in checks the work on the spot (属地核实) even when a
    // street or district handled it.
    rule(Step::Verify, &[S::FedBack], Some(S::Closed), VERIFIERS),
    rule(Step::Rework, &[S::FedBack], Some(S::Handling), VERIFIERS),
    rule(
        Step::RequestPause,
        &[S::Handling],
        Some(S::PauseRequested),
        &[C::LeadUnit],
    ),
    rule(
        Step::ApprovePause,
        &[S::PauseRequested],
        Some(S::Paused),
        STAFF,
    ),
    rule(
        Step::DenyPause,
        &[S::PauseRequested],
        Some(S::Handling),
        STAFF,
    ),
    rule(
        Step::Resume,
        &[S::Paused],
        Some(S::Handling),
        &[C::LeadUnit, C::LevelStaff, C::Supervisor],
    ),
    rule(Step::Supervise, OPEN, None, &[C::Supervisor, C::System]),
    rule(Step::Rate, &[S::Closed], None, &[C::Reporter]),
    rule(
        Step::Merge,
        &[S::Reported, S::Accepted],
        Some(S::Merged),
        STAFF,
    ),
    // A grid worker solves on the spot what they found, or what they accepted and went to.
    rule(
        Step::SolveOnSpot,
        &[S::Reported, S::Accepted],
        Some(S::Closed),
        &[C::GridWorker],
    ),
    rule(Step::Warn, OPEN, None, &[C::System]),
    rule(Step::Overdue, OPEN, None, &[C::System]),
    rule(
        Step::Comment,
        OPEN,
        None,
        &[
            C::Reporter,
            C::LevelStaff,
            C::Supervisor,
            C::LeadUnit,
            C::AssistUnit,
            C::GridWorker,
            C::LocalCommunity,
        ],
    ),
    // Open and finished cases alike: what was done is often what the public wants to read.
    rule(Step::Publish, Stage::ALL, None, VERIFIERS),
];

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowError {
    /// The step does not apply in the case's stage.
    WrongStage { step: Step, stage: Stage },
    /// The caller stands in no capacity that may take the step.
    NotPermitted { step: Step },
    /// Reporting is how a case begins, not a step on one.
    NotAStep { step: Step },
    /// The case already sits at the top of the ladder.
    TopLevel,
    /// Blowing the whistle is for streets and above (街乡吹哨).
    WhistleBelowStreet,
    /// Solving on the spot is for cases at grid level.
    NotAtGrid,
    /// A grid does not send work to departments: it solves on the spot or calls its
    /// community (网格呼社区应), and the community or a level above dispatches.
    DispatchFromGrid,
    /// The reporter has rated this closing already.
    AlreadyRated,
}

impl Bilingual for WorkflowError {
    fn code(&self) -> &'static str {
        match self {
            WorkflowError::WrongStage { .. } => "wrong_stage",
            WorkflowError::NotPermitted { .. } => "step_not_permitted",
            WorkflowError::NotAStep { .. } => "not_a_step",
            WorkflowError::TopLevel => "top_level",
            WorkflowError::WhistleBelowStreet => "whistle_below_street",
            WorkflowError::NotAtGrid => "not_at_grid",
            WorkflowError::DispatchFromGrid => "dispatch_from_grid",
            WorkflowError::AlreadyRated => "already_rated",
        }
    }

    fn zh(&self) -> String {
        match self {
            WorkflowError::WrongStage { step, stage } => {
                format!("案件处于“{}”，不能{}", stage.zh(), step.zh())
            }
            WorkflowError::NotPermitted { step } => format!("您无权对此案件{}", step.zh()),
            WorkflowError::NotAStep { step } => format!("“{}”不是案件上的操作", step.zh()),
            WorkflowError::TopLevel => "案件已在最高层级，无法再呼叫上级".into(),
            WorkflowError::WhistleBelowStreet => "吹哨须由街道及以上层级发起".into(),
            WorkflowError::NotAtGrid => "只有网格层级的案件可以自行处置".into(),
            WorkflowError::DispatchFromGrid => {
                "网格不直接派遣部门：请自行处置或呼叫社区，由社区及以上层级派遣".into()
            }
            WorkflowError::AlreadyRated => "本次结案已评价".into(),
        }
    }

    fn en(&self) -> String {
        match self {
            WorkflowError::WrongStage { step, stage } => {
                format!("a case that is {stage} cannot take the step {step}")
            }
            WorkflowError::NotPermitted { step } => {
                format!("you may not take the step {step} on this case")
            }
            WorkflowError::NotAStep { step } => format!("{step} is not a step on a case"),
            WorkflowError::TopLevel => "the case is at the top level already".into(),
            WorkflowError::WhistleBelowStreet => {
                "only a street or a level above may blow the whistle".into()
            }
            WorkflowError::NotAtGrid => "only cases at grid level can be solved on the spot".into(),
            WorkflowError::DispatchFromGrid => {
                "a grid does not dispatch to departments: solve it on the spot or call the \
                 community, which (or a level above) dispatches"
                    .into()
            }
            WorkflowError::AlreadyRated => "this closing has been rated already".into(),
        }
    }
}

/// What the step carries that changes the state beyond its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepFacts {
    /// For `Rate`: the reporter says the problem is not fixed (reopens the case).
    pub not_fixed: bool,
}

fn rule_for(step: Step) -> Result<&'static Rule, WorkflowError> {
    RULES
        .iter()
        .find(|r| r.step == step)
        .ok_or(WorkflowError::NotAStep { step })
}

/// The capacities that may take `step` at all.
pub fn capacities_for(step: Step) -> &'static [Capacity] {
    rule_for(step).map(|r| r.by).unwrap_or(&[])
}

/// The state after `step`, taken by someone standing in `by`, or why not.
pub fn transition(
    state: CaseState,
    step: Step,
    facts: StepFacts,
    by: &[Capacity],
) -> Result<CaseState, WorkflowError> {
    let rule = rule_for(step)?;
    if !rule.from.contains(&state.stage) {
        return Err(WorkflowError::WrongStage {
            step,
            stage: state.stage,
        });
    }
    if !by.iter().any(|c| rule.by.contains(c)) {
        return Err(WorkflowError::NotPermitted { step });
    }
    let mut next = state;
    if let Some(to) = rule.to {
        next.stage = to;
    }
    match step {
        Step::Escalate => {
            next.level = state.level.up().ok_or(WorkflowError::TopLevel)?;
            next.escalations += 1;
        }
        Step::Whistle if state.level < CaseLevel::Street => {
            return Err(WorkflowError::WhistleBelowStreet);
        }
        Step::SolveOnSpot if state.level != CaseLevel::Grid => {
            return Err(WorkflowError::NotAtGrid);
        }
        // At grid level only a supervisor (the community or above) may send the case out.
        Step::Dispatch if state.level == CaseLevel::Grid && !by.contains(&C::Supervisor) => {
            return Err(WorkflowError::DispatchFromGrid);
        }
        Step::Return => next.returns += 1,
        Step::Rework => next.reworks += 1,
        Step::Rate if state.rated => return Err(WorkflowError::AlreadyRated),
        Step::Rate if facts.not_fixed => {
            // "Not fixed" reopens the case with the same unit and counts as rework.
            next.stage = Stage::Handling;
            next.reworks += 1;
        }
        Step::Rate => next.rated = true,
        Step::Verify | Step::SolveOnSpot => next.rated = false,
        _ => {}
    }
    Ok(next)
}

/// The capacity among `by` in which the step is taken: the first that may take it on its own
/// (a grid's dispatch needs the supervisor, not the level staff the caller also is), so that
/// replaying the recorded capacity gives the same state.
pub fn acting_capacity(
    state: CaseState,
    step: Step,
    facts: StepFacts,
    by: &[Capacity],
) -> Option<Capacity> {
    by.iter()
        .copied()
        .find(|c| transition(state, step, facts, &[*c]).is_ok())
}

/// The steps a caller standing in `by` may take on a case now, in display order.
pub fn available(state: CaseState, by: &[Capacity]) -> Vec<Step> {
    Step::ALL
        .iter()
        .copied()
        .filter(|s| !matches!(s, Step::Warn | Step::Overdue | Step::Report))
        .filter(|s| transition(state, *s, StepFacts::default(), by).is_ok())
        .collect()
}

#[cfg(test)]
mod tests;
