//! Rows ready for the database, made from a generated grid: personal data sealed and hashed,
//! everything else as plain columns, with the count deltas the rows imply.

use super::bulk::bulk_row;
use super::counts::{self, Counts};
use rand::RngCore;
use shezhi_domain::people::privacy::{Field, LookupKind, Vault, hex};
use shezhi_domain::people::{Date, HouseholdStatus, PersonStatus};
use shezhi_domain::synth::{AssignmentTarget, GridPlan, GridRegister, digest};
use std::collections::HashMap;

bulk_row!(CompoundRow => "compounds" {
    id: i64, grid_code: String, name: String, kind: String, lon: f64, lat: f64,
});
bulk_row!(BuildingRow => "buildings" {
    id: i64, compound_id: i64, cell_code: String, name: String, floors: i32, units: i32,
    lon: f64, lat: f64,
});
bulk_row!(RoomRow => "rooms" {
    id: i64, building_id: i64, cell_code: String, unit: i32, floor: i32, label: String,
});
bulk_row!(HouseholdRow => "households" {
    id: i64, room_id: i64, cell_code: String, status: String, since_date: String,
    updated_at_ms: i64,
});
bulk_row!(ResidentRow => "residents" {
    id: i64, household_id: i64, cell_code: String, name: String, sex: String,
    birth_date: String, id_sealed: Option<Vec<u8>>, id_lookup: Option<Vec<u8>>,
    id_masked: Option<String>, phone_sealed: Option<Vec<u8>>, phone_lookup: Option<Vec<u8>>,
    phone_masked: Option<String>, relation: String, residence: String, status: String,
    since_date: String, until_date: Option<String>,
});
bulk_row!(TagRow => "resident_tags" {
    id: i64, resident_id: i64, cell_code: String, tag: String, set_on: String, set_by: String,
    cleared_on: Option<String>, cleared_by: Option<String>, note: Option<String>,
});
bulk_row!(StaffRow => "staff" {
    id: i64, community_code: String, name: String, sex: String,
    phone_sealed: Option<Vec<u8>>, phone_lookup: Option<Vec<u8>>, phone_masked: Option<String>,
    role: String,
});
bulk_row!(AssignmentRow => "staff_assignments" {
    id: i64, staff_id: i64, region_code: String, role: String, since_date: String,
    until_date: Option<String>,
});
bulk_row!(LoadRow => "register_loads" {
    grid_code: String, seed: i64, as_of: String, row_count: i64, digest: String,
    loaded_at_ms: i64,
});

/// Rows of several grids, written in one transaction.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub compounds: Vec<CompoundRow>,
    pub buildings: Vec<BuildingRow>,
    pub rooms: Vec<RoomRow>,
    pub households: Vec<HouseholdRow>,
    pub residents: Vec<ResidentRow>,
    pub tags: Vec<TagRow>,
    pub staff: Vec<StaffRow>,
    pub assignments: Vec<AssignmentRow>,
    pub loads: Vec<LoadRow>,
    pub counts: Counts,
}

/// The parameters every generated grid is marked with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    pub seed: u64,
    pub as_of: Date,
    pub now_ms: i64,
}

/// Where sealed values get their nonces (a CSPRNG seeded from the operating system).
pub(crate) type NonceRng = rand::rngs::StdRng;

fn nonce(rng: &mut NonceRng) -> [u8; 24] {
    let mut n = [0u8; 24];
    rng.fill_bytes(&mut n);
    n
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.compounds.len()
            + self.buildings.len()
            + self.rooms.len()
            + self.households.len()
            + self.residents.len()
            + self.tags.len()
            + self.staff.len()
            + self.assignments.len()
    }

    /// Add one generated grid.
    pub fn add_grid(
        &mut self,
        plan: &GridPlan,
        reg: &GridRegister,
        vault: &Vault,
        rng: &mut NonceRng,
        stamp: Stamp,
    ) {
        let Stamp {
            seed,
            as_of,
            now_ms,
        } = stamp;
        let cell = |i: u32| {
            plan.cells
                .get(i as usize)
                .map_or(plan.code.as_str(), |c| c.code.as_str())
        };
        let community = plan.code.get(..12).unwrap_or(&plan.code).to_string();
        let mut local: HashMap<(Target, &'static str), i64> = HashMap::new();
        let mut bump = |target: Target, metric: &'static str| {
            *local.entry((target, metric)).or_default() += 1;
        };
        for c in &reg.compounds {
            bump(Target::Grid, counts::COMPOUNDS);
            self.compounds.push(CompoundRow {
                id: c.id,
                grid_code: plan.code.clone(),
                name: c.name.clone(),
                kind: c.kind.as_str().into(),
                lon: c.point[0],
                lat: c.point[1],
            });
        }
        for b in &reg.buildings {
            bump(Target::Cell(b.cell), counts::BUILDINGS);
            self.buildings.push(BuildingRow {
                id: b.id,
                compound_id: b.compound_id,
                cell_code: cell(b.cell).into(),
                name: b.name.clone(),
                floors: i32::from(b.floors),
                units: i32::from(b.units),
                lon: b.point[0],
                lat: b.point[1],
            });
        }
        for r in &reg.rooms {
            bump(Target::Cell(r.cell), counts::ROOMS);
            self.rooms.push(RoomRow {
                id: r.id,
                building_id: r.building_id,
                cell_code: cell(r.cell).into(),
                unit: i32::from(r.unit),
                floor: i32::from(r.floor),
                label: r.label.clone(),
            });
        }
        for h in &reg.households {
            bump(Target::Cell(h.cell), counts::HOUSEHOLDS);
            self.households.push(HouseholdRow {
                id: h.id,
                room_id: h.room_id,
                cell_code: cell(h.cell).into(),
                status: HouseholdStatus::Active.as_str().into(),
                since_date: h.since.to_string(),
                updated_at_ms: now_ms,
            });
        }
        for p in &reg.people {
            bump(Target::Cell(p.cell), counts::RESIDENTS);
            bump(Target::Cell(p.cell), counts::residence_metric(p.residence));
            let id = p.id_number.as_ref();
            let phone = p.phone.as_ref();
            self.residents.push(ResidentRow {
                id: p.id,
                household_id: p.household_id,
                cell_code: cell(p.cell).into(),
                name: p.name.clone(),
                sex: p.sex.as_str().into(),
                birth_date: p.birth.to_string(),
                id_sealed: id
                    .map(|x| vault.seal(Field::ResidentIdNumber, p.id, x.as_str(), nonce(rng))),
                id_lookup: id.map(|x| vault.lookup(LookupKind::IdNumber, x.as_str()).to_vec()),
                id_masked: id.map(|x| x.masked()),
                phone_sealed: phone
                    .map(|x| vault.seal(Field::ResidentPhone, p.id, x.as_str(), nonce(rng))),
                phone_lookup: phone.map(|x| vault.lookup(LookupKind::Phone, x.as_str()).to_vec()),
                phone_masked: phone.map(|x| x.masked()),
                relation: p.relation.as_str().into(),
                residence: p.residence.as_str().into(),
                status: PersonStatus::Present.as_str().into(),
                since_date: p.since.to_string(),
                until_date: None,
            });
        }
        for t in &reg.tags {
            bump(Target::Cell(t.cell), counts::tag_metric(t.tag));
            let ordinal = shezhi_domain::people::KeyTag::ALL
                .iter()
                .position(|x| *x == t.tag)
                .unwrap_or(0);
            self.tags.push(TagRow {
                id: t.resident_id * 16 + ordinal as i64,
                resident_id: t.resident_id,
                cell_code: cell(t.cell).into(),
                tag: t.tag.as_str().into(),
                set_on: t.set_on.to_string(),
                set_by: format!("staff:{}", t.set_by),
                cleared_on: None,
                cleared_by: None,
                note: None,
            });
        }
        for s in &reg.staff {
            self.staff.push(StaffRow {
                id: s.id,
                community_code: community.clone(),
                name: s.name.clone(),
                sex: s.sex.as_str().into(),
                phone_sealed: Some(vault.seal(
                    Field::StaffPhone,
                    s.id,
                    s.phone.as_str(),
                    nonce(rng),
                )),
                phone_lookup: Some(vault.lookup(LookupKind::Phone, s.phone.as_str()).to_vec()),
                phone_masked: Some(s.phone.masked()),
                role: s.role.as_str().into(),
            });
        }
        for a in &reg.assignments {
            let (region, target) = match a.target {
                AssignmentTarget::Grid => (plan.code.as_str(), Target::Grid),
                AssignmentTarget::Cell(i) => (cell(i), Target::Cell(i)),
                AssignmentTarget::Community => (community.as_str(), Target::Community),
            };
            bump(target, counts::STAFF);
            self.assignments.push(AssignmentRow {
                id: a.staff_id,
                staff_id: a.staff_id,
                region_code: region.into(),
                role: a.role.as_str().into(),
                since_date: a.since.to_string(),
                until_date: None,
            });
        }
        for ((target, metric), n) in local {
            let code = match target {
                Target::Grid => plan.code.as_str(),
                Target::Cell(i) => cell(i),
                Target::Community => community.as_str(),
            };
            self.counts.add(code, metric, n);
        }
        self.loads.push(LoadRow {
            grid_code: plan.code.clone(),
            seed: seed as i64,
            as_of: as_of.to_string(),
            row_count: reg.row_count() as i64,
            digest: hex(&digest(reg, plan)),
            loaded_at_ms: now_ms,
        });
    }
}

/// Where a generated row is counted before the deltas are spread up the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Grid,
    Cell(u32),
    Community,
}
