//! The synthetic city: compounds, buildings, rooms, households, residents, key-population
//! tags and grid workers for every grid of a territory, drawn from distributions typical of
//! Chengdu and fully determined by a seed and an "as of" date.
//!
//! Each grid is generated on its own from `hash(seed, grid code)`, so any subset of grids can
//! be generated in any order, on any thread, and a load can stop and resume grid by grid.
//! Identifiers are `(grid ordinal + 1) << 20 | local number`: the same for a grid whatever
//! else is generated, and far below the ids the live system hands out ([`LIVE_ID_START`]).

mod family;
mod house;
pub mod names;
pub mod rng;
mod staff;

use crate::geometry::{Point, Shape};
use crate::people::{
    CompoundKind, Date, IdNumber, KeyTag, Phone, Relation, Residence, Sex, StaffRole,
};
use crate::territory::generate::stable_hash;
use rng::Rng;
use sha2::{Digest, Sha256};

/// First id handed out by the live system (API writes); generated ids stay below it.
pub const LIVE_ID_START: i64 = 1 << 40;
/// Ids available to each grid per kind of record.
pub const IDS_PER_GRID: i64 = 1 << 20;

/// The default date the synthetic register describes.
pub fn default_as_of() -> Date {
    Date::new(2026, 11, 1).unwrap_or_else(|| Date::from_days_since_epoch(20_758))
}

/// What the generator needs to know about one grid.
#[derive(Debug, Clone)]
pub struct GridPlan {
    pub code: String,
    /// Position of the grid among all grids of the territory, sorted by code.
    pub ordinal: u32,
    pub urban: bool,
    /// A special grid (school, hospital…) has no households of its own.
    pub special: bool,
    /// The grid is the first of its community: community staff are generated with it.
    pub first_in_community: bool,
    pub cells: Vec<CellPlan>,
}

/// One micro-grid of a grid.
#[derive(Debug, Clone)]
pub struct CellPlan {
    pub code: String,
    pub households: u32,
    pub shape: Option<Shape>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compound {
    pub id: i64,
    pub name: String,
    pub kind: CompoundKind,
    pub point: Point,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    pub id: i64,
    pub compound_id: i64,
    /// Index into `GridPlan::cells`.
    pub cell: u32,
    pub name: String,
    pub floors: u16,
    pub units: u8,
    pub point: Point,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    pub id: i64,
    pub building_id: i64,
    pub cell: u32,
    pub unit: u8,
    pub floor: u16,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    pub id: i64,
    pub room_id: i64,
    pub cell: u32,
    pub since: Date,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub household_id: i64,
    pub cell: u32,
    pub name: String,
    pub sex: Sex,
    pub birth: Date,
    pub id_number: Option<IdNumber>,
    pub phone: Option<Phone>,
    pub relation: Relation,
    pub residence: Residence,
    pub since: Date,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tagging {
    pub resident_id: i64,
    pub cell: u32,
    pub tag: KeyTag,
    pub set_on: Date,
    /// Staff id of the micro-grid worker who recorded it.
    pub set_by: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaffMember {
    pub id: i64,
    pub name: String,
    pub sex: Sex,
    pub phone: Phone,
    pub role: StaffRole,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub staff_id: i64,
    /// The grid itself (`None`), one of its cells, or its community.
    pub target: AssignmentTarget,
    pub role: StaffRole,
    pub since: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentTarget {
    Grid,
    Cell(u32),
    Community,
}

/// Everything generated for one grid.
#[derive(Debug, Clone, Default)]
pub struct GridRegister {
    pub compounds: Vec<Compound>,
    pub buildings: Vec<Building>,
    pub rooms: Vec<Room>,
    pub households: Vec<Household>,
    pub people: Vec<Person>,
    pub tags: Vec<Tagging>,
    pub staff: Vec<StaffMember>,
    pub assignments: Vec<Assignment>,
}

impl GridRegister {
    pub fn row_count(&self) -> usize {
        self.compounds.len()
            + self.buildings.len()
            + self.rooms.len()
            + self.households.len()
            + self.people.len()
            + self.tags.len()
            + self.staff.len()
            + self.assignments.len()
    }
}

/// Hands out the ids of one kind of record within a grid.
#[derive(Debug)]
pub(crate) struct Ids(i64);

impl Ids {
    fn new(ordinal: u32) -> Ids {
        Ids((i64::from(ordinal) + 1) * IDS_PER_GRID)
    }
    pub(crate) fn next(&mut self) -> i64 {
        self.0 += 1;
        self.0
    }
}

/// Id counters of one grid.
#[derive(Debug)]
pub(crate) struct GridIds {
    pub compound: Ids,
    pub building: Ids,
    pub room: Ids,
    pub household: Ids,
    pub person: Ids,
    pub staff: Ids,
}

/// Generate the register of one grid.
pub fn generate_grid(plan: &GridPlan, seed: u64, as_of: Date) -> GridRegister {
    let mut rng = Rng::new(seed ^ stable_hash(&plan.code));
    let mut ids = GridIds {
        compound: Ids::new(plan.ordinal),
        building: Ids::new(plan.ordinal),
        room: Ids::new(plan.ordinal),
        household: Ids::new(plan.ordinal),
        person: Ids::new(plan.ordinal),
        staff: Ids::new(plan.ordinal),
    };
    let mut out = GridRegister::default();
    let workers = staff::grid_staff(plan, &mut rng, &mut ids, as_of, &mut out);
    let area: u32 = plan
        .code
        .get(..6)
        .and_then(|s| s.parse().ok())
        .unwrap_or(510100);
    for (i, cell) in plan.cells.iter().enumerate() {
        let cell_ix = i as u32;
        let rooms = house::cell_housing(plan, cell, cell_ix, &mut rng, &mut ids, &mut out);
        let recorder = workers.get(i).copied().unwrap_or(0);
        let ctx = family::CellContext {
            cell: cell_ix,
            urban: plan.urban,
            home_area: area,
            as_of,
            recorder,
        };
        for room_id in rooms {
            family::household(&ctx, room_id, &mut rng, &mut ids, &mut out);
        }
    }
    out
}

/// A point inside `shape` (or its centre), for a building's location.
pub(crate) fn point_in(shape: Option<&Shape>, rng: &mut Rng) -> Point {
    let Some(shape) = shape else {
        return [0.0, 0.0];
    };
    let b = shape.bbox();
    for _ in 0..24 {
        let p = [
            b.0[0] + rng.unit() * (b.0[2] - b.0[0]),
            b.0[1] + rng.unit() * (b.0[3] - b.0[1]),
        ];
        if shape.contains(p) {
            return [round6(p[0]), round6(p[1])];
        }
    }
    shape
        .interior_point()
        .map(|p| [round6(p[0]), round6(p[1])])
        .unwrap_or([b.center()[0], b.center()[1]])
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// A digest of everything generated for a grid, in a fixed field order, covering the full
/// (unmasked) identity numbers and phones. Equal seeds give equal digests.
pub fn digest(reg: &GridRegister, plan: &GridPlan) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut f = |parts: &[&dyn std::fmt::Display]| {
        for p in parts {
            h.update(p.to_string().as_bytes());
            h.update([0x1f]);
        }
        h.update([0x1e]);
    };
    f(&[&plan.code]);
    for c in &reg.compounds {
        f(&[&c.id, &c.name, &c.kind, &c.point[0], &c.point[1]]);
    }
    for b in &reg.buildings {
        f(&[
            &b.id,
            &b.compound_id,
            &b.cell,
            &b.name,
            &b.floors,
            &b.units,
            &b.point[0],
            &b.point[1],
        ]);
    }
    for r in &reg.rooms {
        f(&[&r.id, &r.building_id, &r.cell, &r.unit, &r.floor, &r.label]);
    }
    for x in &reg.households {
        f(&[&x.id, &x.room_id, &x.cell, &x.since]);
    }
    for p in &reg.people {
        let id = p.id_number.as_ref().map_or("", IdNumber::as_str);
        let phone = p.phone.as_ref().map_or("", Phone::as_str);
        f(&[
            &p.id,
            &p.household_id,
            &p.cell,
            &p.name,
            &p.sex,
            &p.birth,
            &id,
            &phone,
            &p.relation,
            &p.residence,
            &p.since,
        ]);
    }
    for t in &reg.tags {
        f(&[&t.resident_id, &t.cell, &t.tag, &t.set_on, &t.set_by]);
    }
    for s in &reg.staff {
        f(&[&s.id, &s.name, &s.sex, &s.phone.as_str(), &s.role]);
    }
    for a in &reg.assignments {
        let target = match a.target {
            AssignmentTarget::Grid => "grid".to_string(),
            AssignmentTarget::Cell(c) => format!("cell{c}"),
            AssignmentTarget::Community => "community".to_string(),
        };
        f(&[&a.staff_id, &target, &a.role, &a.since]);
    }
    h.finalize().into()
}

/// Plans for the grids of `records` inside `scope`, with ordinals counted over every grid of
/// `records` so that ids do not depend on the scope chosen.
pub fn plans(
    records: &[crate::territory::RegionRecord],
    scope: &crate::territory::RegionCode,
) -> Vec<GridPlan> {
    use crate::territory::{Level, RegionKind};
    use std::collections::HashMap;
    let mut community_urban: HashMap<&str, bool> = HashMap::new();
    let mut grids: Vec<&crate::territory::RegionRecord> = Vec::new();
    let mut cells: HashMap<&str, Vec<CellPlan>> = HashMap::new();
    for r in records {
        match r.level() {
            Level::Community => {
                community_urban.insert(r.code.as_str(), r.kind != RegionKind::Rural);
            }
            Level::Grid => grids.push(r),
            Level::MicroGrid => {
                if let Some(p) = &r.parent {
                    cells.entry(p.as_str()).or_default().push(CellPlan {
                        code: r.code.as_str().to_string(),
                        households: r.households_est.max(0) as u32,
                        shape: r.shape.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    grids.sort_by(|a, b| a.code.cmp(&b.code));
    let mut out = Vec::new();
    let mut last_community = String::new();
    for (ordinal, g) in grids.iter().enumerate() {
        let community = g.parent.as_ref().map_or("", |p| p.as_str());
        let first_in_community = community != last_community;
        last_community = community.to_string();
        if !scope.contains(&g.code) {
            continue;
        }
        let mut grid_cells = cells.remove(g.code.as_str()).unwrap_or_default();
        grid_cells.sort_by(|a, b| a.code.cmp(&b.code));
        if grid_cells.is_empty() {
            grid_cells.push(CellPlan {
                code: g.code.as_str().to_string(),
                households: g.households_est.max(0) as u32,
                shape: g.shape.clone(),
            });
        }
        out.push(GridPlan {
            code: g.code.as_str().to_string(),
            ordinal: ordinal as u32,
            urban: community_urban.get(community).copied().unwrap_or(true),
            special: g.kind != RegionKind::Standard,
            first_in_community,
            cells: grid_cells,
        });
    }
    out
}
