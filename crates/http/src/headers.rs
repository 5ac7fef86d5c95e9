//! Security headers on every answer (API, pages, assets, photos, errors, Open311): a
//! Content-Security-Policy that lets the pages load only their own scripts, styles and
//! images, no framing, no content sniffing, and no referrer sent to other sites.
//!
//! The pages need nothing more than `'self'`: no inline `<script>` or `<style>` and no
//! `style=` attributes in markup (styles set from scripts go through the CSSOM, which CSP
//! does not restrict), photos are served from the API, and the service worker is `/sw.js`.
//! The one `data:` image is the empty favicon (`<link rel="icon" href="data:,">`). A handler
//! that sets one of these headers itself (a stricter policy, say) keeps its own.

use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// (name, value) of every header set on every answer.
pub const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
];

type One = SetResponseHeaderLayer<HeaderValue>;
/// Four [`SetResponseHeaderLayer`]s, one per header.
pub type SecurityHeaders = ServiceBuilder<Stack<One, Stack<One, Stack<One, Stack<One, Identity>>>>>;

/// The layers that add [`SECURITY_HEADERS`] to every answer that lacks them.
pub fn layer() -> SecurityHeaders {
    let [(n0, v0), (n1, v1), (n2, v2), (n3, v3)] = SECURITY_HEADERS;
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    ServiceBuilder::new()
        .layer(set(n0, v0))
        .layer(set(n1, v1))
        .layer(set(n2, v2))
        .layer(set(n3, v3))
}
