//! Deterministic generation of the boundaries that are not public: streets and communities
//! inside each real district, grids inside communities, micro-grids inside grids.
//!
//! Each level is cut from its parent by recursive axis-aligned cuts (a weighted k-d split):
//! the children are split into two groups of about equal weight, the parent's shape is cut
//! where the area on each side matches the groups' weights, and the group holding the more
//! urban children goes to the side of the district seat. Because every piece is the parent
//! clipped by half-planes, children cover their parent exactly: no gaps, no overlaps.
//! Weights are expected *area*: population divided by a density typical of the kind of place,
//! so urban communities come out smaller than villages.

use super::chengdu::{self, DistrictBoundary};
use super::division::{Division, parse_divisions};
use super::{Level, RegionCode, RegionKind, RegionRecord, Source};
use crate::geometry::{BBox, Point, Shape, Side};
use std::collections::HashMap;

/// Households a standard grid is cut for (Chengdu: ~8.75 million households, ~15,000 grids).
pub const HOUSEHOLDS_PER_GRID: f64 = 583.0;
/// Households a micro-grid is cut for (~120,000 micro-grids city-wide).
pub const HOUSEHOLDS_PER_MICRO_GRID: f64 = 73.0;
/// Typical residents per km² of an urban community and of a village.
const URBAN_DENSITY: f64 = 12_000.0;
const RURAL_DENSITY: f64 = 400.0;
/// An urban community is planned for this many times the residents of a village.
const URBAN_POPULATION_FACTOR: f64 = 3.0;

/// The whole built-in Chengdu territory: real divisions plus generated cells.
pub fn chengdu() -> Result<Vec<RegionRecord>, String> {
    let divisions = parse_divisions(chengdu::DIVISIONS_CSV, &|_| false).map_err(|e| {
        e.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let boundaries = chengdu::district_boundaries()?;
    let populations: HashMap<&str, i64> = chengdu::DISTRICT_POPULATION.iter().copied().collect();
    generate(
        &divisions,
        &boundaries,
        &populations,
        chengdu::CENSUS_2020_POPULATION,
    )
}

/// Stable 64-bit hash of a string (FNV-1a then a mixer); drives every "random" choice.
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Generate the territory from divisions and district boundaries. `populations` holds the
/// relative population of each district; the result is scaled to `total_population`.
pub fn generate(
    divisions: &[Division],
    boundaries: &[DistrictBoundary],
    populations: &HashMap<&str, i64>,
    total_population: i64,
) -> Result<Vec<RegionRecord>, String> {
    let mut children: HashMap<&RegionCode, Vec<&Division>> = HashMap::new();
    for d in divisions {
        if let Some(p) = &d.parent {
            children.entry(p).or_default().push(d);
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.code.cmp(&b.code));
    }
    let city = divisions
        .iter()
        .find(|d| d.code.level() == Level::City)
        .ok_or("no city row")?;
    let districts = children.get(&city.code).cloned().unwrap_or_default();
    let pop_sum: i64 = districts
        .iter()
        .map(|d| populations.get(d.code.as_str()).copied().unwrap_or(0))
        .sum();
    if pop_sum <= 0 {
        return Err("no district populations".into());
    }
    let mut out = Vec::new();
    let mut city_shape = Shape::default();
    let mut district_records = Vec::new();
    for d in &districts {
        let b = boundaries
            .iter()
            .find(|b| b.code == d.code)
            .ok_or_else(|| format!("no boundary for {}", d.code))?;
        let share = populations.get(d.code.as_str()).copied().unwrap_or(0) as f64 / pop_sum as f64;
        let pop = (share * total_population as f64).round();
        city_shape.polygons.extend(b.shape.polygons.iter().cloned());
        district_records.push(record(d, pop, Some(b.shape.clone())));
        cut_district(d, b, pop, &children, &mut out)?;
    }
    let mut all = vec![record(city, total_population as f64, Some(city_shape))];
    all.extend(district_records);
    all.extend(out);
    Ok(all)
}

fn record(d: &Division, population: f64, shape: Option<Shape>) -> RegionRecord {
    RegionRecord {
        code: d.code.clone(),
        name: d.name.clone(),
        parent: d.parent.clone(),
        kind: d.kind,
        households_est: (population / chengdu::PERSONS_PER_HOUSEHOLD).round() as i64,
        population_est: population as i64,
        shape,
        source: Source::Official,
    }
}

struct Planned<'a> {
    division: &'a Division,
    population: f64,
    area_weight: f64,
    urbanness: f64,
}

fn cut_district(
    district: &Division,
    boundary: &DistrictBoundary,
    population: f64,
    children: &HashMap<&RegionCode, Vec<&Division>>,
    out: &mut Vec<RegionRecord>,
) -> Result<(), String> {
    let streets = children.get(&district.code).cloned().unwrap_or_default();
    let community_weight = |c: &Division| {
        if c.kind == RegionKind::Urban {
            URBAN_POPULATION_FACTOR
        } else {
            1.0
        }
    };
    let total_weight: f64 = streets
        .iter()
        .flat_map(|s| children.get(&s.code).into_iter().flatten())
        .map(|c| community_weight(c))
        .sum();
    if total_weight <= 0.0 {
        return Err(format!("district {} has no communities", district.code));
    }
    let mut plans: Vec<(Planned, Vec<Planned>)> = Vec::new();
    for s in &streets {
        let comms: Vec<Planned> = children
            .get(&s.code)
            .into_iter()
            .flatten()
            .map(|c| {
                let population = population * community_weight(c) / total_weight;
                let urban = c.kind == RegionKind::Urban;
                let density = if urban { URBAN_DENSITY } else { RURAL_DENSITY };
                Planned {
                    division: c,
                    population,
                    area_weight: population / density,
                    urbanness: f64::from(u8::from(urban)),
                }
            })
            .collect();
        if comms.is_empty() {
            return Err(format!("street {} has no communities", s.code));
        }
        let pop: f64 = comms.iter().map(|c| c.population).sum();
        let area: f64 = comms.iter().map(|c| c.area_weight).sum();
        let urban = comms
            .iter()
            .map(|c| c.population * c.urbanness)
            .sum::<f64>()
            / pop;
        plans.push((
            Planned {
                division: s,
                population: pop,
                area_weight: area,
                urbanness: urban,
            },
            comms,
        ));
    }
    let anchor = boundary.seat;
    let street_weights: Vec<f64> = plans.iter().map(|(s, _)| s.area_weight).collect();
    let order = urban_first(plans.iter().map(|(s, _)| s));
    let street_shapes = partition(&boundary.shape, &street_weights, &order, anchor);
    for ((street, comms), shape) in plans.iter().zip(street_shapes) {
        let weights: Vec<f64> = comms.iter().map(|c| c.area_weight).collect();
        let order = urban_first(comms.iter());
        let comm_shapes = partition(&shape, &weights, &order, anchor);
        out.push(record(street.division, street.population, Some(shape)));
        for (c, cshape) in comms.iter().zip(comm_shapes) {
            out.push(record(c.division, c.population, Some(cshape.clone())));
            cut_community(c, &cshape, anchor, out);
        }
    }
    Ok(())
}

/// Indices ordered most urban first, then by code.
fn urban_first<'a>(items: impl Iterator<Item = &'a Planned<'a>>) -> Vec<usize> {
    let items: Vec<&Planned> = items.collect();
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by(|&a, &b| {
        items[b]
            .urbanness
            .total_cmp(&items[a].urbanness)
            .then(items[a].division.code.cmp(&items[b].division.code))
    });
    idx
}

/// The special grid (专属网格) a community hosts, if any.
fn special_grid(community: &Division) -> Option<RegionKind> {
    let h = stable_hash(community.code.as_str()) % 1000;
    match (community.kind, h) {
        (RegionKind::Urban, 0..80) => Some(RegionKind::School),
        (RegionKind::Urban, 80..120) => Some(RegionKind::Hospital),
        (RegionKind::Urban, 120..180) => Some(RegionKind::Market),
        (RegionKind::Rural, 0..50) => Some(RegionKind::School),
        (RegionKind::Rural, 50..80) => Some(RegionKind::Market),
        (RegionKind::Rural, 80..110) => Some(RegionKind::IndustrialPark),
        _ => None,
    }
}

fn split_even(total: f64, n: usize) -> Vec<f64> {
    let base = (total / n as f64).floor();
    let rem = (total - base * n as f64).round() as usize;
    (0..n)
        .map(|i| base + if i < rem { 1.0 } else { 0.0 })
        .collect()
}

fn cut_community(c: &Planned, shape: &Shape, anchor: Point, out: &mut Vec<RegionRecord>) {
    let households = (c.population / chengdu::PERSONS_PER_HOUSEHOLD).round();
    let n_std = ((households / HOUSEHOLDS_PER_GRID).round() as usize).clamp(1, 899);
    let special = special_grid(c.division);
    let mut weights = vec![1.0; n_std];
    if special.is_some() {
        weights.push(0.4);
    }
    let order: Vec<usize> = (0..weights.len()).collect();
    let shapes = partition(shape, &weights, &order, anchor);
    let grid_households = split_even(households, n_std);
    for (i, gshape) in shapes.into_iter().enumerate() {
        let (seq, kind, hh) = match (i < n_std, special) {
            (true, _) => (i as u32 + 1, RegionKind::Standard, grid_households[i]),
            (false, Some(k)) => (901, k, 0.0),
            (false, None) => continue,
        };
        let Some(code) = c.division.code.child_cell(seq) else {
            continue;
        };
        let name = match kind.special_zh() {
            Some(inst) => format!("{inst}专属网格"),
            None => format!("第{seq}网格"),
        };
        let pop = hh * chengdu::PERSONS_PER_HOUSEHOLD;
        let n_micro = ((hh / HOUSEHOLDS_PER_MICRO_GRID).round() as usize).clamp(1, 999);
        let micro_shapes = partition(
            &gshape,
            &vec![1.0; n_micro],
            &(0..n_micro).collect::<Vec<_>>(),
            anchor,
        );
        let micro_households = split_even(hh, n_micro);
        out.push(RegionRecord {
            code: code.clone(),
            name,
            parent: Some(c.division.code.clone()),
            kind,
            households_est: hh as i64,
            population_est: pop.round() as i64,
            shape: Some(gshape),
            source: Source::Generated,
        });
        for (j, mshape) in micro_shapes.into_iter().enumerate() {
            let Some(mcode) = code.child_cell(j as u32 + 1) else {
                continue;
            };
            let mhh = micro_households[j];
            out.push(RegionRecord {
                code: mcode,
                name: format!("第{}微网格", j + 1),
                parent: Some(code.clone()),
                kind: RegionKind::Standard,
                households_est: mhh as i64,
                population_est: (mhh * chengdu::PERSONS_PER_HOUSEHOLD).round() as i64,
                shape: Some(mshape),
                source: Source::Generated,
            });
        }
    }
}

/// Cut `shape` into one piece per weight (pieces returned in weight order). `order` lists
/// the indices by preference to lie near `anchor`.
pub fn partition(shape: &Shape, weights: &[f64], order: &[usize], anchor: Point) -> Vec<Shape> {
    let mut pieces: Vec<Option<Shape>> = vec![None; weights.len()];
    split(shape.clone(), weights, order, anchor, &mut pieces);
    pieces.into_iter().map(Option::unwrap_or_default).collect()
}

fn split(shape: Shape, weights: &[f64], order: &[usize], anchor: Point, out: &mut [Option<Shape>]) {
    match order {
        [] => return,
        [only] => {
            out[*only] = Some(shape);
            return;
        }
        _ => {}
    }
    let total: f64 = order.iter().map(|&i| weights[i]).sum();
    // The split index whose left weight is closest to half.
    let mut acc = 0.0;
    let mut k = 1;
    let mut best = f64::INFINITY;
    for (n, &i) in order.iter().enumerate().take(order.len() - 1) {
        acc += weights[i];
        let d = (acc - total / 2.0).abs();
        if d < best {
            best = d;
            k = n + 1;
        }
    }
    let near_w: f64 = order[..k].iter().map(|&i| weights[i]).sum();
    let f = near_w / total;
    let b = shape.bbox();
    let lat = b.center()[1].to_radians().cos();
    let axis = if (b.0[2] - b.0[0]) * lat >= b.0[3] - b.0[1] {
        0
    } else {
        1
    };
    let c_low = cut_at(&shape, &b, axis, f);
    let (near_side, c) = if anchor[axis] <= c_low {
        (Side::Below, c_low)
    } else {
        (Side::Above, cut_at(&shape, &b, axis, 1.0 - f))
    };
    let far_side = if near_side == Side::Below {
        Side::Above
    } else {
        Side::Below
    };
    let near = shape.clip(axis, c, near_side);
    let far = shape.clip(axis, c, far_side);
    drop(shape);
    split(near, weights, &order[..k], anchor, out);
    split(far, weights, &order[k..], anchor, out);
}

/// The coordinate on `axis` below which a fraction `f` of the shape's area lies.
fn cut_at(shape: &Shape, b: &BBox, axis: usize, f: f64) -> f64 {
    let (lo, hi) = (b.0[axis], b.0[axis + 2]);
    if shape.as_rect().is_some() {
        return lo + f * (hi - lo);
    }
    let target = f * shape.area();
    let (mut a, mut z) = (lo, hi);
    for _ in 0..48 {
        let m = (a + z) / 2.0;
        if shape.clip(axis, m, Side::Below).area() < target {
            a = m;
        } else {
            z = m;
        }
    }
    (a + z) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_covers_the_parent_and_follows_weights() {
        let s = Shape::rect(BBox([0.0, 0.0, 4.0, 1.0]));
        let w = [1.0, 2.0, 1.0];
        let parts = partition(&s, &w, &[0, 1, 2], [0.0, 0.0]);
        let areas: Vec<f64> = parts.iter().map(Shape::area).collect();
        assert!((areas.iter().sum::<f64>() - 4.0).abs() < 1e-12);
        assert!((areas[1] - 2.0).abs() < 1e-9, "{areas:?}");
        // The first piece lies next to the anchor at the origin.
        assert!(parts[0].contains([0.1, 0.5]));
    }

    #[test]
    fn stable_hash_is_stable() {
        assert_eq!(stable_hash("510104017001"), stable_hash("510104017001"));
        assert_ne!(stable_hash("510104017001"), stable_hash("510104017002"));
    }
}
