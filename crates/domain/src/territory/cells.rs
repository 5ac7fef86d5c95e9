//! Reading grids and micro-grids that a city supplies as a GeoJSON FeatureCollection.
//! Each feature needs `properties.code` (15 digits for a grid, 18 for a micro-grid) and
//! `properties.name`, optionally `kind` and `households`. Every bad feature is reported with
//! the line it starts on; nothing loads unless everything is right.

use super::division::RowError;
use super::{Level, RegionCode, RegionKind, RegionRecord, Source};
use crate::Bilingual;
use crate::geometry::Shape;
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};

/// A parsed cell and the line its feature starts on.
#[derive(Debug, Clone)]
pub struct Cell {
    pub line: usize,
    pub record: RegionRecord,
}

fn line_of(text: &str, raw: &RawValue) -> usize {
    let offset = (raw.get().as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[derive(serde::Deserialize)]
struct Collection<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow)]
    features: Vec<&'a RawValue>,
}

/// Parse the file and check each feature on its own and against the others in the file.
/// Returns the features that passed and the errors of those that did not, so that callers
/// can run further checks and report every problem at once.
pub fn parse_cells(text: &str) -> (Vec<Cell>, Vec<RowError>) {
    let fc: Collection = match serde_json::from_str(text) {
        Ok(fc) => fc,
        Err(e) => {
            let err = RowError::new(
                e.line().max(1),
                "geojson_malformed",
                format!("不是有效的 GeoJSON FeatureCollection：{e}"),
                format!("not a valid GeoJSON FeatureCollection: {e}"),
            );
            return (Vec::new(), vec![err]);
        }
    };
    let mut errors = Vec::new();
    if fc.kind != "FeatureCollection" {
        errors.push(RowError::new(
            1,
            "geojson_malformed",
            "顶层类型应为 FeatureCollection",
            "the top-level type must be FeatureCollection",
        ));
    }
    let mut cells = Vec::new();
    let mut seen = HashSet::new();
    for raw in &fc.features {
        let line = line_of(text, raw);
        match parse_feature(line, raw) {
            Ok(cell) => {
                if !seen.insert(cell.record.code.clone()) {
                    errors.push(RowError::new(
                        line,
                        "duplicate_code",
                        format!("代码 {} 重复出现", cell.record.code),
                        format!("code {} appears more than once", cell.record.code),
                    ));
                }
                cells.push(cell);
            }
            Err(e) => errors.push(e),
        }
    }
    // A micro-grid's grid must come in the same file, and must contain it.
    let grids: HashMap<&RegionCode, &Cell> = cells
        .iter()
        .filter(|c| c.record.level() == Level::Grid)
        .map(|c| (&c.record.code, c))
        .collect();
    for c in cells
        .iter()
        .filter(|c| c.record.level() == Level::MicroGrid)
    {
        match c.record.parent.as_ref().and_then(|p| grids.get(p)) {
            None => errors.push(RowError::new(
                c.line,
                "unknown_parent",
                format!("微网格 {} 的上级网格不在文件中", c.record.code),
                format!(
                    "the grid of micro-grid {} is not in the file",
                    c.record.code
                ),
            )),
            Some(g) => errors.extend(placement(c, g.record.shape.as_ref())),
        }
    }
    if cells.is_empty() && errors.is_empty() {
        errors.push(RowError::new(
            1,
            "geojson_empty",
            "文件中没有要素",
            "the file has no features",
        ));
    }
    errors.sort_by_key(|e| e.line);
    (cells, errors)
}

/// Check each grid against its community: it must exist, and lie inside it if the
/// community has a boundary. `communities` maps the communities named by the file to their
/// boundary (None if they have none); a missing key is an unknown community.
pub fn check_communities(
    cells: &[Cell],
    communities: &HashMap<RegionCode, Option<Shape>>,
) -> Vec<RowError> {
    let mut errors = Vec::new();
    for c in cells.iter().filter(|c| c.record.level() == Level::Grid) {
        let Some(parent) = &c.record.parent else {
            continue;
        };
        match communities.get(parent) {
            None => errors.push(RowError::new(
                c.line,
                "unknown_parent",
                format!("网格 {} 所属社区 {parent} 不存在", c.record.code),
                format!(
                    "the community {parent} of grid {} does not exist",
                    c.record.code
                ),
            )),
            Some(shape) => errors.extend(placement(c, shape.as_ref())),
        }
    }
    errors
}

fn placement(c: &Cell, parent: Option<&Shape>) -> Option<RowError> {
    let (Some(parent), Some(own)) = (parent, c.record.shape.as_ref()) else {
        return None;
    };
    let inside = own.interior_point().is_some_and(|p| parent.contains(p));
    (!inside).then(|| {
        RowError::new(
            c.line,
            "outside_parent",
            format!("{} 的范围不在其上级区域内", c.record.code),
            format!("{} does not lie inside its parent region", c.record.code),
        )
    })
}

fn parse_feature(line: usize, raw: &RawValue) -> Result<Cell, RowError> {
    let bad = |code: &'static str, zh: String, en: String| RowError::new(line, code, zh, en);
    let f: serde_json::Value = serde_json::from_str(raw.get()).map_err(|e| {
        bad(
            "geojson_malformed",
            format!("要素无法解析：{e}"),
            format!("feature cannot be parsed: {e}"),
        )
    })?;
    let props = &f["properties"];
    let code_raw = props["code"].as_str().unwrap_or_default();
    let code = RegionCode::parse(code_raw).map_err(|e| RowError::from_error(line, &e))?;
    if !matches!(code.level(), Level::Grid | Level::MicroGrid) {
        return Err(bad(
            "not_a_grid",
            format!("代码 {code} 不是网格（15位）或微网格（18位）"),
            format!("code {code} is not a grid (15 digits) or micro-grid (18 digits)"),
        ));
    }
    let name = props["name"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad(
            "invalid_name",
            "名称为空或超过100字".into(),
            "name is empty or longer than 100 characters".into(),
        ));
    }
    let kind = match props.get("kind").and_then(|k| k.as_str()) {
        None => RegionKind::Standard,
        Some(k) => RegionKind::parse(k)
            .filter(|k| !matches!(k, RegionKind::Urban | RegionKind::Rural))
            .ok_or_else(|| {
                bad(
                    "invalid_kind",
                    format!("网格类型“{k}”无效，应为 standard/school/hospital/market/industrial_park"),
                    format!("grid kind {k:?} is invalid: expected standard, school, hospital, market or industrial_park"),
                )
            })?,
    };
    let households = match props.get("households") {
        None | Some(serde_json::Value::Null) => 0,
        Some(v) => v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
            bad(
                "invalid_households",
                "households 应为非负整数".into(),
                "households must be a non-negative integer".into(),
            )
        })?,
    };
    let shape = Shape::from_geojson(&f["geometry"])
        .map_err(|e| RowError::new(line, e.code(), e.zh(), e.en()))?;
    Ok(Cell {
        line,
        record: RegionRecord {
            parent: code.parent(),
            code,
            name,
            kind,
            households_est: households,
            population_est: 0,
            shape: Some(shape),
            source: Source::Imported,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"type": "FeatureCollection", "features": [
{"type": "Feature", "properties": {"code": "510104017001001", "name": "一网格"},
 "geometry": {"type": "Polygon", "coordinates": [[[0,0],[2,0],[2,2],[0,2],[0,0]]]}},
{"type": "Feature", "properties": {"code": "510104017001001001", "name": "一号楼"},
 "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}
]}"#;

    #[test]
    fn good_file_parses() {
        let (cells, errors) = parse_cells(GOOD);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(cells.len(), 2);
        assert_eq!((cells[0].line, cells[1].line), (2, 4));
    }

    #[test]
    fn bad_features_are_reported_by_line() {
        let text = r#"{"type": "FeatureCollection", "features": [
{"type": "Feature", "properties": {"code": "5101040170010", "name": "x"}, "geometry": null},
{"type": "Feature", "properties": {"code": "510104017001002", "name": "y"},
 "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]}},
{"type": "Feature", "properties": {"code": "510104017001009001", "name": "z"},
 "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}
]}"#;
        let (_, errs) = parse_cells(text);
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            got,
            [
                (2, "invalid_region_code"),
                (3, "invalid_geometry"),
                (5, "unknown_parent")
            ]
        );
        let (_, broken) = parse_cells("{\"type\": \"FeatureCollection\",\n \"features\": [}");
        assert_eq!((broken[0].line, broken[0].code), (2, "geojson_malformed"));
    }

    #[test]
    fn grids_must_sit_in_known_communities() {
        let (cells, _) = parse_cells(GOOD);
        let community = RegionCode::parse("510104017001").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            check_communities(&cells, &HashMap::new())[0].code,
            "unknown_parent"
        );
        let far = Shape::rect(crate::geometry::BBox([10.0, 10.0, 11.0, 11.0]));
        let m = HashMap::from([(community.clone(), Some(far))]);
        assert_eq!(check_communities(&cells, &m)[0].code, "outside_parent");
        let near = Shape::rect(crate::geometry::BBox([-1.0, -1.0, 3.0, 3.0]));
        assert!(check_communities(&cells, &HashMap::from([(community, Some(near))])).is_empty());
    }
}
