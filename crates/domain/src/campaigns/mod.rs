//! Directives (指令) and household campaigns (入户排查): what a visit's outcome means for the
//! round, which of two visits to one household stands (offline devices sync late), the
//! checklist form as data, and when a late recipient of a directive is reminded.

pub mod form;
pub mod remind;

use crate::labelled_enum;

labelled_enum! {
    /// What a visit to a household found.
    pub enum Outcome {
        Visited = ("visited", "已入户"),
        NobodyHome = ("nobody_home", "无人在家"),
        Refused = ("refused", "拒绝入户"),
        MovedOut = ("moved_out", "已搬离"),
        Vacant = ("vacant", "空置房"),
        Other = ("other", "其他"),
    }
}

impl Outcome {
    /// A conclusive visit completes the household's round; the others call for a revisit.
    pub fn conclusive(self) -> bool {
        !matches!(self, Outcome::NobodyHome | Outcome::Other)
    }
}

labelled_enum! {
    /// The levels a directive reaches (each recipient signs and reports back).
    pub enum TargetLevel {
        District = ("district", "区县"),
        Street = ("street", "街道"),
        Community = ("community", "社区"),
        Grid = ("grid", "网格"),
    }
}

labelled_enum! {
    /// The kind of building a campaign may be limited to: by height (gas and fire checks
    /// differ between towers and self-built houses) or by how the place is organised.
    pub enum BuildingType {
        HighRise = ("high_rise", "高层住宅（10层及以上）"),
        MultiStorey = ("multi_storey", "多层住宅（4至9层）"),
        LowRise = ("low_rise", "低层及自建房（3层及以下）"),
        Compound = ("compound", "小区"),
        Courtyard = ("courtyard", "院落"),
        VillageGroup = ("village_group", "村民小组"),
        Institution = ("institution", "单位宿舍"),
    }
}

/// What a building type selects: a range of floors, or a kind of compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildingFilter {
    /// Buildings with `min..=max` floors.
    Floors(i64, i64),
    /// Buildings in compounds of this kind.
    CompoundKind(crate::people::CompoundKind),
}

impl BuildingType {
    pub fn filter(self) -> BuildingFilter {
        use crate::people::CompoundKind as K;
        match self {
            BuildingType::HighRise => BuildingFilter::Floors(10, i64::from(i32::MAX)),
            BuildingType::MultiStorey => BuildingFilter::Floors(4, 9),
            BuildingType::LowRise => BuildingFilter::Floors(1, 3),
            BuildingType::Compound => BuildingFilter::CompoundKind(K::Compound),
            BuildingType::Courtyard => BuildingFilter::CompoundKind(K::Courtyard),
            BuildingType::VillageGroup => BuildingFilter::CompoundKind(K::VillageGroup),
            BuildingType::Institution => BuildingFilter::CompoundKind(K::Institution),
        }
    }
}

/// A visit as the conflict rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitFacts {
    pub outcome: Outcome,
    /// When the worker made it (the device's clock, epoch ms).
    pub visited_at_ms: i64,
    /// The device's id of the visit: unique, and a stable tie-breaker.
    pub client_id: String,
}

/// Which visit stands as a household's record for a round when two arrive: a conclusive
/// visit beats one that is not; between two conclusive visits the earlier one stands (the
/// household was settled then; the later visit is kept but superseded); between two visits
/// that are not conclusive the later one stands (it dates the revisit); equal times fall to
/// the smaller client id, so that every order of arrival gives the same answer.
pub fn stands(current: &VisitFacts, incoming: &VisitFacts) -> bool {
    match (current.outcome.conclusive(), incoming.outcome.conclusive()) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => {
            (incoming.visited_at_ms, &incoming.client_id)
                < (current.visited_at_ms, &current.client_id)
        }
        (false, false) => {
            (
                incoming.visited_at_ms,
                std::cmp::Reverse(&incoming.client_id),
            ) > (current.visited_at_ms, std::cmp::Reverse(&current.client_id))
        }
    }
}

/// When a household whose visit was not conclusive is due again: the next day, 09:00 China
/// time (epoch ms), so the worker sees it in tomorrow's list.
pub fn revisit_due(visited_at_ms: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    const CST: i64 = 8 * 3_600_000;
    let local_day = (visited_at_ms + CST).div_euclid(DAY);
    (local_day + 1) * DAY + 9 * 3_600_000 - CST
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::rng::Rng;

    fn v(outcome: Outcome, at: i64, id: &str) -> VisitFacts {
        VisitFacts {
            outcome,
            visited_at_ms: at,
            client_id: id.into(),
        }
    }

    #[test]
    fn conclusive_beats_not_and_the_earlier_conclusive_stands() {
        let home = v(Outcome::Visited, 2_000, "b");
        let away = v(Outcome::NobodyHome, 3_000, "a");
        assert!(stands(&away, &home));
        assert!(!stands(&home, &away));
        let earlier = v(Outcome::Refused, 1_000, "c");
        assert!(stands(&home, &earlier));
        assert!(!stands(&earlier, &home));
        let later_away = v(Outcome::NobodyHome, 4_000, "d");
        assert!(stands(&away, &later_away));
    }

    /// Whatever order visits arrive in, the same one stands at the end.
    #[test]
    fn the_outcome_does_not_depend_on_arrival_order() {
        let mut rng = Rng::new(7);
        for _ in 0..2_000 {
            let n = 2 + rng.below(4) as usize;
            let visits: Vec<VisitFacts> = (0..n)
                .map(|i| {
                    v(
                        *rng.pick(Outcome::ALL),
                        rng.below(5) as i64,
                        &format!("v{i}"),
                    )
                })
                .collect();
            let fold = |order: &[usize]| {
                let mut cur = visits[order[0]].clone();
                for &i in &order[1..] {
                    if stands(&cur, &visits[i]) {
                        cur = visits[i].clone();
                    }
                }
                cur
            };
            let forward: Vec<usize> = (0..n).collect();
            let backward: Vec<usize> = (0..n).rev().collect();
            assert_eq!(fold(&forward), fold(&backward), "{visits:?}");
        }
    }

    #[test]
    fn revisits_fall_on_the_next_morning_in_china() {
        // 2026-11-24 22:30 China time → 2026-11-25 09:00 China time.
        let at = 1_795_530_600_000 - 8 * 3_600_000 + 22 * 3_600_000 + 30 * 60_000;
        let due = revisit_due(at);
        assert!(due > at && due - at <= 24 * 3_600_000);
        assert_eq!((due + 8 * 3_600_000) % 86_400_000, 9 * 3_600_000);
    }
}
