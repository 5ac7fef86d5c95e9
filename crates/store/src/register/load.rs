//! Loading the synthetic register: a generator thread makes and seals rows grid by grid while
//! the writer stores the previous batch, each batch in one transaction together with the
//! grids it completes (`register_loads`) and its count deltas. A load stopped at any point
//! resumes where it stopped; a load run twice writes nothing the second time.

use super::batch::{
    AssignmentRow, BuildingRow, CompoundRow, HouseholdRow, LoadRow, ResidentRow, RoomRow, StaffRow,
    TagRow,
};
use super::batch::{Batch, NonceRng, Stamp};
use super::bulk::{SqliteStatements, copy_text, pg_copy, sqlite_insert};
use crate::StoreError;
use crate::backend::{Pool, Store, with_pool};
use rand::SeedableRng;
use shezhi_domain::people::Date;
use shezhi_domain::people::privacy::Vault;
use shezhi_domain::synth::{GridPlan, generate_grid};
use sqlx::Row;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to generate.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub plans: Vec<GridPlan>,
    pub seed: u64,
    pub as_of: Date,
}

/// How to run a load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Rows per transaction.
    pub batch_rows: usize,
    /// Set to stop after the batch being written; the load can be resumed later.
    pub cancel: Arc<AtomicBool>,
    /// Wall-clock time stamped on the rows (epoch ms).
    pub now_ms: i64,
}

impl LoadOptions {
    pub fn new(now_ms: i64) -> LoadOptions {
        LoadOptions {
            batch_rows: 200_000,
            cancel: Arc::new(AtomicBool::new(false)),
            now_ms,
        }
    }
}

/// Where a running load is.
#[derive(Debug, Clone, Copy)]
pub struct LoadProgress {
    pub grids_done: usize,
    pub grids_total: usize,
    pub rows_done: u64,
    pub elapsed: Duration,
}

/// The outcome of a load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadReport {
    /// Grids written by this run.
    pub grids_loaded: usize,
    /// Grids that an earlier run had already written.
    pub grids_skipped: usize,
    pub rows: u64,
    pub elapsed: Duration,
    /// Stopped early through `LoadOptions::cancel`.
    pub cancelled: bool,
}

impl LoadReport {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The raw baseline of a benchmark: the same rows inserted without generation, sealing,
/// counts or bookkeeping, timing only the database work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawReport {
    pub rows: u64,
    pub insert_time: Duration,
}

impl RawReport {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.insert_time.as_secs_f64().max(1e-9)
    }
}

const SETTING_KEY_FINGERPRINT: &str = "data_key_fingerprint";

impl Store {
    /// The fingerprint of the data key this database was bound to, if any (read only).
    pub async fn data_key_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(with_pool!(self, p => {
            sqlx::query("SELECT value FROM settings WHERE key = $1")
                .bind(SETTING_KEY_FINGERPRINT).fetch_optional(p).await?
                .map(|r| r.try_get::<String, _>(0)).transpose()?
        }))
    }

    /// Record the data key's fingerprint on first use, and refuse a different key later:
    /// records sealed under one key cannot be read under another.
    pub async fn bind_data_key(&self, vault: &Vault) -> Result<(), StoreError> {
        let fp = vault.fingerprint();
        let stored: Option<String> = with_pool!(self, p => {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(SETTING_KEY_FINGERPRINT).bind(fp).execute(p).await?;
            sqlx::query("SELECT value FROM settings WHERE key = $1")
                .bind(SETTING_KEY_FINGERPRINT).fetch_optional(p).await?
                .map(|r| r.try_get::<String, _>(0)).transpose()?
        });
        match stored {
            Some(s) if s != fp => Err(StoreError::refused(
                "data_key_mismatch",
                format!(
                    "数据密钥与该数据库不符（库中指纹 {s}，配置密钥指纹 {fp}）。请使用写入这些数据时的密钥"
                ),
                format!(
                    "the data key does not match this database (stored fingerprint {s}, configured key {fp}); use the key the data was written with"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Grid codes already loaded, after checking they were made with the same seed and date.
    async fn loaded_grids(&self, seed: u64, as_of: Date) -> Result<HashSet<String>, StoreError> {
        let rows = with_pool!(self, p => {
            sqlx::query("SELECT grid_code, seed, as_of FROM register_loads")
                .fetch_all(p).await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?, r.try_get::<String, _>(2)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        if let Some((_, s, d)) = rows
            .iter()
            .find(|(_, s, d)| *s != seed as i64 || *d != as_of.to_string())
        {
            return Err(StoreError::refused(
                "register_seed_mismatch",
                format!(
                    "数据库中的人口房屋数据由种子 {s}（截至 {d}）生成，与本次的种子 {seed}（截至 {as_of}）不同。请使用相同参数，或改用新的数据库"
                ),
                format!(
                    "the register in this database was generated with seed {s} as of {d}, not seed {seed} as of {as_of}; use the same parameters or a fresh database"
                ),
            ));
        }
        Ok(rows.into_iter().map(|(g, _, _)| g).collect())
    }

    /// Generate and store the register of every planned grid not stored yet.
    pub async fn load_register(
        &self,
        spec: LoadSpec,
        vault: Arc<Vault>,
        opts: LoadOptions,
        mut progress: impl FnMut(&LoadProgress),
    ) -> Result<LoadReport, StoreError> {
        let started = Instant::now();
        self.bind_data_key(&vault).await?;
        let done = self.loaded_grids(spec.seed, spec.as_of).await?;
        let total = spec.plans.len();
        let todo: Vec<GridPlan> = spec
            .plans
            .into_iter()
            .filter(|p| !done.contains(&p.code))
            .collect();
        let skipped = total - todo.len();
        if todo.is_empty() {
            return Ok(LoadReport {
                grids_loaded: 0,
                grids_skipped: skipped,
                rows: 0,
                elapsed: started.elapsed(),
                cancelled: false,
            });
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(Batch, usize)>(2);
        let cancel = opts.cancel.clone();
        let (seed, as_of, now_ms, batch_rows) =
            (spec.seed, spec.as_of, opts.now_ms, opts.batch_rows);
        let producer = std::thread::Builder::new()
            .name("register-generator".into())
            .spawn(move || {
                let mut rng = NonceRng::from_os_rng();
                let mut batch = Batch::default();
                let mut grids = 0;
                for plan in &todo {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let reg = generate_grid(plan, seed, as_of);
                    batch.add_grid(
                        plan,
                        &reg,
                        &vault,
                        &mut rng,
                        Stamp {
                            seed,
                            as_of,
                            now_ms,
                        },
                    );
                    grids += 1;
                    if batch.rows() >= batch_rows {
                        if tx
                            .blocking_send((std::mem::take(&mut batch), grids))
                            .is_err()
                        {
                            return;
                        }
                        grids = 0;
                    }
                }
                if grids > 0 {
                    let _ = tx.blocking_send((batch, grids));
                }
            })
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the generator thread: {e}"))
            })?;
        let mut report = LoadReport {
            grids_loaded: 0,
            grids_skipped: skipped,
            rows: 0,
            elapsed: Duration::ZERO,
            cancelled: false,
        };
        let mut writer = Writer::new(self).await?;
        while let Some((batch, grids)) = rx.recv().await {
            writer.write(&batch, true).await?;
            report.grids_loaded += grids;
            report.rows += batch.rows() as u64;
            progress(&LoadProgress {
                grids_done: skipped + report.grids_loaded,
                grids_total: total,
                rows_done: report.rows,
                elapsed: started.elapsed(),
            });
            if opts.cancel.load(Ordering::Relaxed) {
                report.cancelled = true;
                break;
            }
        }
        drop(rx);
        writer.finish().await?;
        let _ = producer.join();
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Benchmark baseline: generate each batch (untimed), then insert its rows with the
    /// backend's bulk path and nothing else (timed). Writes into this store's tables.
    pub async fn raw_insert_baseline(
        &self,
        spec: LoadSpec,
        vault: &Vault,
        batch_rows: usize,
    ) -> Result<RawReport, StoreError> {
        let mut rng = NonceRng::from_os_rng();
        let mut writer = Writer::new(self).await?;
        let mut report = RawReport {
            rows: 0,
            insert_time: Duration::ZERO,
        };
        let mut batch = Batch::default();
        let n = spec.plans.len();
        for (i, plan) in spec.plans.iter().enumerate() {
            let reg = generate_grid(plan, spec.seed, spec.as_of);
            batch.add_grid(
                plan,
                &reg,
                vault,
                &mut rng,
                Stamp {
                    seed: spec.seed,
                    as_of: spec.as_of,
                    now_ms: 0,
                },
            );
            if batch.rows() >= batch_rows || i + 1 == n {
                let prepared = writer.prepare(&batch);
                let t = Instant::now();
                writer.write_prepared(&batch, prepared, false).await?;
                report.insert_time += t.elapsed();
                report.rows += batch.rows() as u64;
                batch = Batch::default();
            }
        }
        let t = Instant::now();
        writer.finish().await?;
        report.insert_time += t.elapsed();
        Ok(report)
    }

    /// Build any deferred index a stopped load left missing. Cheap when they exist.
    pub async fn ensure_register_indexes(&self) -> Result<(), StoreError> {
        for (name, on) in DEFERRED_INDEXES {
            let sql = format!("CREATE INDEX IF NOT EXISTS {name} ON {on}");
            with_pool!(self, p => sqlx::query(&sql).execute(p).await.map(|_| ()))?;
        }
        Ok(())
    }

    /// Digest of the whole loaded register: SHA-256 over the per-grid digests in code order.
    pub async fn register_digest(&self) -> Result<String, StoreError> {
        use sha2::{Digest, Sha256};
        let rows = with_pool!(self, p => {
            sqlx::query("SELECT grid_code, digest FROM register_loads ORDER BY grid_code")
                .fetch_all(p).await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let mut h = Sha256::new();
        for (g, d) in rows {
            h.update(g.as_bytes());
            h.update(b"=");
            h.update(d.as_bytes());
            h.update(b"\n");
        }
        Ok(shezhi_domain::people::privacy::hex(&h.finalize()))
    }
}

/// One connection held for the whole load.
enum Writer {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>, SqliteStatements),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// COPY text of every table of a batch, made before the clock starts in the baseline.
type CopyTexts = Option<[Vec<u8>; 9]>;

/// Indexes whose keys arrive in random order (keyed hashes, names). A bulk load drops them
/// and builds them again at the end, which sorts once instead of seeking once per row; every
/// other index follows the load order (region code, id) and is kept up to date as rows go in.
/// A load that stops early leaves them missing until the next load or server start rebuilds
/// them ([`Store::ensure_register_indexes`]). Definitions match the migrations.
const DEFERRED_INDEXES: &[(&str, &str)] = &[
    ("residents_id_lookup", "residents (id_lookup)"),
    ("residents_phone_lookup", "residents (phone_lookup)"),
    ("residents_name", "residents (name)"),
    ("staff_phone_lookup", "staff (phone_lookup)"),
];

/// Page cache for the load's connection: the lookup and name indexes are written in random
/// order and must stay in memory to be written fast.
const SQLITE_LOAD_CACHE_KIB: i64 = 1 << 20;

impl Writer {
    async fn new(store: &Store) -> Result<Writer, StoreError> {
        let drops: Vec<String> = DEFERRED_INDEXES
            .iter()
            .map(|(name, _)| format!("DROP INDEX IF EXISTS {name}"))
            .collect();
        Ok(match &store.pool {
            Pool::Sqlite(p) => {
                let mut c = p.acquire().await?;
                // The settings below are the load's alone: should the load stop half-way, the
                // connection is closed rather than handed back to the pool with them.
                c.close_on_drop();
                // Statement journals of the multi-row INSERTs stay in memory.
                // The load's transactions sync at checkpoints rather than at every commit: a
                // crash may lose the last batches but never leaves a torn one, and the load
                // resumes from the marks committed with its batches.
                let setup = [
                    format!("PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}"),
                    "PRAGMA temp_store = MEMORY".into(),
                    "PRAGMA synchronous = NORMAL".into(),
                ];
                for sql in setup.iter().chain(&drops) {
                    sqlx::query(sql).execute(&mut *c).await?;
                }
                Writer::Sqlite(c, SqliteStatements::default())
            }
            Pool::Postgres(p) => {
                let mut c = p.acquire().await?;
                for sql in &drops {
                    sqlx::query(sql).execute(&mut *c).await?;
                }
                Writer::Postgres(c)
            }
        })
    }

    fn prepare(&self, b: &Batch) -> CopyTexts {
        match self {
            Writer::Sqlite(..) => None,
            Writer::Postgres(_) => Some([
                copy_text(&b.compounds),
                copy_text(&b.buildings),
                copy_text(&b.rooms),
                copy_text(&b.households),
                copy_text(&b.residents),
                copy_text(&b.tags),
                copy_text(&b.staff),
                copy_text(&b.assignments),
                copy_text(&b.loads),
            ]),
        }
    }

    async fn write(&mut self, b: &Batch, bookkeeping: bool) -> Result<(), StoreError> {
        let prepared = self.prepare(b);
        self.write_prepared(b, prepared, bookkeeping).await
    }

    /// Write a batch in one transaction; with `bookkeeping`, also its counts and load marks.
    async fn write_prepared(
        &mut self,
        b: &Batch,
        texts: CopyTexts,
        bookkeeping: bool,
    ) -> Result<(), StoreError> {
        match self {
            Writer::Sqlite(conn, stmts) => {
                let mut tx = sqlx::Connection::begin(&mut **conn).await?;
                // Foreign keys are checked once at commit, not per statement.
                sqlx::query("PRAGMA defer_foreign_keys = ON")
                    .execute(&mut *tx)
                    .await?;
                sqlite_insert(&mut tx, stmts, &b.compounds).await?;
                sqlite_insert(&mut tx, stmts, &b.buildings).await?;
                sqlite_insert(&mut tx, stmts, &b.rooms).await?;
                sqlite_insert(&mut tx, stmts, &b.households).await?;
                sqlite_insert(&mut tx, stmts, &b.residents).await?;
                sqlite_insert(&mut tx, stmts, &b.tags).await?;
                sqlite_insert(&mut tx, stmts, &b.staff).await?;
                sqlite_insert(&mut tx, stmts, &b.assignments).await?;
                if bookkeeping {
                    super::counts::apply_counts!(sqlx::Sqlite, b.counts, tx)?;
                    sqlite_insert(&mut tx, stmts, &b.loads).await?;
                }
                tx.commit().await?;
            }
            Writer::Postgres(conn) => {
                let Some([c, bu, r, h, re, t, s, a, l]) = texts else {
                    return Err(StoreError::Corrupt("COPY text missing".into()));
                };
                let mut tx = sqlx::Connection::begin(&mut **conn).await?;
                pg_copy::<CompoundRow>(&mut tx, c).await?;
                pg_copy::<BuildingRow>(&mut tx, bu).await?;
                pg_copy::<RoomRow>(&mut tx, r).await?;
                pg_copy::<HouseholdRow>(&mut tx, h).await?;
                pg_copy::<ResidentRow>(&mut tx, re).await?;
                pg_copy::<TagRow>(&mut tx, t).await?;
                pg_copy::<StaffRow>(&mut tx, s).await?;
                pg_copy::<AssignmentRow>(&mut tx, a).await?;
                if bookkeeping {
                    super::counts::apply_counts!(sqlx::Postgres, b.counts, tx)?;
                    pg_copy::<LoadRow>(&mut tx, l).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Rebuild the deferred indexes and return the connection to normal settings.
    async fn finish(self) -> Result<(), StoreError> {
        let creates: Vec<String> = DEFERRED_INDEXES
            .iter()
            .map(|(name, on)| format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))
            .collect();
        match self {
            Writer::Sqlite(mut c, _) => {
                // Let the sorter use a second core for the index builds.
                sqlx::query("PRAGMA threads = 2").execute(&mut *c).await?;
                // Sampled statistics, so the planner can choose between the name and the region
                // index of a search.
                // The index pages still in the write-ahead log go to the database file first
                // (timed on their own), then the statistics, then the usual settings again.
                let tail = [
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                    "PRAGMA analysis_limit = 1000",
                    "ANALYZE",
                    "PRAGMA cache_size = -2000",
                    "PRAGMA temp_store = DEFAULT",
                    "PRAGMA threads = 0",
                    "PRAGMA synchronous = FULL",
                ];
                for sql in creates.iter().map(String::as_str).chain(tail) {
                    let t = Instant::now();
                    sqlx::query(sql).execute(&mut *c).await?;
                    tracing::info!(
                        sql,
                        seconds = t.elapsed().as_secs_f64(),
                        "register load: finishing"
                    );
                }
            }
            Writer::Postgres(mut c) => {
                sqlx::query("SET maintenance_work_mem = '512MB'")
                    .execute(&mut *c)
                    .await?;
                for sql in &creates {
                    sqlx::query(sql).execute(&mut *c).await?;
                }
                for sql in ["RESET maintenance_work_mem", "ANALYZE"] {
                    sqlx::query(sql).execute(&mut *c).await?;
                }
            }
        }
        Ok(())
    }
}
