//! Real Chengdu, built into the binary: the 2023 statistical divisions (20 districts,
//! 261 streets, 3,047 communities) and the district boundaries. Provenance is in
//! `data/chengdu/PROVENANCE.md`.

use super::RegionCode;
use crate::geometry::{Point, Shape};

pub const DIVISIONS_CSV: &str = include_str!("../../../../data/chengdu/divisions.csv");
pub const DISTRICTS_GEOJSON: &str = include_str!("../../../../data/chengdu/districts.geojson");

/// Chengdu's resident population at the 2020 census.
pub const CENSUS_2020_POPULATION: i64 = 20_937_757;
/// Average household size used to turn residents into households (8.75 million households).
pub const PERSONS_PER_HOUSEHOLD: f64 = 2.393;
/// Tianfu Square, the centre the city's density falls away from.
pub const CITY_CENTRE: Point = [104.0657, 30.6595];

/// Resident population by district, 2020 census figures (the functional zones counted in
/// the districts that host them); used only as relative weights and scaled to the total.
pub const DISTRICT_POPULATION: [(&str, i64); 20] = [
    ("510104000000", 902_933),
    ("510105000000", 955_954),
    ("510106000000", 1_265_398),
    ("510107000000", 1_205_895),
    ("510108000000", 1_381_894),
    ("510112000000", 1_346_210),
    ("510113000000", 490_091),
    ("510114000000", 1_558_466),
    ("510115000000", 967_868),
    ("510116000000", 1_465_785),
    ("510117000000", 1_391_670),
    ("510118000000", 363_591),
    ("510121000000", 800_371),
    ("510129000000", 515_962),
    ("510131000000", 255_563),
    ("510181000000", 710_056),
    ("510182000000", 780_399),
    ("510183000000", 602_973),
    ("510184000000", 735_723),
    ("510185000000", 1_112_262),
];

/// A district boundary from the built-in GeoJSON.
#[derive(Debug, Clone)]
pub struct DistrictBoundary {
    pub code: RegionCode,
    pub name: String,
    /// The district seat, where its urban communities gather.
    pub seat: Point,
    pub shape: Shape,
}

/// Parse the built-in district boundaries.
pub fn district_boundaries() -> Result<Vec<DistrictBoundary>, String> {
    let fc: serde_json::Value =
        serde_json::from_str(DISTRICTS_GEOJSON).map_err(|e| e.to_string())?;
    let features = fc["features"].as_array().ok_or("no features")?;
    features
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let code = RegionCode::parse(p["code"].as_str().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            let seat = [
                p["center"][0].as_f64().unwrap_or(0.0),
                p["center"][1].as_f64().unwrap_or(0.0),
            ];
            let shape = Shape::from_geojson(&f["geometry"]).map_err(|e| format!("{code}: {e}"))?;
            Ok(DistrictBoundary {
                code,
                name: p["name"].as_str().unwrap_or_default().to_string(),
                seat,
                shape,
            })
        })
        .collect()
}
