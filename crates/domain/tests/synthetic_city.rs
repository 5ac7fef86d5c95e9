//! The synthetic register of real Chengdu districts: deterministic, valid identities, and
//! distributions close to the census.

use shezhi_domain::people::{Date, IdNumber, KeyTag, Relation, Residence};
use shezhi_domain::synth::{self, GridPlan, GridRegister};
use shezhi_domain::territory::{RegionCode, RegionRecord};
use std::sync::OnceLock;

fn territory() -> &'static Vec<RegionRecord> {
    static T: OnceLock<Vec<RegionRecord>> = OnceLock::new();
    T.get_or_init(|| {
        shezhi_domain::territory::generate::chengdu().unwrap_or_else(|e| panic!("{e}"))
    })
}

fn plans(scope: &str) -> Vec<GridPlan> {
    let scope = RegionCode::parse(scope).unwrap_or_else(|e| panic!("{e}"));
    synth::plans(territory(), &scope)
}

fn generate(plans: &[GridPlan], seed: u64) -> Vec<GridRegister> {
    plans
        .iter()
        .map(|p| synth::generate_grid(p, seed, synth::default_as_of()))
        .collect()
}

fn digest(plans: &[GridPlan], regs: &[GridRegister]) -> Vec<[u8; 32]> {
    plans
        .iter()
        .zip(regs)
        .map(|(p, r)| synth::digest(r, p))
        .collect()
}

#[test]
fn same_seed_same_register_other_seed_other_register() {
    let street = plans("510104018000");
    assert!(street.len() > 10);
    let a = digest(&street, &generate(&street, 7));
    let b = digest(&street, &generate(&street, 7));
    let c = digest(&street, &generate(&street, 8));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // A grid generated alone equals the same grid generated with its whole street.
    let alone = plans(&street[3].code);
    assert_eq!(alone.len(), 1);
    assert_eq!(digest(&alone, &generate(&alone, 7))[0], a[3]);
}

#[test]
fn an_urban_district_looks_like_chengdu() {
    let district = plans("510104000000");
    let regs = generate(&district, 1);
    let as_of = synth::default_as_of();
    let households: usize = regs.iter().map(|r| r.households.len()).sum();
    let people: Vec<_> = regs.iter().flat_map(|r| &r.people).collect();
    let planned: u32 = district
        .iter()
        .flat_map(|p| &p.cells)
        .map(|c| c.households)
        .sum();
    assert_eq!(
        households as u32, planned,
        "one household per planned household"
    );
    let per_household = people.len() as f64 / households as f64;
    assert!((2.3..2.5).contains(&per_household), "{per_household}");
    let share = |f: &dyn Fn(i32) -> bool| {
        people.iter().filter(|p| f(p.birth.age_on(as_of))).count() as f64 / people.len() as f64
    };
    let children = share(&|a| a < 15);
    eprintln!(
        "children {children} elderly {} 80+ {} floating {}",
        share(&|a| a >= 60),
        share(&|a| a >= 80),
        people
            .iter()
            .filter(|p| p.residence == Residence::Floating)
            .count() as f64
            / people.len() as f64
    );
    let elderly = share(&|a| a >= 60);
    assert!((0.10..0.17).contains(&children), "under 15: {children}");
    assert!((0.15..0.22).contains(&elderly), "60 and over: {elderly}");
    let floating = people
        .iter()
        .filter(|p| p.residence == Residence::Floating)
        .count() as f64
        / people.len() as f64;
    assert!((0.25..0.42).contains(&floating), "floating {floating}");
    // Every identity number is valid and agrees with the person's birth date and sex.
    let today = Date::new(2026, 11, 23).unwrap_or_else(|| panic!());
    for p in &people {
        match (&p.id_number, p.residence) {
            (None, Residence::Overseas) => {}
            (Some(id), _) => {
                let parsed = IdNumber::parse(id.as_str(), today).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(parsed.birth_date(), p.birth);
                assert_eq!(parsed.sex(), p.sex);
            }
            (None, r) => panic!("{r:?} resident without an identity number"),
        }
    }
    // Every household has exactly one head, living in a room of its own micro-grid.
    for r in &regs {
        for h in &r.households {
            let heads = r
                .people
                .iter()
                .filter(|p| p.household_id == h.id && p.relation == Relation::Head)
                .count();
            assert_eq!(heads, 1);
            let room = r.rooms.iter().find(|x| x.id == h.room_id);
            assert_eq!(room.map(|x| x.cell), Some(h.cell));
        }
    }
    let tags = |t: KeyTag| {
        regs.iter()
            .flat_map(|r| &r.tags)
            .filter(|x| x.tag == t)
            .count()
    };
    let alone = tags(KeyTag::ElderlyAlone) as f64;
    let old = people
        .iter()
        .filter(|p| p.birth.age_on(as_of) >= 60)
        .count() as f64;
    assert!(
        (0.08..0.30).contains(&(alone / old)),
        "elderly alone share {}",
        alone / old
    );
    assert!(tags(KeyTag::Over80) > 0 && tags(KeyTag::Disabled) > 0);
}

#[test]
fn a_rural_county_has_villages_and_left_behind_children() {
    // 蒲江县: village groups, one house per household, grandparents raising grandchildren.
    let county: Vec<GridPlan> = plans("510131000000")
        .into_iter()
        .filter(|p| !p.urban)
        .collect();
    assert!(county.len() > 50);
    let regs = generate(&county, 1);
    let people: usize = regs.iter().map(|r| r.people.len()).sum();
    let left_behind = regs
        .iter()
        .flat_map(|r| &r.tags)
        .filter(|t| t.tag == KeyTag::LeftBehindChild)
        .count();
    assert!(
        left_behind > 0 && left_behind < people / 20,
        "{left_behind} of {people}"
    );
    let floating = regs
        .iter()
        .flat_map(|r| &r.people)
        .filter(|p| p.residence == Residence::Floating)
        .count();
    assert!(
        (floating as f64 / people as f64) < 0.2,
        "{floating} of {people}"
    );
}

#[test]
fn ids_are_unique_and_below_the_live_range() {
    let street = plans("510104018000");
    let regs = generate(&street, 3);
    let mut ids: Vec<i64> = regs
        .iter()
        .flat_map(|r| r.people.iter().map(|p| p.id))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert!(ids.iter().all(|i| *i > 0 && *i < synth::LIVE_ID_START));
    let staff: usize = regs.iter().map(|r| r.staff.len()).sum();
    let cells: usize = street.iter().map(|p| p.cells.len()).sum();
    assert!(
        staff >= street.len() * 2 + cells * 2,
        "{staff} staff for {} grids",
        street.len()
    );
}
