//! Cases (事件/诉求): what comes in and from where, the readable case number, the catalogue,
//! the workflow, and duplicate detection. The store persists them; this module decides.

pub mod capacity;
pub mod catalogue;
pub mod workflow;

pub use capacity::{CaseFacts, capacities};
pub use catalogue::{Category, CategoryKind, Priority, StageLimits, UnitKind};
pub use workflow::{
    Capacity, CaseLevel, CaseState, Stage, Step, StepFacts, WorkflowError, available, transition,
};

use crate::labelled_enum;
use crate::people::Date;

labelled_enum! {
    /// The channel a case came in by.
    pub enum Source {
        Resident = ("resident", "居民诉求"),
        Patrol = ("patrol", "网格巡查"),
        Hotline = ("hotline", "12345热线"),
        Clue = ("clue", "线索征集"),
        Sensor = ("sensor", "感知设备"),
        Staff = ("staff", "工作人员录入"),
        Campaign = ("campaign", "入户排查"),
    }
}

impl Source {
    /// The level that answers first: residents call their grid (群众呼网格应); the hotline
    /// and staff entries go to the community.
    pub fn first_level(self) -> CaseLevel {
        match self {
            Source::Hotline | Source::Staff => CaseLevel::Community,
            _ => CaseLevel::Grid,
        }
    }
}

labelled_enum! {
    /// The reporter's rating of a closing.
    pub enum Satisfaction {
        Satisfied = ("satisfied", "满意"),
        Basic = ("basic", "基本满意"),
        Unsatisfied = ("unsatisfied", "不满意"),
    }
}

/// The readable number of a case: `SQ` + the day of intake (China time) + a five-digit
/// sequence of that day, e.g. `SQ2026112300001`.
pub fn case_number(day: Date, seq: i64) -> String {
    format!("SQ{}{:05}", day.compact(), seq)
}

/// Parse a case number back to its day and sequence.
pub fn parse_case_number(s: &str) -> Option<(Date, i64)> {
    let rest = s.strip_prefix("SQ")?;
    if rest.len() < 13 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = Date::parse_compact(&rest[..8])?;
    let seq = rest[8..].parse().ok()?;
    Some((day, seq))
}

/// Two reports are the same problem when they share a category and lie within this distance
/// and time of each other.
pub const DUPLICATE_RADIUS_M: f64 = 50.0;
pub const DUPLICATE_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Distance in metres between two points (lon, lat in degrees), on a sphere; exact enough at
/// the scale of a street.
pub fn distance_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a[1].to_radians(), b[1].to_radians());
    let dlat = la2 - la1;
    let dlon = (b[0] - a[0]).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_read_back() {
        let d = Date::new(2026, 11, 23).unwrap_or_else(|| panic!("date"));
        let n = case_number(d, 1);
        assert_eq!(n, "SQ2026112300001");
        assert_eq!(parse_case_number(&n), Some((d, 1)));
        assert_eq!(
            parse_case_number("SQ2026112312345678").map(|x| x.1),
            Some(12345678)
        );
        assert_eq!(parse_case_number("SQ20261323"), None);
        assert_eq!(parse_case_number("XX2026112300001"), None);
    }

    #[test]
    fn distances_at_street_scale() {
        let a = [104.0665, 30.6595];
        let b = [104.0665, 30.66];
        let d = distance_m(a, b);
        assert!((d - 55.6).abs() < 1.0, "{d}");
        assert_eq!(distance_m(a, a), 0.0);
    }
}
