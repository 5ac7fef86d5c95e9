//! Directives (指令) and household campaigns (入户排查): issue and follow a directive level by
//! level, sign and report as a recipient region; make a campaign, list a grid's tasks, sync a
//! device's visits in batches, and read or export coverage.

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::extract::{ApiPath, ApiQuery};
use crate::xlsx::Cell;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use shezhi_domain::access::Action;
use shezhi_domain::campaigns::form::Form;
use shezhi_domain::campaigns::{BuildingType, Outcome, TargetLevel};
use shezhi_domain::people::KeyTag;
use shezhi_domain::territory::RegionCode;
use shezhi_store::access::By;
use shezhi_store::campaigns::{
    Attachment, Campaign, Directive, LevelProgress, NewCampaign, NewDirective, Recipient, Task,
    VisitIn, VisitResult,
};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/directives", post(issue).get(list))
        .route("/api/v1/directives/{id}", get(show))
        .route("/api/v1/directives/{id}/recipients", get(recipients))
        .route(
            "/api/v1/directives/{id}/attachments/{file}",
            get(directive_attachment),
        )
        .route("/api/v1/directives/{id}/sign", post(sign))
        .route("/api/v1/directives/{id}/report", post(report))
        .route("/api/v1/directives/{id}/amend", post(amend))
        .route("/api/v1/directives/{id}/withdraw", post(withdraw))
        .route("/api/v1/campaigns", post(create).get(campaigns))
        .route("/api/v1/campaigns/{id}/tasks", get(tasks))
        .route("/api/v1/campaigns/{id}/rounds", post(next_round))
        .route("/api/v1/campaigns/{id}/visits", post(visits))
        .route("/api/v1/campaigns/{id}/coverage", get(coverage))
        .route("/api/v1/campaigns/{id}/coverage.csv", get(coverage_csv))
        .route("/api/v1/campaigns/{id}/coverage.xlsx", get(coverage_xlsx))
}

fn bad(code: &'static str, zh: &str, en: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, zh, en)
}

fn text_field(
    v: &str,
    max: usize,
    code: &'static str,
    zh: &str,
    en: &str,
) -> Result<String, ApiError> {
    let t = v.trim();
    if t.chars().count() < 2 || t.chars().count() > max {
        return Err(bad(
            code,
            &format!("{zh}应为 2 到 {max} 个字"),
            &format!("{en} must be 2 to {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// A file inside a JSON body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct FileIn {
    /// Not blank (else `400 invalid_attachment`).
    #[schema(pattern = r"\S", example = "通知.pdf")]
    pub name: String,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// The bytes in base64, at most 5 MB decoded (and within the request's 1 MB body).
    #[schema(value_type = crate::schemas::Base64)]
    pub data_base64: String,
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct DirectiveIn {
    /// The issuing region: the directive reaches the regions of `levels` below it.
    #[schema(value_type = crate::schemas::RegionCode)]
    pub region: String,
    /// 2 to 200 characters (else `400 invalid_title`).
    #[schema(max_length = 200, pattern = r"\S[\s\S]*\S")]
    pub title: String,
    /// 2 to 20,000 characters (else `400 invalid_content`).
    #[schema(max_length = 20000, pattern = r"\S[\s\S]*\S")]
    pub content: String,
    /// `district`, `street`, `community`, `grid`: at least one (else `400 invalid_level`).
    #[schema(min_items = 1, value_type = Vec<crate::schemas::TargetLevel>)]
    pub levels: Vec<String>,
    /// When reports are due (epoch ms): in the future (else `422 deadline_passed`).
    pub deadline_ms: i64,
    #[serde(default)]
    pub attachments: Vec<FileIn>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Issued {
    pub id: i64,
    pub recipients: i64,
}

/// Issue a directive to every region of the target levels below the issuing region.
#[utoipa::path(post, path = "/api/v1/directives", tag = "campaigns", request_body = DirectiveIn,
    responses((status = 201, body = Issued), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, description = "The region does not exist (`region_not_found`)", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn issue(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DirectiveIn>,
) -> Result<(StatusCode, Json<Issued>), ApiError> {
    let region = super::register::existing_region(&s, &body.region).await?;
    caller.require_in(Action::IssueDirective, &region)?;
    let title = text_field(&body.title, 200, "invalid_title", "标题", "the title")?;
    let content = text_field(
        &body.content,
        20_000,
        "invalid_content",
        "内容",
        "the content",
    )?;
    let mut levels = Vec::new();
    for l in &body.levels {
        let level = TargetLevel::parse(l.trim()).ok_or_else(|| {
            bad(
                "invalid_level",
                &format!("未知的层级“{l}”（可选 district、street、community、grid）"),
                &format!("unknown level {l:?} (district, street, community or grid)"),
            )
        })?;
        if !levels.contains(&level) {
            levels.push(level);
        }
    }
    if levels.is_empty() {
        return Err(bad(
            "invalid_level",
            "请至少选择一个接收层级",
            "choose at least one target level",
        ));
    }
    let mut attachments = Vec::new();
    for f in &body.attachments {
        let bytes = crate::base64::decode(&f.data_base64).ok_or_else(|| {
            bad(
                "invalid_attachment",
                "附件不是有效的 base64",
                "an attachment is not valid base64",
            )
        })?;
        if bytes.len() > 5 * 1024 * 1024 || f.name.trim().is_empty() {
            return Err(bad(
                "invalid_attachment",
                "附件须有名称且不超过 5 MB",
                "an attachment needs a name and at most 5 MB",
            ));
        }
        attachments.push(Attachment {
            name: f.name.trim().into(),
            content_type: f.content_type.clone(),
            bytes,
        });
    }
    let d = NewDirective {
        issuer: caller.actor(),
        region,
        title,
        content,
        levels,
        deadline_ms: body.deadline_ms,
        attachments,
    };
    let (id, recipients) = s
        .store
        .issue_directive(&d, s.clock.now_ms(), caller.ip.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(Issued { id, recipients })))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DirectiveList {
    pub items: Vec<Directive>,
    /// Reminders to the caller's regions about directives they have not signed or reported
    /// on in time, newest first.
    pub notices: Vec<DirectiveNotice>,
    /// Where the caller's own regions stand on the directives sent to them.
    pub answers: Vec<MyAnswer>,
}

/// One of the caller's regions as a recipient of one directive (its current version).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MyAnswer {
    pub directive_id: i64,
    pub region_code: String,
    pub signed: bool,
    pub reported: bool,
}

/// A reminder sent to a recipient region (or to its parent when it is overdue).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DirectiveNotice {
    pub directive_id: i64,
    /// `half_time_unsigned` (half the time gone and not signed) or `overdue` (not reported by
    /// the deadline).
    pub rule: String,
    pub text_zh: String,
    pub text_en: String,
    pub at_ms: i64,
}

/// The scopes of the caller's bindings that may take `action`.
fn scopes(caller: &Caller, actions: &[Action]) -> Vec<RegionCode> {
    caller
        .grants
        .bindings
        .iter()
        .filter(|b| actions.iter().any(|a| b.role.allows(*a)))
        .filter_map(|b| b.scope.clone())
        .collect()
}

/// Directives issued in, or sent into, the caller's regions, newest first.
#[utoipa::path(get, path = "/api/v1/directives", tag = "campaigns",
    responses((status = 200, body = DirectiveList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<DirectiveList>, ApiError> {
    caller.require_signed_in()?;
    let issuing = scopes(&caller, &[Action::IssueDirective]);
    let answering = scopes(&caller, &[Action::AnswerDirective]);
    let answers = s
        .store
        .directive_answers(&answering, 100)
        .await?
        .into_iter()
        .map(|(directive_id, region_code, signed, reported)| MyAnswer {
            directive_id,
            region_code,
            signed,
            reported,
        })
        .collect();
    let to: Vec<String> = answering
        .iter()
        .map(|sc| format!("region:{}", sc.as_str()))
        .collect();
    let notices = s
        .store
        .directive_notices(&to, 50)
        .await?
        .into_iter()
        .map(
            |(directive_id, rule, text_zh, text_en, at_ms)| DirectiveNotice {
                directive_id,
                rule,
                text_zh,
                text_en,
                at_ms,
            },
        )
        .collect();
    Ok(Json(DirectiveList {
        items: s.store.directives_for(&issuing, &answering, 100).await?,
        notices,
        answers,
    }))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DirectiveView {
    pub directive: Directive,
    /// Signed and reported per level, for the current version.
    pub progress: Vec<LevelProgress>,
    /// Recipients in the caller's part that have not reported on the current version
    /// (up to 500, in code order).
    pub pending: Vec<Recipient>,
    /// Where the caller's own regions stand, for those that are recipients.
    pub mine: Vec<Recipient>,
    /// Whether the caller may amend or withdraw it (it is active and in their scope).
    pub may_manage: bool,
}

/// How the caller stands to a directive they may see.
struct DirectiveAccess {
    directive: Directive,
    region: RegionCode,
    /// Staff with `issue_directive` over the issuing region: they follow every recipient,
    /// amend and withdraw.
    manages: bool,
    /// The caller's own regions that are recipients (each sees and answers for itself).
    own: Vec<RegionCode>,
}

fn directive_not_found(id: i64) -> ApiError {
    ApiError::not_found("directive_not_found", "指令", "directive", &id.to_string())
}

/// The directive if the caller may see it: its issuer's territory staff (`issue_directive`
/// over its region) and the recipients at the levels it was sent to, each for its own
/// region. Anyone else is answered exactly like a missing id.
async fn directive_access(
    s: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<DirectiveAccess, ApiError> {
    caller.require_signed_in()?;
    let directive = s
        .store
        .directive(id)
        .await?
        .ok_or_else(|| directive_not_found(id))?;
    let region = super::parse_code(&directive.region_code)?;
    let manages = caller.grants.can(Action::IssueDirective, &region);
    let candidates: Vec<RegionCode> = scopes(caller, &[Action::AnswerDirective])
        .into_iter()
        .filter(|sc| region.contains(sc) && *sc != region)
        .collect();
    let mut own = s.store.directive_recipients_among(id, &candidates).await?;
    own.sort();
    own.dedup();
    if !manages && own.is_empty() {
        return Err(directive_not_found(id));
    }
    Ok(DirectiveAccess {
        directive,
        region,
        manages,
        own,
    })
}

/// The recipients a caller may follow: all of them for the issuer's territory, else the
/// caller's own recipient regions only (`exact`: the row of the region itself).
fn recipient_parts(a: &DirectiveAccess) -> (Vec<RegionCode>, bool) {
    if a.manages {
        (vec![a.region.clone()], false)
    } else {
        (a.own.clone(), true)
    }
}

/// Recipients of `part` after `after`: the subtree's, or only the region's own row.
async fn recipients_of(
    s: &AppState,
    id: i64,
    part: &RegionCode,
    exact: bool,
    pending: bool,
    after: &str,
    want: i64,
) -> Result<Vec<Recipient>, shezhi_store::StoreError> {
    // A region's own code is the first of its subtree.
    let rows = s
        .store
        .directive_recipients(id, part, pending, after, if exact { 1 } else { want })
        .await?;
    Ok(if exact {
        rows.into_iter()
            .filter(|r| r.region_code == part.as_str())
            .collect()
    } else {
        rows
    })
}

/// A directive with its progress level by level and who has not reported.
#[utoipa::path(get, path = "/api/v1/directives/{id}", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Directive id")),
    responses((status = 200, body = DirectiveView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DirectiveView>, ApiError> {
    let id = super::register::record_id(&id, "指令", "directive")?;
    let access = directive_access(&s, &caller, id).await?;
    let (parts, exact) = recipient_parts(&access);
    let mut pending = Vec::new();
    for part in &parts {
        pending.extend(recipients_of(&s, id, part, exact, true, "", 500).await?);
        if pending.len() >= 500 {
            break;
        }
    }
    pending.truncate(500);
    let mut mine = Vec::new();
    for region in &access.own {
        mine.extend(recipients_of(&s, id, region, true, false, "", 1).await?);
    }
    let may_manage = access.directive.status == "active" && access.manages;
    let directive = access.directive;
    Ok(Json(DirectiveView {
        progress: s.store.directive_progress(id).await?,
        directive,
        pending,
        mine,
        may_manage,
    }))
}

/// One page of `limit` items over several disjoint parts taken in order, after `after`:
/// each part is asked for what is still wanted after the cursor, and the cursor moves to the
/// last item taken (`key`). The next page's cursor, when this page is full.
async fn page_across<T, Fut>(
    parts: impl IntoIterator<Item = RegionCode>,
    limit: i64,
    mut after: Option<String>,
    fetch: impl Fn(RegionCode, Option<String>, i64) -> Fut,
    key: impl Fn(&T) -> String,
) -> Result<(Vec<T>, Option<String>), ApiError>
where
    Fut: std::future::Future<Output = Result<Vec<T>, shezhi_store::StoreError>>,
{
    let mut items = Vec::new();
    for part in parts {
        let want = limit - items.len() as i64;
        if want <= 0 {
            break;
        }
        let page = fetch(part, after.clone(), want).await?;
        if let Some(last) = page.last() {
            after = Some(key(last));
        }
        items.extend(page);
    }
    let next = (items.len() as i64 == limit).then_some(after).flatten();
    Ok((items, next))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// Only those that have not reported on the current version (default `true`).
    pub pending: Option<bool>,
    /// The last region code of the previous page.
    pub cursor: Option<String>,
    /// 1 to 500 (default 50).
    #[param(value_type = Option<crate::schemas::Limit>)]
    pub limit: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RecipientPage {
    pub items: Vec<Recipient>,
    pub next_cursor: Option<String>,
}

/// The recipients in the caller's part of a directive's reach, in code order, a page at a
/// time: the whole list of those that have not reported, however many there are.
#[utoipa::path(get, path = "/api/v1/directives/{id}/recipients", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Directive id"), RecipientQuery),
    responses((status = 200, body = RecipientPage), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn recipients(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RecipientQuery>,
) -> Result<Json<RecipientPage>, ApiError> {
    let id = super::register::record_id(&id, "指令", "directive")?;
    let access = directive_access(&s, &caller, id).await?;
    let limit = super::register::limit(q.limit.as_deref())?;
    let (parts, exact) = recipient_parts(&access);
    let pending = q.pending.unwrap_or(true);
    let (items, next_cursor) = page_across(
        parts,
        limit,
        q.cursor.clone(),
        |part, after, want| {
            let s = s.clone();
            async move {
                let after = after.unwrap_or_default();
                recipients_of(&s, id, &part, exact, pending, &after, want).await
            }
        },
        |r: &Recipient| r.region_code.clone(),
    )
    .await?;
    Ok(Json(RecipientPage { items, next_cursor }))
}

/// One attachment of a directive, as it was uploaded.
#[utoipa::path(get, path = "/api/v1/directives/{id}/attachments/{file}", tag = "campaigns",
    params(("id" = crate::schemas::RecordId, Path, description = "Directive id"), ("file" = crate::schemas::RecordId, Path, description = "Attachment id")),
    responses((status = 200, description = "The file"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn directive_attachment(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((id, file)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let id = super::register::record_id(&id, "指令", "directive")?;
    let file = super::register::record_id(&file, "附件", "attachment")?;
    directive_access(&s, &caller, id).await?;
    let (name, content_type, bytes) =
        s.store
            .directive_attachment(id, file)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(
                    "attachment_not_found",
                    "附件",
                    "attachment",
                    &file.to_string(),
                )
            })?;
    // The name travels percent-encoded (RFC 5987), so any character is safe in the header.
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, safe_type(&content_type).to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    ))
}

/// The uploaded content type if it is a plain `type/subtype`, else a generic one: the
/// value goes into a response header.
fn safe_type(t: &str) -> &str {
    let ok = !t.is_empty()
        && t.len() <= 100
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/.+-".contains(&b))
        && t.matches('/').count() == 1;
    if ok { t } else { "application/octet-stream" }
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct AnswerIn {
    /// The recipient region the caller answers for (one of their own bindings).
    #[schema(value_type = crate::schemas::RegionCode)]
    pub region: String,
    /// Report: what was done (2 to 5,000 characters, else `400 invalid_report`); not read when
    /// signing.
    #[serde(default)]
    #[schema(max_length = 5000, pattern = r"\S[\s\S]*\S")]
    pub report: String,
}

/// A report on a directive: [`AnswerIn`] with its report required.
#[derive(utoipa::ToSchema)]
#[schema(as = DirectiveReportIn)]
#[allow(dead_code)] // Only describes the body `report` reads as an `AnswerIn`.
struct ReportOnDoc {
    /// The recipient region the caller answers for (one of their own bindings).
    #[schema(value_type = crate::schemas::RegionCode)]
    region: String,
    /// What was done, 2 to 5,000 characters (else `400 invalid_report`).
    #[schema(max_length = 5000, pattern = r"\S[\s\S]*\S")]
    report: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Answered {
    /// The version signed or reported on.
    pub version: i64,
}

/// The region the caller answers for: exactly one of their bindings' scopes, and a
/// recipient of the directive.
fn answering(caller: &Caller, access: &DirectiveAccess, raw: &str) -> Result<RegionCode, ApiError> {
    let region = super::parse_code(raw)?;
    caller.require_in(Action::AnswerDirective, &region)?;
    if !scopes(caller, &[Action::AnswerDirective]).contains(&region) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_your_region",
            "只能以本人负责的区域签收或反馈",
            "you may answer only for a region you are bound to",
        ));
    }
    if !access.own.contains(&region) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_a_recipient",
            "该区域不是此指令的接收方",
            "the region is not a recipient of this directive",
        ));
    }
    Ok(region)
}

/// Who takes a step, with the address they called from, for its audit entry.
fn by<'a>(caller: &'a Caller, actor: &'a str) -> By<'a> {
    By {
        actor,
        ip: caller.ip.as_deref(),
    }
}

/// Sign for (签收) the current version as a recipient region.
#[utoipa::path(post, path = "/api/v1/directives/{id}/sign", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Directive id")), request_body = AnswerIn,
    responses((status = 200, body = Answered), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn sign(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerIn>,
) -> Result<Json<Answered>, ApiError> {
    let id = super::register::record_id(&id, "指令", "directive")?;
    let access = directive_access(&s, &caller, id).await?;
    let region = answering(&caller, &access, &body.region)?;
    let version = s
        .store
        .sign_directive(id, &region, by(&caller, &caller.actor()), s.clock.now_ms())
        .await?;
    Ok(Json(Answered { version }))
}

/// Report back (反馈) on the current version as a recipient region.
#[utoipa::path(post, path = "/api/v1/directives/{id}/report", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Directive id")), request_body = ReportOnDoc,
    responses((status = 200, body = Answered), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn report(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerIn>,
) -> Result<Json<Answered>, ApiError> {
    let id = super::register::record_id(&id, "指令", "directive")?;
    let access = directive_access(&s, &caller, id).await?;
    let region = answering(&caller, &access, &body.region)?;
    let text = text_field(
        &body.report,
        5_000,
        "invalid_report",
        "反馈内容",
        "the report",
    )?;
    let version = s
        .store
        .report_directive(
            id,
            &region,
            by(&caller, &caller.actor()),
            &text,
            s.clock.now_ms(),
        )
        .await?;
    Ok(Json(Answered { version }))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct AmendIn {
    /// 2 to 20,000 characters (else `400 invalid_content`).
    #[schema(max_length = 20000, pattern = r"\S[\s\S]*\S")]
    pub content: String,
    /// The new deadline (epoch ms): in the future (else `422 deadline_passed`).
    pub deadline_ms: i64,
}

/// Amend a directive: a new version every recipient must sign again.
#[utoipa::path(post, path = "/api/v1/directives/{id}/amend", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Directive id")), request_body = AmendIn,
    responses((status = 200, body = Answered), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, description = "The deadline has passed (`deadline_passed`)", body = crate::error::ErrorBody)))]
pub async fn amend(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AmendIn>,
) -> Result<Json<Answered>, ApiError> {
    let id = super::register::record_id(&id, "指令", "directive")?;
    let access = directive_access(&s, &caller, id).await?;
    if !access.manages {
        return Err(crate::auth::forbidden(Action::IssueDirective));
    }
    let content = text_field(
        &body.content,
        20_000,
        "invalid_content",
        "内容",
        "the content",
    )?;
    let version = s
        .store
        .amend_directive(
            id,
            by(&caller, &caller.actor()),
            &content,
            body.deadline_ms,
            s.clock.now_ms(),
        )
        .await?;
    Ok(Json(Answered { version }))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct WithdrawIn {
    /// 2 to 1,000 characters (else `400 invalid_reason`).
    #[schema(max_length = 1000, pattern = r"\S[\s\S]*\S")]
    pub reason: String,
}

/// Withdraw a directive.
#[utoipa::path(post, path = "/api/v1/directives/{id}/withdraw", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Directive id")), request_body = WithdrawIn,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn withdraw(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<WithdrawIn>,
) -> Result<StatusCode, ApiError> {
    let id = super::register::record_id(&id, "指令", "directive")?;
    let access = directive_access(&s, &caller, id).await?;
    if !access.manages {
        return Err(crate::auth::forbidden(Action::IssueDirective));
    }
    let reason = text_field(
        &body.reason,
        1_000,
        "invalid_reason",
        "撤回原因",
        "the reason",
    )?;
    s.store
        .withdraw_directive(id, by(&caller, &caller.actor()), &reason, s.clock.now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct CampaignIn {
    #[schema(value_type = crate::schemas::RegionCode)]
    pub region: String,
    /// 2 to 200 characters (else `400 invalid_title`).
    #[schema(max_length = 200, pattern = r"\S[\s\S]*\S")]
    pub title: String,
    /// Only households with a resident holding this key-population tag.
    #[schema(nullable = false, value_type = Option<crate::schemas::KeyTag>)]
    pub tag: Option<String>,
    /// Only households living in buildings of this type: by height `high_rise` (10 floors and
    /// more), `multi_storey` (4 to 9), `low_rise` (3 and fewer, self-built houses included),
    /// or by the place's kind `compound`, `courtyard`, `village_group`, `institution`.
    #[schema(nullable = false, value_type = Option<crate::schemas::BuildingType>)]
    pub building_type: Option<String>,
    /// Full rounds planned (1 to 10).
    #[schema(minimum = 1, maximum = 10)]
    pub rounds: i64,
    /// The checklist: `{"questions": [{"id", "text_zh", "text_en", "type": "yes_no" | "number" |
    /// "text" | "choice", "options", "min", "max", "required", "when": {"question", "equals"}}]}`.
    #[schema(value_type = FormDoc)]
    pub form: serde_json::Value,
}

/// A campaign's checklist (`shezhi_domain::campaigns::form::Form`, described here). Rules
/// across questions are checked when the campaign is made (`400 form_duplicate_question`,
/// `form_bad_condition` for a condition on a question not asked before it, `form_no_options`
/// for a choice without options).
#[derive(utoipa::ToSchema)]
#[schema(as = Form)]
#[allow(dead_code)] // Only describes the domain's type.
struct FormDoc {
    questions: Vec<QuestionDoc>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = Question)]
#[allow(dead_code)] // Only describes the domain's type.
struct QuestionDoc {
    /// Not blank, unique in the form.
    #[schema(pattern = r"\S", example = "bottled_gas")]
    id: String,
    /// Not blank.
    #[schema(pattern = r"\S", example = "是否使用瓶装燃气？")]
    text_zh: String,
    #[schema(default = "")]
    text_en: String,
    /// `yes_no`, `number` (with optional `min`, `max`), `text`, or `choice` (with `options`).
    #[schema(
        rename = "type",
        pattern = "^(yes_no|number|text|choice)$",
        example = "yes_no"
    )]
    kind: String,
    /// A number's least value.
    min: Option<f64>,
    /// A number's greatest value.
    max: Option<f64>,
    /// A choice's options (at least one).
    options: Option<Vec<String>>,
    #[schema(default = false)]
    required: bool,
    /// Ask only when an earlier question was answered with `equals`.
    when: Option<ConditionDoc>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = Condition)]
#[allow(dead_code)] // Only describes the domain's type.
struct ConditionDoc {
    question: String,
    equals: serde_json::Value,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
    pub households: i64,
}

/// Make a campaign: a task for every targeted household of the region.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CampaignIn,
    responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, description = "The region does not exist (`region_not_found`)", body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CampaignIn>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let region = super::register::existing_region(&s, &body.region).await?;
    caller.require_in(Action::RunCampaign, &region)?;
    let title = text_field(&body.title, 200, "invalid_title", "标题", "the title")?;
    let tag = match body.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(KeyTag::parse(t).ok_or_else(|| {
            bad(
                "invalid_tag",
                &format!("未知的重点人群标签“{t}”"),
                &format!("unknown key-population tag {t:?}"),
            )
        })?),
    };
    let building_type = match body
        .building_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(t) => Some(BuildingType::parse(t).ok_or_else(|| {
            bad(
                "invalid_building_type",
                &format!("未知的建筑类型“{t}”（可选 high_rise、multi_storey、low_rise、compound、courtyard、village_group、institution）"),
                &format!("unknown building type {t:?} (high_rise, multi_storey, low_rise, compound, courtyard, village_group or institution)"),
            )
        })?),
    };
    let form =
        Form::parse(&body.form).map_err(|e| ApiError::client(StatusCode::BAD_REQUEST, &e))?;
    let c = NewCampaign {
        title,
        region,
        tag,
        building_type,
        rounds: body.rounds,
        form,
        created_by: caller.actor(),
    };
    let (id, households) = s
        .store
        .create_campaign(&c, s.clock.now_ms(), caller.ip.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id, households })))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CampaignList {
    pub items: Vec<Campaign>,
}

/// Campaigns that concern the caller's regions.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", responses((status = 200, body = CampaignList)))]
pub async fn campaigns(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<CampaignList>, ApiError> {
    caller.require_signed_in()?;
    let mine = scopes(&caller, &[Action::RunCampaign, Action::VisitHouseholds]);
    let items = s
        .store
        .campaigns_for(&mine)
        .await?
        .into_iter()
        .filter(|c| RegionCode::parse(&c.region_code).is_ok_and(|r| sees_campaign(&caller, &r)))
        .collect();
    Ok(Json(CampaignList { items }))
}

/// Who may see a campaign: staff with `run_campaign` over its region, and those who visit
/// households (`visit_households`) in a part of it (their grid inside it, or the grid the
/// campaign was made inside).
fn sees_campaign(caller: &Caller, region: &RegionCode) -> bool {
    caller.grants.can(Action::RunCampaign, region)
        || scopes(caller, &[Action::VisitHouseholds])
            .iter()
            .any(|sc| region.contains(sc) || sc.contains(region))
}

/// The campaign if the caller may see it ([`sees_campaign`]); anyone else is answered
/// exactly like a missing id.
async fn campaign(s: &AppState, caller: &Caller, id: &str) -> Result<Campaign, ApiError> {
    let id = super::register::record_id(id, "排查任务", "campaign")?;
    caller.require_signed_in()?;
    let missing = || {
        ApiError::not_found(
            "campaign_not_found",
            "排查任务",
            "campaign",
            &id.to_string(),
        )
    };
    let c = s.store.campaign(id).await?.ok_or_else(missing)?;
    let region = super::parse_code(&c.region_code)?;
    if !sees_campaign(caller, &region) {
        return Err(missing());
    }
    Ok(c)
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RoundStarted {
    pub round: i64,
}

/// Start the next round: every household is to be visited again.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/rounds", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Campaign id")),
    responses((status = 200, body = RoundStarted), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn next_round(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RoundStarted>, ApiError> {
    let c = campaign(&s, &caller, &id).await?;
    caller.require_in(Action::RunCampaign, &super::parse_code(&c.region_code)?)?;
    let round = s
        .store
        .next_round(c.id, by(&caller, &caller.actor()), s.clock.now_ms())
        .await?;
    Ok(Json(RoundStarted { round }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// A grid (or any region) of the caller's.
    #[param(value_type = crate::schemas::RegionCode)]
    pub region: String,
    pub cursor: Option<String>,
    #[param(value_type = Option<crate::schemas::Limit>)]
    pub limit: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TaskPage {
    pub items: Vec<Task>,
    pub next_cursor: Option<String>,
}

/// The households to visit in a region, in (micro-grid, household) order.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/tasks", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Campaign id"), TaskQuery),
    responses((status = 200, body = TaskPage), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn tasks(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> Result<Json<TaskPage>, ApiError> {
    let c = campaign(&s, &caller, &id).await?;
    let region = super::register::existing_region(&s, &q.region).await?;
    let limit = super::register::limit(q.limit.as_deref())?;
    let (items, next_cursor) = page_across(
        caller.within(Action::VisitHouseholds, &region)?,
        limit,
        q.cursor.clone(),
        |part, after, want| {
            let store = s.store.clone();
            async move {
                store
                    .campaign_tasks(c.id, &part, after.as_deref(), want)
                    .await
            }
        },
        |t: &Task| format!("{}.{}", t.cell_code, t.household_id),
    )
    .await?;
    Ok(Json(TaskPage { items, next_cursor }))
}

/// A visit recorded on a device.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct VisitBody {
    /// The device's own id for the visit, 1 to 100 characters (else `400 invalid_client_id`):
    /// sending it again changes nothing.
    #[schema(max_length = 100, pattern = r"\S")]
    pub client_id: String,
    pub household_id: i64,
    pub round: i64,
    /// `visited`, `nobody_home`, `refused`, `moved_out`, `vacant` or `other` (else
    /// `400 invalid_outcome`).
    #[schema(value_type = crate::schemas::VisitOutcome)]
    pub outcome: String,
    /// When the visit was made, by the device's clock (epoch ms).
    pub visited_at_ms: i64,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
    pub finding: Option<String>,
    /// Raise a case from the finding (a hazard, a person needing help), linked to the visit.
    pub raise_case: Option<RaiseCase>,
}

/// A case to raise from a visit's finding.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct RaiseCase {
    /// A leaf category code, e.g. `safety.fire`.
    pub category: String,
    pub description: String,
}

/// A case raised from a visit (or why it could not be).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RaisedCase {
    pub client_id: String,
    pub case_id: Option<i64>,
    pub number: Option<String>,
    pub error: Option<crate::error::ErrorDetail>,
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct VisitBatch {
    /// The device sending the batch (its own name or install id, up to 100 characters), for
    /// the audit trail; the `User-Agent` is recorded when it is missing.
    #[serde(default)]
    #[schema(nullable = false)]
    pub device: Option<String>,
    /// At most 1,000 (else `400 batch_too_large`).
    #[schema(max_items = 1000)]
    pub visits: Vec<VisitBody>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SyncResult {
    /// One result per visit, in the order sent.
    pub items: Vec<VisitResult>,
    /// Cases raised from accepted visits' findings (a visit sent again raises none twice).
    pub cases: Vec<RaisedCase>,
}

/// Sync visits from a device (up to 1,000 at a time). Each visit is answered on its own:
/// accepted (standing, or superseded by the conflict rule: a conclusive visit beats one that
/// is not, and between two conclusive visits the earlier stands), a duplicate, or rejected.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/visits", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Campaign id")), request_body = VisitBatch,
    responses((status = 200, body = SyncResult), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn visits(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<VisitBatch>,
) -> Result<Json<SyncResult>, ApiError> {
    let c = campaign(&s, &caller, &id).await?;
    let device: Option<String> = body
        .device
        .as_deref()
        .or_else(|| {
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
        })
        .map(|d| d.trim().chars().take(100).collect::<String>())
        .filter(|d| !d.is_empty());
    let mine = scopes(&caller, &[Action::VisitHouseholds]);
    if mine.is_empty() {
        caller.require_signed_in()?;
        return Err(crate::auth::forbidden(Action::VisitHouseholds));
    }
    if body.visits.len() > 1_000 {
        return Err(bad(
            "batch_too_large",
            "每批最多 1000 条走访记录",
            "at most 1,000 visits per batch",
        ));
    }
    let mut list = Vec::with_capacity(body.visits.len());
    let mut raise = Vec::new();
    for v in body.visits {
        let outcome = Outcome::parse(v.outcome.trim()).ok_or_else(|| {
            bad(
                "invalid_outcome",
                &format!("未知的走访结果“{}”", v.outcome),
                &format!("unknown visit outcome {:?}", v.outcome),
            )
        })?;
        if v.client_id.trim().is_empty() || v.client_id.trim().chars().count() > 100 {
            return Err(bad(
                "invalid_client_id",
                "走访记录须有 1 到 100 个字符的编号",
                "each visit needs a client id of 1 to 100 characters",
            ));
        }
        if let Some(r) = v.raise_case.clone() {
            raise.push((v.client_id.trim().to_string(), v.household_id, r));
        }
        list.push(VisitIn {
            client_id: v.client_id.trim().into(),
            household_id: v.household_id,
            round: v.round,
            outcome,
            visited_at_ms: v.visited_at_ms,
            answers: v.answers,
            finding: v.finding.filter(|f| !f.trim().is_empty()),
        });
    }
    let items = s
        .store
        .sync_visits(
            c.id,
            by(&caller, &caller.actor()),
            device.as_deref(),
            &mine,
            &list,
            s.clock.now_ms(),
        )
        .await?;
    let mut cases = Vec::new();
    for (client_id, household, r) in raise {
        let accepted = items.iter().any(|i| matches!(i, VisitResult::Accepted { client_id: id, .. } | VisitResult::Duplicate { client_id: id } if *id == client_id));
        if !accepted {
            continue;
        }
        let raised = raise_case(&s, &caller, c.id, &client_id, household, &r).await;
        cases.push(match raised {
            Ok((id, number)) => RaisedCase {
                client_id,
                case_id: Some(id),
                number: Some(number),
                error: None,
            },
            Err(e) => RaisedCase {
                client_id,
                case_id: None,
                number: None,
                error: Some(e.detail()),
            },
        });
    }
    Ok(Json(SyncResult { items, cases }))
}

/// Raises the case of a visit's finding through the ordinary intake (source: campaign), made
/// once per visit: the visit's device id is the intake's idempotency key.
async fn raise_case(
    s: &AppState,
    caller: &Caller,
    campaign: i64,
    client_id: &str,
    household: i64,
    r: &RaiseCase,
) -> Result<(i64, String), ApiError> {
    let cell = s.store.household_cell(household).await?.ok_or_else(|| {
        ApiError::not_found(
            "household_not_found",
            "住户",
            "household",
            &household.to_string(),
        )
    })?;
    let cell = super::parse_code(&cell)?;
    let key = format!("campaign:{campaign}:visit:{client_id}");
    let case = shezhi_store::cases::NewCase {
        source: shezhi_domain::cases::Source::Campaign,
        category: r.category.trim().to_string(),
        title: String::new(),
        description: r.description.clone(),
        cell,
        point: None,
        address: String::new(),
        reporter: caller.actor(),
        contact: None,
        photos: Vec::new(),
        idempotency: Some((caller.actor(), key.clone(), key)),
        ip: caller.ip.clone(),
    };
    let intake = super::cases::submit(s, case).await?;
    s.store
        .link_visit_case(campaign, client_id, intake.id)
        .await?;
    Ok((intake.id, intake.number))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// The region to look at (default: the campaign's).
    #[param(value_type = Option<crate::schemas::RegionCode>)]
    pub region: Option<String>,
    /// The round (default: the current one).
    pub round: Option<i64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RegionCoverage {
    pub code: String,
    pub name: String,
    /// `total`, `done`, `revisit`, `findings`, `visits`.
    pub counts: BTreeMap<String, i64>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub campaign: i64,
    pub round: i64,
    pub region: RegionCoverage,
    pub children: Vec<RegionCoverage>,
}

async fn coverage_of(
    s: &AppState,
    caller: &Caller,
    id: &str,
    q: &CoverageQuery,
) -> Result<Coverage, ApiError> {
    let c = campaign(s, caller, id).await?;
    let region =
        super::register::existing_region(s, q.region.as_deref().unwrap_or(&c.region_code)).await?;
    if !caller.grants.can(Action::RunCampaign, &region) {
        caller.require_in(Action::VisitHouseholds, &region)?;
    }
    let round = q.round.unwrap_or(c.current_round);
    let row = s.store.region(&region).await?.ok_or_else(|| {
        ApiError::not_found("region_not_found", "区划", "region", region.as_str())
    })?;
    let children = s.store.children(&region).await?;
    let mut keys: Vec<String> = children.iter().map(|r| r.code.clone()).collect();
    keys.push(region.as_str().to_string());
    let mut figures = s.store.coverage(c.id, round, &keys).await?;
    let mut take = |code: &str, name: &str| RegionCoverage {
        code: code.into(),
        name: name.into(),
        counts: figures.remove(code).unwrap_or_default(),
    };
    let region_cov = take(region.as_str(), &row.name);
    let children = children.iter().map(|r| take(&r.code, &r.name)).collect();
    Ok(Coverage {
        campaign: c.id,
        round,
        region: region_cov,
        children,
    })
}

/// Coverage of a round for a region and its children, from counters kept with each visit.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/coverage", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Campaign id"), CoverageQuery),
    responses((status = 200, body = Coverage), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn coverage(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<Coverage>, ApiError> {
    Ok(Json(coverage_of(&s, &caller, &id, &q).await?))
}

/// The same coverage as a spreadsheet for Excel (UTF-8 CSV with a byte-order mark).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/coverage.csv", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Campaign id"), CoverageQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn coverage_csv(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let c = coverage_of(&s, &caller, &id, &q).await?;
    let mut out = String::from('\u{feff}');
    out.push_str(&EXPORT_HEADER.join(","));
    out.push_str("\r\n");
    for row in export_rows(&c) {
        let line: Vec<String> = row
            .iter()
            .map(|cell| match cell {
                Cell::Text(t) if t.contains([',', '"', '\r', '\n']) => {
                    format!("\"{}\"", t.replace('"', "\"\""))
                }
                Cell::Text(t) => t.clone(),
                Cell::Int(n) => n.to_string(),
                Cell::Share(v) => format!("{:.4}", v),
                Cell::Empty => String::new(),
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(download(
        &c,
        "csv",
        "text/csv; charset=utf-8",
        out.into_bytes(),
    ))
}

/// The coverage of a campaign's round as an Excel workbook (`.xlsx`): the region and each
/// child region, one row each, with the completion rate as a percentage.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/coverage.xlsx", tag = "campaigns", params(("id" = crate::schemas::RecordId, Path, description = "Campaign id"), CoverageQuery),
    responses((status = 200, description = "An Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn coverage_xlsx(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let c = coverage_of(&s, &caller, &id, &q).await?;
    let sheet = format!("第{}轮 round {}", c.round, c.round);
    let bytes = crate::xlsx::workbook(
        &sheet,
        &EXPORT_HEADER,
        &export_rows(&c),
        &[18, 24, 12, 12, 12, 12, 12, 12, 12],
    );
    Ok(download(
        &c,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

const EXPORT_HEADER: [&str; 9] = [
    "区划代码 code",
    "名称 name",
    "应访户数 total",
    "已完成 done",
    "未完成 remaining",
    "完成率 coverage",
    "待回访 revisit",
    "发现问题 findings",
    "走访次数 visits",
];

/// The export's rows: the region first, then its children.
fn export_rows(c: &Coverage) -> Vec<Vec<Cell>> {
    std::iter::once(&c.region)
        .chain(&c.children)
        .map(|r| {
            let g = |k: &str| r.counts.get(k).copied().unwrap_or(0);
            let (total, done) = (g("total"), g("done"));
            vec![
                Cell::Text(r.code.clone()),
                Cell::Text(r.name.clone()),
                Cell::Int(total),
                Cell::Int(done),
                Cell::Int(total - done),
                if total > 0 {
                    Cell::Share(done as f64 / total as f64)
                } else {
                    Cell::Empty
                },
                Cell::Int(g("revisit")),
                Cell::Int(g("findings")),
                Cell::Int(g("visits")),
            ]
        })
        .collect()
}

fn download(
    c: &Coverage,
    ext: &str,
    content_type: &'static str,
    body: Vec<u8>,
) -> impl IntoResponse + use<> {
    let file = format!(
        "attachment; filename=\"coverage-{}-{}-round{}.{ext}\"",
        c.campaign, c.region.code, c.round
    );
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        body,
    )
}
