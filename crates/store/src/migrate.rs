//! Schema migrations: the same names on both backends, each applied once in its own
//! transaction and recorded in `schema_migrations`. On PostgreSQL an advisory lock keeps
//! several nodes starting at once from applying one twice.

use crate::StoreError;
use crate::backend::{Pool, Store, with_pool};

struct Migration {
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($name:literal) => {
        Migration {
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!("0001_territory"),
    migration!("0002_register"),
    migration!("0003_access"),
    migration!("0004_cases"),
    migration!("0005_campaigns"),
    migration!("0006_campaign_buildings"),
    migration!("0007_hot_rows"),
    migration!("0008_counter_log"),
    migration!("0009_list_indexes"),
    migration!("0010_case_search"),
    migration!("0011_masked_identity"),
    migration!("0012_audit_keyed"),
    migration!("0013_public_text"),
];

impl Store {
    /// Apply every migration not yet recorded.
    pub async fn migrate(&self) -> Result<Vec<&'static str>, StoreError> {
        with_pool!(self, p => sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY NOT NULL, applied_at_ms BIGINT NOT NULL)"
        ).execute(p).await.map(|_| ()))?;
        let mut applied = Vec::new();
        for m in MIGRATIONS {
            let done = match &self.pool {
                Pool::Sqlite(p) => {
                    let mut tx = p.begin().await?;
                    // Take the write lock first so that two processes serialise here.
                    sqlx::query("UPDATE schema_migrations SET name = name WHERE 0")
                        .execute(&mut *tx)
                        .await?;
                    let fresh = apply(&mut tx, m.name, m.sqlite).await?;
                    tx.commit().await?;
                    fresh
                }
                Pool::Postgres(p) => {
                    let mut tx = p.begin().await?;
                    sqlx::query("SELECT pg_advisory_xact_lock(7405736)")
                        .execute(&mut *tx)
                        .await?;
                    let fresh = apply(&mut tx, m.name, m.postgres).await?;
                    tx.commit().await?;
                    fresh
                }
            };
            if done {
                tracing::info!(migration = m.name, "applied migration");
                applied.push(m.name);
            }
        }
        Ok(applied)
    }
}

async fn apply<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    name: &str,
    sql: &str,
) -> Result<bool, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    i64: for<'r> sqlx::Decode<'r, DB>,
{
    let seen: i64 = {
        use sqlx::Row;
        let row = sqlx::query("SELECT COUNT(*) FROM schema_migrations WHERE name = $1")
            .bind(name)
            .fetch_one(&mut **tx)
            .await?;
        row.try_get(0)?
    };
    if seen > 0 {
        return Ok(false);
    }
    sqlx::raw_sql(sql).execute(&mut **tx).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    sqlx::query("INSERT INTO schema_migrations (name, applied_at_ms) VALUES ($1, $2)")
        .bind(name)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}
