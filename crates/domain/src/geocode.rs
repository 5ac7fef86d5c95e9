//! Point location: which leaf region (micro-grid, or a grid without micro-grids) holds a
//! lon/lat point. A uniform cell raster over the territory lists, for each cell, the polygons
//! whose boundary crosses it; a cell that lies wholly inside one polygon answers at once.
//! Candidate lists are kept in polygon order, so the index answers exactly what a scan of
//! all polygons in that order answers, boundary points included.

use crate::geometry::{BBox, Point, Shape, ring_crossings};
use crate::territory::{Level, RegionCode};
use std::collections::HashMap;

/// Polygons in flat arrays for fast point-in-polygon tests.
#[derive(Debug, Clone, Default)]
pub struct PolygonSet {
    bboxes: Vec<BBox>,
    /// For polygon `i`, its rings are `ring_ends[ring_start[i]..ring_start[i+1]]`.
    ring_start: Vec<u32>,
    ring_ends: Vec<u32>,
    coords: Vec<Point>,
    /// Polygons that are one axis-aligned rectangle (most urban micro-grids).
    rect: Vec<bool>,
}

impl PolygonSet {
    pub fn new(shapes: &[&Shape]) -> PolygonSet {
        let mut s = PolygonSet {
            ring_start: vec![0],
            ..Default::default()
        };
        for shape in shapes {
            for poly in &shape.polygons {
                for ring in std::iter::once(&poly.outer).chain(poly.holes.iter()) {
                    s.coords.extend_from_slice(ring);
                    s.ring_ends.push(s.coords.len() as u32);
                }
            }
            s.ring_start.push(s.ring_ends.len() as u32);
            s.bboxes.push(shape.bbox());
            s.rect.push(shape.as_rect().is_some());
        }
        s
    }

    pub fn len(&self) -> usize {
        self.bboxes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bboxes.is_empty()
    }

    pub fn bbox(&self, i: usize) -> BBox {
        self.bboxes[i]
    }

    fn rings(&self, i: usize) -> impl Iterator<Item = &[Point]> {
        let (a, b) = (self.ring_start[i] as usize, self.ring_start[i + 1] as usize);
        (a..b).map(move |r| {
            let start = if r == 0 {
                0
            } else {
                self.ring_ends[r - 1] as usize
            };
            &self.coords[start..self.ring_ends[r] as usize]
        })
    }

    /// Even-odd point-in-polygon with a bbox pre-check.
    #[inline]
    pub fn contains(&self, i: usize, p: Point) -> bool {
        self.bboxes[i].contains(p) && self.contains_unchecked(i, p)
    }

    /// Even-odd point-in-polygon, the bbox already checked.
    #[inline]
    fn contains_unchecked(&self, i: usize, p: Point) -> bool {
        let mut inside = false;
        for r in self.rings(i) {
            ring_crossings(r, p, &mut inside);
        }
        inside
    }

    /// The first polygon holding `p`, by testing every polygon (the reference answer).
    pub fn scan(&self, p: Point) -> Option<usize> {
        (0..self.len()).find(|&i| self.contains(i, p))
    }
}

const COVERED: u32 = 1 << 31;

/// A polygon listed in a cell, with what it takes to test most points without leaving
/// the list: its bbox, and whether the bbox is the polygon.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    id: u32,
    rect: bool,
    bbox: BBox,
}

impl Candidate {
    /// For a rectangle the crossing test reduces to this half-open box, exactly.
    #[inline]
    fn rect_contains(&self, p: Point) -> bool {
        let b = &self.bbox.0;
        p[0] >= b[0] && p[0] < b[2] && p[1] >= b[1] && p[1] < b[3]
    }
}

/// The raster index over a [`PolygonSet`].
#[derive(Debug, Clone)]
pub struct GridIndex {
    set: PolygonSet,
    origin: Point,
    cell: [f64; 2],
    nx: usize,
    ny: usize,
    /// 0 = empty; `COVERED | id` = inside polygon `id`; otherwise `1 + list number`.
    cells: Vec<u32>,
    list_start: Vec<u32>,
    /// Candidates of all lists, each with its bbox inline so a lookup stays in one place.
    list_ids: Vec<Candidate>,
}

impl GridIndex {
    /// Build the index with cells of `cell_deg` degrees (about 0.001° suits a city).
    pub fn build(set: PolygonSet, cell_deg: f64) -> GridIndex {
        let mut all = BBox::EMPTY;
        for b in &set.bboxes {
            all.union(b);
        }
        if set.is_empty() {
            all = BBox([0.0, 0.0, 0.0, 0.0]);
        }
        let origin = [all.0[0], all.0[1]];
        let nx = (((all.0[2] - all.0[0]) / cell_deg).floor() as usize + 1).max(1);
        let ny = (((all.0[3] - all.0[1]) / cell_deg).floor() as usize + 1).max(1);
        let mut idx = GridIndex {
            set,
            origin,
            cell: [cell_deg, cell_deg],
            nx,
            ny,
            cells: vec![0; nx * ny],
            list_start: vec![0],
            list_ids: Vec::new(),
        };
        idx.fill();
        idx
    }

    pub fn polygons(&self) -> &PolygonSet {
        &self.set
    }

    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }

    fn col(&self, x: f64) -> isize {
        ((x - self.origin[0]) / self.cell[0]).floor() as isize
    }

    fn row(&self, y: f64) -> isize {
        ((y - self.origin[1]) / self.cell[1]).floor() as isize
    }

    fn fill(&mut self) {
        // (cell, polygon) pairs: boundary cells per polygon, and covered cell centres.
        let mut edge_pairs: Vec<(u32, u32)> = Vec::new();
        let mut inside_pairs: Vec<(u32, u32)> = Vec::new();
        let (nx, ny) = (self.nx as isize, self.ny as isize);
        for i in 0..self.set.len() {
            let rings: Vec<&[Point]> = self.set.rings(i).collect();
            for r in &rings {
                let n = r.len();
                for k in 0..n {
                    let (a, b) = (r[k], r[(k + 1) % n]);
                    self.mark_segment(a, b, i as u32, &mut edge_pairs);
                }
            }
            // Scanline through each row's centre: cells whose centre lies inside.
            let bb = self.set.bboxes[i];
            let (r0, r1) = (
                self.row(bb.0[1]).clamp(0, ny - 1),
                self.row(bb.0[3]).clamp(0, ny - 1),
            );
            let mut xs = Vec::new();
            for row in r0..=r1 {
                let y = self.origin[1] + (row as f64 + 0.5) * self.cell[1];
                xs.clear();
                for r in &rings {
                    let n = r.len();
                    for k in 0..n {
                        let (a, b) = (r[k], r[(k + n - 1) % n]);
                        if (a[1] > y) != (b[1] > y) {
                            xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
                        }
                    }
                }
                xs.sort_by(f64::total_cmp);
                for span in xs.chunks_exact(2) {
                    // Columns whose centre x lies in [span0, span1).
                    let c0 = ((span[0] - self.origin[0]) / self.cell[0] - 0.5).ceil() as isize;
                    let c1 = ((span[1] - self.origin[0]) / self.cell[0] - 0.5).ceil() as isize - 1;
                    for col in c0.max(0)..=c1.min(nx - 1) {
                        inside_pairs.push(((row * nx + col) as u32, i as u32));
                    }
                }
            }
        }
        edge_pairs.sort_unstable();
        edge_pairs.dedup();
        inside_pairs.sort_unstable();
        inside_pairs.dedup();
        let (mut e, mut c) = (0, 0);
        let mut ids: Vec<u32> = Vec::new();
        for cell in 0..self.cells.len() as u32 {
            ids.clear();
            let mut has_edge = false;
            while e < edge_pairs.len() && edge_pairs[e].0 == cell {
                ids.push(edge_pairs[e].1);
                has_edge = true;
                e += 1;
            }
            while c < inside_pairs.len() && inside_pairs[c].0 == cell {
                ids.push(inside_pairs[c].1);
                c += 1;
            }
            ids.sort_unstable();
            ids.dedup();
            self.cells[cell as usize] = match (ids.as_slice(), has_edge) {
                ([], _) => 0,
                ([only], false) => COVERED | only,
                (list, _) => {
                    let set = &self.set;
                    self.list_ids.extend(list.iter().map(|&i| Candidate {
                        id: i,
                        rect: set.rect[i as usize],
                        bbox: set.bboxes[i as usize],
                    }));
                    self.list_start.push(self.list_ids.len() as u32);
                    self.list_start.len() as u32 - 1
                }
            };
        }
    }

    /// Record every cell the segment a→b touches. The extent is widened by a hair (far
    /// below any real feature) so that rounding can never leave a boundary cell unmarked.
    fn mark_segment(&self, a: Point, b: Point, id: u32, out: &mut Vec<(u32, u32)>) {
        const EPS: f64 = 1e-9;
        let (nx, ny) = (self.nx as isize, self.ny as isize);
        let (rlo, rhi) = (
            self.row(a[1].min(b[1]) - EPS),
            self.row(a[1].max(b[1]) + EPS),
        );
        for row in rlo.max(0)..=rhi.min(ny - 1) {
            // The x-extent of the segment within this row band.
            let y0 = self.origin[1] + row as f64 * self.cell[1] - EPS;
            let y1 = y0 + self.cell[1] + 2.0 * EPS;
            let (x0, x1) = if a[1] == b[1] {
                (a[0].min(b[0]), a[0].max(b[0]))
            } else {
                let t0 = ((y0 - a[1]) / (b[1] - a[1])).clamp(0.0, 1.0);
                let t1 = ((y1 - a[1]) / (b[1] - a[1])).clamp(0.0, 1.0);
                let xa = a[0] + t0 * (b[0] - a[0]);
                let xb = a[0] + t1 * (b[0] - a[0]);
                (xa.min(xb), xa.max(xb))
            };
            let (c0, c1) = (self.col(x0 - EPS), self.col(x1 + EPS));
            for col in c0.max(0)..=c1.min(nx - 1) {
                out.push(((row * nx + col) as u32, id));
            }
        }
    }

    /// The leaf polygon holding `p`, if any.
    #[inline]
    pub fn locate(&self, p: Point) -> Option<usize> {
        let (col, row) = (self.col(p[0]), self.row(p[1]));
        if col < 0 || row < 0 || col >= self.nx as isize || row >= self.ny as isize {
            return None;
        }
        let v = self.cells[row as usize * self.nx + col as usize];
        if v == 0 {
            None
        } else if v & COVERED != 0 {
            Some((v & !COVERED) as usize)
        } else {
            let (a, b) = (
                self.list_start[v as usize - 1] as usize,
                self.list_start[v as usize] as usize,
            );
            self.list_ids[a..b]
                .iter()
                .find(|c| {
                    if c.rect {
                        c.rect_contains(p)
                    } else {
                        c.bbox.contains(p) && self.set.contains_unchecked(c.id as usize, p)
                    }
                })
                .map(|c| c.id as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_agrees_with_scan_on_a_checkerboard() {
        let mut shapes = Vec::new();
        for i in 0..10 {
            for j in 0..7 {
                let (x, y) = (i as f64 * 0.0137, j as f64 * 0.0191);
                shapes.push(Shape::rect(BBox([x, y, x + 0.0137, y + 0.0191])));
            }
        }
        let refs: Vec<&Shape> = shapes.iter().collect();
        let idx = GridIndex::build(PolygonSet::new(&refs), 0.005);
        let mut seed = 7u64;
        for _ in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = (seed >> 11) as f64 / (1u64 << 53) as f64 * 0.16 - 0.01;
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let y = (seed >> 11) as f64 / (1u64 << 53) as f64 * 0.16 - 0.01;
            assert_eq!(idx.locate([x, y]), idx.polygons().scan([x, y]), "{x},{y}");
        }
    }
}

/// A region on a located point's chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainLink {
    pub code: RegionCode,
    pub level: Level,
    pub name: String,
}

/// Why a point could not be located.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LocateError {
    #[error("invalid point")]
    InvalidPoint,
    #[error("point outside the territory")]
    Outside([f64; 2]),
}

impl crate::Bilingual for LocateError {
    fn code(&self) -> &'static str {
        match self {
            LocateError::InvalidPoint => "invalid_point",
            LocateError::Outside(_) => "point_outside_territory",
        }
    }
    fn zh(&self) -> String {
        match self {
            LocateError::InvalidPoint => {
                "坐标无效：经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间".into()
            }
            LocateError::Outside(p) => format!("坐标 ({}, {}) 不在本系统管辖的区域内", p[0], p[1]),
        }
    }
    fn en(&self) -> String {
        match self {
            LocateError::InvalidPoint => {
                "invalid point: lon must be within -180..180 and lat within -90..90".into()
            }
            LocateError::Outside(p) => format!(
                "the point ({}, {}) lies outside the territory served here",
                p[0], p[1]
            ),
        }
    }
}

/// Point → leaf → full chain up to the city, from an in-memory index.
#[derive(Debug, Clone)]
pub struct Locator {
    index: GridIndex,
    leaves: Vec<RegionCode>,
    names: HashMap<RegionCode, String>,
}

/// Raster cell size: about 100 m, the precision of the district boundaries.
pub const CELL_DEG: f64 = 1.0 / 1024.0;

impl Locator {
    /// Build from the leaf shapes and the names of every region (leaves included).
    pub fn new(leaves: Vec<(RegionCode, Shape)>, names: HashMap<RegionCode, String>) -> Locator {
        let shapes: Vec<&Shape> = leaves.iter().map(|(_, s)| s).collect();
        let index = GridIndex::build(PolygonSet::new(&shapes), CELL_DEG);
        let leaves = leaves.into_iter().map(|(c, _)| c).collect();
        Locator {
            index,
            leaves,
            names,
        }
    }

    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// The name of a region of the territory.
    pub fn name(&self, code: &RegionCode) -> Option<&str> {
        self.names.get(code).map(String::as_str)
    }

    pub fn index(&self) -> &GridIndex {
        &self.index
    }

    /// The leaf region holding a point.
    pub fn leaf(&self, p: Point) -> Result<&RegionCode, LocateError> {
        if !(p[0].is_finite()
            && p[1].is_finite()
            && (-180.0..=180.0).contains(&p[0])
            && (-90.0..=90.0).contains(&p[1]))
        {
            return Err(LocateError::InvalidPoint);
        }
        self.index
            .locate(p)
            .map(|i| &self.leaves[i])
            .ok_or(LocateError::Outside(p))
    }

    /// The chain of regions holding a point, city first, leaf last.
    pub fn locate(&self, p: Point) -> Result<Vec<ChainLink>, LocateError> {
        let leaf = self.leaf(p)?;
        let mut chain: Vec<RegionCode> = leaf.ancestors();
        chain.push(leaf.clone());
        Ok(chain
            .into_iter()
            .filter_map(|code| {
                let name = self.names.get(&code)?.clone();
                Some(ChainLink {
                    level: code.level(),
                    code,
                    name,
                })
            })
            .collect())
    }
}
