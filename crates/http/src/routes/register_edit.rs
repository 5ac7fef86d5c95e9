//! Changes to the register and views of personal data in clear. Every one is audited in the
//! transaction of the change; a view in clear is audited before anything is shown, and needs
//! a stated reason.

use super::register::{VIEW, record_id};
use crate::auth::{Caller, forbidden};
use crate::extract::ApiJson;
use crate::extract::ApiPath;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use shezhi_domain::access::Action;
use shezhi_domain::people::privacy::Field;
use shezhi_domain::people::{Date, KeyTag};
use shezhi_store::access::AuditNote;
use shezhi_store::register::Stamp;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/residents/{id}/reveal", post(reveal))
        .route("/api/v1/residents/{id}/tags", post(set_tag))
        .route("/api/v1/residents/{id}/tags/{tag}", delete(clear_tag))
}

pub const REVEAL: Action = Action::UnmaskPersonal;
pub const EDIT: Action = Action::EditRegister;

/// Why personal data is shown in clear (PIPL: a purpose for every use).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct RevealRequest {
    /// `id_number`, `phone`, or both (else `400 invalid_field`, `400 fields_required`).
    #[schema(min_items = 1, value_type = Vec<crate::schemas::RevealField>, example = json!(["id_number"]))]
    pub fields: Vec<String>,
    /// What the numbers are needed for, 2 to 200 characters; kept in the audit trail (else
    /// `400 reason_required`).
    #[schema(
        example = "入户走访核对身份",
        max_length = 200,
        pattern = r"\S[\s\S]*\S"
    )]
    pub reason: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Revealed {
    pub resident_id: i64,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    /// The audit entry that records this view.
    pub audit_seq: i64,
}

fn resident_not_found(id: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "resident_not_found",
        format!("未找到人员 {id}"),
        format!("resident {id} not found"),
    )
}

fn bad_request(code: &'static str, zh: &str, en: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, zh, en)
}

/// The resident's cell if the caller may see them (404 otherwise, as if missing) and may take
/// `action` there (403 otherwise).
async fn resident_cell(
    s: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
) -> Result<shezhi_store::register::SealedPersonal, ApiError> {
    let found = s
        .store
        .sealed_personal(id)
        .await?
        .filter(|r| caller.may(VIEW, &r.cell_code))
        .ok_or_else(|| resident_not_found(id))?;
    if caller.may(action, &found.cell_code) {
        Ok(found)
    } else {
        Err(forbidden(action))
    }
}

/// Show a resident's identity number and/or phone in clear. The view is written to the audit
/// trail (who, when, from where, which fields, why) before the numbers are returned.
#[utoipa::path(post, path = "/api/v1/residents/{id}/reveal", tag = "register",
    params(("id" = crate::schemas::RecordId, Path, description = "Resident id")), request_body = RevealRequest,
    responses((status = 200, body = Revealed), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "No data key is configured", body = crate::error::ErrorBody)))]
pub async fn reveal(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RevealRequest>,
) -> Result<Json<Revealed>, ApiError> {
    caller.require_signed_in()?;
    let id = record_id(&id, "人员", "resident")?;
    let mut want_id = false;
    let mut want_phone = false;
    for f in &req.fields {
        match f.as_str() {
            "id_number" => want_id = true,
            "phone" => want_phone = true,
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_field",
                    format!("无法查看字段“{other}”，可选：id_number、phone"),
                    format!("field {other:?} cannot be revealed; one of id_number, phone"),
                ));
            }
        }
    }
    if !(want_id || want_phone) {
        return Err(bad_request(
            "fields_required",
            "请指明要查看的字段（id_number、phone）",
            "name the fields to reveal (id_number, phone)",
        ));
    }
    let reason = req.reason.trim();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(bad_request(
            "reason_required",
            "查看完整个人信息须说明理由（2 至 200 个字）",
            "revealing personal data needs a reason of 2 to 200 characters",
        ));
    }
    let vault = s.vault.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "data_key_missing",
            "未配置数据密钥，无法查看完整个人信息",
            "no data key is configured, so personal data cannot be shown in clear",
        )
    })?;
    let sealed = resident_cell(&s, &caller, id, REVEAL).await?;
    let fields: Vec<&str> = [(want_id, "id_number"), (want_phone, "phone")]
        .iter()
        .filter(|(w, _)| *w)
        .map(|(_, f)| *f)
        .collect();
    let seq = s
        .store
        .audit(&AuditNote {
            at_ms: s.clock.now_ms(),
            actor: caller.actor(),
            action: "personal.revealed".into(),
            target: format!("resident:{id}"),
            region_code: Some(sealed.cell_code.clone()),
            ip: caller.ip.clone(),
            detail: serde_json::json!({"fields": fields, "reason": reason}),
        })
        .await?;
    let open = |field: Field, sealed: &Option<Vec<u8>>, wanted: bool| match sealed
        .as_deref()
        .filter(|_| wanted)
    {
        None => Ok(None),
        Some(b) => vault
            .open(field, id, b)
            .map(Some)
            .map_err(|e| ApiError::Internal(format!("resident {id}: {e}"))),
    };
    Ok(Json(Revealed {
        resident_id: id,
        id_number: open(Field::ResidentIdNumber, &sealed.id_sealed, want_id)?,
        phone: open(Field::ResidentPhone, &sealed.phone_sealed, want_phone)?,
        audit_seq: seq,
    }))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct TagRequest {
    /// A key-population tag, e.g. `elderly_alone`.
    #[schema(example = "elderly_alone", value_type = crate::schemas::KeyTag)]
    pub tag: String,
    /// Why, at most 200 characters (else `400 note_too_long`).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TagSet {
    pub tag_id: i64,
}

fn parse_tag(raw: &str) -> Result<KeyTag, ApiError> {
    KeyTag::parse(raw).ok_or_else(|| {
        let all: Vec<&str> = KeyTag::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_tag",
            format!("未知的重点人群标记“{raw}”，可选：{}", all.join("、")),
            format!(
                "unknown key-population tag {raw:?}; one of {}",
                all.join(", ")
            ),
        )
    })
}

/// Mark a resident as one of a key population (dated today, by the caller).
#[utoipa::path(post, path = "/api/v1/residents/{id}/tags", tag = "register",
    params(("id" = crate::schemas::RecordId, Path, description = "Resident id")), request_body = TagRequest,
    responses((status = 201, body = TagSet), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "Already tagged, or no longer living here", body = crate::error::ErrorBody)))]
pub async fn set_tag(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<TagRequest>,
) -> Result<(StatusCode, Json<TagSet>), ApiError> {
    caller.require_signed_in()?;
    let id = record_id(&id, "人员", "resident")?;
    let tag = parse_tag(req.tag.trim())?;
    if req.note.chars().count() > 200 {
        return Err(bad_request(
            "note_too_long",
            "备注不超过 200 个字",
            "the note may have at most 200 characters",
        ));
    }
    resident_cell(&s, &caller, id, EDIT).await?;
    let now = s.clock.now_ms();
    let actor = caller.actor();
    let stamp = Stamp {
        actor: &actor,
        now_ms: now,
        ip: caller.ip.as_deref(),
    };
    let tag_id = s
        .store
        .set_tag(
            id,
            tag,
            req.note.trim(),
            Date::from_epoch_ms_cst(now),
            stamp,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(TagSet { tag_id })))
}

/// Close a key-population tag (its record stays in the resident's history).
#[utoipa::path(delete, path = "/api/v1/residents/{id}/tags/{tag}", tag = "register",
    params(("id" = crate::schemas::RecordId, Path, description = "Resident id"), ("tag" = crate::schemas::KeyTag, Path, description = "The tag to close")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn clear_tag(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((id, tag)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require_signed_in()?;
    let id = record_id(&id, "人员", "resident")?;
    let tag = parse_tag(&tag)?;
    resident_cell(&s, &caller, id, EDIT).await?;
    let now = s.clock.now_ms();
    let actor = caller.actor();
    let stamp = Stamp {
        actor: &actor,
        now_ms: now,
        ip: caller.ip.as_deref(),
    };
    s.store
        .clear_tag(id, tag, Date::from_epoch_ms_cst(now), stamp)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
