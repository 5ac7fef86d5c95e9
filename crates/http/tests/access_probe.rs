//! Territory-scoped access, probed at random on SQLite and PostgreSQL: for each role, at least a
//! thousand requests across the API against regions, households and residents inside and
//! outside the caller's scope. Every answer is checked against an oracle written here from the
//! bindings (which status it must have) and for leaks (no record of a cell the caller may not
//! see, in any list, detail, search or count). Nobody gets a 5xx.

use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shezhi_domain::access::{Action, Binding, Role};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::people::KeyTag;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_domain::territory::RegionCode;
use shezhi_http::{Limits, endpoints, ratelimit::RateLimiter, router};
use shezhi_store::access::HandlingUnit;
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

mod common;
use common::{send, state, token_for, with_token};

const NOW_MS: i64 = 1_795_400_000_000;
const PROBES_PER_ROLE: usize = 1_000;

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

/// What the test knows of the data: codes, and records by the cell they live in.
struct World {
    regions: Vec<String>,
    households: Vec<(i64, String)>,
    residents: Vec<(i64, String, i64)>,
    names: Vec<String>,
    masked_ids: Vec<String>,
}

/// A caller and the independent oracle of what they may see.
struct Probe {
    label: &'static str,
    bindings: Vec<Binding>,
    own_resident: Option<(i64, i64)>,
    app: axum::Router,
    anonymous: bool,
}

impl Probe {
    fn allows(&self, action: Action, cell: &str) -> bool {
        let Ok(cell) = RegionCode::parse(cell) else {
            return false;
        };
        self.bindings.iter().any(|b| {
            b.role.allows(action)
                && match &b.scope {
                    Some(s) => s.contains(&cell),
                    None => !b.role.needs_scope(),
                }
        })
    }

    /// Whether a list over `region` has any part the caller may see.
    fn some_within(&self, action: Action, region: &str) -> bool {
        let Ok(region) = RegionCode::parse(region) else {
            return false;
        };
        self.bindings.iter().any(|b| {
            b.role.allows(action)
                && match &b.scope {
                    Some(s) => s.contains(&region) || region.contains(s),
                    None => !b.role.needs_scope(),
                }
        })
    }

    fn own_household(&self) -> Option<i64> {
        self.own_resident.map(|(_, h)| h)
    }
}

async fn load(store: &Store, communities: &[RegionCode]) {
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
        seed: 11,
        as_of: synth::default_as_of(),
    };
    let vault = Arc::new(Vault::new(&DataKey::from_bytes([4; 32])));
    store
        .load_register(spec, vault, LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn world(store: &Store, regions: Vec<String>, loaded: &[RegionCode]) -> World {
    let mut w = World {
        regions,
        households: Vec::new(),
        residents: Vec::new(),
        names: Vec::new(),
        masked_ids: Vec::new(),
    };
    for c in loaded {
        let hs = store
            .households_in(std::slice::from_ref(c), None, 40)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        w.households
            .extend(hs.items.iter().map(|h| (h.id, h.cell_code.clone())));
        let rs = store
            .residents_in(std::slice::from_ref(c), None, None, 60)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for r in rs.items {
            w.names.push(r.name.chars().take(1).collect());
            w.masked_ids.extend(r.id_number_masked.clone());
            w.residents
                .push((r.id, r.cell_code.clone(), r.household_id));
        }
    }
    w.households.push((987_654_321, String::new()));
    w.residents.push((987_654_321, String::new(), 0));
    w
}

/// Every `cell_code` anywhere in a response, and every resident id listed with a household.
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

fn check_no_leak(p: &Probe, what: &str, body: &Value) {
    let mut cells = Vec::new();
    cells_in(body, &mut cells);
    for c in cells {
        let own = p.own_household().is_some()
            && (body["household"]["id"].as_i64() == p.own_household()
                || body["resident"]["household_id"].as_i64() == p.own_household());
        assert!(
            own || p.allows(Action::ViewRegister, &c),
            "{}: {what} answered a record of cell {c}: {}",
            p.label,
            body.to_string().chars().take(400).collect::<String>()
        );
    }
}

async fn probe(p: &Probe, w: &World, rng: &mut StdRng) {
    let tags: Vec<&str> = KeyTag::ALL.iter().map(|t| t.as_str()).collect();
    for _ in 0..PROBES_PER_ROLE {
        let region = w.regions[rng.random_range(0..w.regions.len())].clone();
        let (hid, hcell) = w.households[rng.random_range(0..w.households.len())].clone();
        let (rid, rcell, rhh) = w.residents[rng.random_range(0..w.residents.len())].clone();
        let tag = tags[rng.random_range(0..tags.len())];
        let limit = rng.random_range(1..=60);
        let kind = rng.random_range(0..11);
        let (method, uri, body) = match kind {
            0 => (
                "GET",
                format!("/api/v1/regions/{region}/households?limit={limit}"),
                None,
            ),
            1 if rng.random_bool(0.5) => (
                "GET",
                format!("/api/v1/regions/{region}/residents?limit={limit}&tag={tag}"),
                None,
            ),
            1 => (
                "GET",
                format!("/api/v1/regions/{region}/residents?limit={limit}"),
                None,
            ),
            2 => ("GET", format!("/api/v1/regions/{region}/counts"), None),
            3 => ("GET", format!("/api/v1/households/{hid}"), None),
            4 => ("GET", format!("/api/v1/residents/{rid}"), None),
            5 => {
                let q = if rng.random_bool(0.5) && !w.masked_ids.is_empty() {
                    w.masked_ids[rng.random_range(0..w.masked_ids.len())].replace('*', "%2A")
                } else {
                    let n = &w.names[rng.random_range(0..w.names.len())];
                    n.bytes().map(|b| format!("%{b:02X}")).collect()
                };
                (
                    "GET",
                    format!("/api/v1/residents/search?scope={region}&q={q}&limit={limit}"),
                    None,
                )
            }
            6 => (
                "POST",
                format!("/api/v1/residents/{rid}/reveal"),
                Some(json!({"fields": ["id_number", "phone"], "reason": "入户核对身份"})),
            ),
            7 => (
                "POST",
                format!("/api/v1/residents/{rid}/tags"),
                Some(json!({"tag": tag, "note": "走访发现"})),
            ),
            8 => (
                "DELETE",
                format!("/api/v1/residents/{rid}/tags/{tag}"),
                None,
            ),
            9 => ("GET", format!("/api/v1/regions/{region}"), None),
            _ => ("GET", "/api/v1/me".to_string(), None),
        };
        let (status, answer) = send(&p.app, method, &uri, body).await;
        let what = format!("{method} {uri}");
        assert!(
            !status.is_server_error(),
            "{}: {what} → {status} {answer}",
            p.label
        );
        let public = matches!(kind, 9 | 10);
        if p.anonymous && !public {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {answer}");
            continue;
        }
        let region_ok = RegionCode::parse(&region).is_ok();
        let known = region_ok && !region.ends_with("999");
        let own_h = p.own_household() == Some(hid);
        let own_r = p.own_resident.map(|(r, _)| r) == Some(rid);
        let view_h = !hcell.is_empty() && p.allows(Action::ViewRegister, &hcell);
        let view_r = !rcell.is_empty() && p.allows(Action::ViewRegister, &rcell);
        let expect: Vec<StatusCode> = match kind {
            0 | 1 | 5 if !region_ok => vec![StatusCode::BAD_REQUEST],
            0 | 1 | 5 if !known => vec![StatusCode::NOT_FOUND],
            0 | 1 | 5 if p.some_within(Action::ViewRegister, &region) => vec![StatusCode::OK],
            0 | 1 | 5 => vec![StatusCode::FORBIDDEN],
            2 if !region_ok => vec![StatusCode::BAD_REQUEST],
            2 if !known => vec![StatusCode::NOT_FOUND],
            2 if p.allows(Action::ViewRegister, &region) => vec![StatusCode::OK],
            2 => vec![StatusCode::FORBIDDEN],
            3 if view_h || own_h => vec![StatusCode::OK],
            3 => vec![StatusCode::NOT_FOUND],
            4 if view_r || own_r => vec![StatusCode::OK],
            4 => vec![StatusCode::NOT_FOUND],
            6 if !view_r => vec![StatusCode::NOT_FOUND],
            6 if p.allows(Action::UnmaskPersonal, &rcell) => vec![StatusCode::OK],
            6 => vec![StatusCode::FORBIDDEN],
            7 | 8 if !view_r => vec![StatusCode::NOT_FOUND],
            7 if p.allows(Action::EditRegister, &rcell) => {
                vec![StatusCode::CREATED, StatusCode::CONFLICT]
            }
            8 if p.allows(Action::EditRegister, &rcell) => {
                vec![StatusCode::NO_CONTENT, StatusCode::NOT_FOUND]
            }
            7 | 8 => vec![StatusCode::FORBIDDEN],
            9 if !region_ok => vec![StatusCode::BAD_REQUEST],
            9 if !known => vec![StatusCode::NOT_FOUND],
            _ => vec![StatusCode::OK],
        };
        assert!(
            expect.contains(&status),
            "{}: {what} → {status}, expected {expect:?}: {answer}",
            p.label
        );
        check_no_leak(p, &what, &answer);
        if kind == 6 && status == StatusCode::OK {
            assert_eq!(answer["resident_id"], rid);
        }
        if kind == 4 && status == StatusCode::OK && !view_r {
            assert!(own_r, "{}: resident {rid} is not theirs", p.label);
            assert_eq!(answer["resident"]["household_id"], rhh);
        }
    }
}

async fn every_role_sees_only_its_scope(store: Store) {
    let st = state(&store).await;
    let district = code("510104000000");
    let streets = store
        .children(&district)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let s1 = code("510104018000");
    let s2 = streets
        .iter()
        .map(|r| code(&r.code))
        .find(|c| *c != s1)
        .unwrap_or_else(|| panic!("a second street"));
    let c1 = code("510104018001");
    let c2 = code("510104018002");
    let c3 = code(&store.children(&s2).await.unwrap_or_else(|e| panic!("{e}"))[0].code);
    load(&store, &[c1.clone(), c2.clone(), c3.clone()]).await;
    let grids = store.children(&c1).await.unwrap_or_else(|e| panic!("{e}"));
    let g1 = code(&grids[0].code);
    let micro = store.children(&g1).await.unwrap_or_else(|e| panic!("{e}"));
    let other_grids = store.children(&c3).await.unwrap_or_else(|e| panic!("{e}"));
    let mut regions: Vec<String> = vec![
        "510100000000".into(),
        district.as_str().into(),
        s1.as_str().into(),
        s2.as_str().into(),
        c1.as_str().into(),
        c2.as_str().into(),
        c3.as_str().into(),
        "510104018999".into(),
        "51010401800".into(),
    ];
    regions.extend(grids.iter().take(3).map(|r| r.code.clone()));
    regions.extend(micro.iter().take(3).map(|r| r.code.clone()));
    regions.extend(other_grids.iter().take(2).map(|r| r.code.clone()));
    let w = world(&store, regions, &[c1.clone(), c2.clone(), c3.clone()]).await;
    store
        .put_units(&[HandlingUnit {
            code: "CG-510104".into(),
            name: "锦江区城管局".into(),
            kind: "urban_management".into(),
            region_code: district.as_str().into(),
        }])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The resident user is a person living in the grid worker's grid.
    let me = w
        .residents
        .iter()
        .find(|(_, cell, _)| cell.starts_with(g1.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("a resident in {g1}"));
    type Caller = (&'static str, Vec<Binding>, Option<(i64, i64)>);
    let callers: Vec<Caller> = vec![
        (
            "grid_worker",
            vec![bind(Role::GridWorker, Some(&g1), None)],
            None,
        ),
        (
            "community_staff",
            vec![bind(Role::CommunityStaff, Some(&c1), None)],
            None,
        ),
        (
            "street_staff",
            vec![bind(Role::StreetStaff, Some(&s1), None)],
            None,
        ),
        ("command", vec![bind(Role::Command, Some(&s2), None)], None),
        (
            "unit_staff",
            vec![bind(Role::UnitStaff, None, Some("CG-510104"))],
            None,
        ),
        (
            "resident",
            vec![bind(Role::Resident, None, None)],
            Some((me.0, me.2)),
        ),
        (
            "mediator",
            vec![bind(Role::Mediator, Some(&c1), None)],
            None,
        ),
        ("admin", vec![bind(Role::Admin, None, None)], None),
        (
            "grid_worker_and_other_community",
            vec![
                bind(Role::GridWorker, Some(&g1), None),
                bind(Role::CommunityStaff, Some(&c3), None),
            ],
            None,
        ),
    ];
    let limits = Limits {
        anonymous_address: RateLimiter::new(1_000_000, 60_000),
        ..Limits::default()
    };
    let base = router(
        st.with_clock(Arc::new(FixedClock::new(NOW_MS)))
            .with_vault(Some(Arc::new(Vault::new(&DataKey::from_bytes([4; 32])))))
            .with_limits(limits),
    );
    let mut rng = StdRng::seed_from_u64(20261124);
    for (label, bindings, own) in callers {
        let token = token_for(&store, label, bindings.clone(), own.map(|o| o.0)).await;
        let p = Probe {
            label,
            bindings,
            own_resident: own,
            app: with_token(base.clone(), &token),
            anonymous: false,
        };
        probe(&p, &w, &mut rng).await;
    }
    let anonymous = Probe {
        label: "anonymous",
        bindings: Vec::new(),
        own_resident: None,
        app: base.clone(),
        anonymous: true,
    };
    probe(&anonymous, &w, &mut rng).await;
}

/// Anonymous callers are limited per address on the public endpoints.
async fn anonymous_callers_are_rate_limited(store: Store) {
    let limits = Limits {
        anonymous_address: RateLimiter::new(20, 60_000),
        ..Limits::default()
    };
    let app = router(
        state(&store)
            .await
            .with_clock(Arc::new(FixedClock::new(NOW_MS)))
            .with_limits(limits),
    );
    for _ in 0..20 {
        let (status, _) = send(&app, "GET", "/api/v1/regions/510104000000", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = send(&app, "GET", "/api/v1/regions/510104000000", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    common::assert_error(&body, "rate_limited");
    let (status, _) = send(&app, "GET", "/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "health probes are never limited");
}

async fn audit_entries(store: &Store) -> u64 {
    match store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")) {
        shezhi_store::access::AuditCheck::Intact { entries, .. } => entries,
        broken => panic!("audit chain broken: {broken:?}"),
    }
}

/// A view in clear needs a reason and leaves an audit entry; so does every register change.
async fn reveals_and_changes_are_audited(store: Store) {
    let st = state(&store).await;
    let c1 = code("510104018001");
    load(&store, std::slice::from_ref(&c1)).await;
    let page = store
        .residents_in(std::slice::from_ref(&c1), None, None, 5)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let r = page
        .items
        .iter()
        .find(|r| r.id_number_masked.is_some())
        .cloned()
        .unwrap_or_else(|| panic!("a resident with an identity number"));
    let token = token_for(
        &store,
        "shequ",
        vec![bind(Role::CommunityStaff, Some(&c1), None)],
        None,
    )
    .await;
    let app = with_token(
        router(
            st.with_clock(Arc::new(FixedClock::new(NOW_MS)))
                .with_vault(Some(Arc::new(Vault::new(&DataKey::from_bytes([4; 32]))))),
        ),
        &token,
    );
    let uri = format!("/api/v1/residents/{}/reveal", r.id);
    let before = audit_entries(&store).await;
    let (status, body) = send(
        &app,
        "POST",
        &uri,
        Some(json!({"fields": ["id_number"], "reason": " "})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    common::assert_error(&body, "reason_required");
    let (status, body) = send(
        &app,
        "POST",
        &uri,
        Some(json!({"fields": ["salary"], "reason": "核对"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    common::assert_error(&body, "invalid_field");
    assert_eq!(
        audit_entries(&store).await,
        before,
        "refused views leave no entry"
    );
    let (status, body) = send(
        &app,
        "POST",
        &uri,
        Some(json!({"fields": ["id_number"], "reason": "入户核对身份"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let clear = body["id_number"].as_str().unwrap_or_default().to_string();
    assert_eq!(clear.len(), 18);
    let masked = r.id_number_masked.clone().unwrap_or_default();
    assert_eq!(clear[..2], masked[..2]);
    assert_eq!(clear[17..], masked[17..]);
    assert!(body["phone"].is_null(), "only the asked field is shown");
    assert_eq!(audit_entries(&store).await, before + 1);
    assert_eq!(body["audit_seq"].as_u64(), Some(before + 1));
    let (status, _) = send(
        &app,
        "POST",
        &format!("/api/v1/residents/{}/tags", r.id),
        Some(json!({"tag": "disabled", "note": "走访核实"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = send(
        &app,
        "POST",
        &format!("/api/v1/residents/{}/tags", r.id),
        Some(json!({"tag": "disabled"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    common::assert_error(&body, "tag_already_set");
    let (status, _) = send(
        &app,
        "DELETE",
        &format!("/api/v1/residents/{}/tags/disabled", r.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(audit_entries(&store).await, before + 3);
    let (_, detail) = send(&app, "GET", &format!("/api/v1/residents/{}", r.id), None).await;
    let kinds: Vec<&str> = detail["history"]
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        kinds.contains(&"tag_set") && kinds.contains(&"tag_cleared"),
        "{kinds:?}"
    );
}

on_both_backends!(
    every_role_sees_only_its_scope,
    anonymous_callers_are_rate_limited,
    reveals_and_changes_are_audited
);

#[test]
fn the_openapi_document_states_the_access_of_every_operation() {
    let doc = shezhi_http::openapi::value();
    let mut n = 0;
    for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            let e = endpoints::find(&method, &path)
                .unwrap_or_else(|| panic!("{method} {path} not in the access table"));
            let access = &op["x-shezhi-access"];
            assert!(access["roles"].is_array(), "{method} {path}");
            if e.need != endpoints::Need::Public {
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
                assert_eq!(
                    access["action"].as_str(),
                    e.need.action().map(|a| a.as_str())
                );
            }
            n += 1;
        }
    }
    assert_eq!(n, endpoints::ENDPOINTS.len());
}
