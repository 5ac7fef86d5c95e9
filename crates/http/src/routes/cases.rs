//! Cases over HTTP: raising one (from any channel, idempotent), the inbox lists, one case with
//! the steps the caller may take now, its photos, and following a case by its number.

use super::case_access::{caller_view, visible_case};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::extract::{ApiPath, ApiQuery};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use shezhi_domain::access::{Action, Role};
use shezhi_domain::cases::{Capacity, Source, Step};
use shezhi_domain::people::Phone;
use shezhi_domain::territory::RegionCode;
use shezhi_store::cases::{CaseDetail, CaseFilter, CaseList, CaseRef, Intake, NewCase, StepInput};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", get(list).post(report))
        .route("/api/v1/cases/{id}", get(detail))
        .route("/api/v1/cases/{id}/photos/{photo}", get(photo))
        .route("/api/v1/track/{number}", get(track))
}

/// A photo inside a JSON body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct PhotoIn {
    /// `image/jpeg`, `image/png` or `image/webp` (the type kept is what the bytes decode as).
    #[schema(example = "image/jpeg", pattern = "^image/(jpeg|png|webp)$")]
    pub content_type: String,
    /// The bytes in base64, at most 5 MB decoded (and within the request's 1 MB body): a
    /// whole JPEG, PNG or WebP image of at most 40 megapixels, else `400 invalid_photo`.
    #[schema(value_type = crate::schemas::PhotoData)]
    pub data_base64: String,
}

/// A report.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct ReportIn {
    /// A leaf category code from `/api/v1/categories`, e.g. `order.vendor` (else
    /// `422 unknown_category`).
    #[schema(example = "order.vendor", min_length = 1)]
    pub category: String,
    /// What is wrong, 2 to 2000 characters (else `422 invalid_description`).
    #[schema(
        example = "小区门口占道摆摊，堵住消防通道",
        min_length = 2,
        max_length = 2000,
        pattern = r"\S[\s\S]*\S"
    )]
    pub description: String,
    /// At most 60 characters (else `422 field_too_long`).
    #[serde(default)]
    #[schema(max_length = 60)]
    pub title: String,
    /// Where: a point, `lon` and `lat` together (then the micro-grid is found; a point outside
    /// the territory is `422`) …
    #[schema(nullable = false, minimum = -180, maximum = 180, example = 104.0835)]
    pub lon: Option<f64>,
    #[schema(nullable = false, minimum = -90, maximum = 90, example = 30.6465)]
    pub lat: Option<f64>,
    /// … or, without a point, the code of a grid or micro-grid (else `400 place_required`).
    #[schema(nullable = false, value_type = Option<crate::schemas::GridCode>)]
    pub cell_code: Option<String>,
    /// At most 200 characters (else `422 field_too_long`).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: String,
    /// A phone to be told on (required without an account); stored sealed, shown masked.
    #[schema(
        nullable = false,
        pattern = r"^\s*((\+86)?1[3-9][0-9]{9})?\s*$",
        example = "13812345678"
    )]
    pub contact_phone: Option<String>,
    /// Staff only: `patrol`, `hotline`, `clue`, `sensor` or `staff`.
    #[schema(nullable = false, value_type = Option<crate::schemas::CaseSource>)]
    pub source: Option<String>,
    /// At most 6 (else `422 too_many_photos`).
    #[serde(default)]
    #[schema(max_items = 6)]
    pub photos: Vec<PhotoIn>,
    /// Grid workers only (else `403`): solved on the spot (自行处置), with what was done.
    #[schema(nullable = false)]
    pub solved_on_spot: Option<String>,
}

fn bad(code: &'static str, zh: &str, en: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, zh, en)
}

/// The cell a report is about: from its point, or its stated grid or micro-grid.
fn place(s: &AppState, r: &ReportIn) -> Result<(RegionCode, Option<[f64; 2]>), ApiError> {
    match (r.lon, r.lat, &r.cell_code) {
        (Some(lon), Some(lat), _) => {
            let chain = s.locator.locate([lon, lat]).map_err(|e| {
                ApiError::client(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &e as &dyn shezhi_domain::Bilingual,
                )
            })?;
            let leaf = chain.last().ok_or_else(|| {
                bad(
                    "outside_territory",
                    "该位置不在辖区内",
                    "the point lies outside the territory",
                )
            })?;
            Ok((leaf.code.clone(), Some([lon, lat])))
        }
        (None, None, Some(c)) => {
            let code = super::parse_code(c)?;
            use shezhi_domain::territory::Level;
            if !matches!(code.level(), Level::Grid | Level::MicroGrid) {
                return Err(bad(
                    "cell_required",
                    "请给出网格或微网格编码",
                    "give a grid or micro-grid code",
                ));
            }
            Ok((code, None))
        }
        _ => Err(bad(
            "place_required",
            "请给出位置（经纬度 lon、lat，或网格编码 cell_code）",
            "give a place: lon and lat, or cell_code",
        )),
    }
}

/// Raise a case. Residents may report without an account by leaving a phone; staff report
/// for places in their territory (patrol, hotline hand-off, clues, sensors, entry). With an
/// `Idempotency-Key` header a retried submission answers the case already made (200).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = ReportIn,
    params(("Idempotency-Key" = Option<String>, Header, max_length = 100, description = "Makes retries safe: the same key and body give the same case; at most 100 characters (else `400 invalid_idempotency_key`)")),
    responses((status = 201, body = Intake), (status = 200, description = "The case this key made before", body = Intake),
        (status = 401, description = "A token was presented that is invalid, expired or revoked (`invalid_token`)", body = crate::error::ErrorBody),
        (status = 403, description = "A browser session without its CSRF token (`csrf_failed`), or `source` or `solved_on_spot` from someone who may not give them (`forbidden`)", body = crate::error::ErrorBody),
        (status = 404, description = "The `cell_code` names no region (`region_not_found`)", body = crate::error::ErrorBody),
        (status = 400, description = "Malformed report, or a photo that is not a whole JPEG, PNG or WebP image of at most 40 megapixels (`invalid_photo`)", body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, description = "Without an account: the photo quota of the address (20 MB an hour) or of all such reports (500 MB a day) is used up (`photo_quota_exceeded`); the report was not made, send it without photos or later", body = crate::error::ErrorBody)))]
pub async fn report(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(r): ApiJson<ReportIn>,
) -> Result<(StatusCode, Json<Intake>), ApiError> {
    let (cell, point) = place(&s, &r)?;
    if s.store.region(&cell).await?.is_none() {
        return Err(ApiError::not_found(
            "region_not_found",
            "区划",
            "region",
            cell.as_str(),
        ));
    }
    let contact = match r
        .contact_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => {
            Some(Phone::parse(p).map_err(|e| ApiError::client(StatusCode::BAD_REQUEST, &e))?)
        }
    };
    let staff = caller.grants.can(Action::ReportCase, &cell);
    let source = match (r.source.as_deref(), staff) {
        (None, true) => staff_source(&caller),
        (None, false) | (Some("resident"), _) => Source::Resident,
        (Some(other), true) => Source::parse(other)
            .filter(|x| !matches!(x, Source::Campaign))
            .ok_or_else(|| {
                bad(
                    "invalid_source",
                    "来源须为 patrol、hotline、clue、sensor、staff 之一",
                    "source must be one of patrol, hotline, clue, sensor, staff",
                )
            })?,
        (Some(_), false) => return Err(crate::auth::forbidden(Action::ReportCase)),
    };
    if caller.user.is_none() && contact.is_none() {
        return Err(bad(
            "contact_required",
            "未登录上报须留下联系电话",
            "without an account, leave a phone number",
        ));
    }
    let solve = r
        .solved_on_spot
        .as_deref()
        .map(str::trim)
        .filter(|x| !x.is_empty());
    let grid_worker_here = caller.grants.bindings.iter().any(|b| {
        b.role == Role::GridWorker && b.scope.as_ref().is_some_and(|sc| sc.contains(&cell))
    });
    if solve.is_some() && !grid_worker_here {
        return Err(crate::auth::forbidden(Action::ReportCase));
    }
    let principal = caller
        .user
        .as_ref()
        .map(|u| format!("user:{}", u.id))
        .or_else(|| contact.as_ref().map(|c| format!("phone:{}", c.masked())))
        .unwrap_or_default();
    let idempotency = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            if k.len() > 100 {
                return Err(bad(
                    "invalid_idempotency_key",
                    "Idempotency-Key 不超过 100 个字符",
                    "the Idempotency-Key may have at most 100 characters",
                ));
            }
            let photo_bytes: usize = r.photos.iter().map(|p| p.data_base64.len()).sum();
            let fingerprint = format!(
                "{}|{}|{}|{:?}|{:?}|{:?}|{}|{:?}|{}",
                r.category,
                r.description,
                r.title,
                r.lon,
                r.lat,
                r.cell_code,
                r.address,
                r.contact_phone,
                photo_bytes
            );
            let hash = shezhi_domain::people::privacy::hex(&shezhi_domain::access::secret_hash(
                &fingerprint,
            ));
            Ok((principal.clone(), k.to_string(), hash))
        })
        .transpose()?;
    let photos = crate::photos::checked(&s, &r.photos).await?;
    let quota =
        crate::photos::take_quota(&s, caller.user.is_some(), caller.ip.as_deref(), &photos)?;
    let intake_cell = cell.clone();
    let case = NewCase {
        source,
        category: r.category.trim().to_string(),
        title: r.title.clone(),
        description: r.description.clone(),
        cell,
        point,
        address: r.address.clone(),
        reporter: caller.actor(),
        contact,
        photos,
        idempotency,
        ip: caller.ip.clone(),
    };
    let mut intake = match submit(&s, case).await {
        Ok(intake) if intake.created => intake,
        Ok(intake) => {
            quota.give_back(&s);
            intake
        }
        Err(e) => {
            quota.give_back(&s);
            return Err(e);
        }
    };
    if intake.created {
        if let (Some(note), true) = (solve, grid_worker_here) {
            let input = StepInput {
                step: Some(Step::SolveOnSpot),
                by: vec![Capacity::GridWorker],
                actor: caller.actor(),
                ip: caller.ip.clone(),
                note: note.to_string(),
                ..StepInput::default()
            };
            let done = s.take_step(intake.id, input).await?;
            intake.stage = done.stage;
        } else if let Some(p) = point {
            let mut near = s
                .store
                .nearby_duplicates(&r.category, p, s.clock.now_ms(), intake.id)
                .await?;
            near.truncate(DUPLICATES_SHOWN);
            // Those who may not see the cases learn only that they exist: how far, since
            // when, how far along, and what staff published of them; not others' words.
            if !caller.grants.can(Action::ViewCases, &intake_cell) {
                near = near.into_iter().map(CaseRef::public).collect();
            }
            intake.possible_duplicates = near;
        }
    }
    let status = if intake.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(intake)))
}

/// Most likely duplicates a report's answer names, nearest first.
const DUPLICATES_SHOWN: usize = 10;

/// The source of a staff member's report that names none: grid workers are on patrol.
pub(crate) fn staff_source(caller: &Caller) -> Source {
    if caller
        .grants
        .bindings
        .iter()
        .any(|b| b.role == Role::GridWorker)
    {
        Source::Patrol
    } else {
        Source::Staff
    }
}

/// Take one report in, through the group-commit writer when the server runs one.
pub(crate) async fn submit(s: &AppState, case: NewCase) -> Result<Intake, ApiError> {
    Ok(match &s.intake {
        Some(group) => group.submit(case).await?,
        None => {
            let now = s.clock.now_ms();
            let mut answers = s
                .store
                .intake_batch(&[case], s.vault.as_deref(), now, &s.calendar)
                .await?;
            answers
                .pop()
                .ok_or_else(|| ApiError::Internal("intake gave no answer".into()))??
        }
    })
}

/// Which cases an inbox shows.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `to_accept`, `to_dispatch`, `to_verify`, `to_sign`, `to_handle`, `pause_requests`,
    /// `overdue`, `mine` (reported by me), `unit` (sent to my unit) or `all` (default).
    #[param(example = "to_accept", value_type = Option<String>,
        pattern = "^(to_accept|to_dispatch|to_verify|to_sign|to_handle|pause_requests|overdue|mine|unit|all)$")]
    pub r#box: Option<String>,
    /// Region to look in (default: everywhere the caller may).
    #[param(value_type = Option<crate::schemas::RegionCode>)]
    pub region: Option<String>,
    /// Only this stage.
    #[param(value_type = Option<crate::schemas::CaseStage>)]
    pub stage: Option<String>,
    pub category: Option<String>,
    /// Words to find in the title, description or address, in any order: Chinese text is cut
    /// into words ("堆放杂物" finds "楼道里堆放了很多杂物"); a case number finds its case.
    pub q: Option<String>,
    #[param(value_type = Option<crate::schemas::Limit>)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The caller's cases, most urgent first. Staff see their territory, unit staff the cases sent
/// to their unit, residents what they reported.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(ListQuery),
    responses((status = 200, body = CaseList), (status = 400, body = crate::error::ErrorBody), (status = 404, description = "The region asked for does not exist (`region_not_found`)", body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    caller.require_signed_in()?;
    let limit = super::register::limit(q.limit.as_deref())?;
    let mut f = CaseFilter {
        category: q.category.clone(),
        text: q.q.clone().filter(|t| !t.trim().is_empty()),
        ..CaseFilter::default()
    };
    if let Some(st) = q.stage.as_deref() {
        let stage = shezhi_domain::cases::Stage::parse(st)
            .ok_or_else(|| bad("invalid_stage", "未知的案件阶段", "unknown case stage"))?;
        f.stages = vec![stage.as_str().to_string()];
    }
    let view = caller_view(&s, &caller, q.region.as_deref()).await?;
    let unit = caller.grants.bindings.iter().find_map(|b| b.unit.clone());
    let mut scopes = Some(view.scopes.clone());
    let staged = |f: &mut CaseFilter, st: &str| {
        if f.stages.is_empty() {
            f.stages = vec![st.to_string()];
        }
    };
    match q.r#box.as_deref().unwrap_or("all") {
        "all" if view.scopes.is_empty() => {
            // Not staff: a unit's cases, else one's own reports.
            scopes = None;
            match &unit {
                Some(u) => f.unit = Some(u.clone()),
                None => {
                    f.reporter = Some(caller.actor());
                    f.newest_first = true;
                }
            }
        }
        "all" => {}
        "mine" => {
            scopes = None;
            f.reporter = Some(caller.actor());
            f.newest_first = true;
        }
        "unit" | "to_sign" | "to_handle" => {
            let u = unit
                .clone()
                .ok_or_else(|| crate::auth::forbidden(Action::ViewCases))?;
            scopes = None;
            match q.r#box.as_deref() {
                Some("to_sign") => {
                    f.lead_unit = Some(u);
                    staged(&mut f, "dispatched");
                }
                Some("to_handle") => {
                    f.lead_unit = Some(u);
                    staged(&mut f, "handling");
                }
                _ => f.unit = Some(u),
            }
        }
        b @ ("to_accept" | "to_dispatch" | "to_verify" | "pause_requests") => {
            staged(
                &mut f,
                match b {
                    "to_accept" => "reported",
                    "to_dispatch" => "accepted",
                    "to_verify" => "fed_back",
                    _ => "pause_requested",
                },
            );
            if view.scopes.is_empty() {
                return Err(crate::auth::forbidden(Action::ViewCases));
            }
            // Accepting, dispatching and approving pauses belong to the level a case sits at
            // and the levels above it; a case that has gone up leaves the lower desks' boxes.
            // Verifying stays open to the community the case lies in.
            f.level_within = b != "to_verify";
        }
        "overdue" => f.overdue = true,
        _ => return Err(bad("invalid_box", "未知的收件箱", "unknown inbox")),
    }
    let list = s
        .store
        .cases(scopes.as_deref(), &f, q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(list))
}

/// A case with what the caller may do now.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub detail: CaseDetail,
    /// How the caller stands to the case: reporter, level_staff, supervisor, lead_unit…
    pub capacities: Vec<String>,
    /// The steps the caller may take now.
    pub actions: Vec<String>,
}

/// One case: its timeline, units, photos, clocks, and the caller's possible steps. A case the
/// caller may not see answers 404.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = crate::schemas::RecordId, Path, description = "Case id")),
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn detail(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CaseView>, ApiError> {
    caller.require_signed_in()?;
    let id = super::register::record_id(&id, "案件", "case")?;
    let (detail, caps, actions) = visible_case(&s, &caller, id).await?;
    Ok(Json(CaseView {
        detail,
        capacities: caps.iter().map(|c| c.as_str().to_string()).collect(),
        actions: actions.iter().map(|a| a.as_str().to_string()).collect(),
    }))
}

/// A photo of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/photos/{photo}", tag = "cases",
    params(("id" = crate::schemas::RecordId, Path, description = "Case id"), ("photo" = crate::schemas::RecordId, Path, description = "Photo id")),
    responses((status = 200, description = "The image, typed by what its bytes decode as, with `X-Content-Type-Options: nosniff`", content(("image/jpeg"), ("image/png"), ("image/webp"))), (status = 404, body = crate::error::ErrorBody)))]
pub async fn photo(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((id, photo)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require_signed_in()?;
    let id = super::register::record_id(&id, "案件", "case")?;
    let photo = super::register::record_id(&photo, "照片", "photo")?;
    visible_case(&s, &caller, id).await?;
    let (stored_type, bytes) = s.store.case_photo(id, photo).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "photo_not_found",
            format!("未找到照片 {photo}"),
            format!("photo {photo} not found"),
        )
    })?;
    // The type is what the bytes are, whatever was stored beside them (photos taken before
    // they were decoded on arrival were typed by their first bytes only); anything else is
    // served as a download, never as something a browser would render.
    let content_type = image::guess_format(&bytes)
        .ok()
        .and_then(crate::photos::media_type)
        .unwrap_or("application/octet-stream");
    if content_type != stored_type {
        tracing::warn!(
            case = id,
            photo,
            stored_type,
            content_type,
            "photo bytes differ from their stored type"
        );
    }
    let disposition = if content_type == "application/octet-stream" {
        "attachment"
    } else {
        "inline"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    /// The last four digits of the contact phone left with the report.
    pub phone_last4: Option<String>,
}

/// A case followed by its number, without an account: the stage and the timeline's steps and
/// times (no names, notes or places), for the reporter who knows the number and the last four
/// digits of their phone.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Tracking {
    pub number: String,
    pub title: String,
    pub category: String,
    pub stage: String,
    pub created_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    /// (step, time) oldest first.
    pub steps: Vec<(String, i64)>,
}

/// Follow a case by its number (reporters without an account).
#[utoipa::path(get, path = "/api/v1/track/{number}", tag = "cases",
    params(("number" = String, Path, pattern = "^SQ[0-9]{13,}$", description = "Case number, e.g. SQ2026112300001"), TrackQuery),
    responses((status = 200, body = Tracking), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 429, description = "Too many failed look-ups of this number (`tracking_paused`)", body = crate::error::ErrorBody)))]
pub async fn track(
    State(s): State<AppState>,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<TrackQuery>,
) -> Result<Json<Tracking>, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "case_not_found",
            "未找到该编号的案件，或手机号后四位不符",
            "no case with this number and phone",
        )
    };
    // Wrong guesses are counted per case number, whoever sends them: past the budget the
    // number answers nothing for a while, even to the right phone ending.
    let number = number.trim();
    let now = s.clock.now_ms();
    if s.limits.track_failures.exhausted(number, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "tracking_paused",
            "该编号查询失败次数过多，请一小时后再试，或拨打热线查询",
            "too many failed look-ups of this case number; try again in an hour or call the hotline",
        ));
    }
    let last4 = q.phone_last4.unwrap_or_default();
    let found = match s.store.case_id_by_number(number).await? {
        Some(id) => s.store.case_detail(id).await?,
        None => None,
    };
    let Some(d) = found.filter(|d| {
        d.contact_masked
            .as_deref()
            .is_some_and(|m| last4.len() == 4 && m.ends_with(&last4))
    }) else {
        s.limits.track_failures.allow(number, now);
        return Err(missing());
    };
    Ok(Json(Tracking {
        number: d.case.number,
        title: d.case.title,
        category: d.case.category,
        stage: d.case.stage,
        created_at_ms: d.case.created_at_ms,
        closed_at_ms: d.closed_at_ms,
        steps: d.events.iter().map(|e| (e.step.clone(), e.at_ms)).collect(),
    }))
}
