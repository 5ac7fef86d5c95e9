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
    /// Those who may see a directive: staff of its issuer's territory (`issue_directive`
    /// over its region) and the recipient regions at the levels it was sent to, each for its
    /// own region; with an action, the step needs it too. Anyone else gets 404 as if the id
    /// did not exist.
    DirectiveParty(Option<Action>),
    /// Those who may see a campaign: staff with `run_campaign` over its region and those
    /// with `visit_households` in a part of it; with an action, the request needs it too.
    /// Anyone else gets 404 as if the id did not exist.
    CampaignParty(Option<Action>),
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
            Need::DirectiveParty(a) => {
                Self::allowed(a, &[Action::IssueDirective, Action::AnswerDirective])
            }
            Need::CampaignParty(a) => {
                Self::allowed(a, &[Action::RunCampaign, Action::VisitHouseholds])
            }
        }
    }

    /// The roles allowing `action`, or any of `seeing` without one.
    fn allowed(action: Option<Action>, seeing: &[Action]) -> Vec<Role> {
        Role::ALL
            .iter()
            .copied()
            .filter(|r| match action {
                Some(a) => r.allows(a),
                None => seeing.iter().any(|a| r.allows(*a)),
            })
            .collect()
    }

    pub fn action(self) -> Option<Action> {
        match self {
            Need::Public | Need::SignedIn => None,
            Need::DirectiveParty(a) | Need::CampaignParty(a) => a,
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
    ep("get", "/api/v1/directives/{id}", DirectiveParty(None)),
    ep(
        "get",
        "/api/v1/directives/{id}/attachments/{file}",
        DirectiveParty(None),
    ),
    ep(
        "get",
        "/api/v1/directives/{id}/recipients",
        DirectiveParty(None),
    ),
    ep(
        "post",
        "/api/v1/directives/{id}/sign",
        DirectiveParty(Some(Action::AnswerDirective)),
    ),
    ep(
        "post",
        "/api/v1/directives/{id}/report",
        DirectiveParty(Some(Action::AnswerDirective)),
    ),
    ep(
        "post",
        "/api/v1/directives/{id}/amend",
        DirectiveParty(Some(Action::IssueDirective)),
    ),
    ep(
        "post",
        "/api/v1/directives/{id}/withdraw",
        DirectiveParty(Some(Action::IssueDirective)),
    ),
    ep("post", "/api/v1/campaigns", Act(Action::RunCampaign)),
    ep("get", "/api/v1/campaigns", SignedIn),
    ep(
        "post",
        "/api/v1/campaigns/{id}/rounds",
        CampaignParty(Some(Action::RunCampaign)),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/tasks",
        CampaignParty(Some(Action::VisitHouseholds)),
    ),
    ep(
        "post",
        "/api/v1/campaigns/{id}/visits",
        CampaignParty(Some(Action::VisitHouseholds)),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/coverage",
        CampaignParty(Some(Action::RunCampaign)),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/coverage.csv",
        CampaignParty(Some(Action::RunCampaign)),
    ),
    ep(
        "get",
        "/api/v1/campaigns/{id}/coverage.xlsx",
        CampaignParty(Some(Action::RunCampaign)),
    ),
    ep("get", "/api/v1/notifications", SignedIn),
];

/// The entry for an operation.
pub fn find(method: &str, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.method.eq_ignore_ascii_case(method) && e.path == path)
}

/// The access text of a directive's or campaign's by-id operation.
fn party(
    what_zh: &str,
    what_en: &str,
    who_zh: &str,
    who_en: &str,
    action: Option<Action>,
    roles: &[&str],
) -> (String, String) {
    let (step_zh, step_en) = match action {
        Some(a) => (
            format!("；此操作还须有“{}”权限", a.zh()),
            format!("; this request also needs `{}`", a.as_str()),
        ),
        None => (String::new(), String::new()),
    };
    (
        format!("可见该{what_zh}者：{who_zh}{step_zh}；其他人得到与编号不存在相同的 404"),
        format!(
            "those who may see the {what_en}: {who_en}{step_en}; anyone else gets the same 404 as for a missing id; roles: {}",
            roles.join(", ")
        ),
    )
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
                    DirectiveParty(a) => party(
                        "指令",
                        "directive",
                        "签发区域辖区内有“下发指令”权限的人员，及其下发层级中的接收单位（各自只看本单位）",
                        "staff with `issue_directive` over the issuing region, and the recipient regions at the levels it was sent to (each for its own region)",
                        a,
                        &roles,
                    ),
                    CampaignParty(a) => party(
                        "排查任务",
                        "campaign",
                        "对其区域有“组织入户排查”权限的人员，及在其区域内有“入户走访”权限的网格员、社区工作者",
                        "staff with `run_campaign` over its region, and those with `visit_households` in a part of it",
                        a,
                        &roles,
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
                            json!({"description": "Nobody is signed in (`unauthenticated`), or the token presented is invalid, expired or revoked (`invalid_token`)", "content": error}),
                        );
                        if matches!(
                            e.need,
                            CaseParty | DirectiveParty(_) | CampaignParty(_) | ActOrOwn(_)
                        ) {
                            r.entry("404").or_insert(json!({
                                "description": "No such record, or one the caller may not see (answered alike)",
                                "content": error,
                            }));
                        }
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
