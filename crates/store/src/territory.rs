//! The territory tree in the database: bulk load of generated or imported regions,
//! subtree queries by code range, geometry, and the leaves the point index is built from.

use crate::StoreError;
use crate::backend::{Store, with_pool};
use shezhi_domain::geometry::{Shape, deg2_to_km2};
use shezhi_domain::territory::division::Division;
use shezhi_domain::territory::{Level, RegionCode, RegionKind, RegionRecord, Source};
use sqlx::Row;

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

fn row_to_region<R: Row>(r: &R) -> Result<RegionRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<f64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let level: String = r.try_get("level")?;
    let kind: String = r.try_get("kind")?;
    let source: String = r.try_get("source")?;
    let f = |c: &str| -> Result<Option<f64>, StoreError> { Ok(r.try_get::<Option<f64>, _>(c)?) };
    let center = match (f("center_lon")?, f("center_lat")?) {
        (Some(x), Some(y)) => Some([x, y]),
        _ => None,
    };
    let bbox = match (f("min_lon")?, f("min_lat")?, f("max_lon")?, f("max_lat")?) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    Ok(RegionRow {
        code: r.try_get("code")?,
        level: Level::parse(&level).ok_or_else(|| corrupt(format!("level {level}")))?,
        name: r.try_get("name")?,
        parent_code: r.try_get("parent_code")?,
        kind: RegionKind::parse(&kind).ok_or_else(|| corrupt(format!("kind {kind}")))?,
        households_est: r.try_get("households_est")?,
        population_est: r.try_get("population_est")?,
        area_km2: r.try_get("area_km2")?,
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

/// `VALUES (...), (...)` for prepared regions, in the order of `COLUMNS, geometry`.
macro_rules! push_region_values {
    ($qb:expr, $chunk:expr) => {
        $qb.push_values($chunk, |mut b, x| {
            b.push_bind(x.rec.code.as_str())
                .push_bind(x.rec.level().as_str())
                .push_bind(x.rec.name.as_str())
                .push_bind(x.rec.parent.as_ref().map(|c| c.as_str()))
                .push_bind(x.rec.kind.as_str())
                .push_bind(x.rec.households_est)
                .push_bind(x.rec.population_est)
                .push_bind(x.area_km2)
                .push_bind(x.center.map(|c| c[0]))
                .push_bind(x.center.map(|c| c[1]))
                .push_bind(x.bbox.map(|b| b[0]))
                .push_bind(x.bbox.map(|b| b[1]))
                .push_bind(x.bbox.map(|b| b[2]))
                .push_bind(x.bbox.map(|b| b[3]))
                .push_bind(x.rec.source.as_str())
                .push_bind(x.geometry.as_deref());
        })
    };
}

/// Rows per multi-row INSERT (15 parameters each; below both engines' limits).
const INSERT_CHUNK: usize = 1000;

impl Store {
    /// Number of regions per level.
    pub async fn level_counts(&self) -> Result<Vec<(Level, i64)>, StoreError> {
        let rows = with_pool!(self, p => {
            sqlx::query("SELECT level, COUNT(*) AS n FROM regions GROUP BY level")
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>("level")?, r.try_get::<i64, _>("n")?)))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let mut out: Vec<(Level, i64)> = rows
            .into_iter()
            .filter_map(|(l, n)| Level::parse(&l).map(|l| (l, n)))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Write regions (parents before children) in one transaction, replacing any with the
    /// same code. Used for the generated territory and for imports.
    pub async fn put_regions(&self, records: &[RegionRecord]) -> Result<(), StoreError> {
        let prepared: Vec<Prepared> = records.iter().map(prepare).collect();
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in prepared.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO regions ({COLUMNS}, geometry) "
                ));
                push_region_values!(qb, chunk);
                qb.push(
                    " ON CONFLICT (code) DO UPDATE SET level = excluded.level, name = excluded.name, \
                     parent_code = excluded.parent_code, kind = excluded.kind, \
                     households_est = excluded.households_est, population_est = excluded.population_est, \
                     area_km2 = excluded.area_km2, center_lon = excluded.center_lon, center_lat = excluded.center_lat, \
                     min_lon = excluded.min_lon, min_lat = excluded.min_lat, max_lon = excluded.max_lon, \
                     max_lat = excluded.max_lat, source = excluded.source, geometry = excluded.geometry",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Imported divisions: insert new ones, rename existing ones; geometry is kept.
    pub async fn upsert_divisions(&self, divisions: &[Division]) -> Result<(), StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in divisions.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO regions (code, level, name, parent_code, kind, source) ");
                qb.push_values(chunk, |mut b, d| {
                    b.push_bind(d.code.as_str())
                        .push_bind(d.code.level().as_str())
                        .push_bind(d.name.as_str())
                        .push_bind(d.parent.as_ref().map(|c| c.as_str()))
                        .push_bind(d.kind.as_str())
                        .push_bind(Source::Imported.as_str());
                });
                qb.push(" ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, source = excluded.source");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Replace the grids and micro-grids of the given communities by `cells`, atomically.
    pub async fn replace_cells(
        &self,
        communities: &[RegionCode],
        cells: &[RegionRecord],
    ) -> Result<(), StoreError> {
        let prepared: Vec<Prepared> = cells.iter().map(prepare).collect();
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            for c in communities {
                let (lo, hi) = c.subtree_range();
                // Children first: micro-grids reference grids.
                for level in [Level::MicroGrid, Level::Grid] {
                    sqlx::query("DELETE FROM regions WHERE code >= $1 AND code < $2 AND level = $3")
                        .bind(&lo)
                        .bind(&hi)
                        .bind(level.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for chunk in prepared.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO regions ({COLUMNS}, geometry) "));
                push_region_values!(qb, chunk);
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Codes that exist among `codes`.
    pub async fn existing_codes(&self, codes: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for chunk in codes.chunks(INSERT_CHUNK) {
            with_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new("SELECT code FROM regions WHERE code IN (");
                let mut sep = qb.separated(", ");
                for c in chunk {
                    sep.push_bind(c.as_str());
                }
                qb.push(")");
                for r in qb.build().fetch_all(p).await? {
                    out.push(r.try_get::<String, _>("code")?);
                }
            });
        }
        Ok(out)
    }

    pub async fn region(&self, code: &RegionCode) -> Result<Option<RegionRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM regions WHERE code = $1");
        with_pool!(self, p => {
            match sqlx::query(&sql).bind(code.as_str()).fetch_optional(p).await? {
                Some(r) => Ok(Some(row_to_region(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// The regions with the given codes, in the order of `codes`, skipping unknown ones.
    pub async fn regions(&self, codes: &[RegionCode]) -> Result<Vec<RegionRow>, StoreError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = with_pool!(self, p => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM regions WHERE code IN ("));
            let mut sep = qb.separated(", ");
            for c in codes {
                sep.push_bind(c.as_str());
            }
            qb.push(")");
            qb.build().fetch_all(p).await?.iter().map(row_to_region).collect::<Result<Vec<_>, _>>()?
        });
        rows.sort_by_key(|r| codes.iter().position(|c| c.as_str() == r.code));
        Ok(rows)
    }

    pub async fn children(&self, code: &RegionCode) -> Result<Vec<RegionRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM regions WHERE parent_code = $1 ORDER BY code");
        with_pool!(self, p => {
            sqlx::query(&sql).bind(code.as_str()).fetch_all(p).await?.iter().map(row_to_region).collect()
        })
    }

    /// Number of regions of each level inside the subtree of `code` (itself excluded).
    pub async fn subtree_counts(&self, code: &RegionCode) -> Result<Vec<(Level, i64)>, StoreError> {
        let (lo, hi) = code.subtree_range();
        let rows = with_pool!(self, p => {
            sqlx::query("SELECT level, COUNT(*) AS n FROM regions WHERE code >= $1 AND code < $2 AND code <> $3 GROUP BY level")
                .bind(&lo)
                .bind(&hi)
                .bind(code.as_str())
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>("level")?, r.try_get::<i64, _>("n")?)))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let mut out: Vec<(Level, i64)> = rows
            .into_iter()
            .filter_map(|(l, n)| Level::parse(&l).map(|l| (l, n)))
            .collect();
        out.sort();
        Ok(out)
    }

    /// All regions of one level inside a subtree, in code order.
    pub async fn subtree_level(
        &self,
        code: &RegionCode,
        level: Level,
    ) -> Result<Vec<RegionRow>, StoreError> {
        let (lo, hi) = code.subtree_range();
        let sql = format!(
            "SELECT {COLUMNS} FROM regions WHERE code >= $1 AND code < $2 AND level = $3 ORDER BY code"
        );
        with_pool!(self, p => {
            sqlx::query(&sql).bind(&lo).bind(&hi).bind(level.as_str()).fetch_all(p).await?.iter().map(row_to_region).collect()
        })
    }

    /// The stored GeoJSON geometry of a region, if it has one.
    pub async fn geometry(&self, code: &RegionCode) -> Result<Option<String>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query("SELECT geometry FROM regions WHERE code = $1").bind(code.as_str()).fetch_optional(p).await?;
            Ok(match row {
                Some(r) => r.try_get::<Option<String>, _>("geometry")?,
                None => None,
            })
        })
    }

    /// Children with their geometry, for drawing a level of the map.
    pub async fn children_with_geometry(
        &self,
        code: &RegionCode,
    ) -> Result<Vec<(RegionRow, Option<String>)>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS}, geometry FROM regions WHERE parent_code = $1 ORDER BY code");
        with_pool!(self, p => {
            sqlx::query(&sql)
                .bind(code.as_str())
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((row_to_region(r)?, r.try_get::<Option<String>, _>("geometry")?)))
                .collect()
        })
    }

    /// Leaves for the point index: micro-grids, and grids that have no micro-grids.
    pub async fn leaf_regions(&self) -> Result<Vec<LeafRegion>, StoreError> {
        let sql = "SELECT code, geometry FROM regions r WHERE geometry IS NOT NULL AND (level = 'micro_grid' \
                   OR (level = 'grid' AND NOT EXISTS (SELECT 1 FROM regions c WHERE c.parent_code = r.code))) \
                   ORDER BY code";
        let raw: Vec<(String, String)> = with_pool!(self, p => {
            sqlx::query(sql)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>("code")?, r.try_get::<String, _>("geometry")?)))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        raw.into_iter()
            .map(|(code, g)| {
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
        with_pool!(self, p => {
            sqlx::query("SELECT code, name FROM regions WHERE level <> 'micro_grid' ORDER BY code")
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>("code")?, r.try_get::<String, _>("name")?)))
                .collect()
        })
    }

    /// The code of the territory's root (the city), if any region is stored.
    pub async fn root_code(&self) -> Result<Option<String>, StoreError> {
        with_pool!(self, p => {
            sqlx::query("SELECT code FROM regions WHERE parent_code IS NULL ORDER BY code LIMIT 1")
                .fetch_optional(p)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()
                .map_err(StoreError::from)
        })
    }

    /// Code and name of every micro-grid.
    pub async fn leaf_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        with_pool!(self, p => {
            sqlx::query("SELECT code, name FROM regions WHERE level = 'micro_grid' ORDER BY code")
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>("code")?, r.try_get::<String, _>("name")?)))
                .collect()
        })
    }
}
