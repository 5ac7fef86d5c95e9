//! Taking a step on a case: accept, reject, escalate, dispatch, blow the whistle, sign, check
//! in, return, feed back, verify, send back for rework, pause, supervise, rate, merge. The
//! caller's capacities on the case decide (`case_access.rs`); the workflow and the store do
//! the rest in one transaction.

use super::case_access::visible_case;
use super::cases::PhotoIn;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::extract::ApiPath;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use shezhi_domain::cases::workflow::capacities_for;
use shezhi_domain::cases::{Satisfaction, Step};
use shezhi_store::cases::{StepDone, StepInput};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/cases/{id}/steps", post(take))
}

/// A step.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct StepIn {
    /// accept, reject, escalate, dispatch, whistle, sign, check_in, return, feedback, verify,
    /// rework, request_pause, approve_pause, deny_pause, resume, supervise, rate, merge,
    /// solve_on_spot or comment.
    #[schema(example = "accept", value_type = crate::schemas::StepName)]
    pub step: String,
    /// Reason or what was done (required to reject, return, feed back, pause), at most 2000
    /// characters (else `400 note_too_long`).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// Dispatch: `[unit]`; whistle: `[lead, assisting…]`.
    #[serde(default)]
    pub units: Vec<String>,
    /// Rate: satisfied, basic or unsatisfied.
    #[schema(nullable = false, value_type = Option<crate::schemas::Satisfaction>)]
    pub satisfaction: Option<String>,
    /// Rate: the problem is not fixed (reopens the case).
    #[serde(default)]
    pub not_fixed: bool,
    /// Merge: the id of the case this one joins.
    #[schema(nullable = false, value_type = Option<crate::schemas::RecordId>)]
    pub merge_into: Option<i64>,
    /// Request pause: until when (epoch ms).
    pub pause_until_ms: Option<i64>,
    /// The `events` count the caller saw; if the case moved on since, 409 `case_changed`.
    pub expect_events: Option<i64>,
    /// At most 6 (else `422 too_many_photos`).
    #[serde(default)]
    #[schema(max_items = 6)]
    pub photos: Vec<PhotoIn>,
}

/// Take a step on a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/steps", tag = "cases",
    params(("id" = crate::schemas::RecordId, Path, description = "Case id")), request_body = StepIn,
    responses((status = 200, body = StepDone), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, description = "Wrong stage, or the case changed", body = crate::error::ErrorBody),
        (status = 422, description = "Refused by the workflow's own checks (a photo of a type or size not accepted, …)", body = crate::error::ErrorBody)))]
pub async fn take(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StepIn>,
) -> Result<Json<StepDone>, ApiError> {
    caller.require_signed_in()?;
    let id = super::register::record_id(&id, "案件", "case")?;
    let step = Step::parse(body.step.trim())
        .filter(|s| !matches!(s, Step::Report | Step::Warn | Step::Overdue))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_step",
                format!("未知的操作“{}”", body.step),
                format!("unknown step {:?}", body.step),
            )
        })?;
    let satisfaction = match body.satisfaction.as_deref() {
        None => None,
        Some(x) => Some(Satisfaction::parse(x).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_satisfaction",
                "满意度须为 satisfied、basic、unsatisfied 之一",
                "satisfaction must be satisfied, basic or unsatisfied",
            )
        })?),
    };
    if body.note.chars().count() > 2000 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "note_too_long",
            "说明不超过 2000 字",
            "the note may have at most 2000 characters",
        ));
    }
    let (detail, caps, _) = visible_case(&s, &caller, id).await?;
    if !caps.iter().any(|c| capacities_for(step).contains(c)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "step_not_permitted",
            format!("您无权对此案件{}", step.zh()),
            format!("you may not take the step {step} on this case"),
        ));
    }
    // A case may only join one the caller can see; anything else answers as missing.
    if let Some(target) = body.merge_into {
        visible_case(&s, &caller, target).await?;
    }
    let units = if step == Step::CheckIn {
        let mine: Vec<String> = caller
            .grants
            .bindings
            .iter()
            .filter_map(|b| b.unit.clone())
            .collect();
        let round = detail.units.iter().map(|u| u.round).max().unwrap_or(0);
        detail
            .units
            .iter()
            .filter(|u| u.round == round && mine.contains(&u.unit_code))
            .map(|u| u.unit_code.clone())
            .collect()
    } else {
        body.units.iter().map(|u| u.trim().to_string()).collect()
    };
    let input = StepInput {
        step: Some(step),
        by: caps,
        actor: caller.actor(),
        ip: caller.ip.clone(),
        note: body.note,
        units,
        satisfaction,
        not_fixed: body.not_fixed,
        merge_into: body.merge_into,
        pause_until_ms: body.pause_until_ms,
        photos: crate::photos::checked(&s, &body.photos).await?,
        expect_events: body.expect_events,
    };
    shezhi_store::cases::check_photos(&input.photos)?;
    let done = s.take_step(id, input).await?;
    Ok(Json(done))
}
