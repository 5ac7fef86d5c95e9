//! Revocation by an administrator: a user's API tokens listed and revoked, a user disabled or
//! enabled again, and all of a user's browser sessions ended. Each change is audited in its
//! own transaction; a disabled user's sessions end with it and their tokens stop working.

use super::register::record_id;
use crate::auth::Caller;
use crate::extract::ApiPath;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use shezhi_domain::access::Action;
use shezhi_store::access::{ApiTokenRecord, AuditNote};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/{id}/tokens", get(tokens))
        .route("/api/v1/users/{id}/disable", post(disable))
        .route("/api/v1/users/{id}/enable", post(enable))
        .route("/api/v1/users/{id}/sessions", delete(end_sessions))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
}

/// What every endpoint here needs.
pub const MANAGE: Action = Action::ManageUsers;

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<ApiTokenRecord>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    pub user_id: i64,
    /// How many sessions were ended.
    pub ended: u64,
}

fn user_not_found(id: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "user_not_found",
        format!("未找到用户 {id}"),
        format!("user {id} not found"),
    )
}

fn note(s: &AppState, caller: &Caller, action: &str, target: String) -> AuditNote {
    AuditNote {
        at_ms: s.clock.now_ms(),
        actor: caller.actor(),
        action: action.into(),
        target,
        region_code: None,
        ip: caller.ip.clone(),
        detail: serde_json::Value::Null,
    }
}

async fn existing_user(s: &AppState, raw: &str) -> Result<i64, ApiError> {
    let id = record_id(raw, "用户", "user")?;
    match s.store.user_display_name(id).await? {
        Some(_) => Ok(id),
        None => Err(user_not_found(id)),
    }
}

/// A user's API tokens, newest first (names, dates, revoked or not; never the secret).
#[utoipa::path(get, path = "/api/v1/users/{id}/tokens", tag = "access",
    params(("id" = crate::schemas::RecordId, Path, description = "User id")),
    responses((status = 200, body = TokenList), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn tokens(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenList>, ApiError> {
    caller.require(MANAGE)?;
    let id = existing_user(&s, &id).await?;
    Ok(Json(TokenList {
        items: s.store.api_tokens_of(id).await?,
    }))
}

/// Revoke an API token at once. Revoking one already revoked changes nothing (204 again).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access",
    params(("id" = crate::schemas::RecordId, Path, description = "Token id")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGE)?;
    let id = record_id(&id, "令牌", "token")?;
    let n = note(&s, &caller, "api_token.revoked", format!("api_token:{id}"));
    s.store.revoke_api_token(id, &n).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a user: they can no longer sign in or use a token, and their sessions end now.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "access",
    params(("id" = crate::schemas::RecordId, Path, description = "User id")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Administrators cannot disable themselves (`cannot_disable_self`)", body = crate::error::ErrorBody)))]
pub async fn disable(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGE)?;
    let id = existing_user(&s, &id).await?;
    if caller.user.as_ref().is_some_and(|u| u.id == id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_disable_self",
            "不能停用自己的账户",
            "you cannot disable your own account",
        ));
    }
    let n = note(&s, &caller, "user.disabled", format!("user:{id}"));
    s.store.set_user_active(id, false, &n).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled user again (their revoked tokens stay revoked).
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "access",
    params(("id" = crate::schemas::RecordId, Path, description = "User id")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn enable(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGE)?;
    let id = existing_user(&s, &id).await?;
    let n = note(&s, &caller, "user.enabled", format!("user:{id}"));
    s.store.set_user_active(id, true, &n).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every browser session of a user (a lost phone, a left job); API tokens are revoked
/// one by one.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "access",
    params(("id" = crate::schemas::RecordId, Path, description = "User id")),
    responses((status = 200, body = SessionsEnded), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn end_sessions(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SessionsEnded>, ApiError> {
    caller.require(MANAGE)?;
    let id = existing_user(&s, &id).await?;
    let n = note(&s, &caller, "sessions.ended", format!("user:{id}"));
    let ended = s.store.end_sessions(id, &n).await?;
    Ok(Json(SessionsEnded { user_id: id, ended }))
}
