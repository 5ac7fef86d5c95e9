//! The side doors an attack on the running system found (issue 19), each held shut, on SQLite
//! and PostgreSQL: searching by full numbers, working a number out from its masked form,
//! skipping the anonymous budget with a bogus credential, guessing a case's phone ending,
//! parallel and enumerating sign-ins, a household's other members seen by a resident, public
//! metrics, and API keys and proxies sharing an address's budget.

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use shezhi_domain::access::{Binding, Role, password};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::people::{Date, KeyTag};
use shezhi_domain::synth;
use shezhi_domain::territory::RegionCode;
use shezhi_http::{Limits, ratelimit::RateLimiter, router};
use shezhi_store::access::{AuditCheck, AuditNote, NewUser};
use shezhi_store::register::{LoadOptions, LoadSpec, Stamp};
use shezhi_store::{Store, on_both_backends};
use std::net::SocketAddr;
use std::sync::Arc;

mod common;
use common::{assert_error, get, send_bytes, state, token_for, with_token};

const COMMUNITY: &str = "510104018001";
const STREET: &str = "510104018000";
const NOW_MS: i64 = 1_795_400_000_000;
const PASSWORD: &str = "锦江网格-2026";

fn vault() -> Arc<Vault> {
    Arc::new(Vault::new(&DataKey::from_bytes([9; 32])))
}

fn scoped(role: Role, scope: &str) -> Vec<Binding> {
    vec![Binding {
        role,
        scope: RegionCode::parse(scope).ok(),
        unit: None,
    }]
}

/// One community's register loaded; the plain identity numbers generated for it.
async fn register(store: &Store) -> Vec<String> {
    let scope = RegionCode::parse(COMMUNITY).unwrap_or_else(|e| panic!("{e}"));
    let plans = store
        .register_plans(&scope)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let spec = LoadSpec {
        plans: plans.clone(),
        seed: 3,
        as_of: synth::default_as_of(),
    };
    store
        .load_register(spec, vault(), LoadOptions::new(NOW_MS), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    plans
        .iter()
        .flat_map(|p| synth::generate_grid(p, 3, synth::default_as_of()).people)
        .filter_map(|p| p.id_number.map(|x| x.as_str().to_string()))
        .collect()
}

async fn audit_entries(store: &Store) -> i64 {
    match store.verify_audit().await.unwrap_or_else(|e| panic!("{e}")) {
        AuditCheck::Intact { entries, .. } => entries as i64,
        other => panic!("the audit trail is broken: {other:?}"),
    }
}

async fn a_full_number_search_needs_the_right_and_is_audited_and_limited(store: Store) {
    let st = state(&store).await;
    let numbers = register(&store).await;
    let limits = Limits {
        full_number_search: RateLimiter::new(3, 3_600_000),
        ..Limits::default()
    };
    let st = st
        .with_clock(Arc::new(FixedClock::new(NOW_MS)))
        .with_vault(Some(vault()))
        .with_limits(limits);
    let street = token_for(&store, "street", scoped(Role::StreetStaff, STREET), None).await;
    let community = token_for(
        &store,
        "community",
        scoped(Role::CommunityStaff, COMMUNITY),
        None,
    )
    .await;
    let street = with_token(router(st.clone()), &street);
    let community = with_token(router(st), &community);
    let uri = |n: &str| format!("/api/v1/residents/search?scope={COMMUNITY}&q={n}");

    // Street staff may not see numbers in clear, so a full number is no oracle for them.
    let before = audit_entries(&store).await;
    for n in numbers.iter().take(3) {
        let (status, body) = get(&street, &uri(n)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_error(&body, "forbidden");
    }
    // The community's staff may; each search is audited before it answers.
    for (i, n) in numbers.iter().take(3).enumerate() {
        let (status, body) = get(&community, &uri(n)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["items"].as_array().map(Vec::len), Some(1), "{body}");
        assert_eq!(audit_entries(&store).await, before + 1 + i as i64);
    }
    // Within a budget.
    let (status, body) = get(&community, &uri(&numbers[3])).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "search_budget_spent");
    // Searching by name is neither limited nor audited.
    let (status, _) = get(&community, &uri("%E5%BC%A0")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit_entries(&store).await, before + 3);
}

/// How many identity numbers fit what a viewer sees of one person: the masked form, the
/// birth date and the sex, with the digits of the place (1-6) taken as known from the
/// address (the worst case; any fixed place gives the same count, one sequence in eleven
/// fitting a check character). Only the sequence digits 15-17 can still vary. With the
/// former mask (`5101**********1234`) no number is left to vary at all.
fn candidates(masked: &str, birth_date: &str, sex: &str) -> usize {
    let m = masked.as_bytes();
    assert_eq!(m.len(), 18, "{masked}");
    let birth: Vec<u8> = birth_date.bytes().filter(u8::is_ascii_digit).collect();
    let mut count = 0;
    for seq in 0..1000_u32 {
        let mut id = [b'0'; 18];
        id[..6].copy_from_slice(b"510104");
        id[6..14].copy_from_slice(&birth);
        id[14..17].copy_from_slice(format!("{seq:03}").as_bytes());
        // What the mask shows must match.
        if (0..17).any(|i| m[i] != b'*' && m[i] != id[i] && i >= 6) {
            continue;
        }
        let male = (id[16] - b'0') % 2 == 1;
        if male != (sex == "male") {
            continue;
        }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = (0..17).map(|i| u32::from(id[i] - b'0') * weights[i]).sum();
        let check = b"10X98765432"[(sum % 11) as usize];
        if m[17] != b'*' && m[17] != check {
            continue;
        }
        count += 1;
    }
    count
}

async fn no_masked_number_can_be_worked_out_from_what_a_role_reads(store: Store) {
    let st = state(&store).await;
    register(&store).await;
    let st = st
        .with_clock(Arc::new(FixedClock::new(NOW_MS)))
        .with_vault(Some(vault()));
    let street = token_for(&store, "street", scoped(Role::StreetStaff, STREET), None).await;
    let app = with_token(router(st), &street);
    // Everything street staff read of the community's people: the lists, and each household
    // and resident in detail; the most revealing form of each person's number counts.
    let mut seen: std::collections::HashMap<i64, (String, String, String)> =
        std::collections::HashMap::new();
    let mut note = |r: &Value| {
        if let (Some(id), Some(m)) = (r["id"].as_i64(), r["id_number_masked"].as_str()) {
            let entry = (
                m.to_string(),
                r["birth_date"].as_str().unwrap_or_default().to_string(),
                r["sex"].as_str().unwrap_or_default().to_string(),
            );
            let stars = |s: &str| s.bytes().filter(|b| *b == b'*').count();
            match seen.get(&id) {
                Some(old) if stars(&old.0) <= stars(m) => {}
                _ => {
                    seen.insert(id, entry);
                }
            }
        }
    };
    let (_, page) = get(
        &app,
        &format!("/api/v1/regions/{COMMUNITY}/residents?limit=500"),
    )
    .await;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert!(items.len() > 100, "{page}");
    for r in &items {
        note(r);
    }
    for r in items.iter().take(40) {
        let (_, detail) = get(&app, &format!("/api/v1/residents/{}", r["id"])).await;
        note(&detail["resident"]);
        let (_, h) = get(&app, &format!("/api/v1/households/{}", r["household_id"])).await;
        for m in h["members"].as_array().cloned().unwrap_or_default() {
            note(&m);
        }
    }
    let fewest = seen
        .values()
        .map(|(m, b, s)| candidates(m, b, s))
        .min()
        .unwrap_or(0);
    assert!(
        fewest >= 40,
        "a masked number narrows down to {fewest} candidates"
    );
}

async fn a_bogus_credential_does_not_skip_the_address_budget(store: Store) {
    let limits = Limits {
        anonymous_address: RateLimiter::new(5, 60_000),
        ..Limits::default()
    };
    let st = state(&store)
        .await
        .with_clock(Arc::new(FixedClock::new(NOW_MS)))
        .with_limits(limits);
    let app = router(st).layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 7], 4000))));
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let (status, _, _) = send_bytes(
            &app,
            "GET",
            "/api/v1/track/SQ2026112300001?phone_last4=1234",
            &[("cookie", "shezhi_session=made-up")],
            Vec::new(),
        )
        .await;
        statuses.push(status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::NOT_FOUND)
            .count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses[6], StatusCode::TOO_MANY_REQUESTS);
}

async fn guesses_at_a_case_number_pause_its_tracking(store: Store) {
    let st = state(&store)
        .await
        .with_clock(Arc::new(FixedClock::new(NOW_MS)));
    let app = router(st);
    let uri = |last4: u32| format!("/api/v1/track/SQ2026112300001?phone_last4={last4:04}");
    for guess in 0..10 {
        let (status, body) = get(&app, &uri(guess)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (status, body) = get(&app, &uri(10)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "tracking_paused");
    // Another number is not affected.
    let (status, _) = get(&app, "/api/v1/track/SQ2026112300002?phone_last4=0000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn sign_in(user: &str, pw: &str) -> Request<Body> {
    let body = json!({"username": user, "password": pw}).to_string();
    Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn status_of(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    use tower::ServiceExt;
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn parallel_sign_ins_are_counted_and_names_answer_alike(store: Store) {
    let hash = password::hash(PASSWORD, &[5; 16]).unwrap_or_else(|e| panic!("{e}"));
    for name in ["admin", "wangge"] {
        let user = NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: hash.clone(),
            resident_id: None,
            bindings: scoped(Role::GridWorker, "510104018001001"),
        };
        let note = AuditNote {
            at_ms: NOW_MS,
            actor: "test".into(),
            action: "user_created".into(),
            target: String::new(),
            region_code: None,
            ip: None,
            detail: Value::Null,
        };
        store
            .create_user(&user, &note)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let clock = Arc::new(FixedClock::new(NOW_MS));
    let app = router(state(&store).await.with_clock(clock.clone()));

    // Nine wrong guesses at once: only the free ones and the first past them are heard.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..9 {
        let app = app.clone();
        tasks.spawn(async move { status_of(&app, sign_in("admin", &format!("guess-{i}"))).await });
    }
    let mut answers = Vec::new();
    while let Some(r) = tasks.join_next().await {
        answers.push(r.unwrap_or_else(|e| panic!("{e}")));
    }
    let heard = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(heard, 5, "{answers:?}");
    for (s, body) in &answers {
        if *s != StatusCode::UNAUTHORIZED {
            assert_eq!(*s, StatusCode::TOO_MANY_REQUESTS, "{body}");
            assert_error(body, "sign_in_wait");
        }
    }
    // The right password right after waits too; the owner is not locked out for long.
    let (s, body) = status_of(&app, sign_in("admin", PASSWORD)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    clock.advance(1_000);
    let (s, body) = status_of(&app, sign_in("admin", PASSWORD)).await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // An account and a name that is none answer the same, attempt by attempt.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..8 {
        let (s, b) = status_of(&app, sign_in("wangge", &format!("w-{i}"))).await;
        known.push((s, b["error"]["code"].clone()));
        let (s, b) = status_of(&app, sign_in("nobody-here", &format!("w-{i}"))).await;
        unknown.push((s, b["error"]["code"].clone()));
    }
    assert_eq!(known, unknown);
    assert!(
        known
            .iter()
            .any(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
    );
}

async fn a_member_sees_only_their_own_in_the_household(store: Store) {
    let st = state(&store).await;
    register(&store).await;
    let st = st
        .with_clock(Arc::new(FixedClock::new(NOW_MS)))
        .with_vault(Some(vault()));
    let staff = token_for(
        &store,
        "community",
        scoped(Role::CommunityStaff, COMMUNITY),
        None,
    )
    .await;
    let staff = with_token(router(st.clone()), &staff);
    // A household of several people present.
    let (_, page) = get(
        &staff,
        &format!("/api/v1/regions/{COMMUNITY}/households?limit=200"),
    )
    .await;
    let mut found = None;
    for h in page["items"].as_array().cloned().unwrap_or_default() {
        let (_, d) = get(&staff, &format!("/api/v1/households/{}", h["id"])).await;
        let present: Vec<i64> = d["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|m| m["status"] == "present")
            .filter_map(|m| m["id"].as_i64())
            .collect();
        if present.len() >= 2 {
            found = Some((h["id"].as_i64().unwrap_or_default(), present));
            break;
        }
    }
    let (household, members) = found.unwrap_or_else(|| panic!("no household of two"));
    let (me, other) = (members[0], members[1]);
    store
        .set_tag(
            other,
            KeyTag::parse("community_correction").unwrap_or_else(|| panic!()),
            "矫正期内",
            Date::new(2026, 11, 1).unwrap_or_else(|| panic!()),
            Stamp {
                actor: "user:1",
                now_ms: NOW_MS,
                ip: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let resident = token_for(&store, "jumin", scoped(Role::Resident, COMMUNITY), Some(me)).await;
    let resident = with_token(router(st), &resident);
    let (status, h) = get(&resident, &format!("/api/v1/households/{household}")).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    let text = h.to_string();
    assert!(!text.contains("community_correction"), "{text}");
    for m in h["members"].as_array().cloned().unwrap_or_default() {
        if m["id"] != me {
            assert_eq!(m["tags"], json!([]), "{m}");
            assert_eq!(m["id_number_masked"], Value::Null, "{m}");
        }
    }
    assert!(
        !text.contains("user:"),
        "staff ids shown to a resident: {text}"
    );
    // The other member's own record stays closed to them.
    let (status, _) = get(&resident, &format!("/api/v1/residents/{other}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn metrics_only_for_this_machine_or_the_token(store: Store) {
    let st = state(&store).await;
    let outside =
        router(st.clone()).layer(MockConnectInfo(SocketAddr::from(([198, 51, 100, 4], 5000))));
    let (status, body) = get(&outside, "/metrics").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "metrics_forbidden");
    let local = router(st.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5000))));
    let (status, _) = get(&local, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let mut with_token = st;
    with_token.metrics_token = Some("scrape-secret".into());
    let outside =
        router(with_token).layer(MockConnectInfo(SocketAddr::from(([198, 51, 100, 4], 5000))));
    let (status, _, _) = send_bytes(
        &outside,
        "GET",
        "/metrics",
        &[("authorization", "Bearer scrape-secret")],
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send_bytes(
        &outside,
        "GET",
        "/metrics",
        &[("authorization", "Bearer guess")],
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn keys_and_proxied_clients_have_budgets_of_their_own(store: Store) {
    let limits = Limits {
        anonymous_address: RateLimiter::new(2, 60_000),
        api_key: RateLimiter::new(4, 60_000),
        ..Limits::default()
    };
    let proxies =
        shezhi_http::auth::TrustedProxies::parse(&["10.0.0.0/8"]).unwrap_or_else(|e| panic!("{e}"));
    let st = state(&store)
        .await
        .with_clock(Arc::new(FixedClock::new(NOW_MS)))
        .with_limits(limits)
        .with_trusted_proxies(proxies);
    let token = token_for(
        &store,
        "gateway",
        scoped(Role::Command, "510104000000"),
        None,
    )
    .await;
    let from =
        |peer: [u8; 4]| router(st.clone()).layer(MockConnectInfo(SocketAddr::from((peer, 443))));
    let app = from([10, 1, 2, 3]);
    // An Open311 client posting its key in the form body is counted by its key, not as an
    // anonymous caller of the proxy's address.
    let form = format!("api_key={token}&service_code=nope&lat=30.65&long=104.08");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _, _) = send_bytes(
            &app,
            "POST",
            "/open311/v2/requests.json",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-forwarded-for", "198.51.100.9"),
            ],
            form.clone().into_bytes(),
        )
        .await;
        statuses.push(status);
    }
    assert!(
        statuses[..4]
            .iter()
            .all(|s| *s != StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Behind the trusted proxy, two clients have two budgets; the proxy's own is not theirs.
    for client in ["203.0.113.1", "203.0.113.2"] {
        for i in 0..3 {
            let (status, _, _) = send_bytes(
                &app,
                "GET",
                "/api/v1/regions/510104000000",
                &[("x-forwarded-for", &format!("{client}, 10.9.9.9"))],
                Vec::new(),
            )
            .await;
            let expect = if i < 2 {
                StatusCode::OK
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            assert_eq!(status, expect, "{client} request {i}");
        }
    }
    // A client that is not a trusted proxy cannot pick its address.
    let direct = from([192, 0, 2, 50]);
    let mut last = StatusCode::OK;
    for i in 0..3 {
        let (status, _, _) = send_bytes(
            &direct,
            "GET",
            "/api/v1/regions/510104000000",
            &[("x-forwarded-for", &format!("203.0.113.{}", 100 + i))],
            Vec::new(),
        )
        .await;
        last = status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

async fn an_administrator_revokes_tokens_disables_users_and_ends_sessions(store: Store) {
    let st = state(&store)
        .await
        .with_clock(Arc::new(FixedClock::new(NOW_MS)));
    let admin = token_for(
        &store,
        "admin",
        vec![Binding {
            role: Role::Admin,
            scope: None,
            unit: None,
        }],
        None,
    )
    .await;
    let worker = token_for(
        &store,
        "worker",
        scoped(Role::GridWorker, "510104018001001"),
        None,
    )
    .await;
    let worker_id = store
        .user_by_username("worker")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|u| u.id)
        .unwrap_or_default();
    let admin_app = with_token(router(st.clone()), &admin);
    let worker_app = with_token(router(st.clone()), &worker);
    let (status, _) = get(&worker_app, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    // Only administrators may.
    let (status, body) = get(&worker_app, &format!("/api/v1/users/{worker_id}/tokens")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = get(&admin_app, "/api/v1/users/99999/tokens").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "user_not_found");
    let (status, list) = get(&admin_app, &format!("/api/v1/users/{worker_id}/tokens")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(
        !list.to_string().contains(&worker),
        "a token's secret in {list}"
    );
    let token_id = list["items"][0]["id"].as_i64().unwrap_or_default();
    // A session of the worker's, ended by the administrator.
    store
        .create_session(
            &shezhi_domain::access::secret_hash("phone-session"),
            worker_id,
            "csrf",
            NOW_MS,
            NOW_MS + 3_600_000,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, ended) = common::send(
        &admin_app,
        "DELETE",
        &format!("/api/v1/users/{worker_id}/sessions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["ended"], 1);
    // The token revoked: the worker is nobody at once.
    let (status, _) = common::send(
        &admin_app,
        "DELETE",
        &format!("/api/v1/tokens/{token_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = get(&worker_app, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "invalid_token");
    // Disabled: a fresh token of theirs does not work either; enabled again, it does.
    let again = secret_hash_token(&store, worker_id).await;
    let again_app = with_token(router(st), &again);
    let (status, _) = common::send(
        &admin_app,
        "POST",
        &format!("/api/v1/users/{worker_id}/disable"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = get(&again_app, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = common::send(
        &admin_app,
        "POST",
        &format!("/api/v1/users/{worker_id}/enable"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = get(&again_app, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    // Nobody disables themselves by mistake.
    let admin_id = store
        .user_by_username("admin")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|u| u.id)
        .unwrap_or_default();
    let (status, body) = common::send(
        &admin_app,
        "POST",
        &format!("/api/v1/users/{admin_id}/disable"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "cannot_disable_self");
}

async fn secret_hash_token(store: &Store, user: i64) -> String {
    let token = format!("second-token-{user}");
    let note = AuditNote {
        at_ms: NOW_MS,
        actor: "test".into(),
        action: "api_token_created".into(),
        target: String::new(),
        region_code: None,
        ip: None,
        detail: Value::Null,
    };
    store
        .create_api_token(
            user,
            "second",
            &shezhi_domain::access::secret_hash(&token),
            &note,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    token
}

on_both_backends!(
    an_administrator_revokes_tokens_disables_users_and_ends_sessions,
    a_full_number_search_needs_the_right_and_is_audited_and_limited,
    no_masked_number_can_be_worked_out_from_what_a_role_reads,
    a_bogus_credential_does_not_skip_the_address_budget,
    guesses_at_a_case_number_pause_its_tracking,
    parallel_sign_ins_are_counted_and_names_answer_alike,
    a_member_sees_only_their_own_in_the_household,
    metrics_only_for_this_machine_or_the_token,
    keys_and_proxied_clients_have_budgets_of_their_own
);
