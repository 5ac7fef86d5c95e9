//! Photos over HTTP on SQLite and PostgreSQL: only whole JPEG, PNG or WebP images are taken
//! (a PNG header followed by HTML is not), each is served back with the type it decodes as
//! and `nosniff`, and reports without an account pay their photos' bytes from quotas per
//! address and overall, which neither signed-in staff nor other addresses share.

use axum::http::StatusCode;
use serde_json::{Value, json};
use shezhi_domain::access::{Binding, Role};
use shezhi_domain::clock::FixedClock;
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_http::{Limits, router};
use shezhi_store::{Store, on_both_backends};
use std::sync::Arc;

mod common;
use common::{assert_error, send, send_raw, state, token_for, with_token};

/// 2026-11-23 (Monday) 10:00 China time.
const NOW: i64 = 1_795_363_200_000 + 10 * 3_600_000;
const POINT: [f64; 2] = [104.0835, 30.6465];

/// A small picture in `format`, made here by the `image` crate.
fn picture(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(24, 16, |x, y| {
        image::Rgb([(x * 10) as u8, (y * 15) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap_or_else(|e| panic!("{e}"));
    out.into_inner()
}

fn photo(content_type: &str, bytes: &[u8]) -> Value {
    json!({"content_type": content_type, "data_base64": shezhi_http::base64::encode(bytes)})
}

fn report(photos: Vec<Value>) -> Value {
    json!({"category": "order.vendor", "description": "小区门口占道摆摊，堵住消防通道",
           "lon": POINT[0], "lat": POINT[1], "contact_phone": "13800001234", "photos": photos})
}

/// The router as seen from one client address (the connection's peer).
fn from_address(app: &axum::Router, ip: &str) -> axum::Router {
    let addr: std::net::SocketAddr = format!("{ip}:40000")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    app.clone().layer(axum::middleware::map_request(
        move |mut req: axum::http::Request<axum::body::Body>| async move {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
            req
        },
    ))
}

struct World {
    app: axum::Router,
    /// Street staff of the point's street: sees the cases reported there.
    street: axum::Router,
    /// The grid worker of the point's grid: reports with an account.
    grid: axum::Router,
}

async fn world(store: &Store, limits: Limits) -> World {
    let st = state(store).await;
    store
        .ensure_catalogue(0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let chain = st.locator.locate(POINT).unwrap_or_else(|e| panic!("{e:?}"));
    let bind = |role, i: usize| {
        vec![Binding {
            role,
            scope: Some(chain[i].code.clone()),
            unit: None,
        }]
    };
    let (street_binding, grid_binding) = (bind(Role::StreetStaff, 2), bind(Role::GridWorker, 4));
    let app = router(
        st.with_clock(Arc::new(FixedClock::new(NOW)))
            .with_vault(Some(Arc::new(Vault::new(&DataKey::from_bytes([3; 32])))))
            .with_limits(limits),
    );
    let street = with_token(
        app.clone(),
        &token_for(store, "jiedao", street_binding, None).await,
    );
    let grid = with_token(
        app.clone(),
        &token_for(store, "wangge", grid_binding, None).await,
    );
    World { app, street, grid }
}

/// The photos of a case as street staff fetch them: (content type, nosniff, bytes).
async fn served(w: &World, id: i64) -> Vec<(String, String, Vec<u8>)> {
    let (status, d) = send(&w.street, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let mut out = Vec::new();
    for p in d["photos"].as_array().cloned().unwrap_or_default() {
        let uri = format!(
            "/api/v1/cases/{id}/photos/{}",
            p.as_i64().unwrap_or_default()
        );
        let (status, headers, bytes) = send_raw(&w.street, "GET", &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        out.push((
            header("content-type"),
            header("x-content-type-options"),
            bytes,
        ));
    }
    out
}

async fn only_images_are_taken_and_served_as_what_they_are(store: Store) {
    let w = world(&store, Limits::default()).await;
    let anonymous = from_address(&w.app, "198.51.100.7");
    // A PNG header followed by HTML, a real PNG cut in half, and a GIF stated as a PNG.
    let png = picture(image::ImageFormat::Png);
    let mut html = b"\x89PNG\r\n\x1a\n".to_vec();
    html.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    let bad = [
        (html.clone(), "photo 1"),
        (png[..png.len() / 2].to_vec(), "photo 1"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), "photo 1"),
    ];
    for (bytes, which) in bad {
        let (status, body) = send(
            &anonymous,
            "POST",
            "/api/v1/cases",
            Some(report(vec![photo("image/png", &bytes)])),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&body, "invalid_photo");
        assert!(
            body["error"]["en"]
                .as_str()
                .unwrap_or_default()
                .contains(which),
            "{body}"
        );
    }
    // The bad one is named when it comes second.
    let (status, body) = send(
        &w.grid,
        "POST",
        "/api/v1/cases",
        Some(report(vec![
            photo("image/png", &png),
            photo("image/png", &html),
        ])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "invalid_photo");
    assert!(
        body["error"]["en"]
            .as_str()
            .unwrap_or_default()
            .contains("photo 2"),
        "{body}"
    );
    assert!(
        body["error"]["zh"]
            .as_str()
            .unwrap_or_default()
            .contains("第 2 张"),
        "{body}"
    );
    let (_, list) = send(&w.street, "GET", "/api/v1/cases", None).await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(0),
        "nothing refused was kept: {list}"
    );

    // A PNG, a JPEG stated as a PNG, and a WebP are kept and served as what they are.
    let jpeg = picture(image::ImageFormat::Jpeg);
    let webp = picture(image::ImageFormat::WebP);
    let (status, made) = send(
        &anonymous,
        "POST",
        "/api/v1/cases",
        Some(report(vec![
            photo("image/png", &png),
            photo("image/png", &jpeg),
            photo("image/webp", &webp),
        ])),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let got = served(&w, made["id"].as_i64().unwrap_or_default()).await;
    let want = [
        ("image/png", &png),
        ("image/jpeg", &jpeg),
        ("image/webp", &webp),
    ];
    assert_eq!(got.len(), want.len());
    for ((ty, nosniff, bytes), (want_ty, want_bytes)) in got.iter().zip(want) {
        assert_eq!(ty, want_ty);
        assert_eq!(nosniff, "nosniff");
        assert_eq!(bytes, want_bytes, "served as sent");
    }
}

async fn pixels_are_counted_before_decoding(store: Store) {
    // 24 × 16 = 384 pixels, over a limit of 300.
    let limits = Limits {
        photo_max_pixels: 300,
        ..Limits::default()
    };
    let w = world(&store, limits).await;
    let png = picture(image::ImageFormat::Png);
    let (status, body) = send(
        &w.grid,
        "POST",
        "/api/v1/cases",
        Some(report(vec![photo("image/png", &png)])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "invalid_photo");
    assert!(
        body["error"]["en"]
            .as_str()
            .unwrap_or_default()
            .contains("24×16"),
        "{body}"
    );
}

async fn anonymous_photo_bytes_have_quotas(store: Store) {
    let png = picture(image::ImageFormat::Png);
    let size = png.len() as u64;
    // An address may send three photos an hour; all addresses together five a day.
    let limits = Limits {
        anonymous_photo_bytes_address: shezhi_http::ratelimit::RateLimiter::new(
            3 * size,
            3_600_000,
        ),
        anonymous_photo_bytes_total: shezhi_http::ratelimit::RateLimiter::new(5 * size, 86_400_000),
        ..Limits::default()
    };
    let w = world(&store, limits).await;
    let (a, b, c) = (
        from_address(&w.app, "198.51.100.7"),
        from_address(&w.app, "203.0.113.9"),
        from_address(&w.app, "192.0.2.44"),
    );
    let with_photo = || report(vec![photo("image/png", &png)]);
    let mut made = Vec::new();
    for _ in 0..3 {
        let (status, body) = send(&a, "POST", "/api/v1/cases", Some(with_photo())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        made.push(body["id"].as_i64().unwrap_or_default());
    }
    // The fourth photo from the same address is over its quota: refused whole, with a word
    // on what to do; the same report without its photo goes in.
    let (status, body) = send(&a, "POST", "/api/v1/cases", Some(with_photo())).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "photo_quota_exceeded");
    assert!(
        body["error"]["en"]
            .as_str()
            .unwrap_or_default()
            .contains("without photos"),
        "{body}"
    );
    let (status, body) = send(&a, "POST", "/api/v1/cases", Some(report(vec![]))).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a report without photos is not limited: {body}"
    );
    // Another address still uploads, until all anonymous reports together reach five photos.
    for _ in 0..2 {
        let (status, body) = send(&b, "POST", "/api/v1/cases", Some(with_photo())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        made.push(body["id"].as_i64().unwrap_or_default());
    }
    let (status, body) = send(&c, "POST", "/api/v1/cases", Some(with_photo())).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_error(&body, "photo_quota_exceeded");
    // A signed-in grid worker is not counted.
    for _ in 0..3 {
        let (status, body) = send(&w.grid, "POST", "/api/v1/cases", Some(with_photo())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        made.push(body["id"].as_i64().unwrap_or_default());
    }
    // A refused report gives its bytes back: a photo that does not decode costs nothing.
    let (status, body) = send(
        &b,
        "POST",
        "/api/v1/cases",
        Some(report(vec![photo("image/png", b"\x89PNG\r\n\x1a\nno")])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Nothing accepted before was lost.
    for id in made {
        let got = served(&w, id).await;
        assert_eq!(got.len(), 1, "case {id}");
        assert_eq!(got[0].2, png, "case {id}");
    }
}

on_both_backends!(
    only_images_are_taken_and_served_as_what_they_are,
    pixels_are_counted_before_decoding,
    anonymous_photo_bytes_have_quotas
);
