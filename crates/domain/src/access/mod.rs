//! Who may do what, where. A user holds role bindings; each binding is a role with a territory
//! scope (a region code: the binding covers that region's subtree) or a handling unit. An
//! action on a resource is allowed when some binding's role allows the action AND the
//! resource lies inside the binding's scope. The same rules give the scopes a list query must
//! be filtered to, so that lists are filtered in SQL rather than after loading.

pub mod password;
pub mod throttle;

use crate::territory::RegionCode;

crate::labelled_enum! {
    /// What a user is, in the platform's terms.
    pub enum Role {
        Resident = ("resident", "居民"),
        GridWorker = ("grid_worker", "网格员"),
        CommunityStaff = ("community_staff", "社区工作者"),
        StreetStaff = ("street_staff", "街道工作人员"),
        UnitStaff = ("unit_staff", "部门/单位人员"),
        Command = ("command", "区/市指挥中心"),
        Mediator = ("mediator", "调解员"),
        Admin = ("admin", "系统管理员"),
    }
}

crate::labelled_enum! {
    /// What an endpoint needs. Each endpoint declares exactly one.
    pub enum Action {
        /// Households and residents of a territory, personal data masked.
        ViewRegister = ("view_register", "查看人口房屋"),
        /// Change the register: moves, births, deaths, tags.
        EditRegister = ("edit_register", "维护人口房屋"),
        /// See an identity number or phone in clear (every time audited).
        UnmaskPersonal = ("unmask_personal", "查看完整个人信息"),
        /// Find a person by a full identity number or phone (every time audited: a match
        /// confirms the number as surely as showing it).
        SearchFullNumber = ("search_full_number", "按完整证件号码或手机号查找"),
        /// Users, role bindings and handling units.
        ManageUsers = ("manage_users", "管理用户"),
        /// The audit trail.
        ViewAudit = ("view_audit", "查看审计日志"),
        /// Cases located in a territory (units see the cases dispatched to them instead).
        ViewCases = ("view_cases", "查看案件"),
        /// Raise a case as staff for a place in the territory (patrol, hotline, entry).
        ReportCase = ("report_case", "上报案件"),
        /// Indicators and rankings of a territory (综合评价).
        ViewIndicators = ("view_indicators", "查看考核指标"),
        /// The case catalogue and its time limits.
        ManageCatalogue = ("manage_catalogue", "管理事项目录"),
        /// Issue, amend and withdraw directives for the territory, and follow them.
        IssueDirective = ("issue_directive", "下发指令"),
        /// Sign for and report back on directives sent to one's own region.
        AnswerDirective = ("answer_directive", "签收反馈指令"),
        /// Make household campaigns for the territory and follow their coverage.
        RunCampaign = ("run_campaign", "组织入户排查"),
        /// Visit the households of one's grids and record the visits.
        VisitHouseholds = ("visit_households", "入户走访"),
    }
}

impl Role {
    /// Whether the role may take the action at all (scope is checked separately).
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            ViewRegister => matches!(self, GridWorker | CommunityStaff | StreetStaff | Command),
            EditRegister => matches!(self, GridWorker | CommunityStaff),
            UnmaskPersonal | SearchFullNumber => matches!(self, GridWorker | CommunityStaff),
            ManageUsers => matches!(self, Admin),
            ViewAudit => matches!(self, Admin | Command),
            ViewCases | ReportCase => {
                matches!(self, GridWorker | CommunityStaff | StreetStaff | Command)
            }
            ViewIndicators => matches!(self, CommunityStaff | StreetStaff | Command),
            ManageCatalogue => matches!(self, Admin),
            IssueDirective | RunCampaign => matches!(self, CommunityStaff | StreetStaff | Command),
            AnswerDirective => matches!(self, GridWorker | CommunityStaff | StreetStaff | Command),
            VisitHouseholds => matches!(self, GridWorker | CommunityStaff),
        }
    }

    /// Whether a binding of this role needs a territory scope.
    pub fn needs_scope(self) -> bool {
        !matches!(
            self,
            Role::Admin | Role::UnitStaff | Role::Resident | Role::Mediator
        )
    }
}

/// One role held by a user over a territory (or for a handling unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub role: Role,
    /// The region whose subtree the binding covers; None means the whole system (admins) or
    /// nothing territorial (unit staff, residents).
    pub scope: Option<RegionCode>,
    /// The handling unit of unit staff.
    pub unit: Option<String>,
}

/// Everything a caller may do, from their bindings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub bindings: Vec<Binding>,
}

/// Where an action may reach for a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Nowhere.
    None,
    /// Everywhere (a system-wide binding).
    All,
    /// The subtrees of these regions, none inside another, in code order.
    Regions(Vec<RegionCode>),
}

impl Grants {
    pub fn new(bindings: Vec<Binding>) -> Grants {
        Grants { bindings }
    }

    /// The regions (or everything) where the caller may take `action`.
    pub fn reach(&self, action: Action) -> Reach {
        let mut scopes: Vec<RegionCode> = Vec::new();
        for b in self.bindings.iter().filter(|b| b.role.allows(action)) {
            match &b.scope {
                None if !b.role.needs_scope() => return Reach::All,
                None => {}
                Some(s) => scopes.push(s.clone()),
            }
        }
        let minimal = RegionCode::disjoint(scopes);
        if minimal.is_empty() {
            Reach::None
        } else {
            Reach::Regions(minimal)
        }
    }

    /// Whether the caller may take `action` on something located in `region`.
    pub fn can(&self, action: Action, region: &RegionCode) -> bool {
        match self.reach(action) {
            Reach::None => false,
            Reach::All => true,
            Reach::Regions(rs) => rs.iter().any(|r| r.contains(region)),
        }
    }

    /// Whether the caller may take `action` anywhere (for actions without a territory).
    pub fn can_anywhere(&self, action: Action) -> bool {
        self.reach(action) != Reach::None
    }

    /// The part of `region` the caller may take `action` in: the region itself if it lies
    /// inside their reach, their scopes inside it if it is larger, nothing otherwise.
    pub fn within(&self, action: Action, region: &RegionCode) -> Vec<RegionCode> {
        match self.reach(action) {
            Reach::None => Vec::new(),
            Reach::All => vec![region.clone()],
            Reach::Regions(rs) => {
                if rs.iter().any(|r| r.contains(region)) {
                    vec![region.clone()]
                } else {
                    rs.into_iter().filter(|r| region.contains(r)).collect()
                }
            }
        }
    }
}

/// The stored form of a random bearer secret (session cookie, API token): its SHA-256. The
/// secrets carry 256 random bits, so a fast hash is enough and lookups stay exact.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn grants(role: Role, scope: &str) -> Grants {
        Grants::new(vec![Binding {
            role,
            scope: Some(code(scope)),
            unit: None,
        }])
    }

    #[test]
    fn a_grid_worker_reaches_only_their_grid() {
        let g = grants(Role::GridWorker, "510104018001001");
        assert!(g.can(Action::ViewRegister, &code("510104018001001")));
        assert!(g.can(Action::ViewRegister, &code("510104018001001003")));
        assert!(!g.can(Action::ViewRegister, &code("510104018001002")));
        assert!(!g.can(Action::ViewRegister, &code("510104018001")));
        assert!(!g.can(Action::ManageUsers, &code("510104018001001")));
        assert_eq!(
            g.within(Action::ViewRegister, &code("510104018001")),
            vec![code("510104018001001")]
        );
        assert!(
            g.within(Action::ViewRegister, &code("510104018002"))
                .is_empty()
        );
    }

    #[test]
    fn nested_scopes_collapse_and_roles_without_a_right_add_nothing() {
        let g = Grants::new(vec![
            Binding {
                role: Role::GridWorker,
                scope: Some(code("510104018001001")),
                unit: None,
            },
            Binding {
                role: Role::StreetStaff,
                scope: Some(code("510104018000")),
                unit: None,
            },
            Binding {
                role: Role::Mediator,
                scope: Some(code("510104000000")),
                unit: None,
            },
        ]);
        assert_eq!(
            g.reach(Action::ViewRegister),
            Reach::Regions(vec![code("510104018000")])
        );
        // Street staff may view but not edit; the grid binding still edits its grid.
        assert!(g.can(Action::EditRegister, &code("510104018001001002")));
        assert!(!g.can(Action::EditRegister, &code("510104018001002")));
        assert!(!g.can(Action::ViewRegister, &code("510104017000")));
    }

    #[test]
    fn every_role_and_action_pair_is_decided_and_admins_reach_everything_they_may() {
        for role in Role::ALL {
            for action in Action::ALL {
                let g = Grants::new(vec![Binding {
                    role: *role,
                    scope: None,
                    unit: None,
                }]);
                let reach = g.reach(*action);
                match (role.allows(*action), role.needs_scope()) {
                    (false, _) => assert_eq!(reach, Reach::None, "{role} {action}"),
                    (true, true) => assert_eq!(reach, Reach::None, "{role} {action} needs a scope"),
                    (true, false) => assert_eq!(reach, Reach::All, "{role} {action}"),
                }
            }
        }
        assert!(
            !Role::Admin.allows(Action::ViewRegister),
            "administrators do not read people's records"
        );
        assert!(!Role::Resident.allows(Action::ViewRegister));
    }
}
