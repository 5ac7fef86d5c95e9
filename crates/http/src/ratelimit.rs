//! Rate limits kept in memory per key (a user name, an address): at most `limit` events (or
//! bytes, for the photo quotas) per window, windows sliding by halves. Time comes from the
//! caller's clock.

use shezhi_domain::access::throttle::{self, Turn, Turns};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub struct RateLimiter {
    limit: u64,
    window_ms: i64,
    slots: Mutex<HashMap<String, (i64, u64, u64)>>,
}

impl RateLimiter {
    pub fn new(limit: u64, window_ms: i64) -> RateLimiter {
        RateLimiter {
            limit,
            window_ms: window_ms.max(2),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` is at its limit now (nothing is counted).
    pub fn exhausted(&self, key: &str, now_ms: i64) -> bool {
        let half = self.window_ms / 2;
        let bucket = now_ms.div_euclid(half);
        let Ok(slots) = self.slots.lock() else {
            return false;
        };
        match slots.get(key) {
            Some((b, prev, cur)) if *b == bucket => prev + cur >= self.limit,
            Some((b, _, cur)) if *b == bucket - 1 => *cur >= self.limit,
            _ => false,
        }
    }

    /// Count one event for `key` at `now_ms`; false when the key is over its limit (the event
    /// is then not counted). Estimates the sliding window from the current and the previous
    /// half-window.
    pub fn allow(&self, key: &str, now_ms: i64) -> bool {
        self.take(key, 1, now_ms)
    }

    /// The most this limiter allows in a window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The window's length in milliseconds.
    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// Count `amount` for `key` at `now_ms` (bytes, for a quota); false when that would take
    /// the key over its limit (nothing is then counted).
    pub fn take(&self, key: &str, amount: u64, now_ms: i64) -> bool {
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
        if entry.1 + entry.2 + amount > self.limit {
            return false;
        }
        entry.2 += amount;
        true
    }

    /// Give back what `take` counted when the thing it paid for did not happen (a report
    /// refused after its photos were counted).
    pub fn give_back(&self, key: &str, amount: u64, now_ms: i64) {
        let bucket = now_ms.div_euclid(self.window_ms / 2);
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        if let Some(entry) = slots.get_mut(key) {
            if entry.0 == bucket {
                let from_current = amount.min(entry.2);
                entry.2 -= from_current;
                entry.1 = entry.1.saturating_sub(amount - from_current);
            } else if entry.0 == bucket - 1 {
                entry.2 = entry.2.saturating_sub(amount);
            }
        }
    }
}

/// Sign-in turns of user names that are not accounts, kept like an account's
/// (`shezhi_domain::access::throttle`), so that an unknown name backs off exactly as a known
/// one and the answers never tell which names exist.
#[derive(Debug, Default)]
pub struct UnknownNames {
    turns: Mutex<HashMap<String, Turns>>,
}

impl UnknownNames {
    pub fn attempt(&self, name: &str, now_ms: i64) -> Turn {
        let Ok(mut turns) = self.turns.lock() else {
            return Turn::Wait { until_ms: now_ms };
        };
        if turns.len() > 100_000 {
            turns.retain(|_, t| t.next_at_ms + throttle::MAX_WAIT_MS > now_ms);
        }
        let entry = turns.entry(name.to_string()).or_default();
        let turn = entry.attempt(now_ms);
        if let Turn::Go { after } = turn {
            *entry = after;
        }
        turn
    }
}

/// Whether a request presents a credential at all (checked or not).
fn presents_credentials(parts: &axum::http::request::Parts) -> bool {
    use axum::http::header;
    parts.headers.contains_key(header::AUTHORIZATION)
        || parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(crate::auth::SESSION_COOKIE))
}

fn too_many() -> crate::ApiError {
    crate::ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "请求过于频繁，请稍后再试",
        "too many requests; try again later",
    )
}

/// Middleware: works out the client's address (through trusted proxies), checks the
/// request's credential once and hands the result to the handlers' `Caller` extractor, then
/// limits the request: an API key by its own budget, an anonymous caller (no credential, or
/// one that does not check out) by its address. Signed-in browser sessions are not limited
/// here. Open311 clients that send their `api_key` in a form body are counted by that key.
/// Health probes are exempt.
pub async fn limit_requests(
    axum::extract::State(s): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    let ip = crate::auth::client_address(&parts, &s.trusted_proxies);
    parts.extensions.insert(crate::auth::ClientIp(ip.clone()));
    let mut body = axum::body::Body::new(body);
    let mut key: Option<i64> = None;
    let mut signed_in = false;
    if presents_credentials(&parts) {
        let resolved = crate::auth::resolve_caller(&parts, &s).await;
        if let Ok(c) = &resolved {
            signed_in = c.user.is_some();
            key = c.token_id;
        }
        parts.extensions.insert(crate::auth::Resolved(resolved));
    } else if crate::routes::open311::takes_form_key(&parts) {
        let bytes = match axum::body::to_bytes(body, crate::BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => {
                return crate::ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "请求体过大",
                    "the request body is too large",
                )
                .into_response();
            }
        };
        key = crate::routes::open311::form_key(&s, parts.uri.query(), &bytes).await;
        body = axum::body::Body::from(bytes);
    }
    let now = s.clock.now_ms();
    let path = parts.uri.path();
    let exempt = matches!(path, "/healthz" | "/readyz" | "/metrics");
    let allowed = match key {
        Some(id) => s.limits.api_key.allow(&id.to_string(), now),
        None if signed_in || exempt => true,
        None => s
            .limits
            .anonymous_address
            .allow(ip.as_deref().unwrap_or("unknown"), now),
    };
    if !allowed {
        return too_many().into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
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

    #[test]
    fn takes_amounts_and_gives_them_back() {
        let r = RateLimiter::new(100, 60_000);
        assert!(r.take("a", 60, 1_000));
        assert!(!r.take("a", 41, 1_000), "60 + 41 is over 100");
        assert!(r.take("a", 40, 1_000));
        r.give_back("a", 30, 2_000);
        assert!(
            r.take("a", 30, 2_000),
            "what was given back can be taken again"
        );
        assert!(!r.take("a", 1, 2_000));
    }
}
