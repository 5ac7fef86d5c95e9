//! The workflow exhaustively (every stage × step × capacity) and over long random runs.

use super::*;
use crate::synth::rng::Rng;

fn state(stage: Stage, level: CaseLevel) -> CaseState {
    CaseState {
        stage,
        ..CaseState::new(level)
    }
}

/// The stages each step may lead to, written out independently of the rules table.
fn may_lead_to(step: Step, from: Stage) -> Vec<Stage> {
    use Stage::*;
    match step {
        Step::Accept => vec![Accepted],
        Step::Reject => vec![Rejected],
        Step::Dispatch | Step::Whistle => vec![Dispatched],
        Step::Sign | Step::Rework | Step::DenyPause | Step::Resume => vec![Handling],
        Step::Return => vec![Accepted],
        Step::Feedback => vec![FedBack],
        Step::Verify | Step::SolveOnSpot => vec![Closed],
        Step::RequestPause => vec![PauseRequested],
        Step::ApprovePause => vec![Paused],
        Step::Merge => vec![Merged],
        Step::Rate => vec![Closed, Handling],
        _ => vec![from],
    }
}

#[test]
fn every_stage_step_and_capacity_is_decided_consistently() {
    for stage in Stage::ALL {
        for level in CaseLevel::ALL {
            for step in Step::ALL {
                for cap in Capacity::ALL {
                    let s = state(*stage, *level);
                    match transition(s, *step, StepFacts::default(), &[*cap]) {
                        Ok(next) => {
                            assert!(
                                may_lead_to(*step, *stage).contains(&next.stage),
                                "{stage} --{step}/{cap}--> {}",
                                next.stage
                            );
                            assert!(capacities_for(*step).contains(cap));
                            assert!(
                                !stage.is_final() || matches!(step, Step::Rate | Step::Publish)
                            );
                        }
                        Err(WorkflowError::NotPermitted { .. }) => {
                            assert!(!capacities_for(*step).contains(cap))
                        }
                        Err(_) => {}
                    }
                }
            }
        }
    }
}

#[test]
fn the_ladder_climbs_one_level_at_a_time_and_stops_at_the_city() {
    let mut s = CaseState::new(CaseLevel::Grid);
    let mut seen = vec![s.level];
    while s.level != CaseLevel::City {
        s = transition(
            s,
            Step::Escalate,
            StepFacts::default(),
            &[Capacity::LevelStaff],
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        seen.push(s.level);
    }
    assert_eq!(seen, CaseLevel::ALL.to_vec());
    assert_eq!(s.escalations, 4);
    assert_eq!(
        transition(s, Step::Escalate, StepFacts::default(), &[Capacity::System]),
        Err(WorkflowError::TopLevel)
    );
}

#[test]
fn whistles_need_a_street_and_on_the_spot_needs_a_grid() {
    let at = |level| state(Stage::Accepted, level);
    let staff = [Capacity::LevelStaff];
    assert_eq!(
        transition(
            at(CaseLevel::Community),
            Step::Whistle,
            StepFacts::default(),
            &staff
        ),
        Err(WorkflowError::WhistleBelowStreet)
    );
    assert!(
        transition(
            at(CaseLevel::Street),
            Step::Whistle,
            StepFacts::default(),
            &staff
        )
        .is_ok()
    );
    let reported = state(Stage::Reported, CaseLevel::Community);
    assert_eq!(
        transition(
            reported,
            Step::SolveOnSpot,
            StepFacts::default(),
            &[Capacity::GridWorker]
        ),
        Err(WorkflowError::NotAtGrid)
    );
}

#[test]
fn not_fixed_reopens_and_a_closing_is_rated_once() {
    let closed = state(Stage::Closed, CaseLevel::Community);
    let reporter = [Capacity::Reporter];
    let reopened = transition(closed, Step::Rate, StepFacts { not_fixed: true }, &reporter)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(reopened.stage, Stage::Handling);
    assert_eq!(reopened.reworks, 1);
    let rated = transition(closed, Step::Rate, StepFacts::default(), &reporter)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(rated.rated);
    assert_eq!(
        transition(rated, Step::Rate, StepFacts::default(), &reporter),
        Err(WorkflowError::AlreadyRated)
    );
    assert_eq!(
        transition(
            closed,
            Step::Rate,
            StepFacts::default(),
            &[Capacity::LevelStaff]
        ),
        Err(WorkflowError::NotPermitted { step: Step::Rate })
    );
}

/// Random runs: whatever is tried, the state stays one the rules allow, refused steps change
/// nothing, and replaying the accepted steps gives the same state.
#[test]
fn random_runs_never_reach_an_illegal_state() {
    let mut rng = Rng::new(20261124);
    for _ in 0..2_000 {
        let start = CaseState::new(*rng.pick(&[CaseLevel::Grid, CaseLevel::Community]));
        let mut s = start;
        let mut log = Vec::new();
        for _ in 0..60 {
            let step = *rng.pick(Step::ALL);
            let n = 1 + rng.below(3) as usize;
            let by: Vec<Capacity> = (0..n).map(|_| *rng.pick(Capacity::ALL)).collect();
            let facts = StepFacts {
                not_fixed: rng.chance(0.3),
            };
            if let Ok(next) = transition(s, step, facts, &by) {
                assert!(may_lead_to(step, s.stage).contains(&next.stage));
                assert!(next.level >= s.level, "levels never go down");
                assert!(next.reworks >= s.reworks && next.returns >= s.returns);
                log.push((step, facts, by));
                s = next;
            }
            assert!(!(s.stage == Stage::Reported && s.rated));
        }
        let replayed = log.iter().fold(start, |acc, (step, facts, by)| {
            transition(acc, *step, *facts, by).unwrap_or_else(|e| panic!("replay: {e:?}"))
        });
        assert_eq!(replayed, s);
    }
}

#[test]
fn available_steps_are_exactly_the_ones_that_succeed() {
    for stage in Stage::ALL {
        for cap in Capacity::ALL {
            let s = state(*stage, CaseLevel::Street);
            let steps = available(s, &[*cap]);
            for step in Step::ALL {
                let ok = transition(s, *step, StepFacts::default(), &[*cap]).is_ok();
                let shown = steps.contains(step);
                let internal = matches!(step, Step::Warn | Step::Overdue | Step::Report);
                assert_eq!(shown, ok && !internal, "{stage} {cap} {step}");
            }
        }
    }
    let fed_back = state(Stage::FedBack, CaseLevel::Community);
    let steps = available(fed_back, &[Capacity::LevelStaff]);
    assert!(steps.contains(&Step::Verify) && steps.contains(&Step::Rework));
    assert!(!steps.contains(&Step::Sign));
}

#[test]
fn a_grid_calls_its_community_rather_than_dispatching_to_departments() {
    let at = |level| state(Stage::Accepted, level);
    let f = StepFacts::default();
    // The grid worker answering a grid-level case may not send it to a department …
    for by in [
        vec![Capacity::LevelStaff],
        vec![Capacity::LevelStaff, Capacity::GridWorker],
    ] {
        assert_eq!(
            transition(at(CaseLevel::Grid), Step::Dispatch, f, &by),
            Err(WorkflowError::DispatchFromGrid)
        );
        assert!(!available(at(CaseLevel::Grid), &by).contains(&Step::Dispatch));
        // … but may call the community, or go and solve what they accepted.
        assert!(transition(at(CaseLevel::Grid), Step::Escalate, f, &by).is_ok());
    }
    let solved = transition(
        at(CaseLevel::Grid),
        Step::SolveOnSpot,
        f,
        &[Capacity::GridWorker],
    );
    assert_eq!(solved.map(|s| s.stage), Ok(Stage::Closed));
    // The community above the grid dispatches it; from the community up, the level does.
    assert!(
        transition(
            at(CaseLevel::Grid),
            Step::Dispatch,
            f,
            &[Capacity::Supervisor]
        )
        .is_ok()
    );
    for level in [CaseLevel::Community, CaseLevel::Street, CaseLevel::District] {
        let next = transition(at(level), Step::Dispatch, f, &[Capacity::LevelStaff]);
        assert_eq!(next.map(|s| s.stage), Ok(Stage::Dispatched));
    }
}

#[test]
fn the_recorded_capacity_alone_replays_every_step_taken() {
    let f = StepFacts::default();
    for stage in Stage::ALL {
        for level in CaseLevel::ALL {
            let s = state(*stage, *level);
            for step in Step::ALL {
                for a in Capacity::ALL {
                    for b in Capacity::ALL {
                        let by = [*a, *b];
                        let Ok(next) = transition(s, *step, f, &by) else {
                            assert_eq!(acting_capacity(s, *step, f, &by), None);
                            continue;
                        };
                        let acting = acting_capacity(s, *step, f, &by)
                            .unwrap_or_else(|| panic!("{stage} {level} {step} {by:?}"));
                        assert_eq!(transition(s, *step, f, &[acting]), Ok(next));
                    }
                }
            }
        }
    }
}
