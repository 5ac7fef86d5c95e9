//! People (后人): one household per lived-in room, its members drawn from household-size and
//! age distributions close to Chengdu's 2020 census (2.39 persons per household; 13% under
//! 15, 18% aged 60 and over), with floating and overseas residents, and the key-population
//! tags a grid worker would have recorded.

use super::rng::Rng;
use super::{GridIds, GridRegister, Household, Person, Tagging, names};
use crate::people::{Date, IdNumber, KeyTag, Phone, Relation, Residence, Sex};

/// Household sizes 1..=7 per thousand households (mean ≈ 2.40).
const SIZE_WEIGHTS: [u32; 7] = [290, 320, 210, 100, 50, 22, 8];
/// Age bands of household heads in couples, 5 years wide from 22.
const HEAD_BANDS: [u32; 14] = [2, 5, 7, 7, 7, 8, 10, 11, 12, 12, 10, 8, 5, 3];
/// Area codes (first six digits) of places floating residents come from: other Sichuan
/// prefectures first, then the provinces most people arrive from.
const ORIGINS: &[u32] = &[
    510302, 510402, 510502, 510603, 510703, 510802, 510903, 511002, 511102, 511302, 511402, 511502,
    511602, 511702, 511802, 511902, 512002, 513401, 500101, 500103, 420102, 430102, 520102, 530102,
    610102, 620102, 410102, 340102, 360102, 450102, 130102, 370102, 320102,
];
const MOBILE_PREFIXES: &[u16] = &[
    130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 157, 158, 159, 166, 173, 177,
    180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199,
];

pub(super) struct CellContext {
    pub cell: u32,
    pub urban: bool,
    pub home_area: u32,
    pub as_of: Date,
    pub recorder: i64,
}

struct Member {
    relation: Relation,
    sex: Sex,
    age: i64,
}

fn head_age(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    for _ in 0..8 {
        let band = rng.weighted(&HEAD_BANDS) as i64;
        let age = 22 + band * 5 + rng.range(0, 4);
        if (lo..=hi).contains(&age) {
            return age;
        }
    }
    rng.range(lo, hi)
}

fn other(sex: Sex) -> Sex {
    match sex {
        Sex::Male => Sex::Female,
        Sex::Female => Sex::Male,
    }
}

fn any_sex(rng: &mut Rng) -> Sex {
    if rng.chance(0.5) {
        Sex::Male
    } else {
        Sex::Female
    }
}

/// Who lives in a household of `size`, and whether it is grandparents raising grandchildren.
fn compose(size: usize, ctx: &CellContext, floating: bool, rng: &mut Rng) -> (Vec<Member>, bool) {
    let max_head = if floating { 55 } else { 89 };
    let mut m = Vec::with_capacity(size);
    let mut skipped = false;
    let head_sex = if rng.chance(0.62) {
        Sex::Male
    } else {
        Sex::Female
    };
    let couple = |m: &mut Vec<Member>, age: i64, rng: &mut Rng| {
        m.push(Member {
            relation: Relation::Head,
            sex: head_sex,
            age,
        });
        m.push(Member {
            relation: Relation::Spouse,
            sex: other(head_sex),
            age: (age + rng.range(-4, 3)).max(20),
        });
    };
    match size {
        1 => {
            let w: [u32; 3] = if ctx.urban {
                [46, 21, 33]
            } else {
                [32, 20, 48]
            };
            let age = match rng.weighted(&w) {
                0 => rng.range(20, 44),
                1 => rng.range(45, 59),
                _ => rng.range(60, if floating { 70 } else { 96 }),
            };
            let sex = if age >= 60 && rng.chance(0.6) {
                Sex::Female
            } else {
                any_sex(rng)
            };
            m.push(Member {
                relation: Relation::Head,
                sex,
                age,
            });
        }
        2 => match rng.weighted(&[60, 22, if ctx.urban { 18 } else { 0 }]) {
            0 => couple(&mut m, head_age(rng, 22, max_head), rng),
            1 => {
                let age = rng.range(42, max_head.max(60));
                m.push(Member {
                    relation: Relation::Head,
                    sex: head_sex,
                    age,
                });
                m.push(Member {
                    relation: Relation::Child,
                    sex: any_sex(rng),
                    age: (age - rng.range(22, 35)).max(0),
                });
            }
            _ => {
                m.push(Member {
                    relation: Relation::Head,
                    sex: head_sex,
                    age: rng.range(20, 35),
                });
                m.push(Member {
                    relation: Relation::Other,
                    sex: any_sex(rng),
                    age: rng.range(20, 35),
                });
            }
        },
        _ => {
            let skip_share = if ctx.urban { 0.04 } else { 0.22 };
            let three_gen = if size >= 4 { 0.4 } else { 0.12 };
            if size <= 4 && rng.chance(skip_share) {
                skipped = true;
                let age = rng.range(52, 75);
                couple(&mut m, age, rng);
                for _ in 2..size {
                    m.push(Member {
                        relation: Relation::Grandchild,
                        sex: any_sex(rng),
                        age: rng.range(1, 15),
                    });
                }
            } else if rng.chance(three_gen) {
                let age = head_age(rng, 28, 50);
                couple(&mut m, age, rng);
                let elders = if size >= 4 { 2.min(size - 3) } else { 1 };
                let elder_age = age + rng.range(24, 32);
                for e in 0..elders {
                    let sex = if e == 0 { Sex::Female } else { Sex::Male };
                    m.push(Member {
                        relation: Relation::Parent,
                        sex,
                        age: elder_age + rng.range(-2, 3),
                    });
                }
                for _ in 0..size - 2 - elders {
                    m.push(Member {
                        relation: Relation::Child,
                        sex: any_sex(rng),
                        age: (age - rng.range(24, 38)).max(0),
                    });
                }
            } else {
                let age = head_age(rng, 25, 58.min(max_head));
                couple(&mut m, age, rng);
                for _ in 2..size {
                    let child = (age - rng.range(22, 38)).clamp(0, 30);
                    m.push(Member {
                        relation: Relation::Child,
                        sex: any_sex(rng),
                        age: child,
                    });
                }
            }
        }
    }
    (m, skipped)
}

fn phone(rng: &mut Rng) -> Option<Phone> {
    let prefix = rng.pick(MOBILE_PREFIXES);
    Phone::parse(&format!("{prefix}{:08}", rng.below(100_000_000))).ok()
}

pub(super) fn household(
    ctx: &CellContext,
    room_id: i64,
    rng: &mut Rng,
    ids: &mut GridIds,
    out: &mut GridRegister,
) {
    let size = rng.weighted(&SIZE_WEIGHTS) + 1;
    let overseas = ctx.urban && rng.chance(0.003);
    let floating = !overseas && rng.chance(if ctx.urban { 0.33 } else { 0.10 });
    let (residence, area) = match (overseas, floating) {
        (true, _) => (Residence::Overseas, 0),
        (false, true) => (Residence::Floating, *rng.pick(ORIGINS)),
        _ => (Residence::Registered, ctx.home_area),
    };
    let (members, skipped) = compose(size, ctx, floating, rng);
    let years = if floating { 5 } else { 25 };
    let since = ctx.as_of.add_days(-rng.range(20, years * 365));
    let household_id = ids.household.next();
    out.households.push(Household {
        id: household_id,
        room_id,
        cell: ctx.cell,
        since,
    });
    let low_income = !overseas && rng.chance(if ctx.urban { 0.012 } else { 0.03 });
    let mut family: Option<String> = None;
    for mb in &members {
        let days = mb.age * 365 + mb.age / 4 + rng.range(0, 364);
        let birth = ctx.as_of.add_days(-days);
        let age = i64::from(birth.age_on(ctx.as_of));
        let surname_from = match (&family, mb.relation) {
            (Some(f), Relation::Child | Relation::Grandchild) => Some(f.as_str()),
            _ => None,
        };
        let name = names::person(rng, mb.sex, surname_from);
        if family.is_none() || (mb.relation == Relation::Spouse && mb.sex == Sex::Male) {
            let s = if name.chars().count() >= 4 {
                name.chars().take(2).collect()
            } else {
                name.chars().take(1).collect()
            };
            family = Some(s);
        }
        let id_number = (!overseas).then(|| {
            let seq = rng.below(500) as u32 * 2 + u32::from(mb.sex == Sex::Male);
            IdNumber::compose(area, birth, seq)
        });
        let phone_share = match age {
            ..16 => 0.0,
            80.. => 0.5,
            _ => 0.94,
        };
        let phone = if rng.chance(phone_share) {
            phone(rng)
        } else {
            None
        };
        let id = ids.person.next();
        let since = if birth > since { birth } else { since };
        out.people.push(Person {
            id,
            household_id,
            cell: ctx.cell,
            name,
            sex: mb.sex,
            birth,
            id_number,
            phone,
            relation: mb.relation,
            residence,
            since,
        });
        let mut tag = |t: KeyTag, rng: &mut Rng| {
            let set_on = ctx.as_of.add_days(-rng.range(1, 1000));
            out.tags.push(Tagging {
                resident_id: id,
                cell: ctx.cell,
                tag: t,
                set_on: if set_on < since { since } else { set_on },
                set_by: ctx.recorder,
            });
        };
        if age >= 80 {
            tag(KeyTag::Over80, rng);
        }
        if size == 1 && age >= 60 {
            tag(KeyTag::ElderlyAlone, rng);
        }
        if rng.chance(if age >= 60 { 0.05 } else { 0.015 }) {
            tag(KeyTag::Disabled, rng);
        }
        if low_income {
            tag(KeyTag::LowIncome, rng);
        }
        if skipped && !ctx.urban && mb.relation == Relation::Grandchild && age < 16 {
            tag(KeyTag::LeftBehindChild, rng);
        }
        if age >= 18 && rng.chance(0.0045) {
            tag(KeyTag::SevereMentalDisorder, rng);
        }
        if (18..60).contains(&age) && rng.chance(0.0004) {
            tag(KeyTag::CommunityCorrection, rng);
        }
        if age >= 35 && mb.sex == Sex::Male && rng.chance(0.02) {
            tag(KeyTag::Veteran, rng);
        }
        if (20..40).contains(&age) && mb.sex == Sex::Female && rng.chance(0.01) {
            tag(KeyTag::Pregnant, rng);
        }
    }
}
