//! Raw baselines for the case benchmarks, measured on the same database as the application:
//! what the database does with single-row commits, and with the bare minimum of a step
//! (append an event, update the row) in one transaction each. Nothing of the application
//! runs here.

use crate::StoreError;
use crate::backend::{Store, with_pool};
use std::time::{Duration, Instant};

impl Store {
    /// Commit `n` single-row inserts, one transaction each, and return the time taken.
    pub async fn bench_single_row_commits(&self, n: i64) -> Result<Duration, StoreError> {
        with_pool!(self, p => {
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS bench_raw (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)").execute(p).await?;
            sqlx::raw_sql("DELETE FROM bench_raw").execute(p).await?;
            let start = Instant::now();
            for i in 0..n {
                sqlx::query("INSERT INTO bench_raw (id, payload) VALUES ($1, $2)")
                    .bind(i).bind("小区门口占道摆摊，堵住消防通道").execute(p).await?;
            }
            Ok(start.elapsed())
        })
    }

    /// For each case id, `steps` transactions that each append an event and update the case
    /// row (stage, event count, time), with `tasks` of them running at once.
    pub async fn bench_raw_steps(
        &self,
        ids: &[i64],
        steps: i64,
        tasks: usize,
    ) -> Result<Duration, StoreError> {
        let start = Instant::now();
        let chunks: Vec<Vec<i64>> = ids
            .chunks(ids.len().div_ceil(tasks.max(1)).max(1))
            .map(<[i64]>::to_vec)
            .collect();
        let mut handles = Vec::new();
        for chunk in chunks {
            let store = self.clone();
            handles.push(tokio::spawn(async move {
                for id in chunk {
                    for s in 0..steps {
                        with_pool!(store, p => {
                            let mut tx = p.begin().await?;
                            sqlx::query("INSERT INTO case_events (case_id, seq, at_ms, step, actor, capacity, note, detail) VALUES ($1, $2, $3, 'bench', 'bench', 'bench', '', '{}')")
                                .bind(id).bind(1_000 + s).bind(s).execute(&mut *tx).await?;
                            sqlx::query("UPDATE cases SET stage = stage, events = events + 1, updated_at_ms = $1 WHERE id = $2")
                                .bind(s).bind(id).execute(&mut *tx).await?;
                            tx.commit().await?;
                        });
                    }
                }
                Ok::<(), StoreError>(())
            }));
        }
        for h in handles {
            h.await
                .map_err(|e| StoreError::Unavailable(format!("benchmark task: {e}")))??;
        }
        Ok(start.elapsed())
    }
}
