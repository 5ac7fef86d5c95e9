//! Shapes of the JSON the API answers with.

use serde::Serialize;
use shezhi_store::RegionRow;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A region of the territory tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct Region {
    #[schema(example = "510104000000")]
    pub code: String,
    /// city, district, street, community, grid or micro_grid
    #[schema(example = "district")]
    pub level: String,
    #[schema(example = "锦江区")]
    pub name: String,
    pub parent_code: Option<String>,
    /// urban or rural (divisions); standard, school, hospital, market or industrial_park (grids)
    #[schema(example = "urban")]
    pub kind: String,
    /// Planning estimate of households.
    pub households_est: i64,
    /// Planning estimate of residents.
    pub population_est: i64,
    pub area_km2: f64,
    /// A point inside the region, [lon, lat].
    pub center: Option<[f64; 2]>,
    /// [min_lon, min_lat, max_lon, max_lat]
    pub bbox: Option<[f64; 4]>,
    /// official, generated or imported
    pub source: String,
}

impl From<RegionRow> for Region {
    fn from(r: RegionRow) -> Self {
        Region {
            code: r.code,
            level: r.level.as_str().to_string(),
            name: r.name,
            parent_code: r.parent_code,
            kind: r.kind.as_str().to_string(),
            households_est: r.households_est,
            population_est: r.population_est,
            area_km2: (r.area_km2 * 1000.0).round() / 1000.0,
            center: r.center,
            bbox: r.bbox,
            source: r.source.as_str().to_string(),
        }
    }
}

/// A region named on a chain of ancestors.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionRef {
    pub code: String,
    pub level: String,
    pub name: String,
}

/// A region with its ancestors and the number of regions below it, by level.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionNode {
    pub region: Region,
    /// From the city down to the parent.
    pub ancestors: Vec<RegionRef>,
    /// Number of regions in the subtree by level, e.g. {"street": 14, "community": 75}.
    pub counts: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionList {
    pub items: Vec<Region>,
}

/// A GeoJSON Feature whose properties are a region.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionFeature {
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    pub kind: &'static str,
    /// GeoJSON Polygon or MultiPolygon in lon/lat.
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<Box<serde_json::value::RawValue>>,
    pub properties: Region,
}

/// A GeoJSON FeatureCollection of regions.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionFeatureCollection {
    #[serde(rename = "type")]
    #[schema(example = "FeatureCollection")]
    pub kind: &'static str,
    pub features: Vec<RegionFeature>,
}

/// A grid or micro-grid as a GeoJSON Feature, with its parent chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridFeature {
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    pub kind: &'static str,
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<Box<serde_json::value::RawValue>>,
    pub properties: GridProperties,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GridProperties {
    #[serde(flatten)]
    pub region: Region,
    /// From the city down to the parent.
    pub ancestors: Vec<RegionRef>,
}

/// The regions holding a point.
#[derive(Debug, Serialize, ToSchema)]
pub struct Location {
    /// [lon, lat]
    pub point: [f64; 2],
    /// From the city down to the micro-grid (or the grid, where it has no micro-grids).
    pub chain: Vec<RegionRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// sqlite or postgres
    pub database: &'static str,
    /// Leaf regions in the point index.
    pub indexed_cells: usize,
}

/// One page of households.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HouseholdPage {
    pub items: Vec<shezhi_store::register::HouseholdSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One page of residents.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ResidentPage {
    pub items: Vec<shezhi_store::register::ResidentSummary>,
    pub next_cursor: Option<String>,
}

/// Residents found by a search.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ResidentList {
    pub items: Vec<shezhi_store::register::ResidentSummary>,
}

/// Live counts of a region by metric (`households`, `residents`, `residence.floating`,
/// `tag.elderly_alone`, `rooms`, `staff`…).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RegionCounts {
    pub code: String,
    pub counts: std::collections::BTreeMap<String, i64>,
}
