//! Region codes: the 12-digit statistical division code extended by 3 digits for a grid and
//! 3 more for a micro-grid. A subtree is a code prefix.

use crate::Bilingual;
use std::fmt;

/// The six levels of the territory tree, from the city down.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    District,
    Street,
    Community,
    Grid,
    MicroGrid,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::City,
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
        Level::MicroGrid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
            Level::MicroGrid => "micro_grid",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Level::City => "市",
            Level::District => "区县",
            Level::Street => "街道乡镇",
            Level::Community => "社区村",
            Level::Grid => "网格",
            Level::MicroGrid => "微网格",
        }
    }

    /// The level directly below, if any.
    pub fn child(self) -> Option<Level> {
        let i = Level::ALL.iter().position(|l| *l == self)?;
        Level::ALL.get(i + 1).copied()
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated region code. Its level follows from its shape:
/// `510100000000` city, `510104000000` district, `510104017000` street,
/// `510104017001` community, `510104017001003` grid, `510104017001003002` micro-grid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("region code {0:?} is not 12, 15 or 18 digits")]
    Shape(String),
    #[error("region code {0:?} has a zero group where a lower level is set")]
    Hole(String),
}

impl Bilingual for CodeError {
    fn code(&self) -> &'static str {
        "invalid_region_code"
    }
    fn zh(&self) -> String {
        match self {
            CodeError::Shape(s) => {
                format!("区划代码“{s}”无效：应为12位（区划）、15位（网格）或18位（微网格）数字")
            }
            CodeError::Hole(s) => format!("区划代码“{s}”无效：上级段为零而下级段非零"),
        }
    }
    fn en(&self) -> String {
        match self {
            CodeError::Shape(s) => format!(
                "region code {s:?} is invalid: expected 12 digits (division), 15 (grid) or 18 (micro-grid)"
            ),
            CodeError::Hole(s) => {
                format!(
                    "region code {s:?} is invalid: a higher group is zero while a lower one is set"
                )
            }
        }
    }
}

fn is_zeros(s: &str) -> bool {
    s.bytes().all(|b| b == b'0')
}

impl RegionCode {
    pub fn parse(s: &str) -> Result<RegionCode, CodeError> {
        let s = s.trim();
        if !matches!(s.len(), 12 | 15 | 18) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Shape(s.to_string()));
        }
        let code = RegionCode(s.to_string());
        let (city, district, street, community) = (&s[2..4], &s[4..6], &s[6..9], &s[9..12]);
        let groups = [city, district, street, community];
        // Once a group is zero every lower group must be zero too.
        let first_zero = groups.iter().position(|g| is_zeros(g));
        if let Some(i) = first_zero
            && (groups[i..].iter().any(|g| !is_zeros(g)) || s.len() > 12)
        {
            return Err(CodeError::Hole(s.to_string()));
        }
        if s.len() > 12 && (is_zeros(&s[12..15]) || (s.len() == 18 && is_zeros(&s[15..18]))) {
            return Err(CodeError::Hole(s.to_string()));
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> Level {
        let s = self.0.as_str();
        match s.len() {
            18 => Level::MicroGrid,
            15 => Level::Grid,
            _ if is_zeros(&s[4..]) => Level::City,
            _ if is_zeros(&s[6..]) => Level::District,
            _ if is_zeros(&s[9..]) => Level::Street,
            _ => Level::Community,
        }
    }

    /// The prefix every code in this region's subtree starts with.
    pub fn subtree_prefix(&self) -> &str {
        let s = self.0.as_str();
        match self.level() {
            Level::City => &s[..4],
            Level::District => &s[..6],
            Level::Street => &s[..9],
            _ => s,
        }
    }

    /// Half-open range `[lo, hi)` of codes in this subtree, usable by an ordered index
    /// (codes are ASCII digits and `:` sorts right after `9`).
    pub fn subtree_range(&self) -> (String, String) {
        let p = self.subtree_prefix();
        (p.to_string(), format!("{p}:"))
    }

    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.subtree_prefix())
    }

    /// The parent code implied by the code's structure (None for the city).
    /// The regions with those inside another dropped, in code order: disjoint subtrees whose
    /// code ranges follow one another.
    pub fn disjoint(mut codes: Vec<RegionCode>) -> Vec<RegionCode> {
        codes.sort();
        codes.dedup();
        // Sorted order puts a region before its subtree.
        let mut out: Vec<RegionCode> = Vec::new();
        for c in codes {
            if !out.iter().any(|o| o.contains(&c)) {
                out.push(c);
            }
        }
        out
    }

    pub fn parent(&self) -> Option<RegionCode> {
        let s = self.0.as_str();
        let p = match self.level() {
            Level::City => return None,
            Level::District => format!("{}00000000", &s[..4]),
            Level::Street => format!("{}000000", &s[..6]),
            Level::Community => format!("{}000", &s[..9]),
            Level::Grid => s[..12].to_string(),
            Level::MicroGrid => s[..15].to_string(),
        };
        Some(RegionCode(p))
    }

    /// Ancestors from the city down to the parent.
    pub fn ancestors(&self) -> Vec<RegionCode> {
        let mut out = Vec::new();
        let mut cur = self.parent();
        while let Some(c) = cur {
            cur = c.parent();
            out.push(c);
        }
        out.reverse();
        out
    }

    /// Code of the `seq`-th child grid or micro-grid (1-based, 3 digits).
    pub fn child_cell(&self, seq: u32) -> Option<RegionCode> {
        match self.level() {
            Level::Community | Level::Grid if (1..=999).contains(&seq) => {
                Some(RegionCode(format!("{}{seq:03}", self.0)))
            }
            _ => None,
        }
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RegionCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegionCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn levels_follow_shape() {
        assert_eq!(c("510100000000").level(), Level::City);
        assert_eq!(c("510104000000").level(), Level::District);
        assert_eq!(c("510104017000").level(), Level::Street);
        assert_eq!(c("510104017001").level(), Level::Community);
        assert_eq!(c("510104017001003").level(), Level::Grid);
        assert_eq!(c("510104017001003002").level(), Level::MicroGrid);
    }

    #[test]
    fn bad_codes_are_refused() {
        for bad in [
            "",
            "5101",
            "51010400000a",
            "510100017000",
            "510104000001",
            "510104017001000",
            "5101040170010010000",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn parents_and_prefixes() {
        let m = c("510104017001003002");
        let chain: Vec<String> = m.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(
            chain,
            [
                "510100000000",
                "510104000000",
                "510104017000",
                "510104017001",
                "510104017001003"
            ]
        );
        assert_eq!(c("510104000000").subtree_prefix(), "510104");
        assert!(c("510104000000").contains(&m));
        assert!(!c("510105000000").contains(&m));
        let (lo, hi) = c("510104017000").subtree_range();
        assert!(m.as_str() >= lo.as_str() && m.as_str() < hi.as_str());
        assert!("510104018000" >= hi.as_str());
    }
}
