//! Planar geometry on lon/lat degrees: polygons with holes under the even-odd rule,
//! point-in-polygon, areas, and clipping by axis-aligned half-planes. Clipping is what the
//! tessellation is built from: two sides of one cut share the very same cut vertices, so
//! neighbouring regions meet without gaps or overlaps.

use crate::Bilingual;

pub type Point = [f64; 2];

/// Axis-aligned bounding box `[min_lon, min_lat, max_lon, max_lat]`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BBox(pub [f64; 4]);

impl BBox {
    pub const EMPTY: BBox = BBox([
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ]);

    pub fn extend(&mut self, p: Point) {
        let b = &mut self.0;
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }

    pub fn union(&mut self, o: &BBox) {
        self.extend([o.0[0], o.0[1]]);
        self.extend([o.0[2], o.0[3]]);
    }

    pub fn contains(&self, p: Point) -> bool {
        let b = &self.0;
        p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3]
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] > self.0[2]
    }

    pub fn center(&self) -> Point {
        [(self.0[0] + self.0[2]) / 2.0, (self.0[1] + self.0[3]) / 2.0]
    }
}

/// One polygon: an outer ring and its holes. Rings are stored open (last != first).
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub outer: Vec<Point>,
    pub holes: Vec<Vec<Point>>,
}

/// A region made of polygons, read with the even-odd rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape {
    pub polygons: Vec<Polygon>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    #[error("geometry must be a Polygon or MultiPolygon, found {0}")]
    WrongType(String),
    #[error("malformed coordinates: {0}")]
    Malformed(String),
    #[error("coordinate out of range: {0}")]
    OutOfRange(String),
    #[error("ring is not closed")]
    NotClosed,
    #[error("ring has fewer than 3 distinct points or no area")]
    Degenerate,
}

impl Bilingual for GeometryError {
    fn code(&self) -> &'static str {
        "invalid_geometry"
    }
    fn zh(&self) -> String {
        match self {
            GeometryError::WrongType(t) => {
                format!("几何类型应为 Polygon 或 MultiPolygon，实际为 {t}")
            }
            GeometryError::Malformed(m) => format!("坐标格式错误：{m}"),
            GeometryError::OutOfRange(m) => format!("坐标超出经纬度范围：{m}"),
            GeometryError::NotClosed => "多边形环未闭合（首尾坐标应相同）".into(),
            GeometryError::Degenerate => "多边形环少于3个不同的点或面积为零".into(),
        }
    }
    fn en(&self) -> String {
        match self {
            GeometryError::WrongType(t) => {
                format!("geometry must be a Polygon or MultiPolygon, found {t}")
            }
            GeometryError::Malformed(m) => format!("malformed coordinates: {m}"),
            GeometryError::OutOfRange(m) => format!("coordinate out of lon/lat range: {m}"),
            GeometryError::NotClosed => {
                "polygon ring is not closed (first and last positions must be equal)".into()
            }
            GeometryError::Degenerate => {
                "polygon ring has fewer than 3 distinct points or no area".into()
            }
        }
    }
}

/// Twice the signed area of an open ring (positive when counter-clockwise).
pub fn ring_signed_area2(ring: &[Point]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    let mut j = n - 1;
    for i in 0..n {
        s += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
        j = i;
    }
    s
}

/// Even-odd crossing test of one ring; toggles `inside` for each crossing.
#[inline]
pub fn ring_crossings(ring: &[Point], p: Point, inside: &mut bool) {
    let n = ring.len();
    if n < 3 {
        return;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            *inside = !*inside;
        }
        j = i;
    }
}

/// Which side of an axis-aligned cut to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Below,
    Above,
}

/// Clip an open ring to the half-plane `p[axis] <= c` (Below) or `>= c` (Above).
/// Cut vertices get exactly `c` on the cut axis; both sides compute them identically.
pub fn clip_ring(ring: &[Point], axis: usize, c: f64, side: Side) -> Vec<Point> {
    let inside = |p: &Point| match side {
        Side::Below => p[axis] <= c,
        Side::Above => p[axis] >= c,
    };
    let other = 1 - axis;
    let mut out = Vec::with_capacity(ring.len() + 4);
    let n = ring.len();
    if n == 0 {
        return out;
    }
    for i in 0..n {
        let prev = ring[(i + n - 1) % n];
        let cur = ring[i];
        let (pi, ci) = (inside(&prev), inside(&cur));
        if ci != pi {
            // Always interpolate from the lower endpoint so both sides get identical bits.
            let (a, b) = if prev[axis] < cur[axis] {
                (prev, cur)
            } else {
                (cur, prev)
            };
            let t = (c - a[axis]) / (b[axis] - a[axis]);
            let mut q = [0.0; 2];
            q[axis] = c;
            q[other] = a[other] + t * (b[other] - a[other]);
            if out.last() != Some(&q) {
                out.push(q);
            }
        }
        if ci && out.last() != Some(&cur) {
            out.push(cur);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

impl Polygon {
    pub fn area(&self) -> f64 {
        let holes: f64 = self.holes.iter().map(|h| ring_signed_area2(h).abs()).sum();
        (ring_signed_area2(&self.outer).abs() - holes) / 2.0
    }

    fn clip(&self, axis: usize, c: f64, side: Side) -> Option<Polygon> {
        let outer = clip_ring(&self.outer, axis, c, side);
        if outer.len() < 3 || ring_signed_area2(&outer) == 0.0 {
            return None;
        }
        let holes = self
            .holes
            .iter()
            .map(|h| clip_ring(h, axis, c, side))
            .filter(|h| h.len() >= 3 && ring_signed_area2(h) != 0.0)
            .collect();
        Some(Polygon { outer, holes })
    }

    fn rings(&self) -> impl Iterator<Item = &Vec<Point>> {
        std::iter::once(&self.outer).chain(self.holes.iter())
    }
}

impl Shape {
    pub fn rect(b: BBox) -> Shape {
        let [x0, y0, x1, y1] = b.0;
        Shape {
            polygons: vec![Polygon {
                outer: vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                holes: vec![],
            }],
        }
    }

    pub fn area(&self) -> f64 {
        self.polygons.iter().map(Polygon::area).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    pub fn bbox(&self) -> BBox {
        let mut b = BBox::EMPTY;
        for p in &self.polygons {
            for q in &p.outer {
                b.extend(*q);
            }
        }
        b
    }

    pub fn vertex_count(&self) -> usize {
        self.polygons
            .iter()
            .flat_map(Polygon::rings)
            .map(Vec::len)
            .sum()
    }

    /// Point in shape under the even-odd rule.
    pub fn contains(&self, p: Point) -> bool {
        let mut inside = false;
        for poly in &self.polygons {
            for r in poly.rings() {
                ring_crossings(r, p, &mut inside);
            }
        }
        inside
    }

    /// The part of the shape on one side of the line `p[axis] == c`.
    pub fn clip(&self, axis: usize, c: f64, side: Side) -> Shape {
        Shape {
            polygons: self
                .polygons
                .iter()
                .filter_map(|p| p.clip(axis, c, side))
                .collect(),
        }
    }

    /// True when the shape is exactly one axis-aligned rectangle.
    pub fn as_rect(&self) -> Option<BBox> {
        let [p] = self.polygons.as_slice() else {
            return None;
        };
        if !p.holes.is_empty() || p.outer.len() != 4 {
            return None;
        }
        let b = self.bbox();
        let corners = p
            .outer
            .iter()
            .all(|q| (q[0] == b.0[0] || q[0] == b.0[2]) && (q[1] == b.0[1] || q[1] == b.0[3]));
        corners.then_some(b)
    }

    /// A point inside the shape (for labels and sampling): the centre of the widest span
    /// on the horizontal line through the bbox centre, or on nearby lines.
    pub fn interior_point(&self) -> Option<Point> {
        let b = self.bbox();
        if b.is_empty() {
            return None;
        }
        for k in 0..64 {
            // Scan lines alternating around the middle: 0.5, 0.5±1/128, ...
            let off = ((k + 1) / 2) as f64 / 128.0 * if k % 2 == 0 { 1.0 } else { -1.0 };
            let y = b.0[1] + (b.0[3] - b.0[1]) * (0.5 + off);
            let mut xs = Vec::new();
            for poly in &self.polygons {
                for r in poly.rings() {
                    let n = r.len();
                    for i in 0..n {
                        let (a, c) = (r[i], r[(i + n - 1) % n]);
                        if (a[1] > y) != (c[1] > y) {
                            xs.push(a[0] + (y - a[1]) * (c[0] - a[0]) / (c[1] - a[1]));
                        }
                    }
                }
            }
            xs.sort_by(f64::total_cmp);
            let best = xs
                .chunks_exact(2)
                .map(|w| (w[1] - w[0], (w[0] + w[1]) / 2.0))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((w, x)) = best
                && w > 0.0
            {
                return Some([x, y]);
            }
        }
        None
    }

    /// GeoJSON geometry object (Polygon or MultiPolygon, rings closed as RFC 7946 asks).
    pub fn to_geojson(&self) -> serde_json::Value {
        let ring = |r: &Vec<Point>| {
            let mut v: Vec<serde_json::Value> =
                r.iter().map(|p| serde_json::json!([p[0], p[1]])).collect();
            if let Some(first) = r.first() {
                v.push(serde_json::json!([first[0], first[1]]));
            }
            serde_json::Value::Array(v)
        };
        let poly = |p: &Polygon| serde_json::Value::Array(p.rings().map(ring).collect());
        match self.polygons.as_slice() {
            [one] => serde_json::json!({"type": "Polygon", "coordinates": poly(one)}),
            many => {
                serde_json::json!({"type": "MultiPolygon", "coordinates": many.iter().map(poly).collect::<Vec<_>>()})
            }
        }
    }

    /// Parse a GeoJSON Polygon or MultiPolygon geometry, checking every position.
    pub fn from_geojson(g: &serde_json::Value) -> Result<Shape, GeometryError> {
        let ty = g.get("type").and_then(|t| t.as_str()).unwrap_or("(none)");
        let coords = g
            .get("coordinates")
            .ok_or_else(|| GeometryError::Malformed("missing \"coordinates\"".into()))?;
        let polys: Vec<&serde_json::Value> = match ty {
            "Polygon" => vec![coords],
            "MultiPolygon" => as_array(coords)?.iter().collect(),
            other => return Err(GeometryError::WrongType(other.to_string())),
        };
        let mut polygons = Vec::with_capacity(polys.len());
        for p in polys {
            let mut rings = as_array(p)?.iter().map(parse_ring);
            let outer = rings.next().ok_or(GeometryError::Degenerate)??;
            let holes = rings.collect::<Result<Vec<_>, _>>()?;
            polygons.push(Polygon { outer, holes });
        }
        if polygons.is_empty() {
            return Err(GeometryError::Degenerate);
        }
        Ok(Shape { polygons })
    }
}

fn as_array(v: &serde_json::Value) -> Result<&Vec<serde_json::Value>, GeometryError> {
    v.as_array()
        .ok_or_else(|| GeometryError::Malformed(format!("expected an array, found {v}")))
}

fn parse_ring(v: &serde_json::Value) -> Result<Vec<Point>, GeometryError> {
    let raw = as_array(v)?;
    let mut ring: Vec<Point> = Vec::with_capacity(raw.len());
    for pos in raw {
        let xy = as_array(pos)?;
        let (Some(x), Some(y)) = (
            xy.first().and_then(|x| x.as_f64()),
            xy.get(1).and_then(|y| y.as_f64()),
        ) else {
            return Err(GeometryError::Malformed(format!(
                "position {pos} is not [lon, lat]"
            )));
        };
        if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
            return Err(GeometryError::OutOfRange(format!("[{x}, {y}]")));
        }
        if ring.last() != Some(&[x, y]) {
            ring.push([x, y]);
        }
    }
    if raw.len() < 4 {
        return Err(GeometryError::Degenerate);
    }
    if ring.first() != ring.last() {
        return Err(GeometryError::NotClosed);
    }
    ring.pop();
    if ring.len() < 3 || ring_signed_area2(&ring) == 0.0 {
        return Err(GeometryError::Degenerate);
    }
    Ok(ring)
}

/// Approximate area in km² of a lon/lat shape near latitude `lat` (equirectangular).
pub fn deg2_to_km2(area_deg2: f64, lat: f64) -> f64 {
    const KM_PER_DEG: f64 = 111.195;
    area_deg2 * KM_PER_DEG * KM_PER_DEG * lat.to_radians().cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l_shape() -> Shape {
        // An L: concave, so a cut through it yields two pieces.
        Shape {
            polygons: vec![Polygon {
                outer: vec![
                    [0.0, 0.0],
                    [3.0, 0.0],
                    [3.0, 1.0],
                    [1.0, 1.0],
                    [1.0, 3.0],
                    [0.0, 3.0],
                ],
                holes: vec![],
            }],
        }
    }

    #[test]
    fn clip_halves_add_up() {
        let s = l_shape();
        for c in [0.3, 0.5, 1.0, 2.2, 2.9] {
            for axis in 0..2 {
                let a = s.clip(axis, c, Side::Below);
                let b = s.clip(axis, c, Side::Above);
                assert!(
                    (a.area() + b.area() - s.area()).abs() < 1e-12,
                    "axis {axis} c {c}"
                );
            }
        }
    }

    #[test]
    fn clipped_concave_shape_keeps_membership() {
        let s = l_shape();
        let a = s.clip(1, 0.5, Side::Above); // cuts the foot of the L off
        for (p, want) in [
            ([2.0, 0.8], true),
            ([0.5, 2.0], true),
            ([2.0, 2.0], false),
            ([2.0, 0.2], false),
        ] {
            assert_eq!(a.contains(p), want, "{p:?}");
        }
    }

    #[test]
    fn geojson_round_trip_and_errors() {
        let s = l_shape();
        let back = Shape::from_geojson(&s.to_geojson()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, s);
        let open =
            serde_json::json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]});
        assert_eq!(Shape::from_geojson(&open), Err(GeometryError::NotClosed));
        let point = serde_json::json!({"type": "Point", "coordinates": [0,0]});
        assert!(matches!(
            Shape::from_geojson(&point),
            Err(GeometryError::WrongType(_))
        ));
        let far =
            serde_json::json!({"type": "Polygon", "coordinates": [[[0,0],[200,0],[1,1],[0,0]]]});
        assert!(matches!(
            Shape::from_geojson(&far),
            Err(GeometryError::OutOfRange(_))
        ));
    }

    #[test]
    fn interior_point_is_inside() {
        let s = l_shape();
        let p = s
            .interior_point()
            .unwrap_or_else(|| panic!("no interior point"));
        assert!(s.contains(p));
    }
}
