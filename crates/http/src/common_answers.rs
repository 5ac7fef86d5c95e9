//! The answers whole families of operations share, added to the OpenAPI document in one
//! place rather than in each handler's annotation (as `endpoints.rs` adds access): `400` for
//! malformed input wherever an operation takes parameters or a body (the extractors of
//! `extract.rs` and the parsers behind them), `413` and `415` wherever it takes a JSON body,
//! and the request limiter's `429` everywhere but the health probes. A test checks that every
//! operation lists what it can answer.

use serde_json::{Value, json};

/// Paths the request limiter lets through unlimited (`ratelimit::limit_requests`).
pub const UNLIMITED: &[&str] = &["/healthz", "/readyz", "/metrics"];

const MALFORMED: &str = "Malformed input: a parameter or body that the document does not allow, each refused with its own code (`invalid_query`, `invalid_path`, `invalid_json`, `invalid_id`, `invalid_limit`, `invalid_region_code`, …). Also refused wherever they appear: a NUL character (U+0000) in any text (`nul_character`), and a whole number written with a fraction or exponent, such as `3.0` (`invalid_json`)";
const TOO_LARGE: &str =
    "The request body is larger than 1 MiB (`body_too_large`); photos count towards it";
const NOT_JSON: &str = "The body is not sent as `Content-Type: application/json` (`json_required`)";
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
                let old = entry["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
            for (method, op) in item.as_object().cloned().unwrap_or_default() {
                out.push((method, path.clone(), op));
            }
        }
        out
    }

    /// The schema a parameter or property refers to, resolved through `components`.
    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling {r}")),
            None => schema,
        }
    }

    #[test]
    fn every_operation_lists_the_answers_it_shares() {
        let doc = crate::openapi::value();
        let ops = operations(&doc);
        assert!(ops.len() > 50, "{} operations", ops.len());
        for (method, path, op) in ops {
            let answers = op["responses"].as_object().cloned().unwrap_or_default();
            let has = |s: &str| answers.contains_key(s);
            let takes_input = op["parameters"].as_array().is_some_and(|p| !p.is_empty())
                || !op["requestBody"].is_null();
            if takes_input {
                assert!(has("400"), "{method} {path} takes input but lists no 400");
            }
            if !op["requestBody"]["content"]["application/json"].is_null() {
                assert!(has("413") && has("415"), "{method} {path}: 413 and 415");
            }
            if !super::UNLIMITED.contains(&path.as_str()) {
                assert!(
                    has("429"),
                    "{method} {path} is rate-limited but lists no 429"
                );
            }
            for (status, answer) in &answers {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        answer["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status} is not an ErrorBody"
                    );
                }
            }
        }
    }

    /// Path segments arrive as text: each states what it must look like (a pattern, a
    /// minimum, or a closed set), so that a generated client cannot send what is refused.
    #[test]
    fn every_path_parameter_states_its_constraint() {
        let doc = crate::openapi::value();
        for (method, path, op) in operations(&doc) {
            for p in op["parameters"].as_array().cloned().unwrap_or_default() {
                if p["in"] != "path" {
                    continue;
                }
                let s = resolve(&doc, &p["schema"]);
                let constrained =
                    !s["pattern"].is_null() || !s["minimum"].is_null() || !s["enum"].is_null();
                assert!(
                    constrained,
                    "{method} {path}: path parameter {} states no constraint",
                    p["name"]
                );
            }
        }
    }
}
