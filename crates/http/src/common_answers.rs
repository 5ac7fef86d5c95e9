//! The answers whole families of operations share, added to the OpenAPI document in one
//! place rather than in each handler's annotation (as `endpoints.rs` adds access): `400` for
//! malformed input wherever an operation takes parameters or a body (the extractors of
//! `extract.rs` and the parsers behind them), `413` and `415` wherever it takes a JSON body,
//! and the request limiter's `429` everywhere but the health probes. A test checks that every
//! operation lists what it can answer.

use serde_json::{Value, json};

/// Paths the request limiter lets through unlimited (`ratelimit::limit_requests`).
pub const UNLIMITED: &[&str] = &["/healthz", "/readyz", "/metrics"];

const MALFORMED: &str = "Malformed input: a parameter or body that the document does not allow, each refused with its own code (`invalid_query`, `invalid_path`, `invalid_json`, `nul_character`, `invalid_id`, `invalid_limit`, `invalid_region_code`, …)";
const TOO_LARGE: &str =
    "The request body is larger than 1 MiB (`body_too_large`); photos count towards it";
const NOT_JSON: &str =
    "The body is not sent as `Content-Type: application/json` (`json_required`)";
const LIMITED: &str = "The caller's request budget is spent (`rate_limited`): 1,200 requests a minute for an API token, 600 for an anonymous address";

/// Add the shared answers to every operation of `doc`.
pub fn annotate(doc: &mut Value) {
    let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}});
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let takes_input = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty())
                || op.get("requestBody").is_some();
            let json_body = op
                .pointer("/requestBody/content/application~1json")
                .is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |status: &str, text: &str| {
                let entry = responses
                    .entry(status)
                    .or_insert_with(|| json!({"description": ""}));
                let old = entry["description"].as_str().unwrap_or_default().to_string();
                entry["description"] = Value::String(if old.is_empty() {
                    text.to_string()
                } else if old.contains(text) {
                    old
                } else {
                    format!("{old}; or: {text}")
                });
                entry["content"] = error.clone();
            };
            if takes_input {
                add("400", MALFORMED);
            }
            if json_body {
                add("413", TOO_LARGE);
                add("415", NOT_JSON);
            }
            if !UNLIMITED.contains(&path.as_str()) {
                add("429", LIMITED);
            }
        }
    }
}
