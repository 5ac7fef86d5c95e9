//! Houses first (先房): compounds or village groups, their buildings and rooms, for one
//! micro-grid. Returns the rooms that are lived in; the rest stay vacant in the register.

use super::rng::Rng;
use super::{Building, CellPlan, Compound, GridIds, GridPlan, GridRegister, Room, names, point_in};
use crate::people::CompoundKind;

const URBAN_VACANCY: f64 = 0.08;
const RURAL_VACANCY: f64 = 0.10;

pub(super) fn cell_housing(
    plan: &GridPlan,
    cell: &CellPlan,
    cell_ix: u32,
    rng: &mut Rng,
    ids: &mut GridIds,
    out: &mut GridRegister,
) -> Vec<i64> {
    let point = point_in(cell.shape.as_ref(), rng);
    if plan.special {
        // The institution itself: one compound and one building, nobody registered here.
        let id = ids.compound.next();
        out.compounds.push(Compound {
            id,
            name: names::compound(rng),
            kind: CompoundKind::Institution,
            point,
        });
        out.buildings.push(Building {
            id: ids.building.next(),
            compound_id: id,
            cell: cell_ix,
            name: "主楼".into(),
            floors: rng.range(3, 12) as u16,
            units: 1,
            point,
        });
        return Vec::new();
    }
    if plan.urban {
        urban(plan, cell, cell_ix, point, rng, ids, out)
    } else {
        rural(cell, cell_ix, rng, ids, out)
    }
}

fn urban(
    plan: &GridPlan,
    cell: &CellPlan,
    cell_ix: u32,
    point: [f64; 2],
    rng: &mut Rng,
    ids: &mut GridIds,
    out: &mut GridRegister,
) -> Vec<i64> {
    // A compound often spans several neighbouring micro-grids (one building each).
    let reuse = cell_ix > 0 && plan.urban && rng.chance(0.55);
    let (compound_id, courtyard) = match out.compounds.last() {
        Some(c) if reuse => (c.id, c.kind == CompoundKind::Courtyard),
        _ => {
            let courtyard = rng.chance(0.3);
            let id = ids.compound.next();
            let (name, kind) = if courtyard {
                (names::courtyard(rng), CompoundKind::Courtyard)
            } else {
                (names::compound(rng), CompoundKind::Compound)
            };
            out.compounds.push(Compound {
                id,
                name,
                kind,
                point,
            });
            (id, courtyard)
        }
    };
    let households = cell.households as usize;
    let needed = ((households as f64) / (1.0 - URBAN_VACANCY)).ceil() as usize;
    let units = [1u8, 2, 2, 3, 3, 4][rng.below(6) as usize];
    let per_floor = rng.range(2, 4) as usize;
    let max_floors = if courtyard {
        rng.range(5, 7)
    } else {
        rng.range(6, 33)
    } as usize;
    let per_building_max = usize::from(units) * per_floor * max_floors;
    let n_buildings = needed.div_ceil(per_building_max).max(1);
    let floors = needed
        .div_ceil(n_buildings * usize::from(units) * per_floor)
        .max(1);
    let first_number = out
        .buildings
        .iter()
        .filter(|b| b.compound_id == compound_id)
        .count()
        + 1;
    let mut all_rooms = Vec::new();
    for b in 0..n_buildings {
        let building_id = ids.building.next();
        out.buildings.push(Building {
            id: building_id,
            compound_id,
            cell: cell_ix,
            name: format!("{}栋", first_number + b),
            floors: floors as u16,
            units,
            point: if b == 0 {
                point
            } else {
                point_in(cell.shape.as_ref(), rng)
            },
        });
        for unit in 1..=units {
            for floor in 1..=floors {
                for k in 1..=per_floor {
                    let id = ids.room.next();
                    out.rooms.push(Room {
                        id,
                        building_id,
                        cell: cell_ix,
                        unit,
                        floor: floor as u16,
                        label: format!("{unit}单元{floor}{k:02}"),
                    });
                    all_rooms.push(id);
                }
            }
        }
    }
    occupy(&all_rooms, households, rng)
}

fn rural(
    cell: &CellPlan,
    cell_ix: u32,
    rng: &mut Rng,
    ids: &mut GridIds,
    out: &mut GridRegister,
) -> Vec<i64> {
    let group = out.compounds.len() + 1;
    let compound_id = ids.compound.next();
    out.compounds.push(Compound {
        id: compound_id,
        name: format!("第{group}村民小组"),
        kind: CompoundKind::VillageGroup,
        point: point_in(cell.shape.as_ref(), rng),
    });
    let households = cell.households as usize;
    let houses = ((households as f64) / (1.0 - RURAL_VACANCY)).ceil() as usize;
    let mut all_rooms = Vec::with_capacity(houses);
    for n in 1..=houses {
        let building_id = ids.building.next();
        out.buildings.push(Building {
            id: building_id,
            compound_id,
            cell: cell_ix,
            name: format!("{n}号"),
            floors: rng.range(1, 3) as u16,
            units: 1,
            point: point_in(cell.shape.as_ref(), rng),
        });
        let id = ids.room.next();
        out.rooms.push(Room {
            id,
            building_id,
            cell: cell_ix,
            unit: 1,
            floor: 1,
            label: format!("{n}号"),
        });
        all_rooms.push(id);
    }
    occupy(&all_rooms, households, rng)
}

/// Choose exactly `n` of `rooms` to be lived in, keeping their order.
fn occupy(rooms: &[i64], n: usize, rng: &mut Rng) -> Vec<i64> {
    let mut left = n.min(rooms.len());
    let mut out = Vec::with_capacity(left);
    for (i, r) in rooms.iter().enumerate() {
        let remaining = (rooms.len() - i) as u64;
        if rng.below(remaining) < left as u64 {
            out.push(*r);
            left -= 1;
        }
    }
    out
}
