//! The case loop in the database, on SQLite and PostgreSQL: a whole life from report to a
//! "not fixed" rating and back, the whistle to three units with one late check-in, the
//! sweeper firing each timer once (concurrently and after a restart), idempotent intake,
//! duplicates and merging, refusals that change nothing, a group of steps in one transaction
//! equal to the same steps one by one, and the projection equal to a replay of the events and
//! the counters equal to a recount.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::workflow::capacities_for;
use shezhi_domain::cases::{
    Capacity, CaseLevel, CaseState, Satisfaction, Source, Step, StepFacts, transition,
};
use shezhi_domain::people::Date;
use shezhi_domain::territory::RegionCode;
use shezhi_store::access::HandlingUnit;
use shezhi_store::cases::{CaseFilter, NewCase, StepInput, StepJob};
use shezhi_store::testing::one_district;
use shezhi_store::{Backend, Store, on_both_backends};

const HOUR: i64 = 3_600_000;

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

/// 2026-11-23 (Monday) 09:00 China time.
fn monday_9() -> i64 {
    Date::new(2026, 11, 23)
        .unwrap_or_else(|| panic!("date"))
        .start_epoch_ms_cst()
        + 9 * HOUR
}

const CELL: &str = "510104018001001001";

async fn setup(store: &Store) -> WorkCalendar {
    store
        .put_regions(one_district())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .ensure_catalogue(0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let units = ["CG", "SW", "ZJ", "SC"].map(|u| HandlingUnit {
        code: format!("510104-{u}"),
        name: format!("锦江区{u}"),
        kind: "department".into(),
        region_code: "510104000000".into(),
    });
    store
        .put_units(&units)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    WorkCalendar::china()
}

fn report(category: &str, point: [f64; 2], key: Option<&str>) -> NewCase {
    NewCase {
        source: Source::Resident,
        category: category.into(),
        title: String::new(),
        description: "楼下有人占道摆摊，堵住了消防通道".into(),
        cell: code(CELL),
        point: Some(point),
        address: "锦江区某街道 1 号".into(),
        reporter: "user:42".into(),
        contact: None,
        photos: Vec::new(),
        idempotency: key.map(|k| {
            (
                "user:42".to_string(),
                k.to_string(),
                format!("hash-of-{category}"),
            )
        }),
        ip: None,
    }
}

async fn intake_one(store: &Store, cal: &WorkCalendar, c: NewCase, now: i64) -> i64 {
    let mut answers = store
        .intake_batch(&[c], None, now, cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    answers.remove(0).unwrap_or_else(|e| panic!("{e}")).id
}

fn by(step: Step, caps: &[Capacity], actor: &str) -> StepInput {
    StepInput {
        step: Some(step),
        by: caps.to_vec(),
        actor: actor.into(),
        note: "按规定处理".into(),
        ..StepInput::default()
    }
}

async fn step(store: &Store, cal: &WorkCalendar, id: i64, input: StepInput, now: i64) -> String {
    store
        .take_step(id, &input, now, cal)
        .await
        .unwrap_or_else(|e| panic!("{:?} refused: {e}", input.step))
        .stage
}

/// The case row must equal the fold of its events through the workflow.
async fn assert_projection_is_replay(store: &Store, id: i64) {
    let d = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case {id}"));
    let first = &d.events[0];
    let level = CaseLevel::parse(first.detail["to"]["level"].as_str().unwrap_or_default())
        .unwrap_or_else(|| panic!("level"));
    let mut s = CaseState::new(level);
    for e in &d.events[1..] {
        let step = Step::parse(&e.step).unwrap_or_else(|| panic!("{}", e.step));
        let cap = Capacity::parse(&e.capacity)
            .unwrap_or_else(|| panic!("capacity {:?} of {}", e.capacity, e.step));
        let facts = StepFacts {
            not_fixed: e.detail["not_fixed"].as_bool().unwrap_or(false),
        };
        s = transition(s, step, facts, &[cap])
            .unwrap_or_else(|err| panic!("replay of {} fails: {err:?}", e.step));
    }
    assert_eq!(s.stage.as_str(), d.case.stage);
    assert_eq!(s.level.as_str(), d.case.level);
    assert_eq!(s.rated, d.rated);
    assert_eq!(i64::from(s.reworks), d.reworks);
    assert_eq!(i64::from(s.returns), d.returns);
    assert_eq!(i64::from(s.escalations), d.escalations);
}

async fn a_whole_life_with_whistle_rework_and_rating(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let id = intake_one(
        &store,
        &cal,
        report("order.vendor", [104.08, 30.65], None),
        t0,
    )
    .await;
    let d = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case"));
    assert!(d.case.number.starts_with("SQ20261123"), "{}", d.case.number);
    assert_eq!(d.case.level, "grid");
    let staff = [Capacity::LevelStaff, Capacity::Supervisor];
    // The grid cannot solve it: it climbs to the community, which accepts and calls the street.
    assert_eq!(
        step(
            &store,
            &cal,
            id,
            by(Step::Escalate, &staff, "user:1"),
            t0 + HOUR
        )
        .await,
        "reported"
    );
    assert_eq!(
        step(
            &store,
            &cal,
            id,
            by(Step::Accept, &staff, "user:2"),
            t0 + 2 * HOUR
        )
        .await,
        "accepted"
    );
    // A community may not blow the whistle.
    let mut whistle = by(Step::Whistle, &staff, "user:2");
    whistle.units = vec!["510104-CG".into(), "510104-SW".into(), "510104-ZJ".into()];
    let refused = store.take_step(id, &whistle, t0 + 2 * HOUR, &cal).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("street")));
    step(
        &store,
        &cal,
        id,
        by(Step::Escalate, &staff, "user:2"),
        t0 + 3 * HOUR,
    )
    .await;
    whistle.actor = "user:3".into();
    assert_eq!(
        step(&store, &cal, id, whistle, t0 + 3 * HOUR).await,
        "dispatched"
    );
    assert_eq!(
        step(
            &store,
            &cal,
            id,
            by(Step::Sign, &[Capacity::LeadUnit], "user:10"),
            t0 + 4 * HOUR
        )
        .await,
        "handling"
    );
    let mut check_in = by(Step::CheckIn, &[Capacity::AssistUnit], "user:11");
    check_in.units = vec!["510104-SW".into()];
    step(&store, &cal, id, check_in, t0 + 5 * HOUR).await;
    // 510104-ZJ never checks in: the sweep after its limit records it once.
    let sweep = store
        .sweep(t0 + 40 * HOUR, &cal, 1000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.late_check_ins, 1, "{sweep:?}");
    let again = store
        .sweep(t0 + 41 * HOUR, &cal, 1000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.late_check_ins, 0);
    let late = store
        .indicators(
            "unit:510104-ZJ",
            Date::new(2026, 11, 1).unwrap_or_else(|| panic!()),
            Date::new(2026, 11, 30).unwrap_or_else(|| panic!()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(late.counts.get("check_in_late"), Some(&1));
    let d = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case"));
    let units: Vec<(&str, &str, bool)> = d
        .units
        .iter()
        .map(|u| {
            (
                u.unit_code.as_str(),
                u.role.as_str(),
                u.checked_in_at_ms.is_some(),
            )
        })
        .collect();
    assert_eq!(
        units,
        vec![
            ("510104-CG", "lead", true),
            ("510104-SW", "assist", true),
            ("510104-ZJ", "assist", false)
        ]
    );
    // Handling, feedback, verification, then the resident says it is not fixed.
    let t1 = t0 + 42 * HOUR;
    assert_eq!(
        step(
            &store,
            &cal,
            id,
            by(Step::Feedback, &[Capacity::LeadUnit], "user:10"),
            t1
        )
        .await,
        "fed_back"
    );
    assert_eq!(
        step(
            &store,
            &cal,
            id,
            by(Step::Verify, &staff, "user:3"),
            t1 + HOUR
        )
        .await,
        "closed"
    );
    let mut rate = by(Step::Rate, &[Capacity::Reporter], "user:42");
    rate.satisfaction = Some(Satisfaction::Unsatisfied);
    rate.not_fixed = true;
    assert_eq!(
        step(&store, &cal, id, rate, t1 + 2 * HOUR).await,
        "handling"
    );
    step(
        &store,
        &cal,
        id,
        by(Step::Feedback, &[Capacity::LeadUnit], "user:10"),
        t1 + 3 * HOUR,
    )
    .await;
    step(
        &store,
        &cal,
        id,
        by(Step::Verify, &staff, "user:3"),
        t1 + 4 * HOUR,
    )
    .await;
    let mut rate = by(Step::Rate, &[Capacity::Reporter], "user:42");
    rate.satisfaction = Some(Satisfaction::Satisfied);
    step(&store, &cal, id, rate, t1 + 5 * HOUR).await;
    assert_projection_is_replay(&store, id).await;
    let d = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case"));
    assert_eq!(
        (d.case.stage.as_str(), d.reworks, d.rated),
        ("closed", 1, true)
    );
    // The counters of the community say the same as the case.
    let day = |d| Date::new(2026, 11, d).unwrap_or_else(|| panic!());
    let ind = store
        .indicators("510104018001", day(1), day(30))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let g = |k: &str| ind.counts.get(k).copied().unwrap_or(0);
    assert_eq!(
        (
            g("intake"),
            g("open"),
            g("closed"),
            g("rated"),
            g("not_fixed"),
            g("satisfied")
        ),
        (1, 0, 2, 2, 1, 1),
        "{ind:?}"
    );
    assert_eq!((g("escalated"), g("whistled"), g("reworked")), (2, 1, 1));
    assert_eq!(ind.resolve_rate, Some(0.5));
    let notices = store
        .notifications(&["user:42".into()], 50)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(notices.iter().any(|n| n.step == "verify"), "{notices:?}");
}

async fn refusals_change_nothing(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let id = intake_one(
        &store,
        &cal,
        report("order.vendor", [104.08, 30.65], None),
        t0,
    )
    .await;
    let before = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (s, caps) in [
        (Step::Sign, vec![Capacity::LevelStaff]),
        (Step::Accept, vec![Capacity::Reporter, Capacity::LeadUnit]),
        (Step::Verify, vec![Capacity::LevelStaff]),
        (Step::Rate, vec![Capacity::Reporter]),
        (Step::Supervise, vec![Capacity::LevelStaff]),
    ] {
        assert!(
            store
                .take_step(id, &by(s, &caps, "user:9"), t0, &cal)
                .await
                .is_err(),
            "{s}"
        );
    }
    let mut stale = by(Step::Accept, &[Capacity::LevelStaff], "user:1");
    stale.expect_events = Some(7);
    let e = store
        .take_step(id, &stale, t0, &cal)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("changed"), "{e}");
    let mut dispatch = by(Step::Dispatch, &[Capacity::Supervisor], "user:1");
    dispatch.units = vec!["510104-NOPE".into()];
    step(
        &store,
        &cal,
        id,
        by(Step::Accept, &[Capacity::LevelStaff], "user:1"),
        t0,
    )
    .await;
    assert!(store.take_step(id, &dispatch, t0, &cal).await.is_err());
    let after = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        before.map(|d| d.events.len() + 1),
        after.map(|d| d.events.len())
    );
    assert!(
        store
            .take_step(
                987654,
                &by(Step::Accept, &[Capacity::LevelStaff], "u"),
                t0,
                &cal
            )
            .await
            .is_err()
    );
}

async fn intake_is_idempotent_and_finds_duplicates(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let a = report("order.vendor", [104.08, 30.65], Some("k-1"));
    let answers = store
        .intake_batch(&[a.clone(), a.clone()], None, t0, &cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<(i64, bool)> = answers
        .iter()
        .map(|x| {
            x.as_ref()
                .map(|i| (i.id, i.created))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    assert_eq!(
        ids[0].0, ids[1].0,
        "a retry inside the batch answers the same case"
    );
    assert_eq!((ids[0].1, ids[1].1), (true, false));
    let again = store
        .intake_batch(std::slice::from_ref(&a), None, t0 + 1000, &cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        again[0].as_ref().map(|i| (i.id, i.created)).ok(),
        Some((ids[0].0, false))
    );
    // Keys belong to their principal: another reporter's "k-1" (a report elsewhere) is a
    // new case.
    let mut theirs = report("order.vendor", [104.10, 30.66], None);
    theirs.idempotency = Some(("user:77".into(), "k-1".into(), "h".into()));
    let theirs = store
        .intake_batch(&[theirs], None, t0 + 1500, &cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let theirs = theirs[0].as_ref().unwrap_or_else(|e| panic!("{e}"));
    assert!(theirs.created && theirs.id != ids[0].0);
    // Each (principal, key) pair is found through the primary key, not by reading every key.
    let plan = store
        .debug_key_lookup_plan()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .join("\n");
    let by_pair = match store.backend() {
        Backend::Sqlite => plan.contains(
            "SEARCH k USING INDEX sqlite_autoindex_intake_keys_1 (principal=? AND key=?)",
        ),
        Backend::Postgres => {
            plan.contains("intake_keys_pkey")
                && plan.contains("principal =")
                && plan.contains("key =")
        }
    };
    assert!(by_pair, "{plan}");
    let mut other = a.clone();
    other.idempotency = Some(("user:42".into(), "k-1".into(), "different".into()));
    let bad = report("no.such", [104.08, 30.65], None);
    let mixed = store
        .intake_batch(
            &[
                other,
                bad,
                NewCase {
                    reporter: "user:43".into(),
                    ..report("order.vendor", [104.0802, 30.6501], None)
                },
                // PostgreSQL refuses a NUL in text: refused as this report's own answer, it
                // does not fail the transaction of the rest.
                NewCase {
                    description: "楼下占道\0摆摊".into(),
                    ..report("order.vendor", [104.09, 30.65], None)
                },
            ],
            None,
            t0 + 2000,
            &cal,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        mixed[0]
            .as_ref()
            .is_err_and(|e| e.to_string().contains("Idempotency"))
    );
    assert!(
        mixed[1]
            .as_ref()
            .is_err_and(|e| e.to_string().contains("category"))
    );
    assert!(
        mixed[3]
            .as_ref()
            .is_err_and(|e| e.to_string().contains("NUL"))
    );
    let second = mixed[2]
        .as_ref()
        .map(|i| i.id)
        .unwrap_or_else(|e| panic!("{e}"));
    // The second report is 23 m from the first: a likely duplicate; then merged into it.
    let dups = store
        .nearby_duplicates("order.vendor", [104.0802, 30.6501], t0 + 3000, second)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dups.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![Some(ids[0].0)]
    );
    assert!(dups[0].distance_m < 30.0);
    assert!(
        store
            .nearby_duplicates("order.parking", [104.0802, 30.6501], t0, second)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    let mut merge = by(Step::Merge, &[Capacity::LevelStaff], "user:1");
    merge.merge_into = Some(ids[0].0);
    assert_eq!(step(&store, &cal, second, merge, t0 + 4000).await, "merged");
    assert_projection_is_replay(&store, second).await;
    // The merged report follows its parent: when the parent is done, its reporter hears.
    let parent = ids[0].0;
    let staff = [Capacity::LevelStaff, Capacity::Supervisor];
    step(
        &store,
        &cal,
        parent,
        by(Step::Accept, &staff, "user:1"),
        t0 + 5000,
    )
    .await;
    let mut d = by(Step::Dispatch, &staff, "user:1");
    d.units = vec!["510104-CG".into()];
    step(&store, &cal, parent, d, t0 + 5000).await;
    step(
        &store,
        &cal,
        parent,
        by(Step::Sign, &[Capacity::LeadUnit], "user:5"),
        t0 + 6000,
    )
    .await;
    step(
        &store,
        &cal,
        parent,
        by(Step::Feedback, &[Capacity::LeadUnit], "user:5"),
        t0 + 7000,
    )
    .await;
    step(
        &store,
        &cal,
        parent,
        by(Step::Verify, &staff, "user:1"),
        t0 + 8000,
    )
    .await;
    let told = store
        .notifications(&["user:43".into()], 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        told.iter()
            .any(|n| n.case_id == second && n.step == "verify"),
        "{told:?}"
    );
    let list = store
        .cases(
            Some(&[code("510104018001")]),
            &CaseFilter {
                stages: vec!["closed".into()],
                ..CaseFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        list.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ids[0].0]
    );
}

/// An overdue handling clock fires once, whoever sweeps and however often, and escalation
/// climbs an unanswered case.
async fn timers_fire_once(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let id = intake_one(
        &store,
        &cal,
        report("order.vendor", [104.08, 30.65], None),
        t0,
    )
    .await;
    // Nobody accepts it within a working day: overdue, and it climbs to the community.
    let late = t0 + 40 * HOUR;
    let (a, b) = tokio::join!(store.sweep(late, &cal, 1000), store.sweep(late, &cal, 1000));
    let (a, b) = (
        a.unwrap_or_else(|e| panic!("{e}")),
        b.unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(a.overdue + b.overdue, 1, "{a:?} {b:?}");
    assert_eq!(a.escalated + b.escalated, 1);
    assert_eq!(a.warnings + b.warnings, 1);
    let d = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case"));
    assert_eq!(d.case.level, "community");
    assert_projection_is_replay(&store, id).await;
    let n = d.events.len();
    let c = store
        .sweep(late, &cal, 1000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.fired, 0);
    assert_eq!(
        store
            .case_detail(id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|d| d.events.len()),
        Some(n)
    );
}

async fn timers_survive_a_restart(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let id = intake_one(
        &store,
        &cal,
        report("emergency.gas_leak", [104.08, 30.65], None),
        t0,
    )
    .await;
    let staff = [Capacity::LevelStaff, Capacity::Supervisor];
    step(&store, &cal, id, by(Step::Accept, &staff, "user:1"), t0).await;
    step(&store, &cal, id, by(Step::Escalate, &staff, "user:1"), t0).await;
    step(&store, &cal, id, by(Step::Escalate, &staff, "user:1"), t0).await;
    let mut d = by(Step::Dispatch, &staff, "user:1");
    d.units = vec!["510104-SC".into()];
    step(&store, &cal, id, d, t0).await;
    step(
        &store,
        &cal,
        id,
        by(Step::Sign, &[Capacity::LeadUnit], "user:5"),
        t0 + HOUR / 2,
    )
    .await;
    // Urgent: handled the same day. A second handle (a "restart": a new pool on the same
    // database) sweeps after midnight and finds the clock due, once.
    let detail = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case"));
    let due = detail.case.due_at_ms.unwrap_or_default();
    assert_eq!(
        due,
        Date::new(2026, 11, 24)
            .unwrap_or_else(|| panic!())
            .start_epoch_ms_cst()
    );
    let before = store
        .sweep(due - 1, &cal, 1000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(before.overdue, 0);
    let after = store
        .sweep(due + 1, &cal, 1000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((after.overdue, after.supervised), (1, 1), "{after:?}");
    let d = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case"));
    assert!(d.case.overdue);
    assert_eq!(d.supervised, 1);
    let ind = store
        .indicators(
            "510104000000",
            Date::new(2026, 11, 1).unwrap_or_else(|| panic!()),
            Date::new(2026, 11, 30).unwrap_or_else(|| panic!()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ind.counts.get("overdue_open"), Some(&1));
    assert_eq!(ind.on_time_rate, Some(0.0));
    step(
        &store,
        &cal,
        id,
        by(Step::Feedback, &[Capacity::LeadUnit], "user:5"),
        due + HOUR,
    )
    .await;
    step(
        &store,
        &cal,
        id,
        by(Step::Verify, &[Capacity::LevelStaff], "user:1"),
        due + 2 * HOUR,
    )
    .await;
    let ind = store
        .indicators(
            "510104000000",
            Date::new(2026, 11, 1).unwrap_or_else(|| panic!()),
            Date::new(2026, 11, 30).unwrap_or_else(|| panic!()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ind.counts.get("overdue_open"),
        None,
        "closing the late case clears the level"
    );
    assert_eq!(
        (ind.counts.get("closed"), ind.counts.get("closed_on_time")),
        (Some(&1), None)
    );
    assert_projection_is_replay(&store, id).await;
}

/// A pause stops the clock: the deadline moves on by the time paused.
async fn pauses_stop_the_clock(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let id = intake_one(
        &store,
        &cal,
        report("property.service", [104.08, 30.65], None),
        t0,
    )
    .await;
    let staff = [Capacity::LevelStaff, Capacity::Supervisor];
    step(&store, &cal, id, by(Step::Accept, &staff, "user:1"), t0).await;
    let mut d = by(Step::Dispatch, &staff, "user:1");
    d.units = vec!["510104-ZJ".into()];
    step(&store, &cal, id, d, t0).await;
    step(
        &store,
        &cal,
        id,
        by(Step::Sign, &[Capacity::LeadUnit], "user:5"),
        t0,
    )
    .await;
    let due = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .and_then(|d| d.case.due_at_ms)
        .unwrap_or_default();
    let mut pause = by(Step::RequestPause, &[Capacity::LeadUnit], "user:5");
    pause.pause_until_ms = Some(t0 + 100 * HOUR);
    pause.note = "需等待配件".into();
    step(&store, &cal, id, pause, t0 + HOUR).await;
    step(
        &store,
        &cal,
        id,
        by(Step::ApprovePause, &staff, "user:1"),
        t0 + 2 * HOUR,
    )
    .await;
    // While paused nothing fires, even long past the old deadline.
    let s = store
        .sweep(due + 10 * HOUR, &cal, 1000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.overdue, 0, "{s:?}");
    step(
        &store,
        &cal,
        id,
        by(Step::Resume, &[Capacity::LeadUnit], "user:5"),
        t0 + 50 * HOUR,
    )
    .await;
    let moved = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .and_then(|d| d.case.due_at_ms)
        .unwrap_or_default();
    assert_eq!(moved, due + 48 * HOUR);
    let ind = store
        .indicators(
            "510104018001",
            Date::new(2026, 11, 1).unwrap_or_else(|| panic!()),
            Date::new(2026, 11, 30).unwrap_or_else(|| panic!()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ind.counts.get("paused"), Some(&1));
    assert_projection_is_replay(&store, id).await;
}

/// A random step for a case in `state`: mostly one the workflow allows, sometimes any step,
/// a wrong capacity, an unknown unit or a stale `expect_events`.
fn random_step(rng: &mut StdRng, state: CaseState, events: i64, now: i64) -> StepInput {
    let allowed: Vec<Step> = Step::ALL
        .iter()
        .copied()
        .filter(|s| !matches!(s, Step::Report | Step::Warn | Step::Overdue | Step::Merge))
        .filter(|s| transition(state, *s, StepFacts::default(), capacities_for(*s)).is_ok())
        .collect();
    let step = if allowed.is_empty() || rng.random_bool(0.2) {
        let all: Vec<Step> = Step::ALL
            .iter()
            .copied()
            .filter(|s| !matches!(s, Step::Report | Step::Merge))
            .collect();
        all[rng.random_range(0..all.len())]
    } else {
        allowed[rng.random_range(0..allowed.len())]
    };
    let mut input = by(step, capacities_for(step), "user:7");
    if rng.random_bool(0.1) {
        input.by = vec![Capacity::Reporter];
    }
    match step {
        Step::Dispatch => input.units = vec!["510104-CG".into()],
        Step::Whistle => input.units = vec!["510104-SW".into(), "510104-ZJ".into()],
        Step::CheckIn => input.units = vec!["510104-ZJ".into()],
        Step::RequestPause => input.pause_until_ms = Some(now + 3 * 24 * HOUR),
        Step::Rate => {
            input.satisfaction =
                Some(Satisfaction::ALL[rng.random_range(0..Satisfaction::ALL.len())]);
            input.not_fixed = rng.random_bool(0.3);
        }
        _ => {}
    }
    if matches!(step, Step::Dispatch | Step::Whistle) && rng.random_bool(0.1) {
        input.units[0] = "510104-NOPE".into();
    }
    if rng.random_bool(0.1) {
        input.expect_events = Some(events + rng.random_range(-1..=1));
    }
    input
}

/// The parts of an answer that do not depend on the case's id.
fn answer_shape(a: &Result<shezhi_store::cases::StepDone, shezhi_store::StoreError>) -> String {
    match a {
        Ok(d) => format!("{} {} {}", d.stage, d.level, d.events),
        Err(e) => format!("refused: {e}"),
    }
}

/// The same random steps, taken in groups on one set of cases (`take_steps`, one transaction
/// per group, several steps on the same case within a group) and one at a time on a twin set
/// in another grid: every answer, every event, every case row and the two grids' counters
/// come out the same, the projection equals the replay, and the audit chain holds.
async fn a_group_of_steps_equals_the_steps_one_by_one(store: Store) {
    // With a keyed audit chain: grouped intake, grouped steps (on PostgreSQL the combined
    // statement) and single steps link their entries under the key.
    store
        .bind_audit_key(
            shezhi_domain::audit::AuditKey::from_bytes([9; 32]),
            "system",
            0,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cal = setup(&store).await;
    let t0 = monday_9();
    let grid_a = &CELL[..15];
    let twin_cell = store
        .leaf_regions()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|l| l.code)
        .find(|c| c.as_str().starts_with("510104018001") && !c.as_str().starts_with(grid_a))
        .unwrap_or_else(|| panic!("no second grid in the community"));
    let grid_b = twin_cell.as_str()[..15].to_string();
    const N: usize = 12;
    let mut grouped = Vec::new();
    let mut single = Vec::new();
    for i in 0..N {
        let r = report("order.vendor", [104.08 + i as f64 * 0.01, 30.65], None);
        grouped.push(intake_one(&store, &cal, r.clone(), t0).await);
        let twin = NewCase {
            cell: twin_cell.clone(),
            reporter: "user:43".into(),
            ..r
        };
        single.push(intake_one(&store, &cal, twin, t0).await);
    }
    let mut rng = StdRng::seed_from_u64(5);
    let mut now = t0;
    let mut taken = 0;
    for _ in 0..60 {
        let mut jobs = Vec::new();
        for _ in 0..rng.random_range(1..=8) {
            let i = rng.random_range(0..N);
            let d = store
                .case_detail(single[i])
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("case"));
            let state = CaseState {
                stage: shezhi_domain::cases::Stage::parse(&d.case.stage)
                    .unwrap_or_else(|| panic!("stage")),
                level: CaseLevel::parse(&d.case.level).unwrap_or_else(|| panic!("level")),
                rated: d.rated,
                reworks: d.reworks as u32,
                returns: d.returns as u32,
                escalations: d.escalations as u32,
            };
            now += 60_000;
            let mut input = random_step(&mut rng, state, d.events.len() as i64, now);
            // Now and then a merge into another case of the set (by position, mapped below).
            let mut into = None;
            if rng.random_bool(0.04) {
                input = by(Step::Merge, capacities_for(Step::Merge), "user:7");
                into = Some((i + rng.random_range(1..N)) % N);
            }
            jobs.push((i, input, now, into));
        }
        // A case that does not exist, now and then.
        if rng.random_bool(0.2) {
            let input = by(Step::Accept, &[Capacity::LevelStaff], "user:7");
            jobs.push((N, input, now, None));
        }
        let in_set = |set: &[i64], i: usize, input: &StepInput, into: Option<usize>| {
            let mut input = input.clone();
            input.merge_into = into.map(|k| set[k]);
            (set.get(i).copied().unwrap_or(987_654), input)
        };
        let group: Vec<StepJob> = jobs
            .iter()
            .map(|(i, input, at, into)| {
                let (case_id, input) = in_set(&grouped, *i, input, *into);
                StepJob {
                    case_id,
                    input,
                    now: *at,
                }
            })
            .collect();
        let answers = store
            .take_steps(&group, &cal)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answers.len(), jobs.len());
        for ((i, input, at, into), got) in jobs.iter().zip(&answers) {
            let (case_id, input) = in_set(&single, *i, input, *into);
            let one = store.take_step(case_id, &input, *at, &cal).await;
            assert_eq!(answer_shape(got), answer_shape(&one), "{:?}", input.step);
            taken += usize::from(got.is_ok());
        }
    }
    assert!(taken > 80, "only {taken} steps were taken");
    // In one group, a report merged into a case and then that case closed: the merged
    // report's reporter hears of it, as when the two steps are taken apart.
    now += 60_000;
    for (set, cell, reporter) in [
        (&mut grouped, code(CELL), "user:42"),
        (&mut single, twin_cell.clone(), "user:43"),
    ] {
        for _ in 0..2 {
            let r = NewCase {
                cell: cell.clone(),
                reporter: reporter.into(),
                ..report("order.vendor", [104.2, 30.7], None)
            };
            set.push(intake_one(&store, &cal, r, now).await);
        }
        let parent = set[set.len() - 2];
        for (s, caps) in [
            (Step::Accept, vec![Capacity::LevelStaff]),
            (Step::Dispatch, vec![Capacity::Supervisor]),
            (Step::Sign, vec![Capacity::LeadUnit]),
            (Step::Feedback, vec![Capacity::LeadUnit]),
        ] {
            let mut input = by(s, &caps, "user:7");
            if s == Step::Dispatch {
                input.units = vec!["510104-CG".into()];
            }
            step(&store, &cal, parent, input, now).await;
        }
    }
    let last_two = |set: &[i64]| {
        let (parent, child) = (set[set.len() - 2], set[set.len() - 1]);
        let mut merge = by(Step::Merge, capacities_for(Step::Merge), "user:7");
        merge.merge_into = Some(parent);
        let verify = by(Step::Verify, &[Capacity::LevelStaff], "user:7");
        [(child, merge), (parent, verify)]
    };
    let group: Vec<StepJob> = last_two(&grouped)
        .into_iter()
        .map(|(case_id, input)| StepJob {
            case_id,
            input,
            now,
        })
        .collect();
    for a in store
        .take_steps(&group, &cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    {
        a.unwrap_or_else(|e| panic!("{e}"));
    }
    for (case_id, input) in last_two(&single) {
        store
            .take_step(case_id, &input, now, &cal)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    for i in 0..grouped.len() {
        let a = store
            .case_detail(grouped[i])
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("a"));
        let b = store
            .case_detail(single[i])
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("b"));
        // Ids become positions in their set.
        let shape = |d: &shezhi_store::cases::CaseDetail, set: &[i64]| {
            let pos = |id: i64| set.iter().position(|x| *x == id);
            let events: Vec<_> = d
                .events
                .iter()
                .map(|e| {
                    let mut detail = e.detail.clone();
                    if let Some(t) = detail["merged_into"].as_i64() {
                        detail["merged_into"] = serde_json::json!(pos(t));
                    }
                    (
                        e.seq,
                        e.at_ms,
                        e.step.clone(),
                        e.capacity.clone(),
                        e.note.clone(),
                        detail,
                    )
                })
                .collect();
            (
                (
                    d.case.stage.clone(),
                    d.case.level.clone(),
                    d.case.lead_unit.clone(),
                ),
                (
                    d.case.due_at_ms,
                    d.case.overdue,
                    d.reworks,
                    d.returns,
                    d.rated,
                ),
                (d.units.len(), d.merged_into.and_then(pos)),
                events,
            )
        };
        assert_eq!(shape(&a, &grouped), shape(&b, &single), "case {i}");
        assert_projection_is_replay(&store, grouped[i]).await;
    }
    let today = Date::from_epoch_ms_cst(now);
    let ind_a = store
        .indicators(grid_a, today, today)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ind_b = store
        .indicators(&grid_b, today, today)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ind_a.counts, ind_b.counts);
    // The two sets' reporters heard the same things, merged reports included.
    let heard = |who: &'static str| {
        let store = store.clone();
        async move {
            let mut n: Vec<String> = store
                .notifications(&[who.to_string()], 10_000)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .map(|n| format!("{} {}", n.step, n.at_ms))
                .collect();
            n.sort();
            n
        }
    };
    let (a, b) = (heard("user:42").await, heard("user:43").await);
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert!(matches!(
        store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")),
        shezhi_store::access::AuditCheck::Intact { .. }
    ));
}

/// The database fails in the middle of a group (a trigger refuses one step's event): the
/// group is rolled back and each step is taken on its own, so the others are kept, the failed
/// one gets the database's error, and counters and the audit chain stay whole.
async fn a_failing_step_does_not_take_its_group_down(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = report("order.vendor", [104.08 + i as f64 * 0.01, 30.65], None);
        ids.push(intake_one(&store, &cal, r, t0).await);
    }
    store
        .debug_fail_events_noted("boom")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let jobs: Vec<StepJob> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut input = by(Step::Accept, &[Capacity::LevelStaff], "user:7");
            if i == 1 {
                input.note = "boom".into();
            }
            StepJob {
                case_id: *id,
                input,
                now: t0 + HOUR,
            }
        })
        .collect();
    let answers = store
        .take_steps(&jobs, &cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answers.len(), 3);
    assert_eq!(
        answers[0].as_ref().map(|d| d.stage.as_str()).ok(),
        Some("accepted")
    );
    assert!(
        matches!(&answers[1], Err(shezhi_store::StoreError::Db(_))),
        "{:?}",
        answers[1]
    );
    assert_eq!(
        answers[2].as_ref().map(|d| d.stage.as_str()).ok(),
        Some("accepted")
    );
    for (i, id) in ids.iter().enumerate() {
        let d = store
            .case_detail(*id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("case"));
        let want = if i == 1 { "reported" } else { "accepted" };
        assert_eq!(d.case.stage, want);
        assert_eq!(d.events.len(), if i == 1 { 1 } else { 2 });
        assert_projection_is_replay(&store, *id).await;
    }
    let today = Date::from_epoch_ms_cst(t0);
    let ind = store
        .indicators(&CELL[..15], today, today)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ind.counts.get("intake"), Some(&3));
    assert_eq!(ind.counts.get("accepted"), Some(&2));
    match store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")) {
        shezhi_store::access::AuditCheck::Intact { entries, .. } => assert_eq!(entries, 5),
        broken => panic!("{broken:?}"),
    }
}

async fn a_refused_report_does_not_take_its_group_down(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    // The database refuses the report event of one description, as it might refuse one
    // report for a reason no check foresaw.
    let refused_text = "这件诉求会被数据库拒收";
    store
        .debug_fail_events_noted(refused_text)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let group = [
        report("order.vendor", [104.08, 30.65], Some("k-a")),
        NewCase {
            description: refused_text.into(),
            ..report("order.vendor", [104.09, 30.65], Some("k-r"))
        },
        report("order.vendor", [104.10, 30.65], Some("k-b")),
    ];
    let answers = store
        .intake_batch(&group, None, t0, &cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&answers[1], Err(shezhi_store::StoreError::Db(_))),
        "{:?}",
        answers[1]
    );
    let stored: Vec<i64> = [&answers[0], &answers[2]]
        .iter()
        .map(|a| {
            let a = a.as_ref().unwrap_or_else(|e| panic!("{e}"));
            assert!(a.created);
            a.id
        })
        .collect();
    for id in &stored {
        let d = store
            .case_detail(*id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("case {id}"));
        assert_eq!(d.events.len(), 1);
        assert_projection_is_replay(&store, *id).await;
    }
    // The group sent again: the two stored are answered by their keys, nothing twice.
    let again = store
        .intake_batch(&group, None, t0 + 1_000, &cal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let answered: Vec<(i64, bool)> = [&again[0], &again[2]]
        .iter()
        .filter_map(|a| a.as_ref().ok().map(|i| (i.id, i.created)))
        .collect();
    assert_eq!(answered, vec![(stored[0], false), (stored[1], false)]);
    assert!(again[1].is_err());
    let today = Date::from_epoch_ms_cst(t0);
    let ind = store
        .indicators(&CELL[..15], today, today)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ind.counts.get("intake"), Some(&2));
    match store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")) {
        shezhi_store::access::AuditCheck::Intact { entries, .. } => assert_eq!(entries, 2),
        broken => panic!("{broken:?}"),
    }
}

/// Every figure the command view reads (a scope's indicators, the live counts, the figures
/// by prefix, the daily flows).
async fn all_figures(store: &Store, from: Date, to: Date) -> String {
    let scopes: Vec<String> = [&CELL[..15], &CELL[..12], "510104018000", "510104000000"]
        .iter()
        .map(|s| s.to_string())
        .chain(["unit:510104-CG".to_string(), "cat:order.vendor".to_string()])
        .collect();
    let mut out = String::new();
    for s in &scopes {
        let ind = store
            .indicators(s, from, to)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        out += &format!("{s}: {:?}\n", ind.counts);
        let flows = store
            .daily_flows(s, from, to)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        out += &format!("{s} daily: {flows:?}\n");
    }
    let live = store
        .live_counts(&scopes, to)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    out += &format!("live: {live:?}\n");
    let units = store
        .figures_by_prefix("unit:", from, to)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    out += &format!("units: {units:?}\n");
    out
}

async fn folding_the_counter_log_changes_no_figure(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let day = 24 * HOUR;
    let staff = [Capacity::LevelStaff, Capacity::Supervisor];
    let mut ids = Vec::new();
    for i in 0..6 {
        let r = report("order.vendor", [104.08 + i as f64 * 0.01, 30.65], None);
        ids.push(intake_one(&store, &cal, r, t0 + (i / 3) * day).await);
    }
    // Steps in groups over two days: accepted, dispatched to a unit, one rejected.
    for (k, id) in ids.iter().enumerate() {
        let now = t0 + day + HOUR + k as i64;
        let mut jobs = vec![StepJob {
            case_id: *id,
            input: by(
                if k == 5 { Step::Reject } else { Step::Accept },
                &staff,
                "user:7",
            ),
            now,
        }];
        if k < 5 {
            let mut d = by(Step::Dispatch, &staff, "user:7");
            d.units = vec!["510104-CG".into()];
            jobs.push(StepJob {
                case_id: *id,
                input: d,
                now: now + 1,
            });
        }
        for a in store
            .take_steps(&jobs, &cal)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        {
            a.unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let (from, to) = (
        Date::from_epoch_ms_cst(t0),
        Date::from_epoch_ms_cst(t0 + day),
    );
    let before = all_figures(&store, from, to).await;
    let city = store
        .indicators("510104000000", from, to)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(city.counts.get("intake"), Some(&6), "{before}");
    assert_eq!(city.counts.get("dispatched"), Some(&5), "{before}");
    // Two folds at once (as from two servers), then whatever is left.
    let (a, b) = tokio::join!(
        store.fold_counter_log(2),
        store.fold_counter_log(shezhi_store::cases::FOLD_BATCH)
    );
    let rest = store
        .fold_counter_log_all()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let folded = a.unwrap_or_else(|e| panic!("{e}")) + b.unwrap_or_else(|e| panic!("{e}")) + rest;
    match store.backend() {
        // Six groups of steps, each one log row (intake, a batch writer, upserts directly).
        shezhi_store::Backend::Postgres => assert_eq!(folded, 6),
        shezhi_store::Backend::Sqlite => assert_eq!(folded, 0),
    }
    assert_eq!(all_figures(&store, from, to).await, before);
    // Nothing is left to fold, and a later step is counted on top of the folded figures.
    assert_eq!(
        store
            .fold_counter_log(shezhi_store::cases::FOLD_BATCH)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        0
    );
    let r = report("order.vendor", [104.09, 30.66], None);
    intake_one(&store, &cal, r, t0 + day + 3 * HOUR).await;
    let after = store
        .indicators("510104000000", from, to)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after.counts.get("intake"), Some(&7));
    assert_eq!(after.counts.get("dispatched"), Some(&5));
}

async fn a_reporters_own_cases_come_newest_first_through_their_index(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    // Three reports of user:42 among reports of others, a minute apart.
    let mut mine = Vec::new();
    for i in 0..9i64 {
        let mut r = report("order.vendor", [104.07 + 0.003 * i as f64, 30.65], None);
        if i % 3 != 0 {
            r.reporter = format!("user:{}", 100 + i);
        }
        let id = intake_one(&store, &cal, r, t0 + i * 60_000).await;
        if i % 3 == 0 {
            mine.push(id);
        }
    }
    mine.reverse();
    let f = CaseFilter {
        reporter: Some("user:42".into()),
        newest_first: true,
        ..CaseFilter::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .cases(None, &f, cursor.as_deref(), 2)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, mine);
    // The list walks the reporter's own entries, not every case from the newest back.
    let plan = store
        .debug_case_list_plan(None, &f)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .join("\n");
    assert!(plan.contains("cases_reporter"), "{plan}");
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "{plan}"
    );
}

/// `n` reports of four categories in turn (different time limits), an hour apart from `t0`.
async fn reports_an_hour_apart(store: &Store, cal: &WorkCalendar, n: i64, t0: i64) -> Vec<i64> {
    let cats = [
        "order.vendor",
        "appearance.garbage",
        "facility.streetlight",
        "property.service",
    ];
    let mut ids = Vec::new();
    for i in 0..n {
        let r = report(
            cats[i as usize % cats.len()],
            [104.07 + 0.003 * i as f64, 30.65],
            None,
        );
        ids.push(intake_one(store, cal, r, t0 + i * HOUR).await);
    }
    ids
}

async fn a_territorys_list_pages_in_deadline_order(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    // One of the reports rejected (no deadline: it comes last).
    let ids = reports_an_hour_apart(&store, &cal, 8, t0).await;
    step(
        &store,
        &cal,
        ids[2],
        by(Step::Reject, &[Capacity::LevelStaff], "user:7"),
        t0 + 9 * HOUR,
    )
    .await;
    let district = [code("510104000000")];
    let grid = [code(CELL)];
    for scope in [&district, &grid] {
        let f = CaseFilter::default();
        let whole = store
            .cases(Some(scope), &f, None, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(whole.items.len(), 8);
        let key = |c: &shezhi_store::cases::CaseSummary| (c.due_at_ms.unwrap_or(i64::MAX), c.id);
        assert!(whole.items.windows(2).all(|w| key(&w[0]) < key(&w[1])));
        assert_eq!(whole.items.last().map(|c| c.id), Some(ids[2]));
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .cases(Some(scope), &f, cursor.as_deref(), 3)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            paged.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(paged, whole.items);
    }
    // On SQLite (whose planner has no statistics) a district's list walks the deadline index,
    // without a sort, and a grid's list reads the grid's own cases.
    if store.backend() == Backend::Sqlite {
        for (scope, index) in [("510104000000", "cases_due"), (CELL, "cases_cell")] {
            let plan = store
                .debug_case_list_plan(Some(&[code(scope)]), &CaseFilter::default())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .join("\n");
            assert!(plan.contains(index), "{plan}");
            if index == "cases_due" {
                assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            }
        }
    }
}

/// A unit's cases (all ever sent to it) in deadline order, paged: the same pages whether a
/// page comes from a window of the deadline order or from the whole list, and equal to the
/// order worked out from each case's own units and deadline.
async fn a_units_list_pages_in_deadline_order_through_windows(store: Store) {
    let cal = setup(&store).await;
    let t0 = monday_9();
    let staff = [Capacity::LevelStaff, Capacity::Supervisor];
    // Sixteen reports: eleven sent to CG (one of them returned and sent on to SW), two to SW,
    // the rest never sent anywhere; one sent to CG is closed, so it has no deadline.
    let ids = reports_an_hour_apart(&store, &cal, 16, t0).await;
    let at = t0 + 20 * HOUR;
    for (n, id) in ids.iter().enumerate() {
        let unit = match n {
            0..=10 => "510104-CG",
            11 | 12 => "510104-SW",
            _ => continue,
        };
        step(&store, &cal, *id, by(Step::Accept, &staff, "user:1"), at).await;
        let mut d = by(Step::Dispatch, &staff, "user:1");
        d.units = vec![unit.into()];
        step(&store, &cal, *id, d, at).await;
    }
    let mut back = by(Step::Return, &[Capacity::LeadUnit], "user:5");
    back.note = "不属于本单位职责".into();
    step(&store, &cal, ids[3], back, at + HOUR).await;
    let mut d = by(Step::Dispatch, &staff, "user:1");
    d.units = vec!["510104-SW".into()];
    step(&store, &cal, ids[3], d, at + HOUR).await;
    for (s, who) in [
        (Step::Sign, Capacity::LeadUnit),
        (Step::Feedback, Capacity::LeadUnit),
        (Step::Verify, Capacity::LevelStaff),
    ] {
        step(&store, &cal, ids[5], by(s, &[who], "user:5"), at + 2 * HOUR).await;
    }
    let mut expected: std::collections::HashMap<&str, Vec<(i64, i64)>> = Default::default();
    for id in &ids {
        let d = store
            .case_detail(*id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("case {id}"));
        for unit in ["510104-CG", "510104-SW"] {
            if d.units.iter().any(|u| u.unit_code == unit) {
                let key = (d.case.due_at_ms.unwrap_or(i64::MAX), d.case.id);
                expected.entry(unit).or_default().push(key);
            }
        }
    }
    assert_eq!(expected["510104-CG"].len(), 11);
    assert_eq!(expected["510104-SW"].len(), 3);
    assert!(
        expected["510104-CG"].iter().any(|k| k.0 == i64::MAX),
        "the closed case has no deadline"
    );
    for unit in ["510104-CG", "510104-SW"] {
        let want: Vec<i64> = {
            let mut keys = expected[unit].clone();
            keys.sort();
            keys.into_iter().map(|(_, id)| id).collect()
        };
        let f = CaseFilter {
            unit: Some(unit.into()),
            ..CaseFilter::default()
        };
        // Windows smaller than the list, as large as it, and the server's own.
        for windows in [&[4i64][..], &[2, 6], &[100], &[]] {
            let mut paged = Vec::new();
            let mut by_window = 0;
            let mut cursor = None;
            loop {
                let (page, served) = store
                    .debug_cases_in_windows(None, &f, cursor.as_deref(), 3, windows)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                by_window += usize::from(served.is_some());
                paged.extend(page.items.iter().map(|c| c.id));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(paged, want, "{unit}, windows {windows:?}");
            // A window holding every case serves each full page (CG: 3 + 3 + 3, then 2 from
            // the whole list; SW: 3, then none); without windows the whole list serves all.
            let served = match (unit, windows) {
                ("510104-CG", [100]) => Some(3),
                ("510104-SW", [100]) => Some(1),
                (_, []) => Some(0),
                _ => None,
            };
            if let Some(n) = served {
                assert_eq!(by_window, n, "{unit}, windows {windows:?}");
            }
        }
        let whole = store
            .cases(None, &f, None, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(whole.items.iter().map(|c| c.id).collect::<Vec<_>>(), want);
    }
}

async fn unindexed(store: &Store) -> i64 {
    store
        .unindexed_cases()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Cases found by their words: the list's text condition reads the search index for indexed
/// cases and matches the rest in memory, and both agree with the words' meaning (every word
/// of the query in the title, description or address, in any order).
async fn cases_are_found_by_their_words_before_and_after_indexing(store: Store) {
    use shezhi_domain::search::TextQuery;
    let cal = setup(&store).await;
    let t0 = monday_9();
    let texts = [
        (
            "楼道堆放杂物",
            "楼道里堆放了很多杂物，存在消防安全隐患",
            "玉林北路3号楼",
        ),
        ("路灯不亮", "小区门口路灯不亮已经一周", "玉林北路13号"),
        ("", "垃圾分类桶满溢，臭味很大", "锦江区某街道 1 号"),
        ("噪音扰民", "夜间施工噪音扰民，影响休息", "春熙路5号"),
        ("WiFi信号差", "社区活动室ＷｉＦｉ信号差", "红星路二段"),
        (
            "占道经营",
            "楼下有人占道摆摊，堵住了消防通道",
            "锦江区某街道 1 号",
        ),
        ("井盖缺失", "人行道井盖缺失，有安全隐患", "东大街"),
    ];
    let mut ids = Vec::new();
    for (i, (title, description, address)) in texts.iter().enumerate() {
        let mut r = report("order.vendor", [104.07 + 0.003 * i as f64, 30.65], None);
        r.title = title.to_string();
        r.description = description.to_string();
        r.address = address.to_string();
        ids.push(intake_one(&store, &cal, r, t0 + i as i64 * 60_000).await);
    }
    let number = store
        .case_detail(ids[3])
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("case"))
        .case
        .number;
    let queries: Vec<(String, Vec<usize>)> = [
        ("堆放杂物", vec![0]),
        ("楼道的杂物", vec![0]),
        ("消防", vec![0, 5]),
        ("安全隐患", vec![0, 6]),
        ("路灯", vec![1]),
        ("灯", vec![1]),
        ("3号楼", vec![0]),
        ("玉林", vec![0, 1]),
        ("wifi", vec![4]),
        ("WIFI信号", vec![4]),
        ("施工 噪音", vec![3]),
        ("占道 消防通道", vec![5]),
        ("垃圾", vec![2]),
        ("某街道", vec![2, 5]),
        ("不存在的词", vec![]),
        ("杂物堆放 井盖", vec![]),
    ]
    .into_iter()
    .map(|(q, want)| (q.to_string(), want))
    .chain([(number.to_lowercase(), vec![3])])
    .collect();
    let district = [code("510104000000")];
    let found = |q: String| {
        let store = &store;
        let district = &district;
        async move {
            let f = CaseFilter {
                text: Some(q),
                ..CaseFilter::default()
            };
            let mut got: Vec<i64> = store
                .cases(Some(district), &f, None, 100)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .items
                .iter()
                .map(|c| c.id)
                .collect();
            got.sort_unstable();
            got
        }
    };
    let check = |when: &'static str| {
        let queries = &queries;
        let ids = &ids;
        let found = &found;
        async move {
            for (q, want) in queries {
                let want: Vec<i64> = want.iter().map(|i| ids[*i]).collect();
                assert_eq!(found(q.clone()).await, want, "{q} ({when})");
                // The same answer as the query's meaning, case by case.
                let parsed = TextQuery::parse(q).unwrap_or_else(|| panic!("{q}"));
                let meant: Vec<i64> = texts
                    .iter()
                    .zip(ids.iter())
                    .filter(|((t, d, a), _)| parsed.matches(&[t, d, a]))
                    .map(|(_, id)| *id)
                    .collect();
                if parsed.numbers.is_empty() {
                    assert_eq!(meant, want, "{q} in memory");
                }
            }
        }
    };
    assert_eq!(unindexed(&store).await, 7);
    check("none indexed").await;
    // Two indexers at once: each case indexed once.
    let (a, b) = tokio::join!(store.index_case_text(4), store.index_case_text(4));
    let (a, b) = (
        a.unwrap_or_else(|e| panic!("{e}")),
        b.unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(a + b, 7, "{a} + {b}");
    assert_eq!(unindexed(&store).await, 0);
    check("all indexed").await;
    // Page by page, the same cases in the same order as the whole list; on SQLite the first
    // page of a district's list comes from a window of the deadline order.
    for q in ["消防", "某街道", "路", "安全隐患"] {
        let f = CaseFilter {
            text: Some(q.into()),
            ..CaseFilter::default()
        };
        let whole: Vec<i64> = store
            .cases(Some(&district), &f, None, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
            .iter()
            .map(|c| c.id)
            .collect();
        assert!(whole.len() >= 2, "{q}: {whole:?}");
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let (page, window) = store
                .debug_cases_in_windows(Some(&district), &f, cursor.as_deref(), 1, &[])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if cursor.is_none() {
                let want = (store.backend() == Backend::Sqlite).then_some(256);
                assert_eq!(window, want, "{q}");
            }
            paged.extend(page.items.iter().map(|c| c.id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(paged, whole, "{q}");
    }
    // A report after the indexer's last run is found at once, and again once indexed.
    let mut r = report("order.vendor", [104.09, 30.66], None);
    r.description = "小区电梯困人，需要救援".into();
    let late = intake_one(&store, &cal, r, t0 + HOUR).await;
    assert_eq!(found("电梯困人".into()).await, vec![late]);
    assert_eq!(
        store
            .index_all_case_text()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        1
    );
    assert_eq!(found("电梯困人".into()).await, vec![late]);
    assert_eq!(found("电梯 杂物".into()).await, Vec::<i64>::new());
    // Outside the list's territory nothing is found.
    let elsewhere = [code("510105000000")];
    let f = CaseFilter {
        text: Some("消防".into()),
        ..CaseFilter::default()
    };
    let page = store
        .cases(Some(&elsewhere), &f, None, 100)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(page.items.is_empty());
    // A city-wide search reads the matching cases through the index, not every case.
    let plan = store
        .debug_case_list_plan(Some(&[code("510100000000")]), &f)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .join("\n");
    assert!(plan.contains("case_search"), "{plan}");
    if store.backend() == Backend::Sqlite {
        assert!(plan.contains("USING INTEGER PRIMARY KEY"), "{plan}");
    }
}

on_both_backends!(
    cases_are_found_by_their_words_before_and_after_indexing,
    a_units_list_pages_in_deadline_order_through_windows,
    a_territorys_list_pages_in_deadline_order,
    a_reporters_own_cases_come_newest_first_through_their_index,
    a_whole_life_with_whistle_rework_and_rating,
    refusals_change_nothing,
    intake_is_idempotent_and_finds_duplicates,
    timers_fire_once,
    timers_survive_a_restart,
    pauses_stop_the_clock,
    a_group_of_steps_equals_the_steps_one_by_one,
    a_failing_step_does_not_take_its_group_down,
    a_refused_report_does_not_take_its_group_down,
    folding_the_counter_log_changes_no_figure,
);
