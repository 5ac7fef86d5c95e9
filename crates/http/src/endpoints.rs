//! What every endpoint needs, stated once. Handlers enforce it through [`crate::auth::Caller`];
//! this table annotates the OpenAPI document (`x-shezhi-access`, the roles that may call, the
//! 401/403 answers) and drives the access probe tests, and a test checks that every documented
//! operation is listed here and every listed one is documented.

use shezhi_domain::access::{Action, Role};

/// The access an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not (rate-limited per address when anonymous).
    Public,
    /// The action, on a resource inside one of the caller's scopes.
    Act(Action),
    /// The action inside a scope, or the resource is the signed-in resident's own record.
    ActOrOwn(Action),
    /// Anyone signed in; what they get is their own (their reports, unit, notices).
    SignedIn,
    /// Those a case concerns: staff of its territory (`view_cases`), units it was sent to,
    /// its reporter; the step itself is decided by the workflow from their capacity.
    CaseParty,
}

impl Need {
    /// The roles that may call the endpoint at all (scopes still apply).
    pub fn roles(self) -> Vec<Role> {
        match self {
            Need::Public => Role::ALL.to_vec(),
            Need::Act(a) => Role::ALL.iter().copied().filter(|r| r.allows(a)).collect(),
            Need::ActOrOwn(a) => Role::ALL
                .iter()
                .copied()
                .filter(|r| r.allows(a) || *r == Role::Resident)
                .collect(),
            Need::SignedIn => Role::ALL.to_vec(),
            Need::CaseParty => Role::ALL
                .iter()
                .copied()
                .filter(|r| {
                    r.allows(Action::ViewCases) || matches!(r, Role::UnitStaff | Role::Resident)
                })
                .collect(),
        }
    }

    pub fn action(self) -> Option<Action> {
        match self {
            Need::Public | Need::SignedIn => None,
            Need::CaseParty => Some(Action::ViewCases),
            Need::Act(a) | Need::ActOrOwn(a) => Some(a),
        }
    }
}

/// One documented operation.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub need: Need,
}

const fn ep(method: &'static str, path: &'static str, need: Need) -> Endpoint {
    Endpoint { method, path, need }
}

use Need::*;

pub const ENDPOINTS: &[Endpoint] = &[
    ep("get", "/healthz", Public),
    ep("get", "/readyz", Public),
    ep("get", "/metrics", Public),
    ep("get", "/api/v1/locate", Public),
    ep("get", "/api/v1/regions/{code}", Public),
    ep("get", "/api/v1/regions/{code}/children", Public),
    ep("get", "/api/v1/regions/{code}/map", Public),
    ep("get", "/api/v1/grids/{code}", Public),
    ep("post", "/api/v1/session", Public),
    ep("delete", "/api/v1/session", Public),
    ep("get", "/api/v1/users/{id}/tokens", Act(Action::ManageUsers)),
    ep("delete", "/api/v1/tokens/{id}", Act(Action::ManageUsers)),
    ep(
        "post",
        "/api/v1/users/{id}/disable",
        Act(Action::ManageUsers),
    ),
    ep(
        "post",
        "/api/v1/users/{id}/enable",
        Act(Action::ManageUsers),
    ),
    ep(
        "delete",
        "/api/v1/users/{id}/sessions",
        Act(Action::ManageUsers),
    ),
    ep("get", "/api/v1/me", Public),
    ep(
        "get",
        "/api/v1/regions/{code}/households",
        Act(Action::ViewRegister),
    ),
    ep(
        "get",
        "/api/v1/regions/{code}/residents",
        Act(Action::ViewRegister),
    ),
    ep(
        "get",
        "/api/v1/regions/{code}/counts",
        Act(Action::ViewRegister),
    ),
    ep(
        "get",
        "/api/v1/households/{id}",
        ActOrOwn(Action::ViewRegister),
    ),
    ep(
        "get",
        "/api/v1/residents/{id}",
        ActOrOwn(Action::ViewRegister),
    ),
    ep("get", "/api/v1/residents/search", Act(Action::ViewRegister)),
    ep(
        "post",
        "/api/v1/residents/{id}/reveal",
        Act(Action::UnmaskPersonal),
    ),
    ep(
        "post",
        "/api/v1/residents/{id}/tags",
        Act(Action::EditRegister),
    ),
    ep(
        "delete",
        "/api/v1/residents/{id}/tags/{tag}",
        Act(Action::EditRegister),
    ),
    ep("post", "/api/v1/cases", Public),
    ep("get", "/api/v1/cases", SignedIn),
    ep("get", "/api/v1/cases/{id}", CaseParty),
    ep("get", "/api/v1/cases/{id}/photos/{photo}", CaseParty),
    ep("post", "/api/v1/cases/{id}/steps", CaseParty),
    ep("get", "/api/v1/track/{number}", Public),
    ep("get", "/api/v1/categories", Public),
    ep(
        "put",
        "/api/v1/categories/{code}",
        Act(Action::ManageCatalogue),
    ),
    ep("get", "/api/v1/units", SignedIn),
    ep("get", "/api/v1/overview", Act(Action::ViewIndicators)),
    ep("get", "/api/v1/indicators", Act(Action::ViewIndicators)),
    ep(
        "get",
        "/api/v1/indicators/report.xlsx",
        Act(Action::ViewIndicators),
    ),
    ep("get", "/api/v1/board", Act(Action::ViewIndicators)),
    ep("post", "/api/v1/directives", Act(Action::IssueDirective)),
    ep("get", "/api/v1/directives", SignedIn),
    ep("get", "/api/v1/directives/{id}", SignedIn),
    ep(
        "get",
        "/api/v1/directives/{id}/attachments/{file}",
        SignedIn,
    ),
    ep("get", "/api/v1/directives/{id}/recipients", SignedIn),
    ep(
        "post",
        "/api/v1/directives/{id}/sign",
        Act(Action::AnswerDirective),
    ),
    ep(
        "post",
        "/api/v1/directives/{id}/report",
        Act(Action::AnswerDirective),
    ),
    ep(
        "post",
        "/api/v1/directives/{id}/amend",
        Act(Action::IssueDirective),
    ),
    ep(
        "post",
        "/api/v1/directives/{id}/withdraw",
        Act(Action::IssueDirective),
    ),
    ep("post", "/api/v1/campaigns", Act(Action::RunCampaign)),
    ep("get", "/api/v1/campaigns", SignedIn),
    ep(
        "post",
        "/api/v1/campaigns/{id}/rounds",
        Act(Action::RunCampaign),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/tasks",
        Act(Action::VisitHouseholds),
    ),
    ep(
        "post",
        "/api/v1/campaigns/{id}/visits",
        Act(Action::VisitHouseholds),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/coverage",
        Act(Action::RunCampaign),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/coverage.csv",
        Act(Action::RunCampaign),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/coverage.xlsx",
        Act(Action::RunCampaign),
    ),
    ep("get", "/api/v1/notifications", SignedIn),
];

/// The entry for an operation.
pub fn find(method: &str, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.method.eq_ignore_ascii_case(method) && e.path == path)
}

/// Annotate the OpenAPI document: each operation states its access in `x-shezhi-access` and
/// in its description, and the ones that need a caller list the 401 and 403 answers and the
/// two ways to sign in.
pub fn annotate(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}});
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(ops) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in ops.iter_mut() {
                let Some(e) = find(method, path) else {
                    continue;
                };
                let roles: Vec<&str> = e.need.roles().iter().map(|r| r.as_str()).collect();
                let (zh, en) = match e.need {
                    Public => ("公开".to_string(), "public".to_string()),
                    Act(a) => (
                        format!("须有“{}”权限，且对象在本人辖区内", a.zh()),
                        format!(
                            "needs `{}` on a resource inside the caller's scope; roles: {}",
                            a.as_str(),
                            roles.join(", ")
                        ),
                    ),
                    SignedIn => (
                        "须登录；只返回本人相关的内容".to_string(),
                        "any signed-in caller; answers only what is theirs".to_string(),
                    ),
                    CaseParty => (
                        "案件辖区人员、承办/协办单位或诉求人本人；可执行的操作由其身份决定"
                            .to_string(),
                        format!(
                            "staff of the case's territory (`view_cases`), units it was sent to, or its reporter; the workflow decides each step from their capacity; roles: {}",
                            roles.join(", ")
                        ),
                    ),
                    ActOrOwn(a) => (
                        format!("须有“{}”权限且在辖区内，或为居民本人的记录", a.zh()),
                        format!(
                            "needs `{}` inside the caller's scope, or the signed-in resident's own record; roles: {}",
                            a.as_str(),
                            roles.join(", ")
                        ),
                    ),
                };
                op["x-shezhi-access"] = json!({
                    "action": e.need.action().map(|a| a.as_str()),
                    "roles": roles,
                    "own_records": matches!(e.need, ActOrOwn(_)),
                });
                let old = op
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let access = format!("Access: {en}. 访问权限：{zh}。");
                op["description"] = Value::String(if old.is_empty() {
                    access
                } else {
                    format!("{old}\n\n{access}")
                });
                if e.need != Public {
                    op["security"] = json!([{"session": []}, {"token": []}]);
                    if let Some(r) = op.get_mut("responses").and_then(Value::as_object_mut) {
                        r.insert(
                            "401".into(),
                            json!({"description": "Nobody is signed in (unauthenticated)", "content": error}),
                        );
                        r.entry("403").or_insert(json!({
                            "description": "The caller's roles or scopes do not allow this (forbidden)",
                            "content": error,
                        }));
                    }
                }
            }
        }
    }
    doc["components"]["securitySchemes"] = json!({
        "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE,
            "description": "Browser session from POST /api/v1/session; unsafe methods also need the X-CSRF-Token header"},
        "token": {"type": "http", "scheme": "bearer", "description": "API token for integrations"},
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_operation_is_listed_and_every_listed_one_documented() {
        let doc = serde_json::to_value(crate::openapi::raw()).unwrap_or_default();
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
            for method in item.as_object().cloned().unwrap_or_default().keys() {
                assert!(
                    find(method, &path).is_some(),
                    "{method} {path} has no access entry"
                );
                documented.push((method.clone(), path.clone()));
            }
        }
        for e in ENDPOINTS {
            assert!(
                documented.iter().any(|(m, p)| m == e.method && p == e.path),
                "{} {} is listed but not documented",
                e.method,
                e.path
            );
        }
    }
}
