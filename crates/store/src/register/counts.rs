//! Live counts per region (residents, households, key people by tag…) at every level of the
//! tree. Every change adds its deltas to the region and all its ancestors in the same
//! transaction, so a count is one indexed read at any level; [`Store::recount`] rebuilds the
//! same figures from the register itself to check them.

use crate::StoreError;
use crate::backend::{Store, with_pool};
use shezhi_domain::people::{KeyTag, Residence};
use shezhi_domain::territory::RegionCode;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

pub const COMPOUNDS: &str = "compounds";
pub const BUILDINGS: &str = "buildings";
pub const ROOMS: &str = "rooms";
pub const HOUSEHOLDS: &str = "households";
pub const RESIDENTS: &str = "residents";
pub const STAFF: &str = "staff";

pub fn residence_metric(r: Residence) -> &'static str {
    match r {
        Residence::Registered => "residence.registered",
        Residence::Floating => "residence.floating",
        Residence::Overseas => "residence.overseas",
    }
}

pub fn tag_metric(t: KeyTag) -> &'static str {
    match t {
        KeyTag::ElderlyAlone => "tag.elderly_alone",
        KeyTag::Over80 => "tag.over_80",
        KeyTag::Disabled => "tag.disabled",
        KeyTag::LowIncome => "tag.low_income",
        KeyTag::LeftBehindChild => "tag.left_behind_child",
        KeyTag::SevereMentalDisorder => "tag.severe_mental_disorder",
        KeyTag::CommunityCorrection => "tag.community_correction",
        KeyTag::Veteran => "tag.veteran",
        KeyTag::Pregnant => "tag.pregnant",
    }
}

/// Deltas to apply, keyed by (region code, metric).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts(pub(crate) HashMap<(String, String), i64>);

impl Counts {
    /// Add `delta` to `metric` of `code` and of every ancestor of `code`.
    pub fn add(&mut self, code: &str, metric: &str, delta: i64) {
        if delta == 0 {
            return;
        }
        let chain = match RegionCode::parse(code) {
            Ok(c) => {
                let mut v: Vec<String> = c
                    .ancestors()
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect();
                v.push(code.to_string());
                v
            }
            Err(_) => vec![code.to_string()],
        };
        for c in chain {
            *self.0.entry((c, metric.to_string())).or_default() += delta;
        }
    }

    pub fn merge(&mut self, other: Counts) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_default() += v;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(|v| *v == 0)
    }

    /// Rows to upsert, in a fixed order so that concurrent writers take row locks alike.
    pub(crate) fn sorted(&self) -> Vec<(&(String, String), &i64)> {
        let mut items: Vec<_> = self.0.iter().filter(|(_, v)| **v != 0).collect();
        items.sort();
        items
    }
}

/// Upsert the deltas of a [`Counts`] through a connection or transaction of either backend.
macro_rules! apply_counts {
    ($db:ty, $counts:expr, $conn:expr) => {{
        let items = $counts.sorted();
        let mut result: Result<(), sqlx::Error> = Ok(());
        for chunk in items.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO region_counts (region_code, metric, value) ",
            );
            qb.push_values(chunk, |mut b, ((code, metric), v)| {
                b.push_bind(code.as_str()).push_bind(metric.as_str()).push_bind(**v);
            });
            qb.push(" ON CONFLICT (region_code, metric) DO UPDATE SET value = region_counts.value + excluded.value");
            if let Err(e) = qb.build().execute(&mut *$conn).await {
                result = Err(e);
                break;
            }
        }
        result
    }};
}
pub(crate) use apply_counts;

impl Store {
    /// Stored counts of one region: metric → value.
    pub async fn region_counts(
        &self,
        code: &RegionCode,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows = with_pool!(self, p => {
            sqlx::query("SELECT metric, value FROM region_counts WHERE region_code = $1")
                .bind(code.as_str())
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows.into_iter().filter(|(_, v)| *v != 0).collect())
    }

    /// The same figures as [`Store::region_counts`], counted from the register itself.
    pub async fn recount(&self, code: &RegionCode) -> Result<BTreeMap<String, i64>, StoreError> {
        let (lo, hi) = code.subtree_range();
        let queries: [(&str, String); 7] = [
            (COMPOUNDS, "SELECT 'x', COUNT(*) FROM compounds WHERE grid_code >= $1 AND grid_code < $2".into()),
            (BUILDINGS, "SELECT 'x', COUNT(*) FROM buildings WHERE cell_code >= $1 AND cell_code < $2".into()),
            (ROOMS, "SELECT 'x', COUNT(*) FROM rooms WHERE cell_code >= $1 AND cell_code < $2".into()),
            (HOUSEHOLDS, "SELECT 'x', COUNT(*) FROM households WHERE cell_code >= $1 AND cell_code < $2 AND status = 'active'".into()),
            (RESIDENTS, "SELECT residence, COUNT(*) FROM residents WHERE cell_code >= $1 AND cell_code < $2 AND status = 'present' GROUP BY residence".into()),
            ("tag.", "SELECT t.tag, COUNT(*) FROM resident_tags t WHERE t.cell_code >= $1 AND t.cell_code < $2 AND t.cleared_on IS NULL GROUP BY t.tag".into()),
            (STAFF, "SELECT 'x', COUNT(*) FROM staff_assignments WHERE region_code >= $1 AND region_code < $2 AND until_date IS NULL".into()),
        ];
        let mut out = BTreeMap::new();
        for (metric, sql) in queries {
            let rows = with_pool!(self, p => {
                sqlx::query(&sql)
                    .bind(lo.as_str())
                    .bind(hi.as_str())
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            for (key, n) in rows {
                if n == 0 {
                    continue;
                }
                match metric {
                    RESIDENTS => {
                        *out.entry(RESIDENTS.to_string()).or_insert(0) += n;
                        out.insert(format!("residence.{key}"), n);
                    }
                    "tag." => {
                        out.insert(format!("tag.{key}"), n);
                    }
                    m => {
                        out.insert(m.to_string(), n);
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_codes() {
        for t in KeyTag::ALL {
            assert_eq!(tag_metric(*t), format!("tag.{}", t.as_str()));
        }
        for r in Residence::ALL {
            assert_eq!(residence_metric(*r), format!("residence.{}", r.as_str()));
        }
    }

    #[test]
    fn a_delta_reaches_every_ancestor() {
        let mut c = Counts::default();
        c.add("510104018001001002", RESIDENTS, 3);
        c.add("510104018001001", RESIDENTS, -1);
        let get = |code: &str| c.0.get(&(code.to_string(), RESIDENTS.to_string())).copied();
        assert_eq!(get("510104018001001002"), Some(3));
        assert_eq!(get("510104018001001"), Some(2));
        assert_eq!(get("510104018001"), Some(2));
        assert_eq!(get("510104018000"), Some(2));
        assert_eq!(get("510104000000"), Some(2));
        assert_eq!(get("510100000000"), Some(2));
    }
}
