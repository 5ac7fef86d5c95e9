//! How a caller stands to a case, from their role bindings and the case's place, level and
//! units. The workflow then decides with these capacities alone.

use super::{Capacity, CaseLevel};
use crate::access::{Grants, Role};
use crate::territory::RegionCode;

/// What of a case decides who stands how to it.
#[derive(Debug, Clone)]
pub struct CaseFacts<'a> {
    pub cell: &'a RegionCode,
    pub level: CaseLevel,
    /// The region of the level the case sits at (an ancestor of, or equal to, the cell).
    pub level_code: &'a RegionCode,
    /// `user:<id>` of whoever reported it.
    pub reporter: &'a str,
    pub lead_unit: Option<&'a str>,
    pub assist_units: &'a [String],
}

/// The role that answers for a level.
pub fn role_of_level(level: CaseLevel) -> Role {
    match level {
        CaseLevel::Grid => Role::GridWorker,
        CaseLevel::Community => Role::CommunityStaff,
        CaseLevel::Street => Role::StreetStaff,
        CaseLevel::District | CaseLevel::City => Role::Command,
    }
}

/// Every capacity `actor` with `grants` holds on the case.
pub fn capacities(grants: &Grants, actor: &str, case: &CaseFacts<'_>) -> Vec<Capacity> {
    let mut out = Vec::new();
    if actor == case.reporter {
        out.push(Capacity::Reporter);
    }
    for b in &grants.bindings {
        if let Some(scope) = &b.scope {
            if !scope.contains(case.cell) {
                continue;
            }
            let answers = b.role == role_of_level(case.level);
            if answers && scope.contains(case.level_code) {
                out.push(Capacity::LevelStaff);
            }
            // A staff binding over a larger region than the case's level supervises it.
            let staff = matches!(
                b.role,
                Role::CommunityStaff | Role::StreetStaff | Role::Command
            );
            if staff && scope != case.level_code && scope.contains(case.level_code) {
                out.push(Capacity::Supervisor);
            }
            if b.role == Role::GridWorker {
                out.push(Capacity::GridWorker);
            }
            // The community a case lies in keeps a say once it has gone up: it verifies.
            if b.role == Role::CommunityStaff && case.level > CaseLevel::Community {
                out.push(Capacity::LocalCommunity);
            }
        }
        if let (Role::UnitStaff, Some(unit)) = (b.role, b.unit.as_deref()) {
            if case.lead_unit == Some(unit) {
                out.push(Capacity::LeadUnit);
            }
            if case.assist_units.iter().any(|u| u == unit) {
                out.push(Capacity::AssistUnit);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Binding;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn grants(role: Role, scope: Option<&str>, unit: Option<&str>) -> Grants {
        Grants::new(vec![Binding {
            role,
            scope: scope.map(code),
            unit: unit.map(str::to_string),
        }])
    }

    #[test]
    fn levels_units_and_reporters() {
        let cell = code("510104018001001002");
        let community = code("510104018001");
        let assist = vec!["510104-SW".to_string()];
        let facts = CaseFacts {
            cell: &cell,
            level: CaseLevel::Community,
            level_code: &community,
            reporter: "user:7",
            lead_unit: Some("510104-CG"),
            assist_units: &assist,
        };
        let c = |g: &Grants, actor: &str| capacities(g, actor, &facts);
        let shequ = grants(Role::CommunityStaff, Some("510104018001"), None);
        assert_eq!(c(&shequ, "user:1"), vec![Capacity::LevelStaff]);
        let other = grants(Role::CommunityStaff, Some("510104018002"), None);
        assert!(c(&other, "user:1").is_empty());
        let jiedao = grants(Role::StreetStaff, Some("510104018000"), None);
        assert_eq!(c(&jiedao, "user:1"), vec![Capacity::Supervisor]);
        let wangge = grants(Role::GridWorker, Some("510104018001001"), None);
        assert_eq!(c(&wangge, "user:1"), vec![Capacity::GridWorker]);
        let lead = grants(Role::UnitStaff, None, Some("510104-CG"));
        assert_eq!(c(&lead, "user:1"), vec![Capacity::LeadUnit]);
        let helper = grants(Role::UnitStaff, None, Some("510104-SW"));
        assert_eq!(c(&helper, "user:1"), vec![Capacity::AssistUnit]);
        let resident = grants(Role::Resident, None, None);
        assert_eq!(c(&resident, "user:7"), vec![Capacity::Reporter]);
        assert!(c(&resident, "user:8").is_empty());

        // Sent up to the street: the community it lies in verifies, another does not.
        let street = code("510104018000");
        let up = CaseFacts {
            level: CaseLevel::Street,
            level_code: &street,
            ..facts.clone()
        };
        let c = |g: &Grants| capacities(g, "user:1", &up);
        assert_eq!(c(&shequ), vec![Capacity::LocalCommunity]);
        assert!(c(&other).is_empty());
        assert_eq!(c(&jiedao), vec![Capacity::LevelStaff]);
    }
}
