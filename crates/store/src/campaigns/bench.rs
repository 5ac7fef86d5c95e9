//! Raw baselines for `shezhi bench campaigns`: the same rows written with nothing of the
//! application around them, on the same database in the same run.

use super::VisitIn;
use crate::StoreError;
use crate::backend::{Store, with_pool};

impl Store {
    /// Fills a benchmark database with `n` households spread over `cells` (micro-grids),
    /// each cell with one compound, building and room to hang them on. Returns the count.
    pub async fn bench_fill_households(&self, cells: &[String], n: i64) -> Result<i64, StoreError> {
        with_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for (chunk_no, chunk) in cells.chunks(2_000).enumerate() {
                let base = (chunk_no * 2_000) as i64;
                let rows: Vec<(i64, &String)> = chunk.iter().enumerate().map(|(i, c)| (base + i as i64 + 1, c)).collect();
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO compounds (id, grid_code, name, kind, lon, lat) ");
                qb.push_values(&rows, |mut b, (id, c)| {
                    b.push_bind(*id).push_bind(&c[..15]).push_bind("测试小区").push_bind("compound").push_bind(104.0).push_bind(30.6);
                });
                qb.build().execute(&mut *tx).await?;
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO buildings (id, compound_id, cell_code, name, floors, units, lon, lat) ");
                qb.push_values(&rows, |mut b, (id, c)| {
                    b.push_bind(*id).push_bind(*id).push_bind(c.as_str()).push_bind("1栋").push_bind(6_i64).push_bind(2_i64).push_bind(104.0).push_bind(30.6);
                });
                qb.build().execute(&mut *tx).await?;
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO rooms (id, building_id, cell_code, unit, floor, label) ");
                qb.push_values(&rows, |mut b, (id, c)| {
                    b.push_bind(*id).push_bind(*id).push_bind(c.as_str()).push_bind(1_i64).push_bind(1_i64).push_bind("101");
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            let per_tx = 100_000;
            let mut next = 0_i64;
            while next < n {
                let mut tx = p.begin().await?;
                let end = (next + per_tx).min(n);
                let mut i = next;
                while i < end {
                    let stop = (i + 5_000).min(end);
                    let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO households (id, room_id, cell_code, status, since_date, updated_at_ms) ");
                    qb.push_values(i..stop, |mut b, k| {
                        let cell = (k as usize) % cells.len();
                        b.push_bind(k + 1).push_bind(cell as i64 + 1).push_bind(cells[cell].as_str()).push_bind("active").push_bind("2020-01-01").push_bind(0_i64);
                    });
                    qb.build().execute(&mut *tx).await?;
                    i = stop;
                }
                tx.commit().await?;
                next = end;
            }
            Ok(n)
        })
    }

    /// The raw baseline of making a campaign: the same task rows, into a table of the same
    /// shape and indexes, by one bare `INSERT … SELECT`. Returns the rows written.
    pub async fn bench_raw_tasks(&self) -> Result<i64, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("CREATE TABLE bench_raw_tasks (campaign_id BIGINT NOT NULL, household_id BIGINT NOT NULL, cell_code TEXT NOT NULL, \
                         round BIGINT NOT NULL, status TEXT NOT NULL, outcome TEXT, visited_at_ms BIGINT, client_id TEXT, visits BIGINT NOT NULL DEFAULT 0, \
                         revisit_due_ms BIGINT, PRIMARY KEY (campaign_id, household_id))").execute(&mut *tx).await?;
            sqlx::query("CREATE INDEX bench_raw_tasks_cell ON bench_raw_tasks (campaign_id, cell_code, household_id)").execute(&mut *tx).await?;
            let n = sqlx::query("INSERT INTO bench_raw_tasks (campaign_id, household_id, cell_code, round, status) \
                                 SELECT 1, id, cell_code, 1, 'pending' FROM households WHERE status = 'active'")
                .execute(&mut *tx).await?.rows_affected() as i64;
            tx.commit().await?;
            Ok(n)
        })
    }

    /// The raw baseline of a visit batch: insert each visit and update its task, in one
    /// transaction, with no checks, no conflict rule and no counters.
    pub async fn bench_raw_visits(
        &self,
        campaign: i64,
        visits: &[VisitIn],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            if self.backend() == crate::Backend::Sqlite {
                sqlx::query("UPDATE campaigns SET id = id WHERE 0 = 1").execute(&mut *tx).await?;
            }
            for v in visits {
                sqlx::query("INSERT INTO campaign_visits (campaign_id, round, household_id, client_id, worker, visited_at_ms, received_at_ms, outcome, answers, finding) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(campaign).bind(v.round).bind(v.household_id).bind(format!("raw-{}", v.client_id)).bind("user:bench")
                    .bind(v.visited_at_ms).bind(now_ms).bind(v.outcome.as_str()).bind(serde_json::to_string(&v.answers).unwrap_or_default())
                    .bind(v.finding.as_deref()).execute(&mut *tx).await?;
                sqlx::query("UPDATE campaign_tasks SET status = 'done', outcome = $1, visits = visits + 1 WHERE campaign_id = $2 AND household_id = $3")
                    .bind(v.outcome.as_str()).bind(campaign).bind(v.household_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
