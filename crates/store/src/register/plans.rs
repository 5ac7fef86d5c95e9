//! What the generator needs from the stored territory: every community and grid (so grid
//! ordinals, and so ids, do not depend on the scope) and the micro-grids of the scope with
//! their shapes (so buildings stand inside their micro-grid).

use crate::StoreError;
use crate::backend::{Store, with_pool};
use shezhi_domain::geometry::Shape;
use shezhi_domain::synth::{self, GridPlan};
use shezhi_domain::territory::{RegionCode, RegionKind, RegionRecord, Source};
use sqlx::Row;

type RawRegion = (String, Option<String>, i64, String, Option<String>);

fn record(raw: RawRegion) -> Result<RegionRecord, StoreError> {
    let (code, parent, households, kind, geometry) = raw;
    let bad = |what: String| StoreError::Corrupt(format!("region {code}: {what}"));
    let shape = match geometry {
        Some(g) => {
            let json: serde_json::Value =
                serde_json::from_str(&g).map_err(|e| bad(e.to_string()))?;
            Some(Shape::from_geojson(&json).map_err(|e| bad(e.to_string()))?)
        }
        None => None,
    };
    Ok(RegionRecord {
        code: RegionCode::parse(&code).map_err(|e| bad(e.to_string()))?,
        name: String::new(),
        parent: parent
            .map(|p| RegionCode::parse(&p))
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        kind: RegionKind::parse(&kind).ok_or_else(|| bad(format!("kind {kind}")))?,
        households_est: households,
        population_est: 0,
        shape,
        source: Source::Generated,
    })
}

impl Store {
    /// Plans for generating the register of every grid inside `scope`.
    pub async fn register_plans(&self, scope: &RegionCode) -> Result<Vec<GridPlan>, StoreError> {
        let (lo, hi) = scope.subtree_range();
        let mut raw: Vec<RawRegion> = with_pool!(self, p => {
            sqlx::query("SELECT code, parent_code, households_est, kind, NULL AS geometry FROM regions \
                         WHERE level IN ('community', 'grid') ORDER BY code")
                .fetch_all(p).await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get::<Option<String>, _>(4)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let cells: Vec<RawRegion> = with_pool!(self, p => {
            sqlx::query("SELECT code, parent_code, households_est, kind, geometry FROM regions \
                         WHERE level = 'micro_grid' AND code >= $1 AND code < $2 ORDER BY code")
                .bind(lo.as_str()).bind(hi.as_str())
                .fetch_all(p).await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        raw.extend(cells);
        let records = raw.into_iter().map(record).collect::<Result<Vec<_>, _>>()?;
        Ok(synth::plans(&records, scope))
    }
}
