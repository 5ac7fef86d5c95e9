//! Signing in and out. A successful sign-in sets the session cookie (HttpOnly,
//! SameSite=Strict) and returns the CSRF token the page must send back on every change.
//! Every attempt is counted before the password is checked, and failures in a row back off
//! (`shezhi_domain::access::throttle`) rather than lock the account; unknown user names back
//! off alike, so the answers never tell whether an account exists. Attempts are also
//! rate-limited per address.

use crate::auth::{Caller, ClientIp, SESSION_COOKIE};
use crate::extract::{ApiJson, ApiQuery};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use shezhi_domain::access::throttle::Turn;
use shezhi_domain::access::{password, secret_hash};
use shezhi_store::access::AuditNote;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/me", get(me))
}

pub const SESSION_MS: i64 = 12 * 3600 * 1000;

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BindingView {
    pub role: String,
    pub scope: Option<String>,
    pub unit: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub user_id: i64,
    /// Send back in the `X-CSRF-Token` header on every POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
    pub expires_at_ms: i64,
    pub bindings: Vec<BindingView>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: Option<i64>,
    /// The signed-in user's display name.
    pub name: Option<String>,
    /// The cookie session's CSRF token, for the session's own pages after a reload.
    pub csrf_token: Option<String>,
    pub bindings: Vec<BindingView>,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "用户名或密码错误",
        "wrong user name or password",
    )
}

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "尝试次数过多，请稍后再试",
        "too many attempts; try again later",
    )
}

/// 32 random bytes as hex, from the operating system.
pub fn random_secret() -> Result<String, ApiError> {
    use rand::TryRngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut b)
        .map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(shezhi_domain::people::privacy::hex(&b))
}

/// A hash to check against when the user does not exist, so that a wrong user name takes as
/// long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2hlemhpLWR1bW15LXNhbHQ$0V6yTVmbzNZbkWv4mmdx7Z1x0KcN8ZlWqvIRrfBvXLE";

/// Sign in with a user name and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "access", request_body = SignIn,
    description = "**Access:** public (rate-limited per address; failures in a row back off per user name).",
    responses((status = 200, body = SessionInfo, description = "Signed in; the `shezhi_session` cookie is set"),
        (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts, or failures in a row: wait before the next (`sign_in_wait`); the same for every user name", body = crate::error::ErrorBody)))]
pub async fn sign_in(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<(HeaderMap, Json<SessionInfo>), ApiError> {
    // Not the `Caller` extractor: a stale session cookie must not stand in the way of signing in.
    let now = s.clock.now_ms();
    // Per address only: a budget per user name would let anyone who knows the name keep
    // its owner out; the name's own back-off below counts only the attempts it hears.
    if !s
        .limits
        .sign_in_address
        .allow(ip.as_deref().unwrap_or("-"), now)
    {
        return Err(too_many());
    }
    let user = s
        .store
        .user_by_username(&body.username)
        .await?
        .filter(|u| u.status == "active");
    // Counted before the password is checked: parallel guesses are counted one by one.
    let turn = match &user {
        Some(u) => s.store.take_sign_in_turn(u.id, now).await?,
        None => s.limits.unknown_names.attempt(&body.username, now),
    };
    if let Turn::Wait { until_ms } = turn {
        let seconds = (until_ms - now + 999) / 1000;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "sign_in_wait",
            format!("登录失败次数过多，请 {seconds} 秒后再试"),
            format!("too many failed sign-ins; try again in {seconds} seconds"),
        ));
    }
    let stored = user
        .as_ref()
        .map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let pw = body.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &stored))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let note = |action: &str, target: String, detail: serde_json::Value| AuditNote {
        at_ms: now,
        actor: target.clone(),
        action: action.into(),
        target,
        region_code: None,
        ip: ip.clone(),
        detail,
    };
    let Some(user) = user else {
        return Err(invalid_credentials());
    };
    if !ok {
        let failures = match turn {
            Turn::Go { after } => after.failures,
            Turn::Wait { .. } => 0,
        };
        s.store
            .audit(&note(
                "sign_in_failed",
                format!("user:{}", user.id),
                serde_json::json!({"failures": failures}),
            ))
            .await?;
        return Err(invalid_credentials());
    }
    s.store.record_login_success(user.id).await?;
    let token = random_secret()?;
    let csrf = random_secret()?;
    let expires = now + SESSION_MS;
    s.store
        .create_session(
            &secret_hash(&token),
            user.id,
            &csrf,
            now,
            expires,
            ip.as_deref(),
        )
        .await?;
    s.store
        .audit(&note(
            "sign_in",
            format!("user:{}", user.id),
            serde_json::json!({}),
        ))
        .await?;
    let bindings = s.store.user_bindings(user.id).await?;
    let mut headers = HeaderMap::new();
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_MS / 1000
    );
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok((
        headers,
        Json(SessionInfo {
            user_id: user.id,
            csrf_token: csrf,
            expires_at_ms: expires,
            bindings: views(bindings),
        }),
    ))
}

fn views(bindings: Vec<shezhi_domain::access::Binding>) -> Vec<BindingView> {
    bindings
        .into_iter()
        .map(|b| BindingView {
            role: b.role.as_str().into(),
            scope: b.scope.map(|s| s.as_str().to_string()),
            unit: b.unit,
        })
        .collect()
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignOutQuery {
    /// `true` ends every session of the user (on every device), not only this one.
    everywhere: Option<bool>,
}

/// Sign out: ends the session (or, with `everywhere=true`, every session of the user) and
/// clears the cookie. Needs the CSRF token. Audited.
#[utoipa::path(delete, path = "/api/v1/session", tag = "access", params(SignOutQuery),
    description = "**Access:** a signed-in browser session (with `X-CSRF-Token`).",
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn sign_out(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SignOutQuery>,
    headers: HeaderMap,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    let Some(user) = &caller.user else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "请先登录",
            "sign in first",
        ));
    };
    let note = AuditNote {
        at_ms: s.clock.now_ms(),
        actor: caller.actor(),
        action: "sign_out".into(),
        target: format!("user:{}", user.id),
        region_code: None,
        ip: caller.ip.clone(),
        detail: serde_json::json!({}),
    };
    if q.everywhere == Some(true) {
        s.store.end_sessions(user.id, &note).await?;
    } else if let Some(token) = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
    {
        s.store.delete_session(&secret_hash(&token)).await?;
        s.store.audit(&note).await?;
    }
    let mut out = HeaderMap::new();
    out.insert(
        header::SET_COOKIE,
        HeaderValue::from_static(if s.secure_cookies {
            "shezhi_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        } else {
            "shezhi_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        }),
    );
    Ok((StatusCode::NO_CONTENT, out))
}

/// Who the caller is and what they hold.
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    description = "**Access:** public (anonymous callers get no user and no bindings).",
    responses((status = 200, body = Me),
        (status = 401, description = "A token was presented that is invalid, expired or revoked (`invalid_token`)", body = crate::error::ErrorBody)))]
pub async fn me(State(s): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let name = match &caller.user {
        Some(u) => s.store.user_display_name(u.id).await?,
        None => None,
    };
    Ok(Json(Me {
        user_id: caller.user.as_ref().map(|u| u.id),
        name,
        csrf_token: caller.csrf_token,
        bindings: views(caller.grants.bindings),
    }))
}
