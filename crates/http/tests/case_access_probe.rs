//! Case access, probed at random on SQLite and PostgreSQL: a world of cases in every stage,
//! spread over two streets and sent to three units, and for each role at least a thousand
//! random requests (inboxes with any box and region, case pages, photos, steps, the command
//! overview, indicators, notices). Every answer is checked against an oracle written here:
//! which cases the caller may see (their staff territory, a unit the case was ever sent to,
//! or their own report), which status each request must get, and that no list, page or
//! notice names a case the caller may not see. Which step the workflow allows is the domain's
//! `transition`; who sees what is decided here alone. Nobody gets a 5xx.

use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shezhi_domain::Bilingual;
use shezhi_domain::access::{Binding, Grants, Role};
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::cases::workflow::capacities_for;
use shezhi_domain::cases::{
    Capacity, CaseFacts, CaseLevel, CaseState, Satisfaction, Source, Stage, Step, StepFacts,
    available, capacities, transition,
};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::territory::RegionCode;
use shezhi_http::{Limits, ratelimit::RateLimiter, router};
use shezhi_store::access::HandlingUnit;
use shezhi_store::cases::{NewCase, Photo, StepInput, StoredFacts};
use shezhi_store::{Store, on_both_backends};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod common;
use common::{send, state, token_for, with_token};

/// 2026-11-23 (Monday) 10:00 China time.
const NOW: i64 = 1_795_363_200_000 + 10 * 3_600_000;
const DAY: i64 = 86_400_000;
const PROBES_PER_ROLE: usize = 1_000;
const CITY: &str = "510100000000";
const CG: &str = "510104-CG";
const SW: &str = "510104-SW";
const ZJ: &str = "510104-ZJ";
const UNITS: [&str; 3] = [CG, SW, ZJ];
/// Roles that see the cases located in their territory.
const CASE_ROLES: [Role; 4] = [
    Role::GridWorker,
    Role::CommunityStaff,
    Role::StreetStaff,
    Role::Command,
];
/// Roles that read a territory's counters.
const INDICATOR_ROLES: [Role; 3] = [Role::CommunityStaff, Role::StreetStaff, Role::Command];
const BOXES: [&str; 10] = [
    "all",
    "mine",
    "unit",
    "to_accept",
    "to_dispatch",
    "to_verify",
    "to_sign",
    "to_handle",
    "overdue",
    "pause_requests",
];
const STEPS: [Step; 19] = [
    Step::Accept,
    Step::Reject,
    Step::Escalate,
    Step::Dispatch,
    Step::Whistle,
    Step::Sign,
    Step::CheckIn,
    Step::Return,
    Step::Feedback,
    Step::Verify,
    Step::Rework,
    Step::Comment,
    Step::Rate,
    Step::RequestPause,
    Step::ApprovePause,
    Step::DenyPause,
    Step::Resume,
    Step::Supervise,
    Step::Merge,
];

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(300).collect()
}

fn bind(role: Role, scope: Option<&RegionCode>, unit: Option<&str>) -> Binding {
    Binding {
        role,
        scope: scope.cloned(),
        unit: unit.map(str::to_string),
    }
}

/// What the oracle knows of one case, read from the store.
#[derive(Debug, Clone)]
struct Known {
    cell: RegionCode,
    /// Every unit of every round.
    units_ever: Vec<String>,
    overdue: bool,
    photos: Vec<i64>,
    state: CaseState,
    facts: StoredFacts,
}

async fn read_case(store: &Store, id: i64) -> Option<Known> {
    let d = store
        .case_detail(id)
        .await
        .unwrap_or_else(|e| panic!("case {id}: {e}"))?;
    let facts = store
        .case_facts(id)
        .await
        .unwrap_or_else(|e| panic!("facts of {id}: {e}"));
    let state = CaseState {
        stage: Stage::parse(&d.case.stage).unwrap_or_else(|| panic!("stage {}", d.case.stage)),
        level: CaseLevel::parse(&d.case.level).unwrap_or_else(|| panic!("level {}", d.case.level)),
        rated: d.rated,
        reworks: d.reworks as u32,
        returns: d.returns as u32,
        escalations: d.escalations as u32,
    };
    Some(Known {
        cell: code(&facts.cell),
        units_ever: d.units.iter().map(|u| u.unit_code.clone()).collect(),
        overdue: d.case.overdue,
        photos: d.photos.clone(),
        state,
        facts,
    })
}

/// A region argument and what the server must make of it.
#[derive(Debug, Clone)]
enum RegionArg {
    Known(RegionCode),
    Unknown(String),
    Invalid(String),
}

impl RegionArg {
    fn raw(&self) -> &str {
        match self {
            RegionArg::Known(c) => c.as_str(),
            RegionArg::Unknown(s) | RegionArg::Invalid(s) => s,
        }
    }
}

/// The test's picture of the data.
struct World {
    cases: BTreeMap<i64, Known>,
    regions: Vec<RegionArg>,
    cells: Vec<RegionCode>,
}

impl World {
    async fn refresh(&mut self, store: &Store, id: i64) -> Option<Known> {
        let k = read_case(store, id).await;
        match &k {
            Some(k) => {
                self.cases.insert(id, k.clone());
            }
            None => {
                self.cases.remove(&id);
            }
        }
        k
    }

    fn random_id(&self, rng: &mut StdRng) -> i64 {
        let max = self.cases.keys().next_back().copied().unwrap_or(0);
        match rng.random_range(0..20) {
            0 => max + rng.random_range(1..1_000),
            1 => 0,
            _ => {
                let n = rng.random_range(0..self.cases.len());
                self.cases.keys().nth(n).copied().unwrap_or(max)
            }
        }
    }
}

/// A caller and the oracle of what they may see and do.
struct Probe {
    label: &'static str,
    bindings: Vec<Binding>,
    actor: String,
    app: axum::Router,
    anonymous: bool,
    /// Requests sent, by kind.
    tally: BTreeMap<&'static str, usize>,
    /// Step answers by status, and answers left unasserted as known bugs.
    outcomes: BTreeMap<String, usize>,
}

impl Probe {
    fn scopes(&self, roles: &[Role]) -> Vec<RegionCode> {
        self.bindings
            .iter()
            .filter(|b| roles.contains(&b.role))
            .filter_map(|b| b.scope.clone())
            .collect()
    }

    fn unit(&self) -> Option<String> {
        self.bindings.iter().find_map(|b| b.unit.clone())
    }

    /// Staff territory over the cell, a unit the case was ever sent to, or one's own report.
    fn sees(&self, k: &Known) -> bool {
        if self.anonymous {
            return false;
        }
        let staff = self.scopes(&CASE_ROLES).iter().any(|s| s.contains(&k.cell));
        let unit = self
            .bindings
            .iter()
            .filter_map(|b| b.unit.as_deref())
            .any(|u| k.units_ever.iter().any(|x| x == u));
        staff || unit || k.facts.reporter == self.actor
    }

    /// The territory a case list over `region` (or everywhere) covers for this caller.
    fn list_scopes(&self, region: Option<&RegionCode>) -> Vec<RegionCode> {
        let mine = self.scopes(&CASE_ROLES);
        match region {
            None => mine,
            Some(r) if mine.iter().any(|s| s.contains(r)) => vec![r.clone()],
            Some(r) => mine.into_iter().filter(|s| r.contains(s)).collect(),
        }
    }

    fn reads_counters_of(&self, region: &RegionCode) -> bool {
        self.scopes(&INDICATOR_ROLES)
            .iter()
            .any(|s| s.contains(region))
    }

    fn capacities(&self, k: &Known) -> Vec<Capacity> {
        let level_code = code(&k.facts.level_code);
        capacities(
            &Grants::new(self.bindings.clone()),
            &self.actor,
            &CaseFacts {
                cell: &k.cell,
                level: k.state.level,
                level_code: &level_code,
                reporter: &k.facts.reporter,
                lead_unit: k.facts.lead_unit.as_deref(),
                assist_units: &k.facts.assist_units,
            },
        )
    }

    /// The cases an inbox must list, or the error code it must answer with 403.
    fn expect_list(
        &self,
        w: &World,
        bx: &str,
        region: Option<&RegionCode>,
    ) -> Result<BTreeSet<i64>, ()> {
        let scopes = self.list_scopes(region);
        let in_scope = |k: &Known| scopes.iter().any(|s| s.contains(&k.cell));
        let unit = self.unit();
        let pick = |f: &dyn Fn(&Known) -> bool| -> BTreeSet<i64> {
            w.cases
                .iter()
                .filter(|(_, k)| f(k))
                .map(|(id, _)| *id)
                .collect()
        };
        let mine = |k: &Known| k.facts.reporter == self.actor;
        let ever = |u: &str, k: &Known| k.units_ever.iter().any(|x| x == u);
        // Where the case sits now (its level region) also within the scope: the caller's level
        // answers for it or supervises it.
        let sits_in_scope = |k: &Known| {
            RegionCode::parse(&k.facts.level_code)
                .is_ok_and(|l| scopes.iter().any(|s| s.contains(&k.cell) && s.contains(&l)))
        };
        let staged = |st: Stage, sits: bool| -> Result<BTreeSet<i64>, ()> {
            if scopes.is_empty() {
                return Err(());
            }
            Ok(pick(&|k| {
                in_scope(k) && k.state.stage == st && (!sits || sits_in_scope(k))
            }))
        };
        let leads = |st: Stage| -> Result<BTreeSet<i64>, ()> {
            let u = unit.clone().ok_or(())?;
            Ok(pick(&|k| {
                k.facts.lead_unit.as_deref() == Some(u.as_str()) && k.state.stage == st
            }))
        };
        match bx {
            "all" if !scopes.is_empty() => Ok(pick(&in_scope)),
            "all" => Ok(match &unit {
                Some(u) => pick(&|k| ever(u, k)),
                None => pick(&mine),
            }),
            "mine" => Ok(pick(&mine)),
            "unit" => {
                let u = unit.clone().ok_or(())?;
                Ok(pick(&|k| ever(&u, k)))
            }
            "to_sign" => leads(Stage::Dispatched),
            "to_handle" => leads(Stage::Handling),
            "to_accept" => staged(Stage::Reported, true),
            "to_dispatch" => staged(Stage::Accepted, true),
            "to_verify" => staged(Stage::FedBack, false),
            "pause_requests" => staged(Stage::PauseRequested, true),
            _ => Ok(pick(&|k| in_scope(k) && k.overdue)),
        }
    }
}

fn assert_code(p: &Probe, what: &str, body: &Value, want: &str) {
    assert_eq!(
        body["error"]["code"].as_str(),
        Some(want),
        "{}: {what}: {}",
        p.label,
        short(body)
    );
}

/// Every case named in a list must be one the caller sees, with its own cell.
fn check_items(p: &Probe, w: &World, what: &str, body: &Value, key: &str) {
    for item in body["items"].as_array().into_iter().flatten() {
        let id = item[key].as_i64().unwrap_or_default();
        let k = w
            .cases
            .get(&id)
            .unwrap_or_else(|| panic!("{}: {what} named unknown case {id}", p.label));
        assert!(
            p.sees(k),
            "{}: {what} leaked case {id} of cell {}: {}",
            p.label,
            k.cell.as_str(),
            short(item)
        );
        if let Some(cell) = item.get("cell_code") {
            assert_eq!(cell.as_str(), Some(k.cell.as_str()), "{}: {what}", p.label);
        }
    }
}

/// Every `cell_code` anywhere in an answer.
fn cells_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let (true, Some(s)) = (k == "cell_code", x.as_str()) {
                    out.push(s.to_string());
                }
                cells_in(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| cells_in(x, out)),
        _ => {}
    }
}

fn step_body(step: Step, w: &World, rng: &mut StdRng) -> Value {
    let mut body = json!({"step": step.as_str()});
    let mut units: Vec<String> = Vec::new();
    let mut merge_into = None;
    match step {
        Step::Reject | Step::Return => body["note"] = json!("不属于本级职责，请核实"),
        Step::Feedback | Step::SolveOnSpot => body["note"] = json!("已到现场处置完毕"),
        Step::Comment => body["note"] = json!("补充说明现场情况"),
        Step::Escalate | Step::Supervise => body["note"] = json!("请上级协调"),
        Step::RequestPause => {
            body["note"] = json!("需等待施工队进场");
            body["pause_until_ms"] = json!(NOW + 3 * DAY);
        }
        Step::Dispatch => units.push(UNITS[rng.random_range(0..3)].to_string()),
        Step::Whistle => {
            let lead = rng.random_range(0..3);
            units.push(UNITS[lead].to_string());
            units.push(UNITS[(lead + rng.random_range(1..3)) % 3].to_string());
        }
        Step::Rate => {
            let s = Satisfaction::ALL[rng.random_range(0..Satisfaction::ALL.len())];
            body["satisfaction"] = json!(s.as_str());
            body["not_fixed"] = json!(rng.random_bool(0.3));
        }
        Step::Merge => merge_into = Some(w.random_id(rng)),
        _ => {}
    }
    if matches!(step, Step::Dispatch | Step::Whistle) && rng.random_bool(0.1) {
        units[0] = "510104-XX".into();
    }
    if !units.is_empty() {
        body["units"] = json!(units);
    }
    if let Some(t) = merge_into {
        body["merge_into"] = json!(t);
    }
    body
}

/// What a step must answer.
struct Expected {
    status: StatusCode,
    /// The error code, for a refusal.
    code: Option<String>,
    /// The state after the step, for a 200.
    next: Option<CaseState>,
}

fn refuse(status: StatusCode, code: &str) -> Expected {
    Expected {
        status,
        code: Some(code.to_string()),
        next: None,
    }
}

async fn expect_step(
    p: &Probe,
    w: &mut World,
    store: &Store,
    id: i64,
    step: Step,
    body: &Value,
) -> Expected {
    let units: Vec<&str> = body["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let merge_into = body["merge_into"].as_i64();
    if id <= 0 {
        return refuse(StatusCode::BAD_REQUEST, "invalid_id");
    }
    // The oracle decides on the case as stored right now.
    let Some(k) = w.refresh(store, id).await else {
        return refuse(StatusCode::NOT_FOUND, "case_not_found");
    };
    if !p.sees(&k) {
        return refuse(StatusCode::NOT_FOUND, "case_not_found");
    }
    let caps = p.capacities(&k);
    if !caps.iter().any(|c| capacities_for(step).contains(c)) {
        return refuse(StatusCode::FORBIDDEN, "step_not_permitted");
    }
    // A merge target the caller may not see is as missing as one that does not exist.
    if let Some(t) = merge_into {
        match w.refresh(store, t).await {
            None => return refuse(StatusCode::NOT_FOUND, "case_not_found"),
            Some(target) if !p.sees(&target) => {
                return refuse(StatusCode::NOT_FOUND, "case_not_found");
            }
            Some(_) => {}
        }
    }
    let facts = StepFacts {
        not_fixed: body["not_fixed"].as_bool().unwrap_or(false),
    };
    let next = match transition(k.state, step, facts, &caps) {
        Ok(n) => n,
        Err(e) => return refuse(StatusCode::CONFLICT, e.code()),
    };
    if units.iter().any(|u| !UNITS.contains(u)) {
        return refuse(StatusCode::NOT_FOUND, "unit_not_found");
    }
    if let Some(t) = merge_into {
        if t == id {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, "merge_into_itself");
        }
        let target = w.refresh(store, t).await;
        match target {
            None => return refuse(StatusCode::NOT_FOUND, "case_not_found"),
            Some(t) if t.state.stage.is_final() => {
                return refuse(StatusCode::CONFLICT, "merge_target_closed");
            }
            Some(_) => {}
        }
    }
    Expected {
        status: StatusCode::OK,
        code: None,
        next: Some(next),
    }
}

/// One random request of a random kind, checked.
async fn probe_once(p: &mut Probe, w: &mut World, store: &Store, rng: &mut StdRng) {
    let kind = match rng.random_range(0..100) {
        0..25 => "list",
        25..40 => "detail",
        40..48 => "photo",
        48..78 => "step",
        78..86 => "overview",
        86..94 => "indicators",
        _ => "notifications",
    };
    *p.tally.entry(kind).or_default() += 1;
    let region = (rng.random_range(0..10) > 2)
        .then(|| w.regions[rng.random_range(0..w.regions.len())].clone());
    match kind {
        "list" => probe_list(p, w, region, rng).await,
        "detail" | "photo" => probe_page(p, w, store, kind == "photo", rng).await,
        "step" => probe_step(p, w, store, rng).await,
        "overview" | "indicators" => probe_counters(p, kind == "overview", region, rng).await,
        _ => probe_notices(p, w).await,
    }
}

/// An inbox: the status the box and region call for, and exactly the cases the oracle lists.
async fn probe_list(p: &Probe, w: &World, region: Option<RegionArg>, rng: &mut StdRng) {
    let bx = BOXES[rng.random_range(0..BOXES.len())];
    let mut uri = format!("/api/v1/cases?box={bx}&limit=500");
    if let Some(r) = &region {
        uri.push_str(&format!("&region={}", r.raw()));
    }
    let (status, body) = send(&p.app, "GET", &uri, None).await;
    let what = format!("GET {uri}");
    assert!(!status.is_server_error(), "{}: {what} → {status}", p.label);
    if p.anonymous {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {}", short(&body));
        return;
    }
    let scope = match &region {
        Some(RegionArg::Invalid(_)) => {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {what}", p.label);
            return;
        }
        Some(RegionArg::Unknown(_)) => {
            assert_eq!(status, StatusCode::NOT_FOUND, "{}: {what}", p.label);
            return;
        }
        Some(RegionArg::Known(c)) => Some(c),
        None => None,
    };
    let Ok(want) = p.expect_list(w, bx, scope) else {
        assert_eq!(status, StatusCode::FORBIDDEN, "{}: {what}", p.label);
        assert_code(p, &what, &body, "forbidden");
        return;
    };
    assert_eq!(
        status,
        StatusCode::OK,
        "{}: {what}: {}",
        p.label,
        short(&body)
    );
    check_items(p, w, &what, &body, "id");
    let got: BTreeSet<i64> = body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert_eq!(got, want, "{}: {what} listed other cases", p.label);
}

/// A case page or one of its photos: 404 unless the caller sees the case; a page names only
/// its own cell and the capacities and steps the domain gives the caller.
async fn probe_page(p: &Probe, w: &mut World, store: &Store, photo: bool, rng: &mut StdRng) {
    let id = w.random_id(rng);
    let k = if id > 0 {
        w.refresh(store, id).await
    } else {
        None
    };
    let all: Vec<i64> = w.cases.values().flat_map(|k| k.photos.clone()).collect();
    let pid = if rng.random_bool(0.2) || all.is_empty() {
        rng.random_range(1..100_000)
    } else {
        all[rng.random_range(0..all.len())]
    };
    let uri = if photo {
        format!("/api/v1/cases/{id}/photos/{pid}")
    } else {
        format!("/api/v1/cases/{id}")
    };
    let (status, body) = send(&p.app, "GET", &uri, None).await;
    let what = format!("GET {uri}");
    assert!(!status.is_server_error(), "{}: {what} → {status}", p.label);
    if p.anonymous {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {}", short(&body));
        return;
    }
    if id <= 0 {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {what}", p.label);
        return;
    }
    let Some(k) = k.filter(|k| p.sees(k)) else {
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{}: {what}: {}",
            p.label,
            short(&body)
        );
        assert_code(p, &what, &body, "case_not_found");
        return;
    };
    if photo {
        if k.photos.contains(&pid) {
            assert_eq!(status, StatusCode::OK, "{}: {what}", p.label);
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{}: {what}", p.label);
            assert_code(p, &what, &body, "photo_not_found");
        }
        return;
    }
    assert_eq!(
        status,
        StatusCode::OK,
        "{}: {what}: {}",
        p.label,
        short(&body)
    );
    assert_eq!(body["case"]["id"], json!(id), "{}: {what}", p.label);
    let mut cells = Vec::new();
    cells_in(&body, &mut cells);
    assert!(
        cells.iter().all(|c| c == k.cell.as_str()),
        "{}: {what} named cells {cells:?}",
        p.label
    );
    let caps = p.capacities(&k);
    let caps_named: Vec<&str> = caps.iter().map(|c| c.as_str()).collect();
    let steps_named: Vec<&str> = available(k.state, &caps)
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(body["capacities"], json!(caps_named), "{}: {what}", p.label);
    assert_eq!(body["actions"], json!(steps_named), "{}: {what}", p.label);
}

/// A step on a case, against the oracle's expectation from the case as stored just before.
async fn probe_step(p: &mut Probe, w: &mut World, store: &Store, rng: &mut StdRng) {
    let mut id = w.random_id(rng);
    let mut step = STEPS[rng.random_range(0..STEPS.len())];
    // A third of the steps are ones the workflow offers on a case the caller sees, so that
    // the world moves on; the answer they must get is decided below like any other's.
    if rng.random_bool(0.35) {
        let open: Vec<(i64, Vec<Step>)> = w
            .cases
            .iter()
            .filter(|(_, k)| p.sees(k))
            .map(|(i, k)| (*i, available(k.state, &p.capacities(k))))
            .filter(|(_, a)| !a.is_empty())
            .collect();
        if !open.is_empty() {
            let (i, a) = &open[rng.random_range(0..open.len())];
            id = *i;
            step = a[rng.random_range(0..a.len())];
        }
    }
    let body = step_body(step, w, rng);
    let uri = format!("/api/v1/cases/{id}/steps");
    let what = format!("POST {uri} {}", short(&body));
    let expected = if p.anonymous {
        refuse(StatusCode::UNAUTHORIZED, "unauthenticated")
    } else {
        expect_step(p, w, store, id, step, &body).await
    };
    let (status, answer) = send(&p.app, "POST", &uri, Some(body.clone())).await;
    assert!(
        !status.is_server_error(),
        "{}: {what} → {status} {}",
        p.label,
        short(&answer)
    );
    let after = if id > 0 {
        w.refresh(store, id).await
    } else {
        None
    };
    *p.outcomes
        .entry(format!("step {}", status.as_u16()))
        .or_default() += 1;
    assert_eq!(
        status,
        expected.status,
        "{}: {what} → {}",
        p.label,
        short(&answer)
    );
    if let Some(c) = &expected.code {
        assert_code(p, &what, &answer, c);
    }
    if let (Some(next), Some(k)) = (expected.next, after) {
        assert_eq!(
            (k.state.stage, k.state.level),
            (next.stage, next.level),
            "{}: {what}",
            p.label
        );
    }
}

/// The command overview or indicators: 200 only with a community, street or command binding
/// over the region (over the city root for slices by unit, category or channel).
async fn probe_counters(p: &Probe, overview: bool, region: Option<RegionArg>, rng: &mut StdRng) {
    let slice = !overview && rng.random_bool(0.25);
    let uri = match (&region, overview) {
        _ if slice => {
            let s = ["unit:510104-CG", "cat:order.vendor", "src:resident"][rng.random_range(0..3)];
            format!("/api/v1/indicators?scope={s}")
        }
        (None, true) => "/api/v1/overview".to_string(),
        (None, false) => format!("/api/v1/indicators?scope={CITY}"),
        (Some(r), true) => format!("/api/v1/overview?region={}", r.raw()),
        (Some(r), false) => format!("/api/v1/indicators?scope={}", r.raw()),
    };
    let (status, body) = send(&p.app, "GET", &uri, None).await;
    let what = format!("GET {uri}");
    assert!(!status.is_server_error(), "{}: {what} → {status}", p.label);
    let over = |c: &RegionCode| {
        if p.reads_counters_of(c) {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        }
    };
    let want = match (&region, slice, overview) {
        _ if p.anonymous => StatusCode::UNAUTHORIZED,
        (_, true, _) | (None, _, false) => over(&code(CITY)),
        // Without a region the overview shows the caller's first scope, else the city's.
        (None, _, true) if !p.scopes(&INDICATOR_ROLES).is_empty() => StatusCode::OK,
        (None, _, true) => over(&code(CITY)),
        (Some(RegionArg::Known(c)), _, _) => over(c),
        (Some(RegionArg::Unknown(_)), _, _) => StatusCode::NOT_FOUND,
        (Some(RegionArg::Invalid(_)), _, _) => StatusCode::BAD_REQUEST,
    };
    assert_eq!(status, want, "{}: {what}: {}", p.label, short(&body));
}

/// The caller's notices name only cases they see.
async fn probe_notices(p: &mut Probe, w: &World) {
    let (status, body) = send(&p.app, "GET", "/api/v1/notifications", None).await;
    let what = "GET /api/v1/notifications";
    assert!(!status.is_server_error(), "{}: {what} → {status}", p.label);
    if p.anonymous {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        return;
    }
    assert_eq!(status, StatusCode::OK, "{}: {what}", p.label);
    // Every notice must be of a case the caller may see (notices to a region go only to
    // those who may see its cases).
    let checked = body.clone();
    check_items(p, w, what, &checked, "case_id");
}

/// A seeding step, taken through the store as whoever stands in `by`.
async fn seed(store: &Store, id: i64, step: Step, by: Capacity, units: &[&str], into: Option<i64>) {
    let input = StepInput {
        step: Some(step),
        by: vec![by],
        actor: "seed".into(),
        note: "按流程办理".into(),
        units: units.iter().map(|u| u.to_string()).collect(),
        satisfaction: (step == Step::Rate).then_some(Satisfaction::Satisfied),
        pause_until_ms: (step == Step::RequestPause).then_some(NOW + 3 * DAY),
        merge_into: into,
        ..StepInput::default()
    };
    store
        .take_step(id, &input, NOW, &WorkCalendar::china())
        .await
        .unwrap_or_else(|e| panic!("seed {step} on {id}: {e}"));
}

/// Where a seeded case is taken before the probe starts.
#[derive(Debug, Clone, Copy)]
enum Path {
    Reported,
    Accepted,
    Rejected,
    Dispatched(&'static str),
    Returned,
    /// Climbs to the street, which blows the whistle to a lead and an assisting unit.
    Whistled(&'static str, &'static str),
    WhistledHandling,
    Handling(&'static str),
    PauseRequested,
    Paused,
    FedBack(&'static str),
    Closed(&'static str),
    Rated,
    Merged,
}

const PATHS: [Path; 16] = [
    Path::Reported,
    Path::Accepted,
    Path::Dispatched(CG),
    Path::Whistled(CG, SW),
    Path::Handling(CG),
    Path::FedBack(ZJ),
    Path::Closed(CG),
    Path::Rejected,
    Path::Returned,
    Path::WhistledHandling,
    Path::PauseRequested,
    Path::Paused,
    Path::Rated,
    Path::Merged,
    Path::Handling(ZJ),
    Path::Dispatched(SW),
];

async fn walk(store: &Store, id: i64, path: Path, first: i64) {
    use Capacity::{AssistUnit, LeadUnit, LevelStaff, Reporter, Supervisor};
    let s = |step, by, units: &'static [&'static str]| seed(store, id, step, by, units, None);
    let handling = |u: &'static str| async move {
        seed(store, id, Step::Accept, LevelStaff, &[], None).await;
        seed(store, id, Step::Dispatch, Supervisor, &[u], None).await;
        seed(store, id, Step::Sign, LeadUnit, &[], None).await;
    };
    match path {
        Path::Reported => {}
        Path::Accepted => s(Step::Accept, LevelStaff, &[]).await,
        Path::Rejected => s(Step::Reject, LevelStaff, &[]).await,
        Path::Dispatched(u) => {
            s(Step::Accept, LevelStaff, &[]).await;
            seed(store, id, Step::Dispatch, Supervisor, &[u], None).await;
        }
        Path::Returned => {
            s(Step::Accept, LevelStaff, &[]).await;
            s(Step::Dispatch, Supervisor, &[CG]).await;
            s(Step::Return, LeadUnit, &[]).await;
        }
        Path::Whistled(..) | Path::WhistledHandling => {
            let (lead, assist) = match path {
                Path::Whistled(l, a) => (l, a),
                _ => (ZJ, CG),
            };
            while read_case(store, id)
                .await
                .is_some_and(|k| k.state.level < CaseLevel::Street)
            {
                s(Step::Escalate, LevelStaff, &[]).await;
            }
            s(Step::Accept, LevelStaff, &[]).await;
            seed(store, id, Step::Whistle, LevelStaff, &[lead, assist], None).await;
            if matches!(path, Path::WhistledHandling) {
                s(Step::Sign, LeadUnit, &[]).await;
                seed(store, id, Step::CheckIn, AssistUnit, &[assist], None).await;
            }
        }
        Path::Handling(u) => handling(u).await,
        Path::PauseRequested | Path::Paused => {
            handling(SW).await;
            s(Step::RequestPause, LeadUnit, &[]).await;
            if matches!(path, Path::Paused) {
                s(Step::ApprovePause, LevelStaff, &[]).await;
            }
        }
        Path::FedBack(u) | Path::Closed(u) => {
            handling(u).await;
            s(Step::Feedback, LeadUnit, &[]).await;
            if matches!(path, Path::Closed(_)) {
                s(Step::Verify, LevelStaff, &[]).await;
            }
        }
        Path::Rated => {
            handling(CG).await;
            s(Step::Feedback, LeadUnit, &[]).await;
            s(Step::Verify, LevelStaff, &[]).await;
            s(Step::Rate, Reporter, &[]).await;
        }
        Path::Merged => seed(store, id, Step::Merge, LevelStaff, &[], Some(first)).await,
    }
}

fn report(cell: &RegionCode, reporter: &str, source: Source, photo: bool) -> NewCase {
    NewCase {
        source,
        category: "order.vendor".into(),
        title: "占道经营".into(),
        description: "小区门口占道摆摊，堵住消防通道".into(),
        cell: cell.clone(),
        point: None,
        address: "锦江区某路 8 号".into(),
        reporter: reporter.into(),
        contact: None,
        photos: if photo {
            vec![Photo {
                content_type: "image/png".into(),
                bytes: b"\x89PNG\r\n\x1a\n0000".to_vec(),
            }]
        } else {
            Vec::new()
        },
        idempotency: None,
        ip: None,
    }
}

async fn intake(store: &Store, c: NewCase) -> i64 {
    store
        .intake_batch(&[c], None, NOW, &WorkCalendar::china())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .pop()
        .unwrap_or_else(|| panic!("no answer"))
        .unwrap_or_else(|e| panic!("{e}"))
        .id
}

/// The first micro-grids of a grid (or the grid itself when it has none).
async fn cells_of(store: &Store, grid: &RegionCode, n: usize) -> Vec<RegionCode> {
    let kids = store.children(grid).await.unwrap_or_else(|e| panic!("{e}"));
    if kids.is_empty() {
        return vec![grid.clone()];
    }
    kids.iter().take(n).map(|r| code(&r.code)).collect()
}

async fn children(store: &Store, c: &RegionCode) -> Vec<RegionCode> {
    store
        .children(c)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|r| code(&r.code))
        .collect()
}

async fn every_role_sees_only_its_cases(store: Store) {
    let st = state(&store).await;
    store
        .ensure_catalogue(0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let units = UNITS.map(|u| HandlingUnit {
        code: u.into(),
        name: format!("锦江区{}", &u[7..]),
        kind: "department".into(),
        region_code: "510104000000".into(),
    });
    store
        .put_units(&units)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let district = code("510104000000");
    let streets = children(&store, &district).await;
    let (s1, s2) = (streets[0].clone(), streets[1].clone());
    let (comms1, comms2) = (children(&store, &s1).await, children(&store, &s2).await);
    let (ca, cc, cb) = (comms1[0].clone(), comms1[1].clone(), comms2[0].clone());
    let (grids_a, grids_b) = (children(&store, &ca).await, children(&store, &cb).await);
    let grids_c = children(&store, &cc).await;
    let g1 = grids_a[0].clone();
    let mut cells = cells_of(&store, &g1, 2).await;
    cells.extend(cells_of(&store, &grids_a[1], 1).await);
    cells.extend(cells_of(&store, &grids_c[0], 1).await);
    cells.extend(cells_of(&store, &grids_b[0], 2).await);
    cells.extend(cells_of(&store, &grids_b[1], 1).await);

    let limits = Limits {
        anonymous_address: RateLimiter::new(1_000_000, 60_000),
        ..Limits::default()
    };
    let app = router(
        st.with_clock(Arc::new(FixedClock::new(NOW)))
            .with_limits(limits),
    );
    let city = code(CITY);
    let callers: Vec<(&'static str, Vec<Binding>)> = vec![
        ("resident", vec![bind(Role::Resident, None, None)]),
        ("other_resident", vec![bind(Role::Resident, None, None)]),
        ("grid_worker", vec![bind(Role::GridWorker, Some(&g1), None)]),
        (
            "community_a",
            vec![bind(Role::CommunityStaff, Some(&ca), None)],
        ),
        (
            "community_b",
            vec![bind(Role::CommunityStaff, Some(&cb), None)],
        ),
        ("street_1", vec![bind(Role::StreetStaff, Some(&s1), None)]),
        (
            "command_street_2",
            vec![bind(Role::Command, Some(&s2), None)],
        ),
        ("unit_cg", vec![bind(Role::UnitStaff, None, Some(CG))]),
        ("unit_zj", vec![bind(Role::UnitStaff, None, Some(ZJ))]),
        ("mediator", vec![bind(Role::Mediator, Some(&ca), None)]),
        ("admin", vec![bind(Role::Admin, None, None)]),
        ("command_city", vec![bind(Role::Command, Some(&city), None)]),
    ];
    let mut probes = Vec::new();
    for (label, bindings) in callers {
        let token = token_for(&store, label, bindings.clone(), None).await;
        let app = with_token(app.clone(), &token);
        let (_, me) = send(&app, "GET", "/api/v1/me", None).await;
        let id = me["user_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{label}: {me}"));
        probes.push(Probe {
            label,
            bindings,
            actor: format!("user:{id}"),
            app,
            anonymous: false,
            tally: BTreeMap::new(),
            outcomes: BTreeMap::new(),
        });
    }
    probes.push(Probe {
        label: "anonymous",
        bindings: Vec::new(),
        actor: "anonymous".into(),
        app: app.clone(),
        anonymous: true,
        tally: BTreeMap::new(),
        outcomes: BTreeMap::new(),
    });
    let actor = |label: &str| {
        probes
            .iter()
            .find(|p| p.label == label)
            .map(|p| p.actor.clone())
            .unwrap_or_else(|| panic!("{label}"))
    };
    // Residents report most cases; a community's staff and a unit report one elsewhere too.
    let reporters = [
        actor("resident"),
        actor("other_resident"),
        actor("resident"),
        actor("community_b"),
        actor("unit_cg"),
    ];

    let mut first = 0;
    let mut ids = Vec::new();
    for i in 0..42 {
        let source = if i % 4 == 2 {
            Source::Staff
        } else {
            Source::Resident
        };
        let c = report(
            &cells[i % cells.len()],
            &reporters[i % 5],
            source,
            i % 3 == 0,
        );
        let id = intake(&store, c).await;
        if i == 0 {
            first = id;
        }
        walk(&store, id, PATHS[i % PATHS.len()], first).await;
        ids.push(id);
    }
    let mut w = World {
        cases: BTreeMap::new(),
        regions: Vec::new(),
        cells: cells.clone(),
    };
    for id in ids {
        w.refresh(&store, id).await;
    }
    let stages: BTreeSet<&str> = w.cases.values().map(|k| k.state.stage.as_str()).collect();
    for st in Stage::ALL {
        assert!(
            stages.contains(st.as_str()),
            "no seeded case is {st}: {stages:?}"
        );
    }
    let sent: BTreeSet<&str> = w
        .cases
        .values()
        .flat_map(|k| k.units_ever.iter().map(String::as_str))
        .collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(
        w.cases.values().any(|k| k.state.escalations == 2
            && k.state.level == CaseLevel::Street
            && k.units_ever == [CG, SW]),
        "a case the street whistled to CG and SW after two escalations"
    );

    let mut known = vec![
        city.clone(),
        district.clone(),
        s1.clone(),
        s2.clone(),
        ca.clone(),
        cb.clone(),
        cc.clone(),
        g1.clone(),
        grids_a[1].clone(),
        grids_b[0].clone(),
    ];
    known.extend(cells.iter().cloned());
    w.regions = known.into_iter().map(RegionArg::Known).collect();
    let unknown = format!("{}999", &ca.as_str()[..9]);
    assert!(
        store
            .region(&code(&unknown))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    w.regions.push(RegionArg::Unknown(unknown));
    w.regions.push(RegionArg::Unknown("510105000000".into()));
    w.regions.push(RegionArg::Invalid("51010401800".into()));
    w.regions.push(RegionArg::Invalid("abc".into()));

    // Every role in turn, so that all of them meet cases in every stage as the world moves.
    let mut rng = StdRng::seed_from_u64(20_261_123);
    for round in 0..PROBES_PER_ROLE {
        if round % 100 == 99 {
            for _ in 0..3 {
                let cell = w.cells[rng.random_range(0..w.cells.len())].clone();
                let who = &reporters[rng.random_range(0..2)];
                let source = if rng.random_bool(0.3) {
                    Source::Staff
                } else {
                    Source::Resident
                };
                let id = intake(&store, report(&cell, who, source, rng.random_bool(0.3))).await;
                w.refresh(&store, id).await;
            }
        }
        for p in probes.iter_mut() {
            probe_once(p, &mut w, &store, &mut rng).await;
        }
    }
    for p in &probes {
        let total: usize = p.tally.values().sum();
        eprintln!("{:<17} {total:>5} {:?} {:?}", p.label, p.tally, p.outcomes);
        assert!(total >= PROBES_PER_ROLE, "{}", p.label);
    }
    let end: BTreeMap<&str, usize> = w.cases.values().fold(BTreeMap::new(), |mut m, k| {
        *m.entry(k.state.stage.as_str()).or_default() += 1;
        m
    });
    eprintln!("cases by stage at the end: {end:?}");
}

on_both_backends!(every_role_sees_only_its_cases);
