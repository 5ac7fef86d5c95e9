//! Who is calling, decided once per request: an API token (`Authorization: Bearer …`), a
//! browser session (the `shezhi_session` cookie, HttpOnly and SameSite=Strict, with the
//! session's CSRF token required in `X-CSRF-Token` on every unsafe method), or nobody.
//! Handlers then state the one action they need with [`Caller::require_in`] or
//! [`Caller::reach`]; the decision itself lives in `shezhi_domain::access`.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use shezhi_domain::access::{Action, Grants, Reach, secret_hash};
use shezhi_domain::territory::RegionCode;

pub const SESSION_COOKIE: &str = "shezhi_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerUser {
    pub id: i64,
    pub resident_id: Option<i64>,
}

/// The caller of a request and what they may do.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub user: Option<CallerUser>,
    pub grants: Grants,
    /// The client's address, when the server knows it.
    pub ip: Option<String>,
    /// The CSRF token of the caller's cookie session (None for tokens and anonymous callers),
    /// told to the session's own pages by `/api/v1/me`.
    pub csrf_token: Option<String>,
    /// The API token the caller signed in with, if any (it has a rate budget of its own).
    pub token_id: Option<i64>,
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "请先登录",
        "sign in first",
    )
}

pub fn forbidden(action: Action) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("您没有在此范围内{}的权限", action.zh()),
        format!("you may not {} here", action.as_str().replace('_', " ")),
    )
}

impl Caller {
    /// `user:<id>` or `anonymous`, for the audit trail and history.
    pub fn actor(&self) -> String {
        match &self.user {
            Some(u) => format!("user:{}", u.id),
            None => "anonymous".into(),
        }
    }

    fn signed_in(&self) -> Result<(), ApiError> {
        if self.user.is_some() {
            Ok(())
        } else {
            Err(unauthenticated())
        }
    }

    /// Allowed to take `action` on something in `region`; 401 when nobody is signed in, 403
    /// otherwise.
    pub fn require_in(&self, action: Action, region: &RegionCode) -> Result<(), ApiError> {
        self.signed_in()?;
        if self.grants.can(action, region) {
            Ok(())
        } else {
            Err(forbidden(action))
        }
    }

    /// Allowed to take `action` somewhere (for actions without a territory).
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        self.signed_in()?;
        if self.grants.can_anywhere(action) {
            Ok(())
        } else {
            Err(forbidden(action))
        }
    }

    /// Where the caller may take `action`, for filtering lists in SQL.
    pub fn reach(&self, action: Action) -> Result<Reach, ApiError> {
        self.signed_in()?;
        Ok(self.grants.reach(action))
    }

    /// The caller's part of `region` for `action` (the region itself, or their scopes inside
    /// it), to filter a list in SQL; 403 when that part is empty.
    pub fn within(&self, action: Action, region: &RegionCode) -> Result<Vec<RegionCode>, ApiError> {
        self.signed_in()?;
        let scopes = self.grants.within(action, region);
        if scopes.is_empty() {
            Err(forbidden(action))
        } else {
            Ok(scopes)
        }
    }

    /// Whether the caller may take `action` on a record stored under `code` (a cell code as
    /// stored; an unreadable code is never within reach).
    pub fn may(&self, action: Action, code: &str) -> bool {
        RegionCode::parse(code).is_ok_and(|c| self.grants.can(action, &c))
    }

    /// 401 unless somebody is signed in.
    pub fn require_signed_in(&self) -> Result<(), ApiError> {
        self.signed_in()
    }

    /// The resident record the signed-in user is, if any.
    pub fn resident_id(&self) -> Option<i64> {
        self.user.as_ref().and_then(|u| u.resident_id)
    }
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client's address, when the server knows it: the connection's peer, or, when the peer
/// is a trusted proxy, the last address in `X-Forwarded-For` that is not one.
#[derive(Debug, Clone, Default)]
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        Ok(client_ip(parts))
    }
}

fn client_ip(parts: &Parts) -> ClientIp {
    match parts.extensions.get::<ClientIp>() {
        Some(ip) => ip.clone(),
        None => ClientIp(peer(parts).map(|a| a.to_string())),
    }
}

/// The connection's peer: the server's connection info, or a test's stand-in for it.
pub fn peer(parts: &Parts) -> Option<std::net::IpAddr> {
    use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
    use std::net::SocketAddr;
    let real = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    real.or_else(|| {
        parts
            .extensions
            .get::<MockConnectInfo<SocketAddr>>()
            .map(|c| c.0)
    })
    .map(|a| a.ip())
}

/// The client's address for a request: the peer, unless the peer is one of the trusted
/// proxies; then `X-Forwarded-For` is read from its end, skipping trusted proxies, and the
/// first other address is the client. Without trusted proxies the header is ignored, since
/// any client can write it.
pub fn client_address(parts: &Parts, trusted: &TrustedProxies) -> Option<String> {
    let peer = peer(parts)?;
    if !trusted.contains(peer) {
        return Some(peer.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|a| a.trim().parse().ok())
        .collect();
    let client = forwarded
        .iter()
        .rev()
        .find(|a| !trusted.contains(**a))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer);
    Some(client.to_string())
}

/// Proxies whose `X-Forwarded-For` is believed: addresses or CIDR blocks
/// (`10.0.0.5`, `10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(std::net::IpAddr, u8)>);

impl TrustedProxies {
    /// Parse a list of addresses and CIDR blocks; the error names the first bad one.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<TrustedProxies, String> {
        items
            .iter()
            .map(|item| {
                let item = item.as_ref().trim();
                let (addr, bits) = match item.split_once('/') {
                    Some((a, b)) => (a, Some(b)),
                    None => (item, None),
                };
                let addr: std::net::IpAddr = addr
                    .parse()
                    .map_err(|_| format!("not an address or CIDR block: {item:?}"))?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    None => max,
                    Some(b) => b
                        .parse::<u8>()
                        .ok()
                        .filter(|b| *b <= max)
                        .ok_or_else(|| format!("bad prefix length in {item:?}"))?,
                };
                Ok((addr, bits))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.0
            .iter()
            .any(|(net, bits)| same_prefix(*net, ip, *bits))
    }
}

fn same_prefix(net: std::net::IpAddr, ip: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr;
    let (a, b, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        (IpAddr::V6(n), IpAddr::V4(i)) => match n.to_ipv4_mapped() {
            Some(n) => (u32::from(n) as u128, u32::from(i) as u128, 32),
            None => return false,
        },
        (IpAddr::V4(n), IpAddr::V6(i)) => match i.to_ipv4_mapped() {
            Some(i) => (u32::from(n) as u128, u32::from(i) as u128, 32),
            None => return false,
        },
    };
    let bits = u32::from(bits).min(width);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

/// The caller as the rate limiter already checked it, so that a request's credential is
/// looked up once.
#[derive(Debug, Clone)]
pub struct Resolved(pub Result<Caller, ApiError>);

/// Check a request's credential: an API token, a browser session (with its CSRF token on
/// unsafe methods), or nobody. A session cookie that does not check out is nobody.
pub async fn resolve_caller(parts: &Parts, s: &AppState) -> Result<Caller, ApiError> {
    let now = s.clock.now_ms();
    let ip = client_ip(parts).0;
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or("").trim().to_string());
    let mut csrf_token = None;
    let mut token_id = None;
    let user_id = if let Some(token) = bearer {
        let found = if token.is_empty() {
            None
        } else {
            s.store.api_token(&secret_hash(&token), now).await?
        };
        let (token, user) = found.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "API 令牌无效、已过期或已撤销",
                "the API token is invalid, expired or revoked",
            )
        })?;
        token_id = Some(token);
        Some(user)
    } else if let Some(token) = cookie(parts, SESSION_COOKIE) {
        match s.store.session(&secret_hash(token), now).await? {
            None => None,
            Some(session) => {
                let unsafe_method =
                    !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if unsafe_method && sent != Some(session.csrf_token.as_str()) {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf_failed",
                        "请求缺少有效的 CSRF 令牌，请刷新页面后重试",
                        "the request lacks a valid CSRF token; reload the page and try again",
                    ));
                }
                csrf_token = Some(session.csrf_token);
                Some(session.user_id)
            }
        }
    } else {
        None
    };
    let Some(id) = user_id else {
        return Ok(Caller {
            user: None,
            grants: Grants::default(),
            ip,
            csrf_token: None,
            token_id: None,
        });
    };
    let bindings = s.store.user_bindings(id).await?;
    let resident_id = s.store.user_resident(id).await?;
    Ok(Caller {
        user: Some(CallerUser { id, resident_id }),
        grants: Grants::new(bindings),
        ip,
        csrf_token,
        token_id,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Caller, ApiError> {
        match parts.extensions.get::<Resolved>() {
            Some(Resolved(done)) => done.clone(),
            None => resolve_caller(parts, s).await,
        }
    }
}
