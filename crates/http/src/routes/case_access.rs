//! Who sees a case and how they stand to it, decided in one place for every case endpoint:
//! staff see the cases located in their territory, units the cases ever sent to them,
//! reporters their own; everyone else gets 404.

use crate::auth::Caller;
use crate::{ApiError, AppState};
use axum::http::StatusCode;
use shezhi_domain::access::{Action, Reach};
use shezhi_domain::cases::{Capacity, CaseFacts, CaseLevel, CaseState, Stage, Step, available};
use shezhi_domain::territory::RegionCode;
use shezhi_store::cases::{CaseDetail, StoredFacts};

pub(crate) fn case_not_found(id: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "case_not_found",
        format!("未找到案件 {id}"),
        format!("case {id} not found"),
    )
}

/// The caller's territory for case lists: their scopes inside `region` (or all their scopes).
pub(crate) struct View {
    pub scopes: Vec<RegionCode>,
}

pub(crate) async fn caller_view(
    s: &AppState,
    caller: &Caller,
    region: Option<&str>,
) -> Result<View, ApiError> {
    let scopes = match region {
        Some(r) => {
            let code = super::register::existing_region(s, r).await?;
            caller.grants.within(Action::ViewCases, &code)
        }
        None => match caller.grants.reach(Action::ViewCases) {
            Reach::None => Vec::new(),
            Reach::Regions(rs) => rs,
            Reach::All => s
                .store
                .root_code()
                .await?
                .and_then(|c| RegionCode::parse(&c).ok())
                .into_iter()
                .collect(),
        },
    };
    Ok(View { scopes })
}

/// The capacities of the caller on a case, from its stored facts.
pub(crate) fn capacities_on(caller: &Caller, f: &StoredFacts) -> Vec<Capacity> {
    let (Ok(cell), Some(level), Ok(level_code)) = (
        RegionCode::parse(&f.cell),
        CaseLevel::parse(&f.level),
        RegionCode::parse(&f.level_code),
    ) else {
        return Vec::new();
    };
    shezhi_domain::cases::capacities(
        &caller.grants,
        &caller.actor(),
        &CaseFacts {
            cell: &cell,
            level,
            level_code: &level_code,
            reporter: &f.reporter,
            lead_unit: f.lead_unit.as_deref(),
            assist_units: &f.assist_units,
        },
    )
}

/// What those outside the case's territory do not see of the people in it. A unit (a
/// department or property company) works on the problem, not on who raised it: the reporter
/// appears as `reporter`, without name or phone. A resident sees their own steps by name and
/// everyone else's by capacity only: staff as `staff`, never by user id.
fn conceal_people(detail: &mut CaseDetail, caller: &Caller) {
    let me = caller.actor();
    let resident = !caller
        .grants
        .bindings
        .iter()
        .any(|b| b.role != shezhi_domain::access::Role::Resident);
    let reporter = detail.reporter.clone();
    if reporter != me {
        detail.reporter = "reporter".into();
        detail.contact_masked = None;
    }
    for e in &mut detail.events {
        if e.actor == me {
            continue;
        }
        if e.actor == reporter {
            e.actor = "reporter".into();
            e.actor_name = None;
        } else if resident && !e.actor.starts_with("system:") {
            e.actor = "staff".into();
            e.actor_name = None;
        }
    }
}

/// The case if the caller may see it, with their capacities and the steps they may take now.
pub(crate) async fn visible_case(
    s: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(CaseDetail, Vec<Capacity>, Vec<Step>), ApiError> {
    let mut detail = s
        .store
        .case_detail(id)
        .await?
        .ok_or_else(|| case_not_found(id))?;
    let facts = StoredFacts::of(&detail);
    let caps = capacities_on(caller, &facts);
    let my_units: Vec<&str> = caller
        .grants
        .bindings
        .iter()
        .filter_map(|b| b.unit.as_deref())
        .collect();
    let unit_ever = detail
        .units
        .iter()
        .any(|u| my_units.contains(&u.unit_code.as_str()));
    let territory_staff = caller.may(Action::ViewCases, &facts.cell);
    if !(territory_staff || unit_ever || !caps.is_empty()) {
        return Err(case_not_found(id));
    }
    if !territory_staff {
        conceal_people(&mut detail, caller);
    }
    let state = CaseState {
        stage: Stage::parse(&detail.case.stage).unwrap_or(Stage::Closed),
        level: CaseLevel::parse(&detail.case.level).unwrap_or(CaseLevel::City),
        rated: detail.rated,
        reworks: detail.reworks as u32,
        returns: detail.returns as u32,
        escalations: detail.escalations as u32,
    };
    let actions = available(state, &caps);
    Ok((detail, caps, actions))
}
