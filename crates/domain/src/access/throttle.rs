//! Sign-in back-off. Every attempt is counted before the password is checked, so parallel
//! guesses cannot slip past the count; the first few failures in a row cost nothing, each one
//! after doubles the wait before the next attempt is heard, up to a ceiling. A wrong guess
//! never locks the account for longer than the ceiling, so an attacker who knows a user name
//! cannot shut its owner out for long, and known and unknown names back off alike.

/// Failures in a row that cost no wait.
pub const FREE_FAILURES: i32 = 4;
/// The first wait, after the first failure past the free ones.
pub const FIRST_WAIT_MS: i64 = 1_000;
/// The longest wait between two attempts.
pub const MAX_WAIT_MS: i64 = 5 * 60 * 1000;

/// How long the next attempt must wait once `failures` attempts in a row have been counted
/// (counted before their check, so a pending attempt counts as a failure until it succeeds).
pub fn wait_after(failures: i32) -> i64 {
    if failures <= FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES - 1).min(30) as u32;
    FIRST_WAIT_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_WAIT_MS)
}

/// The state of one user name: failures in a row and when the next attempt may be heard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Turns {
    pub failures: i32,
    pub next_at_ms: i64,
}

/// Whether an attempt at `now_ms` is heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Heard: the attempt is counted and the state becomes `after`.
    Go { after: Turns },
    /// Not heard before `until_ms`; nothing changes.
    Wait { until_ms: i64 },
}

impl Turns {
    /// Count one attempt at `now_ms`, or say how long to wait.
    pub fn attempt(self, now_ms: i64) -> Turn {
        if self.next_at_ms > now_ms {
            return Turn::Wait {
                until_ms: self.next_at_ms,
            };
        }
        let failures = self.failures.saturating_add(1);
        Turn::Go {
            after: Turns {
                failures,
                next_at_ms: now_ms + wait_after(failures),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double_to_the_ceiling() {
        let waits: Vec<i64> = (1..=14).map(wait_after).collect();
        assert_eq!(&waits[..4], &[0, 0, 0, 0]);
        assert_eq!(&waits[4..9], &[1_000, 2_000, 4_000, 8_000, 16_000]);
        assert_eq!(waits[13], MAX_WAIT_MS);
        assert_eq!(wait_after(i32::MAX), MAX_WAIT_MS);
    }

    #[test]
    fn an_attempt_inside_the_wait_is_not_heard_and_changes_nothing() {
        let mut t = Turns::default();
        for _ in 0..5 {
            match t.attempt(0) {
                Turn::Go { after } => t = after,
                Turn::Wait { .. } => panic!("the free attempts are heard"),
            }
        }
        assert_eq!(t.attempt(999), Turn::Wait { until_ms: 1_000 });
        assert!(matches!(t.attempt(1_000), Turn::Go { .. }));
    }

    proptest! {
        /// However attempts are spread in time, no more are heard than the back-off allows:
        /// within any stretch of time the heard attempts after the free ones are spaced by
        /// at least the wait their count demands.
        #[test]
        fn heard_attempts_respect_the_wait(gaps in proptest::collection::vec(0_i64..5_000, 1..80)) {
            let mut t = Turns::default();
            let mut now = 0;
            let mut last_heard: Option<(i64, i32)> = None;
            for g in gaps {
                now += g;
                if let Turn::Go { after } = t.attempt(now) {
                    if let Some((at, failures)) = last_heard {
                        prop_assert!(now - at >= wait_after(failures));
                    }
                    last_heard = Some((now, after.failures));
                    t = after;
                }
            }
        }
    }
}
