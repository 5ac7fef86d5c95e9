//! The register over HTTP on SQLite and PostgreSQL: lists, details, search and counts, with
//! every identity number and phone masked in every response, and clear errors for bad input.

use axum::http::StatusCode;
use serde_json::Value;
use shezhi_domain::clock::FixedClock;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_domain::territory::RegionCode;
use shezhi_http::router;
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

mod common;
use common::{assert_error, get, state, token_for, with_token};
use shezhi_domain::access::{Binding, Role};

const COMMUNITY: &str = "510104018001";
const NOW_MS: i64 = 1_795_400_000_000;

fn vault() -> Arc<Vault> {
    Arc::new(Vault::new(&DataKey::from_bytes([9; 32])))
}

/// The router over a store with one community's register, and the plain numbers generated,
/// as a street worker and as the community's own staff (who may see numbers in
/// clear and so search by them).
async fn apps(store: &Store, with_key: bool) -> (axum::Router, axum::Router, Vec<String>) {
    let st = state(store).await;
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
    let mut secrets = Vec::new();
    for p in &plans {
        for person in synth::generate_grid(p, 3, synth::default_as_of()).people {
            secrets.extend(person.id_number.map(|x| x.as_str().to_string()));
            secrets.extend(person.phone.map(|x| x.as_str().to_string()));
        }
    }
    let st = st
        .with_clock(Arc::new(FixedClock::new(NOW_MS)))
        .with_vault(with_key.then(vault));
    // A street worker of the community's street: sees this community and its (empty) sisters.
    let token = token_for(
        store,
        "street",
        vec![Binding {
            role: Role::StreetStaff,
            scope: RegionCode::parse("510104018000").ok(),
            unit: None,
        }],
        None,
    )
    .await;
    let community = token_for(
        store,
        "community",
        vec![Binding {
            role: Role::CommunityStaff,
            scope: RegionCode::parse(COMMUNITY).ok(),
            unit: None,
        }],
        None,
    )
    .await;
    (
        with_token(router(st.clone()), &token),
        with_token(router(st), &community),
        secrets,
    )
}

fn assert_no_secret(body: &Value, secrets: &[String]) {
    let text = body.to_string();
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "clear number {}… in a response",
            &s[..4]
        );
    }
}

async fn lists_details_and_counts_are_masked(store: Store) {
    let (app, community, secrets) = apps(&store, true).await;
    let mut bodies = Vec::new();
    let (status, page) = get(
        &app,
        &format!("/api/v1/regions/{COMMUNITY}/residents?limit=200"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 200);
    for r in &items {
        if let Some(m) = r["id_number_masked"].as_str() {
            assert_eq!(m.len(), 18);
            assert_eq!(&m[2..17], "***************");
        }
        if let Some(m) = r["phone_masked"].as_str() {
            assert_eq!(&m[3..7], "****");
        }
    }
    let cursor = page["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("more pages"));
    let (_, next) = get(
        &app,
        &format!("/api/v1/regions/{COMMUNITY}/residents?limit=200&cursor={cursor}"),
    )
    .await;
    assert_ne!(next["items"][0]["id"], items[0]["id"]);
    bodies.push(page);
    bodies.push(next);

    let (status, households) = get(
        &app,
        &format!("/api/v1/regions/{COMMUNITY}/households?limit=5"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let hid = households["items"][0]["id"].as_i64().unwrap_or_default();
    let (status, detail) = get(&app, &format!("/api/v1/households/{hid}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert!(detail["members"].as_array().is_some_and(|m| !m.is_empty()));
    assert!(
        detail["household"]["address"]
            .as_str()
            .is_some_and(|a| a.contains('栋') || a.contains('号'))
    );
    let rid = detail["members"][0]["id"].as_i64().unwrap_or_default();
    let (status, person) = get(&app, &format!("/api/v1/residents/{rid}")).await;
    assert_eq!(status, StatusCode::OK);
    bodies.extend([households, detail, person]);

    // Paging through one key population gives exactly its live count.
    let mut alone = 0;
    let mut cursor = String::new();
    loop {
        let (status, page) = get(
            &app,
            &format!(
                "/api/v1/regions/{COMMUNITY}/residents?tag=elderly_alone&limit=200&cursor={cursor}"
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assert!(items.iter().all(|r| {
            r["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == "elderly_alone"))
        }));
        alone += items.len() as i64;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => {
                bodies.push(page);
                break;
            }
        }
    }
    let (_, counts) = get(&app, &format!("/api/v1/regions/{COMMUNITY}/counts")).await;
    assert_eq!(Some(alone), counts["counts"]["tag.elderly_alone"].as_i64());
    let recount = store
        .recount(&RegionCode::parse(COMMUNITY).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in &recount {
        assert_eq!(counts["counts"][k].as_i64(), Some(*v), "{k}");
    }
    bodies.push(counts);

    // Search by a full number finds the person without ever echoing the number, for those
    // who may see numbers in clear; the street worker may not, and learns nothing.
    let secret = secrets
        .iter()
        .find(|s| s.len() == 18)
        .cloned()
        .unwrap_or_default();
    let by_number = format!("/api/v1/residents/search?scope={COMMUNITY}&q={secret}");
    let (status, refused) = get(&app, &by_number).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_error(&refused, "forbidden");
    let (status, found) = get(&community, &by_number).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    let masked = found["items"][0]["id_number_masked"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, by_mask) = get(
        &app,
        &format!(
            "/api/v1/residents/search?scope={COMMUNITY}&q={}&limit=500",
            masked.replace('*', "%2A")
        ),
    )
    .await;
    assert!(
        by_mask["items"]
            .as_array()
            .is_some_and(|v| v.iter().any(|r| r["id"] == found["items"][0]["id"]))
    );
    let name = found["items"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, by_name) = get(
        &app,
        &format!(
            "/api/v1/residents/search?scope={COMMUNITY}&q={}",
            urlencode(&name)
        ),
    )
    .await;
    assert!(by_name["items"].as_array().is_some_and(|v| {
        v.iter()
            .all(|r| r["name"].as_str().is_some_and(|n| n.starts_with(&name)))
    }));
    // Outside the scope nothing is found, and the community's staff may not search there.
    let (_, elsewhere) = get(
        &app,
        "/api/v1/residents/search?scope=510104018002&q=%E5%BC%A0",
    )
    .await;
    assert_eq!(elsewhere["items"].as_array().map(Vec::len), Some(0));
    let (status, _) = get(
        &community,
        &format!("/api/v1/residents/search?scope=510104018002&q={secret}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    bodies.extend([found, by_mask, by_name, elsewhere]);
    for b in &bodies {
        assert_no_secret(b, &secrets);
    }
}

async fn bad_input_gets_clear_errors(store: Store) {
    let (app, community, secrets) = apps(&store, false).await;
    let full_number = format!(
        "/api/v1/residents/search?scope={COMMUNITY}&q={}",
        secrets
            .iter()
            .find(|s| s.len() == 18)
            .cloned()
            .unwrap_or_default()
    );
    // Without a data key a full number cannot be looked up, for those who may search by one.
    let (got, body) = get(&community, &full_number).await;
    assert_eq!(got, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "data_key_missing");
    let cases = [
        (
            format!("/api/v1/regions/{COMMUNITY}/residents?limit=0"),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            format!("/api/v1/regions/{COMMUNITY}/residents?limit=abc"),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            format!("/api/v1/regions/{COMMUNITY}/residents?tag=vip"),
            StatusCode::BAD_REQUEST,
            "invalid_tag",
        ),
        (
            "/api/v1/regions/510104999999/households".to_string(),
            StatusCode::NOT_FOUND,
            "region_not_found",
        ),
        (
            "/api/v1/regions/51/counts".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_region_code",
        ),
        (
            "/api/v1/households/abc".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "/api/v1/households/123".to_string(),
            StatusCode::NOT_FOUND,
            "household_not_found",
        ),
        (
            "/api/v1/residents/-4".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "/api/v1/residents/999".to_string(),
            StatusCode::NOT_FOUND,
            "resident_not_found",
        ),
        (
            "/api/v1/residents/search?q=张".to_string(),
            StatusCode::BAD_REQUEST,
            "scope_required",
        ),
        (
            format!("/api/v1/residents/search?scope={COMMUNITY}&q=%20"),
            StatusCode::BAD_REQUEST,
            "invalid_search",
        ),
        (full_number, StatusCode::FORBIDDEN, "forbidden"),
    ];
    for (uri, status, code) in cases {
        let (got, body) = get(&app, &uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert_error(&body, code);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

on_both_backends!(
    lists_details_and_counts_are_masked,
    bad_input_gets_clear_errors
);
