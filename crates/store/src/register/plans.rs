//! What the generator needs from the stored territory: every community and grid (so grid
//! ordinals, and so ids, do not depend on the scope) and the micro-grids of the scope with
//! their shapes (so buildings stand inside their micro-grid).

use crate::StoreError;
use crate::backend::Store;
use crate::db::{Row, Sql};
use shezhi_domain::geometry::Shape;
use shezhi_domain::synth::{self, GridPlan};
use shezhi_domain::territory::{RegionCode, RegionKind, RegionRecord, Source};

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
        let raw_region = |r: &Row| -> Result<RawRegion, sqlx::Error> {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        };
        let above = Sql::new(
            "SELECT code, parent_code, households_est, kind, NULL AS geometry FROM regions \
             WHERE level IN ('community', 'grid') ORDER BY code",
        );
        let mut raw: Vec<RawRegion> = self
            .fetch_all(&above)
            .await?
            .iter()
            .map(raw_region)
            .collect::<Result<_, _>>()?;
        let leaves = Sql::new(
            "SELECT code, parent_code, households_est, kind, geometry FROM regions \
             WHERE level = 'micro_grid' AND code >= $1 AND code < $2 ORDER BY code",
        )
        .bind(lo.as_str())
        .bind(hi.as_str());
        let cells: Vec<RawRegion> = self
            .fetch_all(&leaves)
            .await?
            .iter()
            .map(raw_region)
            .collect::<Result<_, _>>()?;
        raw.extend(cells);
        let records = raw.into_iter().map(record).collect::<Result<Vec<_>, _>>()?;
        Ok(synth::plans(&records, scope))
    }
}
