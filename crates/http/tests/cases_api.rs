//! The case loop over HTTP on SQLite and PostgreSQL, as its people live it: a resident
//! reports (without an account too, and retries safely), a grid worker solves one on the
//! spot, the grid calls the community, the community calls the street, the street blows the
//! whistle to two departments, the lead signs and feeds back, the street verifies, the
//! resident says "not fixed" and it reopens; everyone sees only what concerns them, and the
//! command view's counters follow each step.

use axum::http::StatusCode;
use serde_json::{Value, json};
use shezhi_domain::access::{Binding, Role};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_http::router;
use shezhi_store::access::HandlingUnit;
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

mod common;
use common::{assert_error, bind, read_xlsx, send, send_raw, state, token_for, with_token};

/// 2026-11-23 (Monday) 10:00 China time.
const NOW: i64 = 1_795_363_200_000 + 10 * 3_600_000;
const POINT: [f64; 2] = [104.0835, 30.6465];

struct World {
    anonymous: axum::Router,
    resident: axum::Router,
    wangge: axum::Router,
    shequ: axum::Router,
    other_shequ: axum::Router,
    jiedao: axum::Router,
    cg: axum::Router,
    sw: axum::Router,
    zj: axum::Router,
    zhihui: axum::Router,
}

async fn world(store: &Store) -> World {
    let st = state(store).await;
    store
        .ensure_catalogue(0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let units = ["CG", "SW", "ZJ"].map(|u| HandlingUnit {
        code: format!("510104-{u}"),
        name: format!("锦江区{u}"),
        kind: "department".into(),
        region_code: "510104000000".into(),
    });
    store
        .put_units(&units)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The point's chain decides who answers for it.
    let chain = st.locator.locate(POINT).unwrap_or_else(|e| panic!("{e:?}"));
    let code_at = |i: usize| chain[i].code.as_str().to_string();
    let (street, community, grid) = (code_at(2), code_at(3), code_at(4));
    let other_community = if community.ends_with("001") {
        format!("{}002", &community[..9])
    } else {
        format!("{}001", &community[..9])
    };
    let app = router(
        // Reports and steps go through the group-commit writers, as in the server.
        st.with_clock(Arc::new(FixedClock::new(NOW)))
            .with_vault(Some(Arc::new(Vault::new(&DataKey::from_bytes([3; 32])))))
            .with_group_commit(64),
    );
    let t = |name: &'static str, b: Vec<Binding>| {
        let app = app.clone();
        async move { with_token(app, &token_for(store, name, b, None).await) }
    };
    World {
        anonymous: app.clone(),
        resident: t("jumin", bind(Role::Resident, None, None)).await,
        wangge: t("wangge", bind(Role::GridWorker, Some(&grid), None)).await,
        shequ: t("shequ", bind(Role::CommunityStaff, Some(&community), None)).await,
        other_shequ: t(
            "other",
            bind(Role::CommunityStaff, Some(&other_community), None),
        )
        .await,
        jiedao: t("jiedao", bind(Role::StreetStaff, Some(&street), None)).await,
        cg: t("cg", bind(Role::UnitStaff, None, Some("510104-CG"))).await,
        sw: t("sw", bind(Role::UnitStaff, None, Some("510104-SW"))).await,
        zj: t("zj", bind(Role::UnitStaff, None, Some("510104-ZJ"))).await,
        zhihui: t("zhihui", bind(Role::Command, Some("510104000000"), None)).await,
    }
}

fn report_body() -> Value {
    json!({"category": "order.vendor", "description": "小区门口占道摆摊，堵住消防通道",
           "lon": POINT[0], "lat": POINT[1], "address": "锦江区某路 8 号"})
}

async fn step(app: &axum::Router, id: i64, body: Value) -> Value {
    let (status, answer) = send(
        app,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body} → {answer}");
    answer
}

async fn open_count(w: &World, code: &str) -> i64 {
    let (status, o) = send(
        &w.zhihui,
        "GET",
        &format!("/api/v1/overview?region={code}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    o["region"]["counts"]["open"].as_i64().unwrap_or(0)
}

async fn the_loop_from_report_to_not_fixed(store: Store) {
    let w = world(&store).await;
    // Without an account a phone is required; with one the case can be followed by number.
    let (status, body) = send(&w.anonymous, "POST", "/api/v1/cases", Some(report_body())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "contact_required");
    let mut anon = report_body();
    anon["contact_phone"] = json!("13812345678");
    let (status, made) = send(&w.anonymous, "POST", "/api/v1/cases", Some(anon)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let number = made["number"].as_str().unwrap_or_default().to_string();
    assert!(number.starts_with("SQ20261123"), "{number}");
    let (status, tracked) = send(
        &w.anonymous,
        "GET",
        &format!("/api/v1/track/{number}?phone_last4=5678"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tracked}");
    assert!(!tracked.to_string().contains("13812345678"));
    let (status, _) = send(
        &w.anonymous,
        "GET",
        &format!("/api/v1/track/{number}?phone_last4=0000"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A resident's report, retried with the same key, is one case; it is next to the first.
    let open_before = open_count(&w, "510104000000").await;
    let retry = || async {
        let req = axum::http::Request::post("/api/v1/cases")
            .header("content-type", "application/json")
            .header("idempotency-key", "jumin-2026-11-23-1")
            .body(axum::body::Body::from(report_body().to_string()))
            .unwrap_or_else(|e| panic!("{e}"));
        let resp = tower::ServiceExt::oneshot(w.resident.clone(), req)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (
            status,
            serde_json::from_slice::<Value>(&bytes).unwrap_or_default(),
        )
    };
    let (s1, first) = retry().await;
    let (s2, second) = retry().await;
    assert_eq!(
        (s1, s2),
        (StatusCode::CREATED, StatusCode::OK),
        "{first} {second}"
    );
    assert_eq!(first["id"], second["id"]);
    // The resident learns a likely duplicate exists, not its number or its reporter's words.
    assert_eq!(
        first["possible_duplicates"][0]["stage"],
        json!("reported"),
        "{first}"
    );
    assert!(
        first["possible_duplicates"][0].get("number").is_none(),
        "{first}"
    );
    let id = first["id"].as_i64().unwrap_or_default();
    assert_eq!(open_count(&w, "510104000000").await, open_before + 1);

    // A grid worker reports and solves one on the spot.
    let mut spot = report_body();
    spot["category"] = json!("appearance.garbage");
    spot["description"] = json!("路边暴露垃圾");
    spot["solved_on_spot"] = json!("已联系保洁清理完毕");
    let (status, solved) = send(&w.wangge, "POST", "/api/v1/cases", Some(spot.clone())).await;
    assert_eq!(
        (status, solved["stage"].as_str()),
        (StatusCode::CREATED, Some("closed")),
        "{solved}"
    );
    let (status, body) = send(&w.resident, "POST", "/api/v1/cases", Some(spot)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only grid workers solve on the spot: {body}"
    );

    // Who sees the resident's case.
    for (who, app, visible) in [
        ("resident", &w.resident, true),
        ("grid", &w.wangge, true),
        ("community", &w.shequ, true),
        ("other community", &w.other_shequ, false),
        ("street", &w.jiedao, true),
        ("unit", &w.cg, false),
        ("command", &w.zhihui, true),
    ] {
        let (status, _) = send(app, "GET", &format!("/api/v1/cases/{id}"), None).await;
        assert_eq!(status == StatusCode::OK, visible, "{who}: {status}");
    }
    let (_, seen) = send(&w.resident, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(seen["actions"], json!(["comment"]), "{seen}");
    let (status, body) = send(
        &w.resident,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(json!({"step": "accept"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "step_not_permitted");

    // 群众呼网格应、网格呼社区应、社区呼上级应.
    let (_, g) = send(&w.wangge, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert!(
        g["actions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("escalate"))),
        "{g}"
    );
    let events = g["events"].as_array().map(Vec::len).unwrap_or(0) as i64;
    let (status, body) = send(
        &w.wangge,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(json!({"step": "escalate", "expect_events": events + 5})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "case_changed");
    step(
        &w.wangge,
        id,
        json!({"step": "escalate", "note": "需社区协调", "expect_events": events}),
    )
    .await;
    // Staff see who took each step by name; the resident sees only their own.
    let names = |v: &Value| -> Vec<(String, Value)> {
        v["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["step"].as_str().unwrap_or_default().to_string(),
                            e["actor_name"].clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (_, by_staff) = send(&w.shequ, "GET", &format!("/api/v1/cases/{id}"), None).await;
    let (_, by_resident) = send(&w.resident, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(
        names(&by_staff),
        vec![
            ("report".to_string(), json!("jumin")),
            ("escalate".to_string(), json!("wangge"))
        ],
        "{by_staff}"
    );
    assert_eq!(
        names(&by_resident),
        vec![
            ("report".to_string(), json!("jumin")),
            ("escalate".to_string(), Value::Null)
        ],
        "{by_resident}"
    );
    let (_, inbox) = send(&w.shequ, "GET", "/api/v1/cases?box=to_accept", None).await;
    assert!(
        inbox["items"]
            .as_array()
            .is_some_and(|v| v.iter().any(|c| c["id"] == json!(id))),
        "{inbox}"
    );
    let (_, other) = send(&w.other_shequ, "GET", "/api/v1/cases?box=to_accept", None).await;
    assert_eq!(other["items"].as_array().map(Vec::len), Some(0), "{other}");
    step(&w.shequ, id, json!({"step": "accept"})).await;
    let (status, body) = send(
        &w.shequ,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(json!({"step": "whistle", "units": ["510104-CG", "510104-SW"]})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a community does not blow the whistle: {body}"
    );
    assert_error(&body, "whistle_below_street");
    step(
        &w.shequ,
        id,
        json!({"step": "escalate", "note": "涉及多部门，请街道协调"}),
    )
    .await;
    // Once it sits with the street, it is in the street's box and no longer in the
    // community's, which could not act on it there.
    let in_box = |v: &Value| {
        v["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|c| c["id"] == json!(id)))
    };
    let (_, street_box) = send(&w.jiedao, "GET", "/api/v1/cases?box=to_dispatch", None).await;
    assert!(in_box(&street_box), "{street_box}");
    let (_, community_box) = send(&w.shequ, "GET", "/api/v1/cases?box=to_dispatch", None).await;
    assert!(!in_box(&community_box), "{community_box}");
    step(
        &w.jiedao,
        id,
        json!({"step": "whistle", "units": ["510104-CG", "510104-SW"], "note": "街道吹哨"}),
    )
    .await;

    // 部门报到: the lead signs, the assisting unit checks in; a third unit sees nothing.
    let (_, to_sign) = send(&w.cg, "GET", "/api/v1/cases?box=to_sign", None).await;
    assert_eq!(to_sign["items"][0]["id"], json!(id), "{to_sign}");
    let (status, _) = send(&w.zj, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    step(&w.cg, id, json!({"step": "sign"})).await;
    step(&w.sw, id, json!({"step": "check_in"})).await;
    let (status, body) = send(
        &w.sw,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(json!({"step": "feedback", "note": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // A feedback photo must be a whole image: a PNG header followed by anything else is not.
    let fake = shezhi_http::base64::encode(b"\x89PNG\r\n\x1a\n<html>0000</html>");
    let (status, body) = send(&w.cg, "POST", &format!("/api/v1/cases/{id}/steps"),
        Some(json!({"step": "feedback", "note": "已清理", "photos": [{"content_type": "image/png", "data_base64": fake}]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "invalid_photo");
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(4, 4)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{e}"));
    let png = shezhi_http::base64::encode(png.get_ref());
    step(&w.cg, id, json!({"step": "feedback", "note": "已清理占道摊点并设置隔离", "photos": [{"content_type": "image/png", "data_base64": png}]})).await;
    let (_, d) = send(&w.jiedao, "GET", &format!("/api/v1/cases/{id}"), None).await;
    let photo = d["photos"][0].as_i64().unwrap_or_default();
    let (status, _) = send(
        &w.cg,
        "GET",
        &format!("/api/v1/cases/{id}/photos/{photo}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        &w.other_shequ,
        "GET",
        &format!("/api/v1/cases/{id}/photos/{photo}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    step(
        &w.jiedao,
        id,
        json!({"step": "verify", "note": "现场核实已整改"}),
    )
    .await;

    // The resident says it is not fixed: it reopens with the same unit.
    let done = step(
        &w.resident,
        id,
        json!({"step": "rate", "satisfaction": "unsatisfied", "not_fixed": true}),
    )
    .await;
    assert_eq!(done["stage"], "handling");
    let (_, notes) = send(&w.resident, "GET", "/api/v1/notifications", None).await;
    assert!(
        notes["items"]
            .as_array()
            .is_some_and(|v| v.iter().any(|n| n["step"] == "verify")),
        "{notes}"
    );
    let (_, unit_notes) = send(&w.cg, "GET", "/api/v1/notifications", None).await;
    assert!(
        unit_notes["items"]
            .as_array()
            .is_some_and(|v| v.iter().any(|n| n["step"] == "rate")),
        "{unit_notes}"
    );
    let (status, ind) = send(
        &w.zhihui,
        "GET",
        "/api/v1/indicators?scope=510104000000&from=2026-11-01&to=2026-11-30",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ind}");
    assert_eq!(ind["counts"]["not_fixed"], 1);
    assert_eq!(ind["counts"]["whistled"], 1);
    let (status, _) = send(
        &w.shequ,
        "GET",
        "/api/v1/indicators?scope=510104000000",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, mine) = send(&w.resident, "GET", "/api/v1/cases?box=mine", None).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
    the_evaluation_report_has_the_indicators_of_each_row(&w).await;
}

/// The district's evaluation report as a workbook: the district, its streets and its units
/// with work, each row with the same figures as the indicators of its scope; refused to a
/// community's staff, and a reversed period is refused.
async fn the_evaluation_report_has_the_indicators_of_each_row(w: &World) {
    let period = "from=2026-11-01&to=2026-11-30";
    let (status, headers, bytes) = send_raw(
        &w.zhihui,
        "GET",
        &format!("/api/v1/indicators/report.xlsx?region=510104000000&{period}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let rows = read_xlsx(&bytes);
    assert_eq!(rows[0][0], "类别 kind");
    assert_eq!(rows[1][1], "510104000000");
    let (_, streets) = send(
        &w.zhihui,
        "GET",
        "/api/v1/regions/510104000000/children",
        None,
    )
    .await;
    let streets = streets["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert!(streets > 1);
    let units: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "单位 unit").collect();
    assert_eq!(rows.len(), 1 + 1 + streets + units.len(), "{rows:?}");
    // The lead department had work this month.
    assert!(units.iter().any(|r| r[1] == "510104-CG"), "{units:?}");
    // A unit's figures as the board ranks the district's units (this month is the period:
    // nothing happens after the test's today); a region's as its indicators.
    let (status, board) = send(&w.zhihui, "GET", "/api/v1/board?region=510104000000", None).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    for row in &rows[1..] {
        let ind = if row[0] == "单位 unit" {
            let unit = board["units"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|u| u["code"] == row[1].as_str());
            unit.unwrap_or_else(|| panic!("{row:?} not on the board {board}"))["indicators"].clone()
        } else {
            let (status, ind) = send(
                &w.zhihui,
                "GET",
                &format!("/api/v1/indicators?scope={}&{period}", row[1]),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{ind}");
            ind
        };
        let n = |k: &str| ind["counts"][k].as_i64().unwrap_or(0).to_string();
        assert_eq!(
            &row[3..8],
            &[
                n("intake"),
                n("closed"),
                n("closed_on_time"),
                n("open"),
                n("overdue_open")
            ],
            "{row:?} {ind}"
        );
        // Empty cells at the end of a row are not written.
        let cells: Vec<String> = (8..12)
            .map(|i| row.get(i).cloned().unwrap_or_default())
            .collect();
        for (cell, key) in cells.iter().zip([
            "on_time_rate",
            "close_rate",
            "dispatch_accuracy",
            "rework_rate",
        ]) {
            match ind[key].as_f64() {
                Some(r) => assert!(
                    (cell.parse::<f64>().unwrap_or(-1.0) - r).abs() < 1e-9,
                    "{key}: {row:?} {ind}"
                ),
                None => assert_eq!(cell, "", "{key}: {row:?}"),
            }
        }
    }
    assert!(rows[1][3].parse::<i64>().unwrap_or(0) >= 3, "{rows:?}");
    let (status, _, _) = send_raw(
        &w.shequ,
        "GET",
        "/api/v1/indicators/report.xlsx?region=510104000000",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(
        &w.zhihui,
        "GET",
        "/api/v1/indicators/report.xlsx?from=2026-11-30&to=2026-11-01",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_period");
}

async fn bad_input_gets_clear_errors(store: Store) {
    let w = world(&store).await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"category": "order.vendor", "description": "x", "lon": POINT[0], "lat": POINT[1]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_description",
        ),
        (
            json!({"category": "no.such", "description": "占道经营", "lon": POINT[0], "lat": POINT[1]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_category",
        ),
        (
            json!({"category": "order.vendor", "description": "占道经营"}),
            StatusCode::BAD_REQUEST,
            "place_required",
        ),
        (
            json!({"category": "order.vendor", "description": "占道经营", "lon": 120.0, "lat": 30.0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_territory",
        ),
        (
            json!({"category": "order.vendor", "description": "占道经营", "cell_code": "510104018001"}),
            StatusCode::BAD_REQUEST,
            "cell_required",
        ),
        (
            json!({"category": "order.vendor", "description": "占道经营", "lon": POINT[0], "lat": POINT[1], "contact_phone": "12345"}),
            StatusCode::BAD_REQUEST,
            "invalid_phone",
        ),
        (
            json!({"category": "order.vendor", "description": "占道经营", "lon": POINT[0], "lat": POINT[1], "photos": [{"content_type": "image/gif", "data_base64": "R0lGODlh"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_type",
        ),
        (
            json!({"category": "order.vendor", "description": "占道经营", "lon": POINT[0], "lat": POINT[1], "photos": [{"content_type": "image/png", "data_base64": "not base64!"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_photo",
        ),
        (
            json!({"category": "order.vendor", "description": "占道经营", "lon": POINT[0], "lat": POINT[1], "source": "hotline"}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = send(&w.resident, "POST", "/api/v1/cases", Some(body.clone())).await;
        assert_eq!(got, status, "{body} → {answer}");
        if code == "outside_territory" {
            assert!(answer["error"]["code"].is_string(), "{answer}");
        } else {
            assert_error(&answer, code);
        }
    }
    let (_, made) = send(&w.resident, "POST", "/api/v1/cases", Some(report_body())).await;
    let id = made["id"].as_i64().unwrap_or_default();
    for (body, status, code) in [
        (
            json!({"step": "fly"}),
            StatusCode::BAD_REQUEST,
            "invalid_step",
        ),
        (
            json!({"step": "rate", "satisfaction": "meh"}),
            StatusCode::BAD_REQUEST,
            "invalid_satisfaction",
        ),
        (
            json!({"step": "reject"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
        ),
        (
            json!({"step": "sign"}),
            StatusCode::FORBIDDEN,
            "step_not_permitted",
        ),
    ] {
        let app = if code == "invalid_satisfaction" {
            &w.resident
        } else {
            &w.wangge
        };
        let (got, answer) = send(
            app,
            "POST",
            &format!("/api/v1/cases/{id}/steps"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_error(&answer, code);
    }
    let (got, answer) = send(
        &w.wangge,
        "POST",
        "/api/v1/cases/99999/steps",
        Some(json!({"step": "accept"})),
    )
    .await;
    assert_eq!(got, StatusCode::NOT_FOUND);
    assert_error(&answer, "case_not_found");
    let (got, answer) = send(&w.resident, "GET", "/api/v1/cases?box=nope", None).await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    assert_error(&answer, "invalid_box");
    let (got, _) = send(&w.anonymous, "GET", "/api/v1/cases", None).await;
    assert_eq!(got, StatusCode::UNAUTHORIZED);
    let (got, cats) = send(
        &w.anonymous,
        "GET",
        "/api/v1/categories?q=楼道里电动车飞线充电",
        None,
    )
    .await;
    assert_eq!(got, StatusCode::OK);
    assert_eq!(cats["suggested"][0], "safety.ebike");
}

/// Staff find cases by words of their text, in any order, within their own territory only;
/// a report is found at once and again once the search indexer has taken it in.
async fn staff_find_cases_by_their_words(store: Store) {
    let w = world(&store).await;
    let mut numbers = Vec::new();
    for description in [
        "楼道里堆放了很多杂物，存在消防安全隐患",
        "小区门口三盏路灯不亮，老人出门不安全",
    ] {
        let mut body = report_body();
        body["category"] = json!("property.service");
        body["description"] = json!(description);
        let (status, made) = send(&w.resident, "POST", "/api/v1/cases", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        numbers.push(made["number"].as_str().unwrap_or_default().to_string());
    }
    let found = |app: axum::Router, q: &str| {
        let q = q.to_string();
        async move {
            let (status, list) =
                send(&app, "GET", &format!("/api/v1/cases?box=all&q={q}"), None).await;
            assert_eq!(status, StatusCode::OK, "{q}: {list}");
            list["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c["number"].as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    for round in ["before indexing", "after indexing"] {
        assert_eq!(
            found(w.shequ.clone(), "堆放杂物").await,
            [numbers[0].clone()],
            "{round}"
        );
        assert_eq!(
            found(w.shequ.clone(), "老人%20路灯").await,
            [numbers[1].clone()],
            "{round}"
        );
        assert_eq!(
            found(w.jiedao.clone(), "消防安全").await,
            [numbers[0].clone()],
            "{round}"
        );
        assert!(
            found(w.shequ.clone(), "路灯%20杂物").await.is_empty(),
            "{round}"
        );
        // Another community's staff find nothing of this one's.
        assert!(
            found(w.other_shequ.clone(), "堆放杂物").await.is_empty(),
            "{round}"
        );
        store
            .index_all_case_text()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let by_number = found(w.shequ.clone(), &numbers[1].to_lowercase()).await;
    assert_eq!(by_number, [numbers[1].clone()]);
}

on_both_backends!(
    staff_find_cases_by_their_words,
    the_loop_from_report_to_not_fixed,
    bad_input_gets_clear_errors
);
