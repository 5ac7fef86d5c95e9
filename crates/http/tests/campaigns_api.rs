//! Directives and campaigns over HTTP on both backends: who may issue, sign and visit; the
//! sync answers each visit; coverage and its spreadsheet agree with the store.

mod common;

use axum::http::StatusCode;
use common::{assert_error, read_xlsx, send, send_raw, state, token_for, with_token};
use serde_json::{Value, json};
use shezhi_domain::access::{Binding, Role};
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_domain::territory::RegionCode;
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

const STREET: &str = "510104018000";
const COMMUNITY: &str = "510104018001";
const GRID: &str = "510104018001001";
const NOW_MS: i64 = 1_795_400_000_000;
/// The address every request of this test comes from.
const ADDRESS: &str = "203.0.113.7";

fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn bind(role: Role, scope: &str) -> Vec<Binding> {
    vec![Binding {
        role,
        scope: Some(code(scope)),
        unit: None,
    }]
}

async fn world(store: &Store) -> (axum::Router, axum::Router, axum::Router, axum::Router) {
    let st = state(store).await;
    let plans = store
        .register_plans(&code(COMMUNITY))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
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
    store
        .ensure_catalogue(NOW_MS)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let peer = std::net::SocketAddr::from(([203, 0, 113, 7], 40_000));
    let app = shezhi_http::router(st).layer(axum::middleware::map_request(
        move |mut req: axum::http::Request<axum::body::Body>| async move {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            req
        },
    ));
    let street = token_for(store, "jiedao", bind(Role::StreetStaff, STREET), None).await;
    let shequ = token_for(store, "shequ", bind(Role::CommunityStaff, COMMUNITY), None).await;
    let wangge = token_for(store, "wangge", bind(Role::GridWorker, GRID), None).await;
    let other = token_for(
        store,
        "other",
        bind(Role::GridWorker, "510104018002001"),
        None,
    )
    .await;
    (
        with_token(app.clone(), &street),
        with_token(app.clone(), &shequ),
        with_token(app.clone(), &wangge),
        with_token(app, &other),
    )
}

fn far() -> i64 {
    // Far enough ahead of the real clock the server reads.
    4_000_000_000_000
}

async fn directives_and_campaigns_over_http(store: Store) {
    let (street, shequ, wangge, other) = world(&store).await;

    // Issue: street staff for their street; a community may not issue for the street.
    let body = json!({"region": STREET, "title": "燃气安全排查", "content": "三日内完成并反馈", "levels": ["community", "grid"],
                      "deadline_ms": far(), "attachments": [{"name": "方案.txt", "content_type": "text/plain", "data_base64": "5pa55qGI"}]});
    let (s, b) = send(&street, "POST", "/api/v1/directives", Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap_or_default();
    assert!(b["recipients"].as_i64().unwrap_or_default() > 10);
    let (s, b) = send(&shequ, "POST", "/api/v1/directives", Some(body.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let mut wrong = body.clone();
    wrong["levels"] = json!(["province"]);
    let (s, b) = send(&street, "POST", "/api/v1/directives", Some(wrong)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&b, "invalid_level");

    // Sign for one's own region only.
    let (s, b) = send(
        &shequ,
        "POST",
        &format!("/api/v1/directives/{id}/sign"),
        Some(json!({"region": COMMUNITY})),
    )
    .await;
    assert_eq!((s, b["version"].as_i64()), (StatusCode::OK, Some(1)), "{b}");
    let (s, b) = send(
        &shequ,
        "POST",
        &format!("/api/v1/directives/{id}/sign"),
        Some(json!({"region": "510104018002"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = send(
        &wangge,
        "POST",
        &format!("/api/v1/directives/{id}/report"),
        Some(json!({"region": GRID, "report": "已完成本网格排查"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = send(&street, "GET", &format!("/api/v1/directives/{id}"), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let progress = b["progress"].as_array().cloned().unwrap_or_default();
    let level = |l: &str| {
        progress
            .iter()
            .find(|p| p["level"] == l)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        (
            level("community")["signed"].as_i64(),
            level("grid")["reported"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        b["pending"]
            .as_array()
            .is_some_and(|p| p.iter().all(|r| r["region_code"] != GRID))
    );
    let (s, b) = send(
        &other,
        "GET",
        &format!("/api/v1/directives/{}", id + 1000),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

    // The issuer pages through everyone that has not reported: the grid that reported is
    // not among them, each recipient comes once, and a grid worker sees only their own grid.
    let (_, issued) = send(&street, "GET", &format!("/api/v1/directives/{id}"), None).await;
    let total = issued["directive"]["recipients"]
        .as_i64()
        .unwrap_or_default();
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let uri = format!("/api/v1/directives/{id}/recipients?limit=7&cursor={cursor}");
        let (s, b) = send(&street, "GET", &uri, None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        for r in b["items"].as_array().into_iter().flatten() {
            assert!(
                seen.insert(r["region_code"].as_str().unwrap_or_default().to_string()),
                "{r}"
            );
            assert_eq!(r["reported"], false, "{r}");
        }
        match b["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total - 1);
    assert!(!seen.contains(GRID) && seen.contains(COMMUNITY));
    let (_, b) = send(
        &wangge,
        "GET",
        &format!("/api/v1/directives/{id}/recipients?pending=false"),
        None,
    )
    .await;
    let codes: Vec<&str> = b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["region_code"].as_str())
        .collect();
    assert_eq!(codes, [GRID], "{b}");
    let (s, b) = send(
        &street,
        "GET",
        &format!("/api/v1/directives/{id}/recipients?limit=0"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_error(&b, "invalid_limit");

    // Each side sees where it stands: the community its own answer, the street that it may
    // amend; the attachment comes back as it was sent.
    let (_, b) = send(&shequ, "GET", "/api/v1/directives", None).await;
    let answer = b["answers"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["directive_id"] == id).cloned())
        .unwrap_or(Value::Null);
    assert_eq!(
        (
            &answer["region_code"],
            &answer["signed"],
            &answer["reported"]
        ),
        (&json!(COMMUNITY), &json!(true), &json!(false)),
        "{b}"
    );
    assert!(b["notices"].is_array(), "{b}");
    let (_, b) = send(&shequ, "GET", &format!("/api/v1/directives/{id}"), None).await;
    assert_eq!(
        (
            &b["mine"][0]["region_code"],
            &b["mine"][0]["signed"],
            &b["may_manage"]
        ),
        (&json!(COMMUNITY), &json!(true), &json!(false)),
        "{b}"
    );
    assert!(b["mine"][0]["name"].as_str().is_some_and(|n| !n.is_empty()));
    let (_, b) = send(&street, "GET", &format!("/api/v1/directives/{id}"), None).await;
    assert_eq!(
        (&b["may_manage"], &b["mine"]),
        (&json!(true), &json!([])),
        "{b}"
    );
    let file = b["directive"]["attachments"][0][0]
        .as_i64()
        .unwrap_or_default();
    let (s, headers, bytes) = send_raw(
        &wangge,
        "GET",
        &format!("/api/v1/directives/{id}/attachments/{file}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bytes, "方案".as_bytes());
    assert_eq!(
        headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename*=UTF-8''%E6%96%B9%E6%A1%88.txt")
    );
    let (s, b) = send(
        &wangge,
        "GET",
        &format!("/api/v1/directives/{id}/attachments/{}", file + 99),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

    // A campaign for the community; a bad form is refused by name.
    let form = json!({"questions": [{"id": "gas", "text_zh": "是否使用瓶装燃气", "type": "yes_no", "required": true}]});
    let (s, b) = send(&shequ, "POST", "/api/v1/campaigns", Some(json!({"region": COMMUNITY, "title": "燃气排查", "rounds": 3, "form": {"questions": 1}}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&b, "form_malformed");
    let (s, b) = send(
        &shequ,
        "POST",
        "/api/v1/campaigns",
        Some(json!({"region": COMMUNITY, "title": "燃气排查", "rounds": 3, "form": form})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let cid = b["id"].as_i64().unwrap_or_default();
    let households = b["households"].as_i64().unwrap_or_default();

    // The grid worker's list holds only their grid's households.
    let (s, b) = send(
        &wangge,
        "GET",
        &format!("/api/v1/campaigns/{cid}/tasks?region={GRID}&limit=500"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let tasks = b["items"].as_array().cloned().unwrap_or_default();
    assert!(
        !tasks.is_empty()
            && tasks
                .iter()
                .all(|t| t["cell_code"].as_str().is_some_and(|c| c.starts_with(GRID)))
    );
    // A grid worker of another community is answered as if the campaign did not exist,
    // whatever region they ask for (their own grid included).
    let (s, missing) = send(
        &other,
        "GET",
        &format!(
            "/api/v1/campaigns/{}/tasks?region=510104018002001",
            cid + 1000
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
    assert_error(&missing, "campaign_not_found");
    for region in [GRID, "510104018002001"] {
        let (s, b) = send(
            &other,
            "GET",
            &format!("/api/v1/campaigns/{cid}/tasks?region={region}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        assert_error(&b, "campaign_not_found");
    }

    let hh = tasks[0]["household_id"].as_i64().unwrap_or_default();
    let batch = json!({"device": "probe-phone", "visits": [
        {"client_id": "dev1-1", "household_id": hh, "round": 1, "outcome": "nobody_home", "visited_at_ms": NOW_MS},
        {"client_id": "dev1-2", "household_id": hh, "round": 1, "outcome": "visited", "visited_at_ms": NOW_MS + 3_600_000,
         "answers": {"gas": true}, "finding": "气瓶放在厨房灶台旁"},
        {"client_id": "dev1-3", "household_id": hh, "round": 1, "outcome": "visited", "visited_at_ms": NOW_MS + 7_200_000, "answers": {}}
    ]});
    let (s, b) = send(
        &wangge,
        "POST",
        &format!("/api/v1/campaigns/{cid}/visits"),
        Some(batch.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let results: Vec<&str> = b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["result"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(results, ["accepted", "accepted", "rejected"]);
    assert_eq!(b["items"][2]["code"], "answer_missing");
    // Sent again (the device lost the answer): duplicates, nothing counted twice.
    let (_, b) = send(
        &wangge,
        "POST",
        &format!("/api/v1/campaigns/{cid}/visits"),
        Some(batch),
    )
    .await;
    assert_eq!(b["items"][0]["result"], "duplicate");
    // A finding raises a case once, however often its visit is sent.
    let hazard = json!({"visits": [{"client_id": "dev1-4", "household_id": tasks[1]["household_id"], "round": 1, "outcome": "visited",
        "visited_at_ms": NOW_MS, "answers": {"gas": true}, "finding": "楼道堆放杂物堵塞消防通道",
        "raise_case": {"category": "safety.fire", "description": "入户排查发现：楼道堆放杂物堵塞消防通道"}}]});
    let (s, first) = send(
        &wangge,
        "POST",
        &format!("/api/v1/campaigns/{cid}/visits"),
        Some(hazard.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let number = first["cases"][0]["number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(number.starts_with("SQ"), "{first}");
    let (_, again) = send(
        &wangge,
        "POST",
        &format!("/api/v1/campaigns/{cid}/visits"),
        Some(hazard),
    )
    .await;
    assert_eq!(again["cases"][0]["number"], number.as_str());
    let case_id = first["cases"][0]["case_id"].as_i64().unwrap_or_default();
    let (s, b) = send(&shequ, "GET", &format!("/api/v1/cases/{case_id}"), None).await;
    assert_eq!(
        (s, b["case"]["source"].as_str()),
        (StatusCode::OK, Some("campaign")),
        "{b}"
    );

    let (s, b) = send(&other, "POST", &format!("/api/v1/campaigns/{cid}/visits"),
        Some(json!({"visits": [{"client_id": "x", "household_id": hh, "round": 1, "outcome": "vacant", "visited_at_ms": NOW_MS}]}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_error(&b, "campaign_not_found");

    // Each accepted batch is audited with who sent it, from which device, and what became of
    // its visits.
    let rows = store
        .debug_audit_rows()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let synced: Vec<(String, Value)> = rows
        .iter()
        .filter(|r| r.0.action == "campaign_visits_synced")
        .map(|r| {
            (
                r.0.target.clone(),
                serde_json::from_str(&r.0.detail).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(synced.len(), 4, "{synced:?}");
    assert_eq!(synced[0].0, format!("campaign:{cid}"));
    assert_eq!(
        synced[0].1,
        json!({"round": 1, "device": "probe-phone", "accepted": 2, "duplicate": 0, "rejected": 1})
    );
    assert_eq!(synced[1].1["duplicate"], 2, "{:?}", synced[1]);

    let (s, b) = send(
        &street,
        "GET",
        &format!("/api/v1/campaigns/{cid}/coverage?region={COMMUNITY}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let c = &b["region"]["counts"];
    assert_eq!(
        (
            c["total"].as_i64(),
            c["done"].as_i64(),
            c["visits"].as_i64(),
            c["findings"].as_i64()
        ),
        (Some(households), Some(2), Some(3), Some(2))
    );
    let grid = b["children"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["code"] == GRID)
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(grid["counts"]["done"], 2);
    let (s, b) = send(
        &wangge,
        "GET",
        &format!("/api/v1/campaigns/{cid}/coverage?region={COMMUNITY}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = send(
        &street,
        "GET",
        &format!("/api/v1/campaigns/{cid}/coverage.csv?region={COMMUNITY}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let csv = b.as_str().unwrap_or_default();
    assert!(
        csv.starts_with('\u{feff}') && csv.contains(&format!("{COMMUNITY},")),
        "{csv}"
    );

    // The Excel workbook, read back by Python's own ZIP and XML readers, holds the same
    // figures as the coverage answer, row by row.
    let (_, cov) = send(
        &street,
        "GET",
        &format!("/api/v1/campaigns/{cid}/coverage?region={COMMUNITY}"),
        None,
    )
    .await;
    let (s, headers, bytes) = send_raw(
        &street,
        "GET",
        &format!("/api/v1/campaigns/{cid}/coverage.xlsx?region={COMMUNITY}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let rows = read_xlsx(&bytes);
    let regions: Vec<&Value> = std::iter::once(&cov["region"])
        .chain(cov["children"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(rows.len(), regions.len() + 1, "{rows:?}");
    assert_eq!(rows[0][0], "区划代码 code");
    for (row, r) in rows[1..].iter().zip(regions) {
        let n = |k: &str| r["counts"][k].as_i64().unwrap_or(0);
        let want = [
            r["code"].as_str().unwrap_or_default().to_string(),
            r["name"].as_str().unwrap_or_default().to_string(),
            n("total").to_string(),
            n("done").to_string(),
            (n("total") - n("done")).to_string(),
        ];
        assert_eq!(&row[..5], &want, "{row:?}");
        if n("total") == 0 {
            assert_eq!(row[5], "", "no rate without households: {row:?}");
        } else {
            let share: f64 = row[5].parse().unwrap_or(-1.0);
            assert!(
                (share - n("done") as f64 / n("total") as f64).abs() < 1e-9,
                "{row:?}"
            );
        }
        assert_eq!(row[8], n("visits").to_string());
    }

    let (s, b) = send(
        &shequ,
        "POST",
        "/api/v1/campaigns",
        Some(
            json!({"region": COMMUNITY, "title": "高层排查", "rounds": 1,
        "building_type": "skyscraper", "form": {"questions": []}}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_error(&b, "invalid_building_type");

    // Every directive and campaign step records the address it came from.
    let (s, b) = send(
        &street,
        "POST",
        &format!("/api/v1/directives/{id}/amend"),
        Some(json!({"content": "三日内完成并反馈，补充燃气表检查", "deadline_ms": far()})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = send(
        &shequ,
        "POST",
        &format!("/api/v1/campaigns/{cid}/rounds"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = send(
        &street,
        "POST",
        &format!("/api/v1/directives/{id}/withdraw"),
        Some(json!({"reason": "并入区级方案"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let rows = store
        .debug_audit_rows()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let steps: Vec<_> = rows
        .iter()
        .filter(|r| r.0.action.starts_with("directive_") || r.0.action.starts_with("campaign_"))
        .map(|r| (r.0.action.as_str(), r.0.ip.as_deref()))
        .collect();
    for action in [
        "directive_issued",
        "directive_signed",
        "directive_reported",
        "campaign_created",
        "campaign_visits_synced",
        "directive_amended",
        "directive_withdrawn",
        "campaign_round_started",
    ] {
        assert!(steps.iter().any(|s| s.0 == action), "{action}: {steps:?}");
    }
    assert!(steps.iter().all(|s| s.1 == Some(ADDRESS)), "{steps:?}");

    // A visit's client id may have 100 characters, as the document says, in any script (40
    // Chinese characters are 120 bytes); 101 are refused.
    for (id, refused) in [("走".repeat(40), false), ("x".repeat(101), true)] {
        let visit = json!({"visits": [{"client_id": id, "household_id": hh, "round": 1,
            "outcome": "vacant", "visited_at_ms": NOW_MS}]});
        let (s, b) = send(
            &wangge,
            "POST",
            &format!("/api/v1/campaigns/{cid}/visits"),
            Some(visit),
        )
        .await;
        if refused {
            assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
            assert_error(&b, "invalid_client_id");
        } else {
            assert_eq!(s, StatusCode::OK, "{b}");
        }
    }
}

on_both_backends!(directives_and_campaigns_over_http);
