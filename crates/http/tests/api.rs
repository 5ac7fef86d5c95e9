//! The HTTP API against a real store on SQLite and on PostgreSQL, through the router
//! (no socket): the region tree, grids, the map, point lookup and bad input.

use axum::http::StatusCode;
use shezhi_domain::territory::Level;
use shezhi_store::{Store, on_both_backends};

mod common;
use common::{app, assert_error, get};

use shezhi_store::testing::one_district as jinjiang;

async fn region_node_has_counts_and_ancestors(store: Store) {
    let app = app(&store).await;
    let (s, b) = get(&app, "/api/v1/regions/510104000000").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["region"]["name"], "锦江区");
    assert_eq!(b["ancestors"][0]["code"], "510100000000");
    let streets = jinjiang()
        .iter()
        .filter(|r| r.level() == Level::Street)
        .count();
    assert_eq!(b["counts"]["street"], streets as i64);
    let micro = jinjiang()
        .iter()
        .filter(|r| r.level() == Level::MicroGrid)
        .count();
    assert_eq!(b["counts"]["micro_grid"], micro as i64);

    let (s, b) = get(&app, "/api/v1/regions/510104000000/children").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["items"].as_array().map(Vec::len), Some(streets));
}

async fn grids_and_maps_are_geojson(store: Store) {
    let app = app(&store).await;
    let grid = jinjiang()
        .iter()
        .find(|r| r.level() == Level::Grid)
        .map(|r| r.code.to_string())
        .unwrap_or_default();
    let (s, b) = get(&app, &format!("/api/v1/grids/{grid}")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["type"], "Feature");
    assert!(matches!(
        b["geometry"]["type"].as_str(),
        Some("Polygon" | "MultiPolygon")
    ));
    let chain: Vec<&str> = b["properties"]["ancestors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["level"].as_str())
        .collect();
    assert_eq!(chain, ["city", "district", "street", "community"]);

    let (s, b) = get(&app, "/api/v1/regions/510100000000/map").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["type"], "FeatureCollection");
    assert_eq!(b["features"][0]["properties"]["code"], "510104000000");
    assert!(b["features"][0]["geometry"]["coordinates"].is_array());

    let (s, b) = get(&app, "/api/v1/grids/510104000000").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&b, "not_a_grid");
}

async fn points_resolve_to_their_whole_chain(store: Store) {
    let app = app(&store).await;
    let micro = jinjiang()
        .iter()
        .filter(|r| r.level() == Level::MicroGrid)
        .nth(37);
    let micro = micro.unwrap_or_else(|| panic!("no micro-grid"));
    let p = micro
        .shape
        .as_ref()
        .and_then(|s| s.interior_point())
        .unwrap_or_else(|| panic!("no point"));
    let (s, b) = get(&app, &format!("/api/v1/locate?lon={}&lat={}", p[0], p[1])).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let chain: Vec<&str> = b["chain"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["code"].as_str())
        .collect();
    let mut want: Vec<String> = micro
        .code
        .ancestors()
        .iter()
        .map(ToString::to_string)
        .collect();
    want.push(micro.code.to_string());
    assert_eq!(chain, want);
}

async fn bad_input_gets_a_specific_bilingual_error(store: Store) {
    let app = app(&store).await;
    let cases = [
        (
            "/api/v1/regions/5101",
            StatusCode::BAD_REQUEST,
            "invalid_region_code",
        ),
        (
            "/api/v1/regions/51010400000x",
            StatusCode::BAD_REQUEST,
            "invalid_region_code",
        ),
        (
            "/api/v1/regions/510199000000",
            StatusCode::NOT_FOUND,
            "region_not_found",
        ),
        (
            "/api/v1/regions/510199000000/children",
            StatusCode::NOT_FOUND,
            "region_not_found",
        ),
        (
            "/api/v1/grids/510104017001999",
            StatusCode::NOT_FOUND,
            "region_not_found",
        ),
        (
            "/api/v1/locate?lon=abc&lat=30",
            StatusCode::BAD_REQUEST,
            "invalid_point",
        ),
        (
            "/api/v1/locate?lat=30",
            StatusCode::BAD_REQUEST,
            "invalid_point",
        ),
        (
            "/api/v1/locate?lon=104&lat=91",
            StatusCode::BAD_REQUEST,
            "invalid_point",
        ),
        (
            "/api/v1/locate?lon=116.39&lat=39.9",
            StatusCode::UNPROCESSABLE_ENTITY,
            "point_outside_territory",
        ),
        // Inside Chengdu but outside the one district loaded here.
        (
            "/api/v1/locate?lon=103.6&lat=30.9",
            StatusCode::UNPROCESSABLE_ENTITY,
            "point_outside_territory",
        ),
        ("/api/v1/nowhere", StatusCode::NOT_FOUND, "not_found"),
    ];
    for (uri, status, code) in cases {
        let (s, b) = get(&app, uri).await;
        assert_eq!(s, status, "{uri}: {b}");
        assert_error(&b, code);
    }
}

async fn health_and_readiness(store: Store) {
    let app = app(&store).await;
    let (s, b) = get(&app, "/healthz").await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, b) = get(&app, "/readyz").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["database"], store.backend().as_str());
    assert!(b["indexed_cells"].as_u64().unwrap_or(0) > 100);
    // Every page and asset is served by the binary and names nothing elsewhere (the SVG
    // namespace is an identifier, not a fetch).
    let external = |text: &str| text.replace("http://www.w3.org/", "").contains("://");
    for page in [
        "/",
        "/command",
        "/desk",
        "/field",
        "/resident",
        "/territory",
    ] {
        let (s, b) = get(&app, page).await;
        let html = b.as_str().unwrap_or_default().to_string();
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(!external(&html), "{page} names an outside resource");
        for asset in html.split("/assets/").skip(1) {
            let name: String = asset.chars().take_while(|c| *c != '"').collect();
            let (s, b) = get(&app, &format!("/assets/{name}")).await;
            assert_eq!(s, StatusCode::OK, "{page}: /assets/{name}");
            assert!(!external(b.as_str().unwrap_or_default()), "/assets/{name}");
        }
    }
    // Readiness fails cleanly once the database is gone.
    store.close().await;
    let (s, b) = get(&app, "/readyz").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&b, "database_unavailable");
}

on_both_backends!(
    region_node_has_counts_and_ancestors,
    grids_and_maps_are_geojson,
    points_resolve_to_their_whole_chain,
    bad_input_gets_a_specific_bilingual_error,
    health_and_readiness,
);

#[test]
fn committed_openapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = shezhi_http::openapi::document();
    assert!(
        committed == current,
        "docs/openapi.json is out of date: regenerate it with `cargo run --release -- openapi > docs/openapi.json`"
    );
}

#[test]
fn web_assets_reach_nothing_outside() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
    let mut seen = 0;
    for path in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
    {
        let asset = std::fs::read_to_string(&path).unwrap_or_default();
        seen += 1;
        // The SVG namespace is a name, not an address that is fetched.
        let asset = asset.replace("http://www.w3.org/2000/svg", "");
        for banned in [
            "http://",
            "https://",
            "//cdn",
            "@import url",
            "fonts.googleapis",
        ] {
            assert!(
                !asset.contains(banned),
                "{} refers to {banned}",
                path.display()
            );
        }
    }
    assert!(seen >= 9, "only {seen} web assets");
}
