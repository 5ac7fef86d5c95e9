//! Directives and household campaigns on SQLite and on PostgreSQL: fan-out reaches every
//! unit once, late recipients are reminded once per rule even with two sweepers, a visit
//! synced twice counts once, conflicting offline visits resolve by the rule whatever the
//! order, and coverage equals a recount at every level after random visit streams.

use shezhi_domain::campaigns::form::Form;
use shezhi_domain::campaigns::{BuildingType, Outcome, TargetLevel};
use shezhi_domain::people::KeyTag;
use shezhi_domain::synth;
use shezhi_domain::synth::rng::Rng;
use shezhi_domain::territory::{Level, RegionCode};
use shezhi_store::campaigns::{NewCampaign, NewDirective, VisitIn, VisitResult};
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::testing::one_district;
use shezhi_store::{Store, on_both_backends};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const STREET: &str = "510104018000";
const COMMUNITY: &str = "510104018001";
const NOW: i64 = 1_795_000_000_000;
const H: i64 = 3_600_000;

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

async fn territory(store: &Store) {
    ok(store.put_regions(one_district()).await);
}

async fn loaded(store: &Store) {
    territory(store).await;
    let plans = ok(store.register_plans(&code(COMMUNITY)).await);
    let spec = LoadSpec {
        plans,
        seed: 5,
        as_of: synth::default_as_of(),
    };
    let vault = shezhi_domain::people::privacy::Vault::new(
        &shezhi_domain::people::privacy::DataKey::from_bytes([7; 32]),
    );
    ok(store
        .load_register(spec, Arc::new(vault), LoadOptions::new(NOW), |_| {})
        .await);
}

fn directive(levels: Vec<TargetLevel>, deadline: i64) -> NewDirective {
    NewDirective {
        issuer: "user:1".into(),
        region: code(STREET),
        title: "燃气安全入户排查".into(),
        content: "各社区于三日内完成辖区燃气安全排查并反馈".into(),
        levels,
        deadline_ms: deadline,
        attachments: vec![shezhi_store::campaigns::Attachment {
            name: "方案.txt".into(),
            content_type: "text/plain".into(),
            bytes: "排查方案".as_bytes().to_vec(),
        }],
    }
}

async fn directive_reaches_every_unit_once_and_versions_must_be_signed_again(store: Store) {
    territory(&store).await;
    let street = code(STREET);
    let d = directive(
        vec![TargetLevel::Community, TargetLevel::Grid],
        NOW + 72 * H,
    );
    let (id, n) = ok(store.issue_directive(&d, NOW, None).await);
    let communities = ok(store.subtree_level(&street, Level::Community).await);
    let grids = ok(store.subtree_level(&street, Level::Grid).await);
    assert_eq!(n as usize, communities.len() + grids.len());
    let all = ok(store
        .directive_recipients(id, &street, false, "", 100_000)
        .await);
    let codes: BTreeSet<&str> = all.iter().map(|r| r.region_code.as_str()).collect();
    assert_eq!(codes.len(), all.len(), "each unit once");
    let want: BTreeSet<&str> = communities
        .iter()
        .chain(&grids)
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(codes, want);

    let progress = |p: Vec<shezhi_store::campaigns::LevelProgress>| {
        p.into_iter()
            .map(|l| (l.level, l.signed, l.reported))
            .collect::<Vec<_>>()
    };
    let c = code(COMMUNITY);
    ok(store.sign_directive(id, &c, "user:2", NOW + H).await);
    let again = store.sign_directive(id, &c, "user:2", NOW + H).await;
    assert!(matches!(&again, Err(e) if shezhi_domain::Bilingual::code(e) == "already_signed"));
    let outsider = store
        .sign_directive(id, &code("510104017001"), "user:3", NOW)
        .await;
    assert!(matches!(&outsider, Err(e) if shezhi_domain::Bilingual::code(e) == "not_a_recipient"));
    ok(store
        .report_directive(id, &c, "user:2", "已完成 312 户排查", NOW + 2 * H)
        .await);
    let p = progress(ok(store.directive_progress(id).await));
    assert_eq!(p[0], ("community".to_string(), 1, 1));
    assert_eq!(p[1], ("grid".to_string(), 0, 0));

    // An amendment must be signed again.
    assert_eq!(
        ok(store
            .amend_directive(id, "user:1", "截止时间延后一天", NOW + 96 * H, NOW + 3 * H)
            .await),
        2
    );
    let p = progress(ok(store.directive_progress(id).await));
    assert_eq!(p[0], ("community".to_string(), 0, 0));
    ok(store.sign_directive(id, &c, "user:2", NOW + 4 * H).await);
    assert_eq!(progress(ok(store.directive_progress(id).await))[0].1, 1);
    let shown = ok(store.directive(id).await).unwrap_or_else(|| panic!("directive"));
    assert_eq!((shown.version, shown.attachments.len()), (2, 1));
    assert!(
        ok(store
            .directives_for(&[], std::slice::from_ref(&c), 10)
            .await)
        .iter()
        .any(|d| d.id == id)
    );

    ok(store
        .withdraw_directive(id, "user:1", "并入区级方案", NOW + 5 * H)
        .await);
    let late = store
        .report_directive(id, &c, "user:2", "x", NOW + 6 * H)
        .await;
    assert!(matches!(&late, Err(e) if shezhi_domain::Bilingual::code(e) == "directive_withdrawn"));
}

async fn late_recipients_are_reminded_once_per_rule(store: Store) {
    territory(&store).await;
    let d = directive(vec![TargetLevel::Community], NOW + 10 * H);
    let (id, n) = ok(store.issue_directive(&d, NOW, None).await);
    let n = n as usize;
    assert_eq!(ok(store.sweep_directive_reminders(NOW + 4 * H).await), 0);
    // Half time: every unsigned recipient once, even with two sweepers at the same moment.
    let (a, b) = tokio::join!(
        store.sweep_directive_reminders(NOW + 5 * H),
        store.sweep_directive_reminders(NOW + 5 * H)
    );
    assert_eq!(ok(a) + ok(b), n);
    assert_eq!(ok(store.sweep_directive_reminders(NOW + 6 * H).await), 0);
    // One reports in time; at the deadline the others are reminded and their street told.
    ok(store
        .report_directive(id, &code(COMMUNITY), "user:2", "已完成", NOW + 7 * H)
        .await);
    assert_eq!(
        ok(store.sweep_directive_reminders(NOW + 10 * H).await),
        2 * (n - 1)
    );
    assert_eq!(ok(store.sweep_directive_reminders(NOW + 20 * H).await), 0);
    let street = ok(store
        .directive_notices(&[format!("region:{STREET}")], 1_000)
        .await);
    assert_eq!(street.len(), n - 1);
    assert!(street.iter().all(|x| x.0 == id && x.1 == "overdue"));
    // An amendment starts the rules over for the new version.
    ok(store
        .amend_directive(id, "user:1", "补充要求", NOW + 30 * H, NOW + 20 * H)
        .await);
    assert_eq!(ok(store.sweep_directive_reminders(NOW + 25 * H).await), n);
}

fn form() -> Form {
    Form::parse(&serde_json::json!({"questions": [
        {"id": "gas", "text_zh": "是否使用瓶装燃气", "type": "yes_no", "required": true},
        {"id": "cylinders", "text_zh": "气瓶数量", "type": "number", "min": 1, "max": 20, "required": true,
         "when": {"question": "gas", "equals": true}}
    ]}))
    .unwrap_or_else(|e| panic!("{e:?}"))
}

fn campaign(tag: Option<KeyTag>) -> NewCampaign {
    NewCampaign {
        title: "燃气安全入户排查".into(),
        region: code(COMMUNITY),
        tag,
        building_type: None,
        rounds: 3,
        form: form(),
        created_by: "user:1".into(),
    }
}

fn visit(id: &str, household: i64, outcome: Outcome, at: i64, gas: Option<bool>) -> VisitIn {
    let mut answers = BTreeMap::new();
    if outcome == Outcome::Visited {
        let g = gas.unwrap_or(false);
        answers.insert("gas".to_string(), serde_json::json!(g));
        if g {
            answers.insert("cylinders".to_string(), serde_json::json!(2));
        }
    }
    VisitIn {
        client_id: id.into(),
        household_id: household,
        round: 1,
        outcome,
        visited_at_ms: at,
        answers,
        finding: (gas == Some(true)).then(|| "气瓶放在卧室".to_string()),
    }
}

/// Every scope's stored coverage equals the recount from tasks and visits.
async fn assert_coverage(store: &Store, id: i64) {
    let recount = ok(store.recount_coverage(id, 1).await);
    let scopes: Vec<String> = recount.keys().cloned().collect();
    let stored = ok(store.coverage(id, 1, &scopes).await);
    assert_eq!(stored, recount);
}

async fn coverage_equals_a_recount_after_random_visit_streams(store: Store) {
    loaded(&store).await;
    let (id, n) = ok(store.create_campaign(&campaign(None), NOW, None).await);
    let households = ok(store.region_counts(&code(COMMUNITY)).await);
    assert_eq!(Some(&n), households.get("households"));
    let tasks = ok(store
        .campaign_tasks(id, &code(COMMUNITY), None, 100_000)
        .await);
    assert_eq!(tasks.len() as i64, n);
    assert!(
        tasks
            .iter()
            .all(|t| t.status == "pending" && !t.address.is_empty())
    );
    let ids: Vec<i64> = tasks.iter().map(|t| t.household_id).collect();
    let city = code("510100000000");
    let mut rng = Rng::new(99);
    let mut sent: Vec<VisitIn> = Vec::new();
    for batch in 0..12 {
        let mut b = Vec::new();
        for i in 0..rng.below(60) + 1 {
            // Now and then a device re-sends a visit it sent before.
            if !sent.is_empty() && rng.below(6) == 0 {
                b.push(sent[rng.below(sent.len() as u64) as usize].clone());
                continue;
            }
            let hh = ids[rng.below(ids.len().min(80) as u64) as usize];
            let outcome = *rng.pick(Outcome::ALL);
            let gas = (outcome == Outcome::Visited).then(|| rng.below(4) == 0);
            let v = visit(
                &format!("d{batch}-{i}"),
                hh,
                outcome,
                NOW + rng.below(50) as i64 * H,
                gas,
            );
            sent.push(v.clone());
            b.push(v);
        }
        let results = ok(store
            .sync_visits(
                id,
                "user:9",
                None,
                std::slice::from_ref(&city),
                &b,
                NOW + 60 * H,
            )
            .await);
        assert_eq!(results.len(), b.len());
        assert_coverage(&store, id).await;
    }
    // Visits counted once each, however often they were sent.
    let distinct: BTreeSet<&str> = sent.iter().map(|v| v.client_id.as_str()).collect();
    let top = ok(store.coverage(id, 1, &[COMMUNITY.to_string()]).await);
    assert_eq!(top[COMMUNITY]["visits"], distinct.len() as i64);
    assert_eq!(top[COMMUNITY]["total"], n);
    // A re-sent visit is a duplicate and changes nothing.
    let again = ok(store
        .sync_visits(
            id,
            "user:9",
            None,
            std::slice::from_ref(&city),
            &sent[..1],
            NOW + 61 * H,
        )
        .await);
    assert!(matches!(&again[0], VisitResult::Duplicate { .. }));
    assert_eq!(
        ok(store.coverage(id, 1, &[COMMUNITY.to_string()]).await),
        top
    );

    // Devices syncing at the same moment over the same households still count each once.
    let batch = |tag: &str| -> Vec<VisitIn> {
        (0..40)
            .map(|i| {
                visit(
                    &format!("{tag}-{i}"),
                    ids[100 + i % 10],
                    if i % 3 == 0 {
                        Outcome::NobodyHome
                    } else {
                        Outcome::Vacant
                    },
                    NOW + i as i64 * H,
                    None,
                )
            })
            .collect()
    };
    let (b1, b2, b3, b4) = (batch("c1"), batch("c2"), batch("c3"), batch("c4"));
    let all = std::slice::from_ref(&city);
    let (r1, r2, r3, r4) = tokio::join!(
        store.sync_visits(id, "user:1", None, all, &b1, NOW + 65 * H),
        store.sync_visits(id, "user:2", None, all, &b2, NOW + 65 * H),
        store.sync_visits(id, "user:3", None, all, &b3, NOW + 65 * H),
        store.sync_visits(id, "user:4", None, all, &b4, NOW + 65 * H)
    );
    for r in [r1, r2, r3, r4] {
        assert_eq!(ok(r).len(), 40);
    }
    assert_coverage(&store, id).await;
    let top = ok(store.coverage(id, 1, &[COMMUNITY.to_string()]).await);

    // The second round starts from the same households; the first keeps its figures.
    assert_eq!(ok(store.next_round(id, "user:1", NOW + 70 * H).await), 2);
    let second = ok(store.coverage(id, 2, &[COMMUNITY.to_string()]).await);
    assert_eq!(
        (second[COMMUNITY]["total"], second[COMMUNITY]["done"]),
        (n, 0)
    );
    let mut late = visit("r2-late", ids[0], Outcome::Vacant, NOW + 71 * H, None);
    late.round = 1;
    let r = ok(store
        .sync_visits(
            id,
            "user:9",
            None,
            std::slice::from_ref(&city),
            &[late],
            NOW + 72 * H,
        )
        .await);
    assert!(matches!(&r[0], VisitResult::Rejected { code, .. } if code == "round_closed"));
    let mut v2 = visit("r2-1", ids[0], Outcome::Vacant, NOW + 71 * H, None);
    v2.round = 2;
    ok(store
        .sync_visits(id, "user:9", None, &[city], &[v2], NOW + 72 * H)
        .await);
    let recount = ok(store.recount_coverage(id, 2).await);
    let scopes: Vec<String> = recount.keys().cloned().collect();
    assert_eq!(ok(store.coverage(id, 2, &scopes).await), recount);
    assert_eq!(
        ok(store.coverage(id, 1, &[COMMUNITY.to_string()]).await),
        top
    );
    ok(store.next_round(id, "user:1", NOW + 80 * H).await);
    let done = store.next_round(id, "user:1", NOW + 90 * H).await;
    assert!(matches!(&done, Err(e) if shezhi_domain::Bilingual::code(e) == "no_more_rounds"));
}

async fn conflicting_offline_visits_resolve_by_the_rule_in_any_order(store: Store) {
    loaded(&store).await;
    let (a, _) = ok(store.create_campaign(&campaign(None), NOW, None).await);
    let (b, _) = ok(store.create_campaign(&campaign(None), NOW, None).await);
    let hh = ok(store.campaign_tasks(a, &code(COMMUNITY), None, 1).await)[0].household_id;
    // Two workers, one household: nobody home at 10:00, let in at 11:00, refused at 12:00.
    let visits = vec![
        visit("w1-1", hh, Outcome::NobodyHome, NOW + 10 * H, None),
        visit("w2-1", hh, Outcome::Visited, NOW + 11 * H, Some(false)),
        visit("w1-2", hh, Outcome::Refused, NOW + 12 * H, None),
    ];
    let all = [code(COMMUNITY)];
    let forward = ok(store
        .sync_visits(a, "user:9", None, &all, &visits, NOW + 20 * H)
        .await);
    let mut reversed = visits.clone();
    reversed.reverse();
    for v in &reversed {
        // One at a time, as separate devices coming back online.
        ok(store
            .sync_visits(
                b,
                "user:8",
                None,
                &all,
                std::slice::from_ref(v),
                NOW + 20 * H,
            )
            .await);
    }
    let ta = ok(store_task(&store, a, hh).await);
    let tb = ok(store_task(&store, b, hh).await);
    assert_eq!(
        (ta.status.as_str(), ta.outcome.as_deref()),
        ("done", Some("visited"))
    );
    assert_eq!((tb.status, tb.outcome), (ta.status, ta.outcome));
    assert_eq!((ta.visits, tb.visits), (3, 3));
    assert!(matches!(
        &forward[2],
        VisitResult::Accepted { stands: false, .. }
    ));
    // A worker may not record households outside their grids; bad answers are refused.
    let other = [code("510104018002")];
    let r = ok(store
        .sync_visits(
            a,
            "user:7",
            None,
            &other,
            &[visit("x", hh, Outcome::Vacant, NOW, None)],
            NOW,
        )
        .await);
    assert!(matches!(&r[0], VisitResult::Rejected { code, .. } if code == "not_in_scope"));
    let mut bad = visit("y", hh, Outcome::Visited, NOW, Some(true));
    bad.answers.remove("cylinders");
    let r = ok(store
        .sync_visits(a, "user:9", None, &all, &[bad], NOW)
        .await);
    assert!(matches!(&r[0], VisitResult::Rejected { code, .. } if code == "answer_missing"));
    assert_coverage(&store, a).await;
    assert_coverage(&store, b).await;
}

async fn store_task(
    store: &Store,
    campaign: i64,
    household: i64,
) -> Result<shezhi_store::campaigns::Task, String> {
    let tasks = store
        .campaign_tasks(campaign, &code(COMMUNITY), None, 100_000)
        .await
        .map_err(|e| e.to_string())?;
    tasks
        .into_iter()
        .find(|t| t.household_id == household)
        .ok_or_else(|| "no task".to_string())
}

async fn a_tag_targets_only_households_with_that_person(store: Store) {
    loaded(&store).await;
    let (_, n) = ok(store
        .create_campaign(&campaign(Some(KeyTag::ElderlyAlone)), NOW, None)
        .await);
    let people = ok(store
        .residents_in(&[code(COMMUNITY)], Some("elderly_alone"), None, 100_000)
        .await);
    let households: BTreeSet<i64> = people.items.iter().map(|r| r.household_id).collect();
    assert!(n > 0);
    assert_eq!(n as usize, households.len());
}

async fn building_types_select_the_households_living_in_them(store: Store) {
    loaded(&store).await;
    let count = |b: Option<BuildingType>| {
        let store = &store;
        async move {
            let c = NewCampaign {
                building_type: b,
                ..campaign(None)
            };
            match store.create_campaign(&c, NOW, None).await {
                Ok((_, n)) => n,
                Err(e) if shezhi_domain::Bilingual::code(&e) == "no_households" => 0,
                Err(e) => panic!("{e}"),
            }
        }
    };
    let all = count(None).await;
    assert!(all > 100, "{all} households");
    // The height classes, and the kinds of place, each split the households exactly.
    let mut by_height = Vec::new();
    for b in [
        BuildingType::HighRise,
        BuildingType::MultiStorey,
        BuildingType::LowRise,
    ] {
        by_height.push(count(Some(b)).await);
    }
    assert_eq!(by_height.iter().sum::<i64>(), all, "{by_height:?}");
    assert!(
        by_height.iter().filter(|n| **n > 0).count() >= 2,
        "{by_height:?}"
    );
    let mut by_kind = BTreeMap::new();
    for b in [
        BuildingType::Compound,
        BuildingType::Courtyard,
        BuildingType::VillageGroup,
        BuildingType::Institution,
    ] {
        by_kind.insert(b.as_str().to_string(), count(Some(b)).await);
    }
    assert_eq!(by_kind.values().sum::<i64>(), all, "{by_kind:?}");
    // Each kind's count equals a recount over the households' own records.
    let mut recount: BTreeMap<String, i64> = BTreeMap::new();
    let page = ok(store.households_in(&[code(COMMUNITY)], None, 100_000).await);
    for h in &page.items {
        let d = ok(store.household(h.id).await).unwrap_or_else(|| panic!("household {}", h.id));
        *recount.entry(d.compound_kind).or_default() += 1;
    }
    by_kind.retain(|_, n| *n > 0);
    assert_eq!(by_kind, recount);
}

on_both_backends!(
    building_types_select_the_households_living_in_them,
    directive_reaches_every_unit_once_and_versions_must_be_signed_again,
    late_recipients_are_reminded_once_per_rule,
    coverage_equals_a_recount_after_random_visit_streams,
    conflicting_offline_visits_resolve_by_the_rule_in_any_order,
    a_tag_targets_only_households_with_that_person,
);
