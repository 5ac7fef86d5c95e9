//! The case closed loop in the database. A case row is the projection of its append-only
//! events (`case_events`): every step runs in one transaction that locks the row, asks the
//! domain workflow for the next state, appends the event, updates the row, (re)starts the
//! stage clock as timers, adds the command-view counters, writes notifications and the audit
//! entry. Intake takes many reports in one transaction (group commit).

mod bench;
mod catalogue;
mod clock;
pub(crate) mod counters;
mod group;
pub(crate) mod intake;
mod outbox;
pub(crate) mod plan;
pub(crate) mod query;
pub(crate) mod search;
mod steps;

pub use bench::{BULK_REPORTERS, BareReport, BulkCase};
pub use clock::SweepReport;
pub use counters::{FOLD_BATCH, Indicators, ScopeKey, scopes_of};
pub use group::{GroupIntake, GroupSteps};
pub use intake::{check_photo_sizes, check_photos};
pub use outbox::Outgoing;
pub use query::{
    CaseDetail, CaseEvent, CaseFilter, CaseList, CaseSummary, CaseUnit, Notification, StoredFacts,
};
pub use search::{INDEX_BATCH, UNINDEXED_MATCHED};
pub(crate) use steps::CategoryCache;
pub use steps::{StepDone, StepJob};

use shezhi_domain::cases::{Satisfaction, Source, Step};
use shezhi_domain::people::Phone;
use shezhi_domain::territory::RegionCode;

/// A photo attached to a report or a feedback.
#[derive(Debug, Clone)]
pub struct Photo {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A report to take in.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub source: Source,
    pub category: String,
    pub title: String,
    pub description: String,
    /// The micro-grid (or grid) the place lies in.
    pub cell: RegionCode,
    pub point: Option<[f64; 2]>,
    pub address: String,
    /// `user:<id>`, or `anonymous` for a resident without an account.
    pub reporter: String,
    pub contact: Option<Phone>,
    pub photos: Vec<Photo>,
    /// (who sent it, their Idempotency-Key, a hash of the request): a retry with the same
    /// key and body answers the case already made.
    pub idempotency: Option<(String, String, String)>,
    pub ip: Option<String>,
}

/// The answer to a report.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Intake {
    pub id: i64,
    pub number: String,
    pub stage: String,
    /// False when an earlier request with the same Idempotency-Key made the case.
    pub created: bool,
    /// Open cases of the same category nearby and recent: likely the same problem.
    pub possible_duplicates: Vec<CaseRef>,
}

/// A case named briefly: an open case near a new report, likely the same problem.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRef {
    /// Id, number and title: only for staff who may see the case (see [`CaseRef::public`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub stage: String,
    pub distance_m: f64,
    pub reported_at_ms: i64,
    /// The description staff published for the public, if any (never the reporter's words).
    pub public_text: Option<String>,
}

impl CaseRef {
    /// What anyone may read of it: no id, number or title (a title is the reporter's words),
    /// the distance to a whole ten metres.
    pub fn public(self) -> CaseRef {
        CaseRef {
            id: None,
            number: None,
            title: None,
            distance_m: (self.distance_m / 10.0).round() * 10.0,
            ..self
        }
    }
}

/// A step to take on a case, with who takes it and what it carries.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub step: Option<Step>,
    /// The capacities the caller holds on this case (from `shezhi_domain::cases::capacities`
    /// over the case as read in the transaction: see [`crate::Store::case_facts`]).
    pub by: Vec<shezhi_domain::cases::Capacity>,
    pub actor: String,
    pub ip: Option<String>,
    pub note: String,
    /// Dispatch: `[lead]`; whistle: `[lead, assisting…]`.
    pub units: Vec<String>,
    /// Rate.
    pub satisfaction: Option<Satisfaction>,
    pub not_fixed: bool,
    /// Merge: the case this one joins.
    pub merge_into: Option<i64>,
    /// Request pause: until when.
    pub pause_until_ms: Option<i64>,
    pub photos: Vec<Photo>,
    /// The number of events the caller saw; a step on a case that has moved on since is
    /// refused (`409 case_changed`) rather than applied to a state the caller did not see.
    pub expect_events: Option<i64>,
}

/// Most bytes a photo may have, and the types accepted.
pub const PHOTO_MAX_BYTES: usize = 5 * 1024 * 1024;
pub const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];
/// Most photos on one report or step.
pub const PHOTOS_MAX: usize = 6;

/// The region code at `level` of a cell (the cell itself at its own level).
pub fn level_code(cell: &RegionCode, level: shezhi_domain::cases::CaseLevel) -> Option<RegionCode> {
    let want = level.territory();
    if cell.level() == want {
        return Some(cell.clone());
    }
    cell.ancestors().into_iter().find(|a| a.level() == want)
}
