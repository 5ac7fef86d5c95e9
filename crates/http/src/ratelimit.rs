//! Rate limits kept in memory per key (a user name, an address): at most `limit` events per
//! window, windows sliding by halves. Time comes from the caller's clock.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window_ms: i64,
    slots: Mutex<HashMap<String, (i64, u32, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window_ms: i64) -> RateLimiter {
        RateLimiter {
            limit,
            window_ms: window_ms.max(2),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Count one event for `key` at `now_ms`; false when the key is over its limit (the event
    /// is then not counted). Estimates the sliding window from the current and the previous
    /// half-window.
    pub fn allow(&self, key: &str, now_ms: i64) -> bool {
        let half = self.window_ms / 2;
        let bucket = now_ms.div_euclid(half);
        let Ok(mut slots) = self.slots.lock() else {
            return true;
        };
        if slots.len() > 100_000 {
            slots.retain(|_, (b, _, _)| *b >= bucket - 1);
        }
        let entry = slots.entry(key.to_string()).or_insert((bucket, 0, 0));
        if entry.0 != bucket {
            let prev = if entry.0 == bucket - 1 { entry.2 } else { 0 };
            *entry = (bucket, prev, 0);
        }
        if entry.1 + entry.2 >= self.limit {
            return false;
        }
        entry.2 += 1;
        true
    }
}

/// Middleware: requests without a session cookie or token (anonymous callers of the public
/// endpoints) are limited per client address; health probes are exempt.
pub async fn limit_anonymous(
    axum::extract::State(s): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let path = req.uri().path();
    let exempt = matches!(path, "/healthz" | "/readyz" | "/metrics");
    let has_credentials = req.headers().contains_key(header::AUTHORIZATION)
        || req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(crate::auth::SESSION_COOKIE));
    if !exempt && !has_credentials {
        let ip = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        if !s.limits.anonymous_address.allow(&ip, s.clock.now_ms()) {
            return crate::ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "请求过于频繁，请稍后再试",
                "too many requests; try again later",
            )
            .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::RateLimiter;

    #[test]
    fn limits_per_key_and_recovers_after_the_window() {
        let r = RateLimiter::new(3, 60_000);
        assert!((0..3).all(|i| r.allow("a", 1_000 + i)));
        assert!(!r.allow("a", 2_000));
        assert!(r.allow("b", 2_000), "other keys are not affected");
        assert!(!r.allow("a", 40_000), "still inside the window");
        assert!(r.allow("a", 121_000), "a full window later");
    }
}
