//! The territory tree in the database: bulk load of generated or imported regions,
//! subtree queries by code range, geometry, and the leaves the point index is built from.

use crate::StoreError;
use crate::backend::Store;
use crate::db::{Arg, Row, Sql};
use shezhi_domain::geometry::{Shape, deg2_to_km2};
use shezhi_domain::territory::division::Division;
use shezhi_domain::territory::{Level, RegionCode, RegionKind, RegionRecord, Source};

/// A region as read back, without its geometry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RegionRow {
    pub code: String,
    pub level: Level,
    pub name: String,
    pub parent_code: Option<String>,
    pub kind: RegionKind,
    pub households_est: i64,
    pub population_est: i64,
    pub area_km2: f64,
    /// A point inside the region, for labels and pins.
    pub center: Option<[f64; 2]>,
    pub bbox: Option<[f64; 4]>,
    pub source: Source,
}

/// A leaf of the point index: a micro-grid, or a grid cut into no micro-grids.
#[derive(Debug, Clone)]
pub struct LeafRegion {
    pub code: RegionCode,
    pub shape: Shape,
}

const COLUMNS: &str = "code, level, name, parent_code, kind, households_est, population_est, area_km2, \
                       center_lon, center_lat, min_lon, min_lat, max_lon, max_lat, source";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn row_to_region(r: &Row) -> Result<RegionRow, StoreError> {
    let level: String = r.col("level")?;
    let kind: String = r.col("kind")?;
    let source: String = r.col("source")?;
    let f = |c: &str| -> Result<Option<f64>, StoreError> { Ok(r.col::<Option<f64>>(c)?) };
    let center = match (f("center_lon")?, f("center_lat")?) {
        (Some(x), Some(y)) => Some([x, y]),
        _ => None,
    };
    let bbox = match (f("min_lon")?, f("min_lat")?, f("max_lon")?, f("max_lat")?) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    Ok(RegionRow {
        code: r.col("code")?,
        level: Level::parse(&level).ok_or_else(|| corrupt(format!("level {level}")))?,
        name: r.col("name")?,
        parent_code: r.col("parent_code")?,
        kind: RegionKind::parse(&kind).ok_or_else(|| corrupt(format!("kind {kind}")))?,
        households_est: r.col("households_est")?,
        population_est: r.col("population_est")?,
        area_km2: r.col("area_km2")?,
        center,
        bbox,
        source: Source::parse(&source).ok_or_else(|| corrupt(format!("source {source}")))?,
    })
}

/// Values derived from a record's shape before it is written.
struct Prepared<'a> {
    rec: &'a RegionRecord,
    area_km2: f64,
    center: Option<[f64; 2]>,
    bbox: Option<[f64; 4]>,
    geometry: Option<String>,
}

fn prepare(rec: &RegionRecord) -> Prepared<'_> {
    let (mut area_km2, mut center, mut bbox, mut geometry) = (0.0, None, None, None);
    if let Some(s) = &rec.shape {
        let b = s.bbox();
        let c = s.interior_point().unwrap_or_else(|| b.center());
        area_km2 = deg2_to_km2(s.area(), c[1]);
        center = Some(c);
        bbox = Some(b.0);
        geometry = Some(s.to_geojson().to_string());
    }
    Prepared {
        rec,
        area_km2,
        center,
        bbox,
        geometry,
    }
}

/// The values of a prepared region, in the order of `COLUMNS, geometry`.
fn region_values(x: &Prepared<'_>) -> Vec<Arg> {
    vec![
        x.rec.code.as_str().into(),
        x.rec.level().as_str().into(),
        x.rec.name.as_str().into(),
        x.rec.parent.as_ref().map(|c| c.as_str()).into(),
        x.rec.kind.as_str().into(),
        x.rec.households_est.into(),
        x.rec.population_est.into(),
        x.area_km2.into(),
        x.center.map(|c| c[0]).into(),
        x.center.map(|c| c[1]).into(),
        x.bbox.map(|b| b[0]).into(),
        x.bbox.map(|b| b[1]).into(),
        x.bbox.map(|b| b[2]).into(),
        x.bbox.map(|b| b[3]).into(),
        x.rec.source.as_str().into(),
        x.geometry.clone().into(),
    ]
}

/// `(level, count)` rows as levels in order.
fn level_counts(rows: Vec<Row>) -> Result<Vec<(Level, i64)>, StoreError> {
    let mut out = Vec::new();
    for r in rows {
        if let Some(level) = Level::parse(&r.col::<String>("level")?) {
            out.push((level, r.col::<i64>("n")?));
        }
    }
    out.sort();
    Ok(out)
}

/// Rows per multi-row INSERT (15 parameters each; below both engines' limits).
const INSERT_CHUNK: usize = 1000;

impl Store {
    /// Number of regions per level.
    pub async fn level_counts(&self) -> Result<Vec<(Level, i64)>, StoreError> {
        let q = Sql::new("SELECT level, COUNT(*) AS n FROM regions GROUP BY level");
        level_counts(self.fetch_all(&q).await?)
    }

    /// Write regions (parents before children) in one transaction, replacing any with the
    /// same code. Used for the generated territory and for imports.
    pub async fn put_regions(&self, records: &[RegionRecord]) -> Result<(), StoreError> {
        let prepared: Vec<Prepared> = records.iter().map(prepare).collect();
        let mut tx = self.begin().await?;
        for chunk in prepared.chunks(INSERT_CHUNK) {
            let mut q = Sql::new(format!("INSERT INTO regions ({COLUMNS}, geometry) VALUES "));
            q.push_rows(chunk, region_values).push(
                " ON CONFLICT (code) DO UPDATE SET level = excluded.level, name = excluded.name, \
                 parent_code = excluded.parent_code, kind = excluded.kind, \
                 households_est = excluded.households_est, population_est = excluded.population_est, \
                 area_km2 = excluded.area_km2, center_lon = excluded.center_lon, \
                 center_lat = excluded.center_lat, min_lon = excluded.min_lon, \
                 min_lat = excluded.min_lat, max_lon = excluded.max_lon, max_lat = excluded.max_lat, \
                 source = excluded.source, geometry = excluded.geometry",
            );
            tx.conn().execute(&q).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Imported divisions: insert new ones, rename existing ones; geometry is kept.
    pub async fn upsert_divisions(&self, divisions: &[Division]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for chunk in divisions.chunks(INSERT_CHUNK) {
            let mut q = Sql::new(
                "INSERT INTO regions (code, level, name, parent_code, kind, source) VALUES ",
            );
            q.push_rows(chunk, |d| {
                vec![
                    d.code.as_str().into(),
                    d.code.level().as_str().into(),
                    d.name.as_str().into(),
                    d.parent.as_ref().map(|c| c.as_str()).into(),
                    d.kind.as_str().into(),
                    Source::Imported.as_str().into(),
                ]
            })
            .push(
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 source = excluded.source",
            );
            tx.conn().execute(&q).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replace the grids and micro-grids of the given communities by `cells`, atomically.
    pub async fn replace_cells(
        &self,
        communities: &[RegionCode],
        cells: &[RegionRecord],
    ) -> Result<(), StoreError> {
        let prepared: Vec<Prepared> = cells.iter().map(prepare).collect();
        let mut tx = self.begin().await?;
        for c in communities {
            let (lo, hi) = c.subtree_range();
            // Children first: micro-grids reference grids.
            for level in [Level::MicroGrid, Level::Grid] {
                let q =
                    Sql::new("DELETE FROM regions WHERE code >= $1 AND code < $2 AND level = $3")
                        .bind(&lo)
                        .bind(&hi)
                        .bind(level.as_str());
                tx.conn().execute(&q).await?;
            }
        }
        for chunk in prepared.chunks(INSERT_CHUNK) {
            let mut q = Sql::new(format!("INSERT INTO regions ({COLUMNS}, geometry) VALUES "));
            q.push_rows(chunk, region_values);
            tx.conn().execute(&q).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Codes that exist among `codes`.
    pub async fn existing_codes(&self, codes: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for chunk in codes.chunks(INSERT_CHUNK) {
            let mut q = Sql::new("SELECT code FROM regions WHERE code IN (");
            q.push_list(chunk).push(")");
            for r in self.fetch_all(&q).await? {
                out.push(r.get::<String>(0)?);
            }
        }
        Ok(out)
    }

    pub async fn region(&self, code: &RegionCode) -> Result<Option<RegionRow>, StoreError> {
        let q =
            Sql::new(format!("SELECT {COLUMNS} FROM regions WHERE code = $1")).bind(code.as_str());
        self.fetch_optional(&q)
            .await?
            .as_ref()
            .map(row_to_region)
            .transpose()
    }

    /// The regions with the given codes, in the order of `codes`, skipping unknown ones.
    pub async fn regions(&self, codes: &[RegionCode]) -> Result<Vec<RegionRow>, StoreError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(format!("SELECT {COLUMNS} FROM regions WHERE code IN ("));
        q.push_list(codes.iter().map(RegionCode::as_str)).push(")");
        let mut rows = self
            .fetch_all(&q)
            .await?
            .iter()
            .map(row_to_region)
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|r| codes.iter().position(|c| c.as_str() == r.code));
        Ok(rows)
    }

    pub async fn children(&self, code: &RegionCode) -> Result<Vec<RegionRow>, StoreError> {
        let q = Sql::new(format!(
            "SELECT {COLUMNS} FROM regions WHERE parent_code = $1 ORDER BY code"
        ))
        .bind(code.as_str());
        self.fetch_all(&q)
            .await?
            .iter()
            .map(row_to_region)
            .collect()
    }

    /// Number of regions of each level inside the subtree of `code` (itself excluded).
    pub async fn subtree_counts(&self, code: &RegionCode) -> Result<Vec<(Level, i64)>, StoreError> {
        let (lo, hi) = code.subtree_range();
        let q = Sql::new(
            "SELECT level, COUNT(*) AS n FROM regions WHERE code >= $1 AND code < $2 AND code <> $3 \
             GROUP BY level",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(code.as_str());
        level_counts(self.fetch_all(&q).await?)
    }

    /// All regions of one level inside a subtree, in code order.
    pub async fn subtree_level(
        &self,
        code: &RegionCode,
        level: Level,
    ) -> Result<Vec<RegionRow>, StoreError> {
        let (lo, hi) = code.subtree_range();
        let q = Sql::new(format!(
            "SELECT {COLUMNS} FROM regions WHERE code >= $1 AND code < $2 AND level = $3 ORDER BY code"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(level.as_str());
        self.fetch_all(&q)
            .await?
            .iter()
            .map(row_to_region)
            .collect()
    }

    /// The stored GeoJSON geometry of a region, if it has one.
    pub async fn geometry(&self, code: &RegionCode) -> Result<Option<String>, StoreError> {
        let q = Sql::new("SELECT geometry FROM regions WHERE code = $1").bind(code.as_str());
        Ok(match self.fetch_optional(&q).await? {
            Some(r) => r.get::<Option<String>>(0)?,
            None => None,
        })
    }

    /// Children with their geometry, for drawing a level of the map.
    pub async fn children_with_geometry(
        &self,
        code: &RegionCode,
    ) -> Result<Vec<(RegionRow, Option<String>)>, StoreError> {
        let q = Sql::new(format!(
            "SELECT {COLUMNS}, geometry FROM regions WHERE parent_code = $1 ORDER BY code"
        ))
        .bind(code.as_str());
        self.fetch_all(&q)
            .await?
            .iter()
            .map(|r| Ok((row_to_region(r)?, r.col::<Option<String>>("geometry")?)))
            .collect()
    }

    /// Leaves for the point index: micro-grids, and grids that have no micro-grids.
    pub async fn leaf_regions(&self) -> Result<Vec<LeafRegion>, StoreError> {
        let q = Sql::new(
            "SELECT code, geometry FROM regions r WHERE geometry IS NOT NULL AND (level = 'micro_grid' \
             OR (level = 'grid' AND NOT EXISTS (SELECT 1 FROM regions c WHERE c.parent_code = r.code))) \
             ORDER BY code",
        );
        self.fetch_all(&q)
            .await?
            .iter()
            .map(|r| {
                let (code, g) = (r.get::<String>(0)?, r.get::<String>(1)?);
                let json: serde_json::Value =
                    serde_json::from_str(&g).map_err(|e| corrupt(format!("{code}: {e}")))?;
                let shape =
                    Shape::from_geojson(&json).map_err(|e| corrupt(format!("{code}: {e}")))?;
                let code = RegionCode::parse(&code).map_err(corrupt)?;
                Ok(LeafRegion { code, shape })
            })
            .collect()
    }

    /// Code and name of every region above the leaves, for naming a located point's chain.
    pub async fn region_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.code_names("SELECT code, name FROM regions WHERE level <> 'micro_grid' ORDER BY code")
            .await
    }

    /// The code of the territory's root (the city), if any region is stored.
    pub async fn root_code(&self) -> Result<Option<String>, StoreError> {
        let q =
            Sql::new("SELECT code FROM regions WHERE parent_code IS NULL ORDER BY code LIMIT 1");
        Ok(self
            .fetch_optional(&q)
            .await?
            .map(|r| r.get(0))
            .transpose()?)
    }

    /// Code and name of every micro-grid.
    pub async fn leaf_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.code_names("SELECT code, name FROM regions WHERE level = 'micro_grid' ORDER BY code")
            .await
    }

    async fn code_names(&self, sql: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.fetch_all(&Sql::new(sql))
            .await?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect()
    }
}
