//! The generated Chengdu territory: real divisions, cells nested without gaps or overlaps,
//! and a point index that answers exactly as a brute-force scan.

use shezhi_domain::geocode::{GridIndex, PolygonSet};
use shezhi_domain::geometry::{Point, Shape};
use shezhi_domain::territory::generate::{chengdu, stable_hash};
use shezhi_domain::territory::{Level, RegionKind, RegionRecord};
use std::collections::HashMap;
use std::sync::OnceLock;

fn territory() -> &'static Vec<RegionRecord> {
    static T: OnceLock<Vec<RegionRecord>> = OnceLock::new();
    T.get_or_init(|| chengdu().unwrap_or_else(|e| panic!("generation failed: {e}")))
}

fn shape(r: &RegionRecord) -> &Shape {
    r.shape
        .as_ref()
        .unwrap_or_else(|| panic!("{} has no shape", r.code))
}

struct Lcg(u64);
impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn real_divisions_and_city_scale_cells() {
    let t = territory();
    let mut count: HashMap<Level, usize> = HashMap::new();
    for r in t {
        *count.entry(r.level()).or_default() += 1;
    }
    assert_eq!(count[&Level::City], 1);
    assert_eq!(count[&Level::District], 20);
    assert_eq!(count[&Level::Street], 261);
    assert_eq!(count[&Level::Community], 3047);
    let (grids, micro) = (count[&Level::Grid], count[&Level::MicroGrid]);
    assert!((13_000..=18_000).contains(&grids), "{grids} grids");
    assert!((105_000..=135_000).contains(&micro), "{micro} micro-grids");
    let special = t
        .iter()
        .filter(|r| r.level() == Level::Grid && r.kind != RegionKind::Standard)
        .count();
    assert!(special > 100, "{special} special grids");
    let households: i64 = t
        .iter()
        .filter(|r| r.level() == Level::MicroGrid)
        .map(|r| r.households_est)
        .sum();
    assert!(
        (8_600_000..=8_900_000).contains(&households),
        "{households} households"
    );
    let jinjiang = t
        .iter()
        .find(|r| r.code.as_str() == "510104000000")
        .map(|r| r.name.as_str());
    assert_eq!(jinjiang, Some("锦江区"));
}

#[test]
fn children_tile_their_parent() {
    let t = territory();
    let by_code: HashMap<&str, &RegionRecord> = t.iter().map(|r| (r.code.as_str(), r)).collect();
    let mut child_area: HashMap<&str, f64> = HashMap::new();
    for r in t {
        if r.level() == Level::City {
            continue;
        }
        let p = r
            .parent
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no parent", r.code));
        assert!(
            by_code.contains_key(p.as_str()),
            "{} has unknown parent {p}",
            r.code
        );
        assert!(shape(r).area() > 0.0, "{} is empty", r.code);
        *child_area.entry(p.as_str()).or_default() += shape(r).area();
    }
    for (parent, sum) in child_area {
        let a = shape(by_code[parent]).area();
        assert!(
            (sum - a).abs() <= a * 1e-9,
            "{parent}: children {sum} vs parent {a}"
        );
    }
}

#[test]
fn every_point_in_the_city_has_one_cell_at_every_level() {
    let t = territory();
    let city = shape(&t[0]);
    let mut by_level: HashMap<Level, Vec<&RegionRecord>> = HashMap::new();
    for r in t {
        by_level.entry(r.level()).or_default().push(r);
    }
    let sets: Vec<(Level, PolygonSet, Vec<&RegionRecord>)> = [
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
        Level::MicroGrid,
    ]
    .into_iter()
    .map(|l| {
        let rs = by_level.remove(&l).unwrap_or_default();
        let shapes: Vec<&Shape> = rs.iter().map(|r| shape(r)).collect();
        (l, PolygonSet::new(&shapes), rs)
    })
    .collect();
    let b = city.bbox();
    let mut rng = Lcg(42);
    for _ in 0..400 {
        let p: Point = [
            b.0[0] + rng.unit() * (b.0[2] - b.0[0]),
            b.0[1] + rng.unit() * (b.0[3] - b.0[1]),
        ];
        let inside = city.contains(p);
        let mut chain = Vec::new();
        for (level, set, rs) in &sets {
            let hits: Vec<usize> = (0..set.len()).filter(|&i| set.contains(i, p)).collect();
            assert_eq!(
                hits.len(),
                usize::from(inside),
                "{p:?} at {level}: {} hits",
                hits.len()
            );
            chain.extend(hits.first().map(|&i| rs[i]));
        }
        // Each level's cell is the parent of the next one down.
        for w in chain.windows(2) {
            assert_eq!(w[1].parent.as_ref(), Some(&w[0].code), "{p:?}");
        }
    }
}

#[test]
fn index_answers_as_the_scan_does() {
    let t = territory();
    let leaves: Vec<&Shape> = t
        .iter()
        .filter(|r| r.level() == Level::MicroGrid)
        .map(shape)
        .collect();
    let idx = GridIndex::build(PolygonSet::new(&leaves), 1.0 / 1024.0);
    let b = shape(&t[0]).bbox();
    let mut rng = Lcg(7);
    let mut found = 0;
    for k in 0..3000 {
        // Half the points uniform over the bbox, half near a random micro-grid (dense areas).
        let p = if k % 2 == 0 {
            [
                b.0[0] + rng.unit() * (b.0[2] - b.0[0]),
                b.0[1] + rng.unit() * (b.0[3] - b.0[1]),
            ]
        } else {
            let mb = leaves[(rng.unit() * leaves.len() as f64) as usize].bbox();
            [
                mb.0[0] + rng.unit() * (mb.0[2] - mb.0[0]),
                mb.0[1] + rng.unit() * (mb.0[3] - mb.0[1]),
            ]
        };
        let got = idx.locate(p);
        assert_eq!(got, idx.polygons().scan(p), "{p:?}");
        found += usize::from(got.is_some());
    }
    assert!(found > 1500, "only {found} points found a cell");
}

#[test]
fn generation_is_deterministic() {
    let digest = |t: &[RegionRecord]| {
        let mut h = 0u64;
        for r in t {
            let geo = r
                .shape
                .as_ref()
                .map(|s| s.to_geojson().to_string())
                .unwrap_or_default();
            h = h.rotate_left(5)
                ^ stable_hash(&format!(
                    "{}|{}|{}|{}",
                    r.code, r.name, r.households_est, geo
                ));
        }
        h
    };
    let again = chengdu().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(digest(territory()), digest(&again));
}
