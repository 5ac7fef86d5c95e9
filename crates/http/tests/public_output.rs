//! What leaves shezhi about a case, on SQLite and PostgreSQL (issue 19, items 8, 12 and 15):
//! Open311 gives a position to about 100 m, an address made of regions and the nearest
//! compound, and only the description staff published; a report's duplicate hint names other
//! cases only to staff who may see them; a unit does not learn who reported, nor a resident
//! which staff member took a step; and a grid calls its community rather than dispatching to
//! a department itself.

use axum::http::StatusCode;
use serde_json::{Value, json};
use shezhi_domain::access::{Binding, Role};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_http::router;
use shezhi_store::access::HandlingUnit;
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

mod common;
use common::{assert_error, bind, send, state, token_for, with_token};

/// 2026-11-23 (Monday) 10:00 China time.
const NOW: i64 = 1_795_363_200_000 + 10 * 3_600_000;
const POINT: [f64; 2] = [104.0835, 30.6465];
/// What the reporter wrote: words that must never leave the case's parties.
const WORDS: &str = "张三家楼下门口有人占道摆摊，堵住消防通道";
const TITLE: &str = "张三家楼下占道";
const OWN_ADDRESS: &str = "某某路 8 号 3 单元";

struct World {
    anonymous: axum::Router,
    resident: axum::Router,
    wangge: axum::Router,
    shequ: axum::Router,
    cg: axum::Router,
    community_name: String,
}

async fn world(store: &Store) -> World {
    let st = state(store).await;
    store
        .ensure_catalogue(0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .put_units(&[HandlingUnit {
            code: "510104-CG".into(),
            name: "锦江区城管局".into(),
            kind: "department".into(),
            region_code: "510104000000".into(),
        }])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let chain = st.locator.locate(POINT).unwrap_or_else(|e| panic!("{e:?}"));
    let (community, grid) = (chain[3].code.clone(), chain[4].code.clone());
    // The community's register, so that its compounds are the named places nearby.
    let plans = store
        .register_plans(&community)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let vault = Arc::new(Vault::new(&DataKey::from_bytes([3; 32])));
    let spec = LoadSpec {
        plans,
        seed: 5,
        as_of: synth::default_as_of(),
    };
    store
        .load_register(spec, vault.clone(), LoadOptions::new(NOW), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let app = router(
        st.with_clock(Arc::new(FixedClock::new(NOW)))
            .with_vault(Some(vault)),
    );
    let t = |name: &'static str, b: Vec<Binding>| {
        let app = app.clone();
        async move { with_token(app, &token_for(store, name, b, None).await) }
    };
    World {
        anonymous: app.clone(),
        resident: t("jumin", bind(Role::Resident, None, None)).await,
        wangge: t("wangge", bind(Role::GridWorker, Some(grid.as_str()), None)).await,
        shequ: t(
            "shequ",
            bind(Role::CommunityStaff, Some(community.as_str()), None),
        )
        .await,
        cg: t("cg", bind(Role::UnitStaff, None, Some("510104-CG"))).await,
        community_name: chain[3].name.clone(),
    }
}

fn report(offset_m: f64) -> Value {
    // About 1e-5° of latitude per metre.
    json!({"category": "order.vendor", "title": TITLE, "description": WORDS,
           "lon": POINT[0], "lat": POINT[1] + offset_m * 9.0e-6, "address": OWN_ADDRESS,
           "contact_phone": "13812345678"})
}

async fn made(app: &axum::Router, body: Value) -> Value {
    let (status, answer) = send(app, "POST", "/api/v1/cases", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

async fn open311(w: &World, number: &str, fmt: &str) -> (Value, String) {
    let req = axum::http::Request::get(format!("/open311/v2/requests/{number}.{fmt}"))
        .body(axum::body::Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = tower::ServiceExt::oneshot(w.anonymous.clone(), req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&bytes).to_string();
    let json = if fmt == "json" {
        serde_json::from_str::<Value>(&text).unwrap_or_default()[0].clone()
    } else {
        Value::Null
    };
    (json, text)
}

async fn take(app: &axum::Router, id: i64, body: Value) -> (StatusCode, Value) {
    send(
        app,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(body),
    )
    .await
}

async fn what_leaves_about_a_case(store: Store) {
    let w = world(&store).await;
    let first = made(&w.resident, report(0.0)).await;
    let (id, number) = (
        first["id"].as_i64().unwrap_or_default(),
        first["number"].as_str().unwrap_or_default().to_string(),
    );

    // Open311: rounded position, regions and the nearest compound, no words of the reporter.
    let (r, text) = open311(&w, &number, "json").await;
    assert_eq!(
        (r["lat"].clone(), r["long"].clone()),
        (json!(30.647), json!(104.084))
    );
    let address = r["address"].as_str().unwrap_or_default().to_string();
    assert!(address.starts_with("锦江区"), "{address}");
    assert!(address.contains(&w.community_name), "{address}");
    assert!(
        address.ends_with("附近"),
        "a compound of the grid is named: {address}"
    );
    assert_eq!(r["description"], "", "{r}");
    for private in [WORDS, TITLE, OWN_ADDRESS, "13812345678", "5678"] {
        assert!(!text.contains(private), "{private} in {text}");
    }

    // Someone without the right to see the case learns it exists, not what was written.
    let second = made(&w.anonymous, report(20.0)).await;
    let hint = &second["possible_duplicates"];
    assert_eq!(hint.as_array().map(Vec::len), Some(1), "{second}");
    assert_eq!(hint[0]["stage"], "reported");
    assert_eq!(hint[0]["reported_at_ms"], NOW);
    assert_eq!(hint[0]["distance_m"], 20.0, "to ten metres: {hint}");
    assert_eq!(hint[0]["public_text"], Value::Null);
    for field in ["id", "number", "title"] {
        assert!(hint[0].get(field).is_none(), "{field}: {hint}");
    }
    assert!(!second.to_string().contains(TITLE), "{second}");
    let by_resident = made(&w.resident, report(10.0)).await;
    assert!(
        by_resident["possible_duplicates"][0]
            .get("number")
            .is_none(),
        "{by_resident}"
    );
    // Staff of the place see which cases they are, to merge them.
    let by_staff = made(&w.wangge, report(5.0)).await;
    assert_eq!(
        by_staff["possible_duplicates"][0]["number"],
        json!(number),
        "{by_staff}"
    );
    assert_eq!(by_staff["possible_duplicates"][0]["title"], json!(TITLE));

    // Staff publish a description for the public; residents may not; too short is refused.
    let (status, body) = take(
        &w.resident,
        id,
        json!({"step": "publish", "note": "居民自己公开"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "step_not_permitted");
    let (status, body) = take(&w.wangge, id, json!({"step": "publish", "note": "摆摊"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "invalid_public_text");
    let public = "小区门口占道摆摊 <东门> & 侧，已通知处理";
    let (status, body) = take(&w.wangge, id, json!({"step": "publish", "note": public})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (r, _) = open311(&w, &number, "json").await;
    assert_eq!(r["description"], public);
    let (_, xml) = open311(&w, &number, "xml").await;
    assert!(
        xml.contains(
            "<description>小区门口占道摆摊 &lt;东门&gt; &amp; 侧，已通知处理</description>"
        ),
        "{xml}"
    );
    let (_, detail) = send(&w.shequ, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(detail["public_text"], public, "{detail}");
    let third = made(&w.anonymous, report(15.0)).await;
    let published: Vec<&Value> = third["possible_duplicates"]
        .as_array()
        .map(|a| a.iter().filter(|d| d["public_text"] == public).collect())
        .unwrap_or_default();
    assert_eq!(published.len(), 1, "{third}");
    // An empty text withdraws it.
    let (status, body) = take(&w.wangge, id, json!({"step": "publish", "note": ""})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (r, _) = open311(&w, &number, "json").await;
    assert_eq!(r["description"], "", "{r}");

    // A grid does not dispatch to departments: it calls its community (网格呼社区应) or solves
    // on the spot; the community above the grid dispatches.
    let (status, body) = take(&w.wangge, id, json!({"step": "accept"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, seen) = send(&w.wangge, "GET", &format!("/api/v1/cases/{id}"), None).await;
    let actions = seen["actions"].clone();
    assert!(
        !actions
            .as_array()
            .is_some_and(|a| a.contains(&json!("dispatch"))),
        "{actions}"
    );
    assert!(
        actions
            .as_array()
            .is_some_and(|a| a.contains(&json!("escalate"))),
        "{actions}"
    );
    let (status, body) = take(
        &w.wangge,
        id,
        json!({"step": "dispatch", "units": ["510104-CG"]}),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_error(&body, "dispatch_from_grid");
    let (status, body) = take(
        &w.shequ,
        id,
        json!({"step": "dispatch", "units": ["510104-CG"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The unit sees the problem, not who raised it.
    let (_, by_staff) = send(&w.shequ, "GET", &format!("/api/v1/cases/{id}"), None).await;
    let reporter = by_staff["reporter"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(reporter.starts_with("user:"), "{by_staff}");
    assert_eq!(by_staff["events"][0]["actor_name"], "jumin");
    let (status, by_unit) = send(&w.cg, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{by_unit}");
    assert_eq!(by_unit["reporter"], "reporter");
    assert_eq!(by_unit["contact_masked"], Value::Null);
    assert_eq!(by_unit["events"][0]["actor"], "reporter");
    assert_eq!(by_unit["events"][0]["actor_name"], Value::Null);
    let unit_text = by_unit.to_string();
    assert!(
        !unit_text.contains(&format!("\"{reporter}\"")),
        "{unit_text}"
    );
    assert!(!unit_text.contains("jumin"), "{unit_text}");
    // Staff's names stay visible to the unit (who dispatched to it).
    assert!(unit_text.contains("shequ"), "{unit_text}");

    // The resident sees their own steps by name and staff only as staff.
    let (_, own) = send(&w.resident, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(own["reporter"], json!(reporter));
    let events = own["events"].as_array().cloned().unwrap_or_default();
    assert!(events.len() >= 4, "{own}");
    for e in &events {
        let actor = e["actor"].as_str().unwrap_or_default();
        if actor == reporter {
            assert_eq!(e["actor_name"], "jumin");
        } else {
            assert!(actor == "staff" || actor.starts_with("system:"), "{e}");
            assert_eq!(e["actor_name"], Value::Null, "{e}");
        }
    }
    for name in ["wangge", "shequ"] {
        assert!(!own.to_string().contains(name), "{name} in {own}");
    }
}

on_both_backends!(what_leaves_about_a_case);
