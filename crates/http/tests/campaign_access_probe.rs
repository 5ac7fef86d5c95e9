//! Directives and campaigns by id, probed at random on SQLite and PostgreSQL: directives
//! issued at the district, street and community levels of two districts, campaigns in two
//! streets and two districts, and for every role a few hundred random requests on them
//! (details, recipients, attachments, sign, report, amend, withdraw, tasks, coverage and its
//! exports, visits, rounds, and the two lists). Each answer is checked against an oracle
//! written here: who may see a directive (staff with `issue_directive` over its region; the
//! recipient regions at the levels it was sent to, each for its own region) and a campaign
//! (staff with `run_campaign` over its region; `visit_households` in a part of it). A caller
//! who may not see one gets exactly the 404 of a missing id, 403 only when they may see it but
//! not take the step, 409 only for the state of the thing, and nobody gets a 5xx.

use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shezhi_domain::access::{Action, Binding, Grants, Role};
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_domain::territory::RegionCode;
use shezhi_http::{Limits, ratelimit::RateLimiter, router};
use shezhi_store::access::HandlingUnit;
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::{Store, on_both_backends};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod common;
use common::{send, send_raw, state, token_for, with_token};

const NOW_MS: i64 = 1_795_400_000_000;
/// Deadlines far ahead of the real clock the server reads.
const FAR: i64 = 4_000_000_000_000;
const PROBES_PER_ROLE: usize = 400;
const DISTRICT_A: &str = "510104000000";
const DISTRICT_B: &str = "510105000000";
const UNIT: &str = "510104-CG";

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn bind(role: Role, scope: Option<&RegionCode>, unit: Option<&str>) -> Binding {
    Binding {
        role,
        scope: scope.cloned(),
        unit: unit.map(str::to_string),
    }
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(300).collect()
}

/// What the oracle knows of a directive.
#[derive(Debug, Clone)]
struct Dir {
    id: i64,
    region: RegionCode,
    levels: Vec<&'static str>,
    file: i64,
    withdrawn: bool,
    /// Recipient regions that signed the current version.
    signed: BTreeSet<String>,
}

/// What the oracle knows of a campaign.
#[derive(Debug, Clone)]
struct Camp {
    id: i64,
    region: RegionCode,
    rounds: i64,
    current: i64,
}

/// A caller and their bindings.
struct Caller {
    label: &'static str,
    bindings: Vec<Binding>,
    app: axum::Router,
    anonymous: bool,
    tally: BTreeMap<String, usize>,
}

impl Caller {
    fn grants(&self) -> Grants {
        Grants::new(self.bindings.clone())
    }

    fn scopes(&self, action: Action) -> Vec<RegionCode> {
        self.bindings
            .iter()
            .filter(|b| b.role.allows(action))
            .filter_map(|b| b.scope.clone())
            .collect()
    }

    /// The oracle: staff of the issuer's territory.
    fn manages(&self, d: &Dir) -> bool {
        self.grants().can(Action::IssueDirective, &d.region)
    }

    /// The oracle: the caller's regions that are recipients of `d` (strictly below its
    /// region, at one of its levels).
    fn recipient_regions(&self, d: &Dir) -> Vec<RegionCode> {
        self.scopes(Action::AnswerDirective)
            .into_iter()
            .filter(|s| {
                d.region.contains(s) && *s != d.region && d.levels.contains(&s.level().as_str())
            })
            .collect()
    }

    fn sees_directive(&self, d: &Dir) -> bool {
        self.manages(d) || !self.recipient_regions(d).is_empty()
    }

    fn sees_campaign(&self, c: &Camp) -> bool {
        self.grants().can(Action::RunCampaign, &c.region)
            || self
                .scopes(Action::VisitHouseholds)
                .iter()
                .any(|s| s.contains(&c.region) || c.region.contains(s))
    }
}

struct World {
    directives: Vec<Dir>,
    campaigns: Vec<Camp>,
    regions: Vec<RegionCode>,
    visit: u64,
}

/// The answer must be `want` (and the error code `code` when it is an error).
fn expect(p: &Caller, what: &str, got: (StatusCode, &Value), want: StatusCode, codes: &[&str]) {
    let (status, body) = got;
    assert!(
        !status.is_server_error(),
        "{}: {what} answered {status}: {}",
        p.label,
        short(body)
    );
    assert_eq!(status, want, "{}: {what}: {}", p.label, short(body));
    if !status.is_success() {
        let code = body["error"]["code"].as_str().unwrap_or_default();
        assert!(
            codes.contains(&code),
            "{}: {what}: code {code:?}, want one of {codes:?}: {}",
            p.label,
            short(body)
        );
        assert!(
            body["error"]["zh"].is_string() && body["error"]["en"].is_string(),
            "{}: {what}: {}",
            p.label,
            short(body)
        );
    }
}

/// The 404 of a directive id, the same text whether it is missing or hidden.
fn directive_missing(id: i64) -> Value {
    json!({"error": {"code": "directive_not_found", "zh": format!("未找到指令“{id}”"), "en": format!("directive \"{id}\" not found")}})
}

fn campaign_missing(id: i64) -> Value {
    json!({"error": {"code": "campaign_not_found", "zh": format!("未找到排查任务“{id}”"), "en": format!("campaign \"{id}\" not found")}})
}

async fn probe_directive(p: &mut Caller, w: &mut World, rng: &mut StdRng) {
    let unknown = rng.random_range(0..12) == 0;
    let n = rng.random_range(0..w.directives.len());
    let d = if unknown {
        let max = w.directives.iter().map(|d| d.id).max().unwrap_or(0);
        Dir {
            id: max + rng.random_range(1..500),
            ..w.directives[n].clone()
        }
    } else {
        w.directives[n].clone()
    };
    let id = d.id;
    let sees = !unknown && p.sees_directive(&d);
    let manages = p.manages(&d);
    let own = p.recipient_regions(&d);
    // Withdrawing ends a directive's life, so it is rare.
    let kind = match rng.random_range(0..1_000) {
        0..200 => "directive.show",
        200..350 => "directive.recipients",
        350..450 => "directive.attachment",
        450..650 => "directive.sign",
        650..820 => "directive.report",
        820..995 => "directive.amend",
        _ => "directive.withdraw",
    };
    *p.tally.entry(kind.into()).or_default() += 1;
    let what = format!("{kind} {id}");
    // Who may not see it gets the missing id's answer, word for word.
    let hidden = |p: &Caller, got: (StatusCode, &Value)| {
        if p.anonymous {
            expect(
                p,
                &what,
                got,
                StatusCode::UNAUTHORIZED,
                &["unauthenticated"],
            );
        } else {
            expect(
                p,
                &what,
                got,
                StatusCode::NOT_FOUND,
                &["directive_not_found"],
            );
            assert_eq!(got.1, &directive_missing(id), "{}: {what}", p.label);
        }
    };
    match kind {
        "directive.show" => {
            let (s, b) = send(&p.app, "GET", &format!("/api/v1/directives/{id}"), None).await;
            if !sees {
                return hidden(p, (s, &b));
            }
            expect(p, &what, (s, &b), StatusCode::OK, &[]);
            let mine: BTreeSet<&str> = b["mine"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["region_code"].as_str())
                .collect();
            let own_codes: BTreeSet<&str> = own.iter().map(|r| r.as_str()).collect();
            assert_eq!(mine, own_codes, "{}: {what}: {}", p.label, short(&b));
            for r in b["pending"].as_array().into_iter().flatten() {
                let c = code(r["region_code"].as_str().unwrap_or_default());
                assert!(
                    if manages {
                        d.region.contains(&c)
                    } else {
                        own.contains(&c)
                    },
                    "{}: {what}: pending {c:?} not theirs",
                    p.label
                );
            }
            assert_eq!(
                b["may_manage"],
                json!(manages && !d.withdrawn),
                "{}: {what}",
                p.label
            );
        }
        "directive.recipients" => {
            let (s, b) = send(
                &p.app,
                "GET",
                &format!("/api/v1/directives/{id}/recipients?pending=false&limit=500"),
                None,
            )
            .await;
            if !sees {
                return hidden(p, (s, &b));
            }
            expect(p, &what, (s, &b), StatusCode::OK, &[]);
            let items: Vec<RegionCode> = b["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| code(r["region_code"].as_str().unwrap_or_default()))
                .collect();
            if manages {
                assert!(
                    !items.is_empty() && items.iter().all(|c| d.region.contains(c)),
                    "{}: {what}: {}",
                    p.label,
                    short(&b)
                );
            } else {
                assert_eq!(items, own, "{}: {what}", p.label);
            }
        }
        "directive.attachment" => {
            let file = if rng.random_bool(0.8) {
                d.file
            } else {
                d.file + 999
            };
            let (s, _, bytes) = send_raw(
                &p.app,
                "GET",
                &format!("/api/v1/directives/{id}/attachments/{file}"),
                None,
            )
            .await;
            let b: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if !sees {
                return hidden(p, (s, &b));
            }
            if file == d.file {
                assert_eq!(s, StatusCode::OK, "{}: {what}", p.label);
                assert_eq!(bytes, "方案".as_bytes());
            } else {
                expect(
                    p,
                    &what,
                    (s, &b),
                    StatusCode::NOT_FOUND,
                    &["attachment_not_found"],
                );
            }
        }
        "directive.sign" | "directive.report" => {
            let mut choices = p.scopes(Action::AnswerDirective);
            choices.push(w.regions[rng.random_range(0..w.regions.len())].clone());
            let region = choices[rng.random_range(0..choices.len())].clone();
            let (step, body) = if kind == "directive.sign" {
                ("sign", json!({"region": region.as_str()}))
            } else {
                (
                    "report",
                    json!({"region": region.as_str(), "report": "已按要求完成并反馈"}),
                )
            };
            let (s, b) = send(
                &p.app,
                "POST",
                &format!("/api/v1/directives/{id}/{step}"),
                Some(body),
            )
            .await;
            let what = format!("{what} as {}", region.as_str());
            if !sees {
                return hidden(p, (s, &b));
            }
            let (want, codes): (StatusCode, &[&str]) =
                if !p.grants().can(Action::AnswerDirective, &region) {
                    (StatusCode::FORBIDDEN, &["forbidden"])
                } else if !p.scopes(Action::AnswerDirective).contains(&region) {
                    (StatusCode::FORBIDDEN, &["not_your_region"])
                } else if !own.contains(&region) {
                    (StatusCode::FORBIDDEN, &["not_a_recipient"])
                } else if d.withdrawn {
                    (StatusCode::CONFLICT, &["directive_withdrawn"])
                } else if step == "sign" && d.signed.contains(region.as_str()) {
                    (StatusCode::CONFLICT, &["already_signed"])
                } else {
                    (StatusCode::OK, &[])
                };
            expect(p, &what, (s, &b), want, codes);
            if want == StatusCode::OK {
                w.directives[n].signed.insert(region.as_str().to_string());
            }
        }
        "directive.amend" => {
            let (s, b) = send(
                &p.app,
                "POST",
                &format!("/api/v1/directives/{id}/amend"),
                Some(json!({"content": "补充要求：逐户核对燃气表", "deadline_ms": FAR})),
            )
            .await;
            if !sees {
                return hidden(p, (s, &b));
            }
            let (want, codes): (StatusCode, &[&str]) = if !manages {
                (StatusCode::FORBIDDEN, &["forbidden"])
            } else if d.withdrawn {
                (StatusCode::CONFLICT, &["directive_withdrawn"])
            } else {
                (StatusCode::OK, &[])
            };
            expect(p, &what, (s, &b), want, codes);
            if want == StatusCode::OK {
                w.directives[n].signed.clear();
            }
        }
        _ => {
            let (s, b) = send(
                &p.app,
                "POST",
                &format!("/api/v1/directives/{id}/withdraw"),
                Some(json!({"reason": "并入上级方案"})),
            )
            .await;
            if !sees {
                return hidden(p, (s, &b));
            }
            let (want, codes): (StatusCode, &[&str]) = if !manages {
                (StatusCode::FORBIDDEN, &["forbidden"])
            } else if d.withdrawn {
                (StatusCode::CONFLICT, &["directive_withdrawn"])
            } else {
                (StatusCode::NO_CONTENT, &[])
            };
            expect(p, &what, (s, &b), want, codes);
            if want == StatusCode::NO_CONTENT {
                w.directives[n].withdrawn = true;
            }
        }
    }
}

async fn probe_campaign(p: &mut Caller, w: &mut World, rng: &mut StdRng) {
    let unknown = rng.random_range(0..12) == 0;
    let n = rng.random_range(0..w.campaigns.len());
    let c = if unknown {
        let max = w.campaigns.iter().map(|c| c.id).max().unwrap_or(0);
        Camp {
            id: max + rng.random_range(1..500),
            ..w.campaigns[n].clone()
        }
    } else {
        w.campaigns[n].clone()
    };
    let id = c.id;
    let sees = !unknown && p.sees_campaign(&c);
    let g = p.grants();
    let mut choices = p.scopes(Action::VisitHouseholds);
    choices.extend(p.scopes(Action::RunCampaign));
    choices.push(w.regions[rng.random_range(0..w.regions.len())].clone());
    choices.push(c.region.clone());
    let region = choices[rng.random_range(0..choices.len())].clone();
    let op = rng.random_range(0..100);
    let kind = match op {
        0..25 => "campaign.tasks",
        25..45 => "campaign.coverage",
        45..55 => "campaign.coverage.csv",
        55..65 => "campaign.coverage.xlsx",
        65..90 => "campaign.visits",
        _ => "campaign.rounds",
    };
    *p.tally.entry(kind.into()).or_default() += 1;
    let what = format!("{kind} {id} region {}", region.as_str());
    let hidden = |p: &Caller, got: (StatusCode, &Value)| {
        if p.anonymous {
            expect(
                p,
                &what,
                got,
                StatusCode::UNAUTHORIZED,
                &["unauthenticated"],
            );
        } else {
            expect(
                p,
                &what,
                got,
                StatusCode::NOT_FOUND,
                &["campaign_not_found"],
            );
            assert_eq!(got.1, &campaign_missing(id), "{}: {what}", p.label);
        }
    };
    match kind {
        "campaign.tasks" => {
            let (s, b) = send(
                &p.app,
                "GET",
                &format!(
                    "/api/v1/campaigns/{id}/tasks?region={}&limit=50",
                    region.as_str()
                ),
                None,
            )
            .await;
            if !sees {
                return hidden(p, (s, &b));
            }
            let parts = g.within(Action::VisitHouseholds, &region);
            if parts.is_empty() {
                return expect(p, &what, (s, &b), StatusCode::FORBIDDEN, &["forbidden"]);
            }
            expect(p, &what, (s, &b), StatusCode::OK, &[]);
            for t in b["items"].as_array().into_iter().flatten() {
                let cell = code(t["cell_code"].as_str().unwrap_or_default());
                assert!(
                    c.region.contains(&cell) && parts.iter().any(|r| r.contains(&cell)),
                    "{}: {what}: task in {cell:?}",
                    p.label
                );
            }
        }
        "campaign.coverage" | "campaign.coverage.csv" | "campaign.coverage.xlsx" => {
            let path = &kind["campaign.".len()..];
            let (s, _, bytes) = send_raw(
                &p.app,
                "GET",
                &format!("/api/v1/campaigns/{id}/{path}?region={}", region.as_str()),
                None,
            )
            .await;
            let b: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if !sees {
                return hidden(p, (s, &b));
            }
            if g.can(Action::RunCampaign, &region) || g.can(Action::VisitHouseholds, &region) {
                assert_eq!(s, StatusCode::OK, "{}: {what}: {}", p.label, short(&b));
            } else {
                expect(p, &what, (s, &b), StatusCode::FORBIDDEN, &["forbidden"]);
            }
        }
        "campaign.visits" => {
            w.visit += 1;
            let body = json!({"device": "probe", "visits": [{"client_id": format!("probe-{}", w.visit),
                "household_id": rng.random_range(1..1_000_000), "round": c.current, "outcome": "vacant", "visited_at_ms": NOW_MS}]});
            let (s, b) = send(
                &p.app,
                "POST",
                &format!("/api/v1/campaigns/{id}/visits"),
                Some(body),
            )
            .await;
            if !sees {
                return hidden(p, (s, &b));
            }
            if p.scopes(Action::VisitHouseholds).is_empty() {
                return expect(p, &what, (s, &b), StatusCode::FORBIDDEN, &["forbidden"]);
            }
            expect(p, &what, (s, &b), StatusCode::OK, &[]);
            assert_eq!(
                b["items"].as_array().map(Vec::len),
                Some(1),
                "{}",
                short(&b)
            );
        }
        _ => {
            let (s, b) = send(
                &p.app,
                "POST",
                &format!("/api/v1/campaigns/{id}/rounds"),
                None,
            )
            .await;
            if !sees {
                return hidden(p, (s, &b));
            }
            let (want, codes): (StatusCode, &[&str]) = if !g.can(Action::RunCampaign, &c.region) {
                (StatusCode::FORBIDDEN, &["forbidden"])
            } else if c.current >= c.rounds {
                (StatusCode::CONFLICT, &["no_more_rounds"])
            } else {
                (StatusCode::OK, &[])
            };
            expect(p, &what, (s, &b), want, codes);
            if want == StatusCode::OK {
                w.campaigns[n].current += 1;
            }
        }
    }
}

/// The lists name exactly what the caller may see by id.
async fn probe_lists(p: &mut Caller, w: &World) {
    *p.tally.entry("lists".into()).or_default() += 1;
    let (s, b) = send(&p.app, "GET", "/api/v1/directives", None).await;
    if p.anonymous {
        return expect(
            p,
            "directives",
            (s, &b),
            StatusCode::UNAUTHORIZED,
            &["unauthenticated"],
        );
    }
    expect(p, "directives", (s, &b), StatusCode::OK, &[]);
    let listed: BTreeSet<i64> = b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["id"].as_i64())
        .collect();
    let visible: BTreeSet<i64> = w
        .directives
        .iter()
        .filter(|d| p.sees_directive(d))
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, visible, "{}: directive list", p.label);
    let (s, b) = send(&p.app, "GET", "/api/v1/campaigns", None).await;
    expect(p, "campaigns", (s, &b), StatusCode::OK, &[]);
    let listed: BTreeSet<i64> = b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["id"].as_i64())
        .collect();
    let visible: BTreeSet<i64> = w
        .campaigns
        .iter()
        .filter(|c| p.sees_campaign(c))
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, visible, "{}: campaign list", p.label);
}

async fn first_child(store: &Store, parent: &RegionCode) -> RegionCode {
    let kids = store
        .children(parent)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    code(&kids.first().unwrap_or_else(|| panic!("{parent:?}")).code)
}

/// People in these communities (one load: a database holds one generated register).
async fn load_people(store: &Store, communities: &[&RegionCode]) {
    let mut plans = Vec::new();
    for c in communities {
        plans.extend(
            store
                .register_plans(c)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let spec = LoadSpec {
        plans,
        seed: 3,
        as_of: synth::default_as_of(),
    };
    let vault = Arc::new(Vault::new(&DataKey::from_bytes([9; 32])));
    store
        .load_register(spec, vault, LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn created(app: &axum::Router, uri: &str, body: Value) -> i64 {
    let (s, b) = send(app, "POST", uri, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{uri}: {b}");
    b["id"].as_i64().unwrap_or_else(|| panic!("{b}"))
}

async fn directives_and_campaigns_answer_only_those_who_may_see_them(store: Store) {
    let st = state(&store).await;
    // A second district, so that another district's command is a real caller with a real
    // territory of its own.
    let other: Vec<_> = shezhi_domain::territory::generate::chengdu()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|r| r.code.as_str().starts_with("510105"))
        .collect();
    store
        .put_regions(&other)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .put_units(&[HandlingUnit {
            code: UNIT.into(),
            name: "锦江区城管局".into(),
            kind: "department".into(),
            region_code: DISTRICT_A.into(),
        }])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (da, db) = (code(DISTRICT_A), code(DISTRICT_B));
    let streets = store.children(&da).await.unwrap_or_else(|e| panic!("{e}"));
    let (s1, s2) = (code(&streets[0].code), code(&streets[1].code));
    let (c1, c2) = (
        first_child(&store, &s1).await,
        first_child(&store, &s2).await,
    );
    let c1b = code(&store.children(&s1).await.unwrap_or_else(|e| panic!("{e}"))[1].code);
    let (g1, g2) = (
        first_child(&store, &c1).await,
        first_child(&store, &c2).await,
    );
    let sb = first_child(&store, &db).await;
    let cb = first_child(&store, &sb).await;
    let gb = first_child(&store, &cb).await;
    load_people(&store, &[&c1, &c2, &cb]).await;

    let limits = Limits {
        anonymous_address: RateLimiter::new(1_000_000, 60_000),
        api_key: RateLimiter::new(1_000_000, 60_000),
        ..Limits::default()
    };
    let app = router(st.with_limits(limits));
    let callers: Vec<(&'static str, Vec<Binding>)> = vec![
        ("grid_worker", vec![bind(Role::GridWorker, Some(&g1), None)]),
        (
            "grid_worker_2",
            vec![bind(Role::GridWorker, Some(&g2), None)],
        ),
        (
            "community",
            vec![bind(Role::CommunityStaff, Some(&c1), None)],
        ),
        (
            "community_1b",
            vec![bind(Role::CommunityStaff, Some(&c1b), None)],
        ),
        ("street", vec![bind(Role::StreetStaff, Some(&s1), None)]),
        ("street_2", vec![bind(Role::StreetStaff, Some(&s2), None)]),
        ("command", vec![bind(Role::Command, Some(&da), None)]),
        ("command_b", vec![bind(Role::Command, Some(&db), None)]),
        ("unit", vec![bind(Role::UnitStaff, None, Some(UNIT))]),
        ("resident", vec![bind(Role::Resident, None, None)]),
        ("admin", vec![bind(Role::Admin, None, None)]),
    ];
    let mut probes = Vec::new();
    for (label, bindings) in callers {
        let token = token_for(&store, label, bindings.clone(), None).await;
        probes.push(Caller {
            label,
            bindings,
            app: with_token(app.clone(), &token),
            anonymous: false,
            tally: BTreeMap::new(),
        });
    }
    probes.push(Caller {
        label: "anonymous",
        bindings: Vec::new(),
        app: app.clone(),
        anonymous: true,
        tally: BTreeMap::new(),
    });
    let as_ = |label: &str| {
        probes
            .iter()
            .find(|p| p.label == label)
            .map(|p| p.app.clone())
            .unwrap_or_else(|| panic!("{label}"))
    };

    let mut w = World {
        directives: Vec::new(),
        campaigns: Vec::new(),
        regions: vec![
            da.clone(),
            db.clone(),
            s1.clone(),
            s2.clone(),
            c1.clone(),
            c1b.clone(),
            c2.clone(),
            g1.clone(),
            g2.clone(),
            sb.clone(),
            cb.clone(),
            gb.clone(),
        ],
        visit: 0,
    };
    let issued: [(&str, &RegionCode, &[&'static str]); 6] = [
        ("command", &da, &["street"]),
        ("command", &da, &["community", "grid"]),
        ("street", &s1, &["community"]),
        ("street_2", &s2, &["grid"]),
        ("community", &c1, &["grid"]),
        ("command_b", &db, &["street", "community"]),
    ];
    for (who, region, levels) in issued {
        let issuer = as_(who);
        let id = created(&issuer, "/api/v1/directives", json!({"region": region.as_str(), "title": "燃气安全排查",
            "content": "三日内完成并反馈", "levels": levels, "deadline_ms": FAR,
            "attachments": [{"name": "方案.txt", "content_type": "text/plain", "data_base64": "5pa55qGI"}]})).await;
        let (_, b) = send(&issuer, "GET", &format!("/api/v1/directives/{id}"), None).await;
        w.directives.push(Dir {
            id,
            region: region.clone(),
            levels: levels.to_vec(),
            file: b["directive"]["attachments"][0][0]
                .as_i64()
                .unwrap_or_else(|| panic!("{b}")),
            withdrawn: false,
            signed: BTreeSet::new(),
        });
    }
    let form = json!({"questions": [{"id": "gas", "text_zh": "是否使用瓶装燃气", "type": "yes_no", "required": true}]});
    let made: [(&str, &RegionCode, i64); 4] = [
        ("community", &c1, 3),
        ("street_2", &s2, 2),
        ("command", &da, 4),
        ("command_b", &db, 3),
    ];
    for (who, region, rounds) in made {
        let id = created(
            &as_(who),
            "/api/v1/campaigns",
            json!({"region": region.as_str(), "title": "燃气排查",
            "rounds": rounds, "form": form}),
        )
        .await;
        w.campaigns.push(Camp {
            id,
            region: region.clone(),
            rounds,
            current: 1,
        });
    }

    let mut rng = StdRng::seed_from_u64(20_261_124);
    for round in 0..PROBES_PER_ROLE {
        for p in probes.iter_mut() {
            if round % 50 == 0 {
                probe_lists(p, &w).await;
            } else if rng.random_bool(0.55) {
                probe_directive(p, &mut w, &mut rng).await;
            } else {
                probe_campaign(p, &mut w, &mut rng).await;
            }
        }
    }
    for p in &probes {
        eprintln!("{:<14} {:?}", p.label, p.tally);
    }
    // The world moved: some answers were given, some directives amended or withdrawn, some
    // campaigns in later rounds.
    assert!(w.directives.iter().any(|d| !d.signed.is_empty()));
    assert!(w.campaigns.iter().any(|c| c.current > 1));
}

on_both_backends!(directives_and_campaigns_answer_only_those_who_may_see_them);
