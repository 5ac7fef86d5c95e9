//! The OpenAPI document, generated from the handlers and served at `/api/openapi.json`.
//! A copy is committed at `docs/openapi.json`; a test fails when the two drift.

use crate::AppState;
use crate::routes::{
    campaigns, case_steps, cases, catalogue, command, health, locate, regions, register,
    register_edit, session, users,
};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "shezhi (社智在线) API", description = "Community governance platform: territory, grids, point lookup, and the register of houses and people.", license(name = "Apache-2.0")),
    paths(
        health::healthz, health::readyz, health::metrics,
        regions::region, regions::children, regions::map, regions::grid,
        locate::locate,
        register::households, register::residents, register::counts, register::household, register::resident, register::search,
        register_edit::reveal, register_edit::set_tag, register_edit::clear_tag,
        session::sign_in, session::sign_out, session::me,
        users::tokens, users::revoke_token, users::disable, users::enable, users::end_sessions,
        cases::report, cases::list, cases::detail, cases::photo, cases::track, case_steps::take,
        catalogue::categories, catalogue::put_category, catalogue::units,
        command::overview, command::indicators, command::report_xlsx, command::board, command::notifications,
        campaigns::issue, campaigns::list, campaigns::show, campaigns::sign, campaigns::report, campaigns::amend, campaigns::withdraw,
        campaigns::create, campaigns::campaigns, campaigns::next_round, campaigns::tasks, campaigns::visits, campaigns::coverage, campaigns::coverage_csv, campaigns::coverage_xlsx, campaigns::directive_attachment, campaigns::recipients,
    ),
    tags(
        (name = "territory", description = "Regions, grids and micro-grids; point lookup"),
        (name = "access", description = "Signing in and out; who the caller is"),
        (name = "register", description = "Houses and people (先房后人): households, residents, key populations, counts"),
        (name = "cases", description = "The case closed loop (事件/诉求): intake, inboxes, steps, catalogue, units, notices"),
        (name = "command", description = "Command centre: live counters and evaluation indicators"),
        (name = "campaigns", description = "Directives (指令) and household campaigns (入户排查): fan-out, signing, visits, coverage"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The document as the handlers describe it, before access annotations.
pub fn raw() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    crate::schemas::register(&mut doc);
    doc
}

/// The served document: the handlers' description annotated with each endpoint's access and
/// the answers that families of operations share.
pub fn value() -> serde_json::Value {
    let mut v = serde_json::to_value(raw()).unwrap_or_default();
    crate::endpoints::annotate(&mut v);
    crate::common_answers::annotate(&mut v);
    rules_across_fields(&mut v);
    v
}

/// Rules across the fields of a body, which the derive cannot state: a report names its place
/// by a point (`lon` and `lat` together) or, without one, by `cell_code`; a time limit of
/// `same_day` carries no `n`.
fn rules_across_fields(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    if let Some(report) = doc.pointer_mut("/components/schemas/ReportIn") {
        report["oneOf"] = json!([
            {"required": ["lon", "lat"]},
            {"required": ["cell_code"], "not": {"anyOf": [{"required": ["lon"]}, {"required": ["lat"]}]}},
        ]);
    }
    if let Some(variants) = doc
        .pointer_mut("/components/schemas/TimeLimit/oneOf")
        .and_then(Value::as_array_mut)
    {
        for v in variants
            .iter_mut()
            .filter(|v| v["properties"]["n"].is_null())
        {
            v["not"] = json!({"required": ["n"]});
        }
    }
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document() -> String {
    let mut s = serde_json::to_string_pretty(&value())
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(value()) }))
}
