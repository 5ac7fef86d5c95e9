//! The territory tree: real divisions (city, district, street, community) and the grids and
//! micro-grids cut inside them.

pub mod cells;
pub mod chengdu;
pub mod code;
pub mod division;
pub mod generate;

pub use code::{CodeError, Level, RegionCode};

use crate::geometry::Shape;

/// What kind of place a region is. Streets and communities are urban or rural; grids are
/// standard or special (专属网格) for one institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    Urban,
    Rural,
    Standard,
    School,
    Hospital,
    Market,
    IndustrialPark,
}

impl RegionKind {
    pub const ALL: [RegionKind; 7] = [
        RegionKind::Urban,
        RegionKind::Rural,
        RegionKind::Standard,
        RegionKind::School,
        RegionKind::Hospital,
        RegionKind::Market,
        RegionKind::IndustrialPark,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegionKind::Urban => "urban",
            RegionKind::Rural => "rural",
            RegionKind::Standard => "standard",
            RegionKind::School => "school",
            RegionKind::Hospital => "hospital",
            RegionKind::Market => "market",
            RegionKind::IndustrialPark => "industrial_park",
        }
    }

    pub fn parse(s: &str) -> Option<RegionKind> {
        RegionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Chinese label of a special grid's institution.
    pub fn special_zh(self) -> Option<&'static str> {
        match self {
            RegionKind::School => Some("学校"),
            RegionKind::Hospital => Some("医院"),
            RegionKind::Market => Some("市场"),
            RegionKind::IndustrialPark => Some("产业园区"),
            _ => None,
        }
    }

    /// Urban or rural, judged from a division's official name.
    pub fn from_division_name(level: Level, name: &str) -> RegionKind {
        let rural = match level {
            Level::Street => name.ends_with('镇') || name.ends_with('乡'),
            Level::Community => {
                name.contains('村') && !name.contains("居委会") && !name.contains("居民委员会")
            }
            Level::District => name.ends_with('县') || name.ends_with('市'),
            _ => false,
        };
        if rural {
            RegionKind::Rural
        } else {
            RegionKind::Urban
        }
    }
}

/// Where a region's record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Official statistical division data shipped with shezhi.
    Official,
    /// Cut by the deterministic generator.
    Generated,
    /// Supplied by the operator through `shezhi import`.
    Imported,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Official => "official",
            Source::Generated => "generated",
            Source::Imported => "imported",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        [Source::Official, Source::Generated, Source::Imported]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// One node of the territory tree as it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionRecord {
    pub code: RegionCode,
    pub name: String,
    pub parent: Option<RegionCode>,
    pub kind: RegionKind,
    /// Planning estimate of households, used until the register holds real ones.
    pub households_est: i64,
    /// Planning estimate of residents.
    pub population_est: i64,
    pub shape: Option<Shape>,
    pub source: Source,
}

impl RegionRecord {
    pub fn level(&self) -> Level {
        self.code.level()
    }
}
