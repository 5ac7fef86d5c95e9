//! When the recipients of a directive who have not signed or reported back are reminded,
//! and when their lateness goes up a level. Each rule fires once per recipient and version
//! of the directive (an amendment starts the rules over, since it must be signed again).

/// A reminder rule (a bit in the recipient's `reminded` mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Half the time to the deadline has passed and the recipient has not signed.
    HalfTimeUnsigned = 1,
    /// The deadline has passed without a report: the recipient is reminded and the level
    /// above (the parent region) is told.
    Overdue = 2,
}

impl Rule {
    pub const ALL: [Rule; 2] = [Rule::HalfTimeUnsigned, Rule::Overdue];

    pub fn bit(self) -> i64 {
        self as i64
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::HalfTimeUnsigned => "half_time_unsigned",
            Rule::Overdue => "overdue",
        }
    }
}

/// Where a recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub signed: bool,
    pub reported: bool,
    /// Rules already fired for this version.
    pub reminded: i64,
}

/// The rules that fire now for a recipient of a directive issued (or amended) at
/// `issued_ms` with its deadline at `deadline_ms`.
pub fn due_rules(s: Standing, issued_ms: i64, deadline_ms: i64, now_ms: i64) -> Vec<Rule> {
    let half = issued_ms + (deadline_ms - issued_ms) / 2;
    Rule::ALL
        .into_iter()
        .filter(|r| s.reminded & r.bit() == 0)
        .filter(|r| match r {
            Rule::HalfTimeUnsigned => !s.signed && now_ms >= half,
            Rule::Overdue => !s.reported && now_ms >= deadline_ms,
        })
        .collect()
}

/// The earliest time any rule could fire for a directive (for the sweeper's next look).
pub fn next_check(issued_ms: i64, deadline_ms: i64, now_ms: i64) -> Option<i64> {
    let half = issued_ms + (deadline_ms - issued_ms) / 2;
    [half, deadline_ms].into_iter().find(|t| *t > now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn each_rule_fires_once_and_only_for_those_late() {
        let fresh = Standing {
            signed: false,
            reported: false,
            reminded: 0,
        };
        assert!(due_rules(fresh, 0, 10 * H, 4 * H).is_empty());
        assert_eq!(
            due_rules(fresh, 0, 10 * H, 5 * H),
            vec![Rule::HalfTimeUnsigned]
        );
        let reminded = Standing {
            reminded: Rule::HalfTimeUnsigned.bit(),
            ..fresh
        };
        assert!(due_rules(reminded, 0, 10 * H, 9 * H).is_empty());
        assert_eq!(due_rules(reminded, 0, 10 * H, 10 * H), vec![Rule::Overdue]);
        let signed = Standing {
            signed: true,
            ..fresh
        };
        assert!(due_rules(signed, 0, 10 * H, 6 * H).is_empty());
        let done = Standing {
            signed: true,
            reported: true,
            reminded: 0,
        };
        assert!(due_rules(done, 0, 10 * H, 20 * H).is_empty());
        assert_eq!(next_check(0, 10 * H, 0), Some(5 * H));
        assert_eq!(next_check(0, 10 * H, 6 * H), Some(10 * H));
        assert_eq!(next_check(0, 10 * H, 11 * H), None);
    }
}
