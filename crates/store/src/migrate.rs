//! Schema migrations: the same names on both backends, each applied once in its own
//! transaction and recorded in `schema_migrations`. On PostgreSQL an advisory lock keeps
//! several nodes starting at once from applying one twice.

use crate::StoreError;
use crate::backend::{Backend, Store};
use crate::db::{Conn, Sql};

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
        self.execute(&Sql::new(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY NOT NULL, applied_at_ms BIGINT NOT NULL)",
        ))
        .await?;
        let mut applied = Vec::new();
        for m in MIGRATIONS {
            let mut tx = self.begin().await?;
            let (lock, script) = match self.backend() {
                // Take the write lock first so that two processes serialise here.
                Backend::Sqlite => ("UPDATE schema_migrations SET name = name WHERE 0", m.sqlite),
                // Several nodes starting at once wait for each other here.
                Backend::Postgres => ("SELECT pg_advisory_xact_lock(7405736)", m.postgres),
            };
            tx.conn().execute(&Sql::new(lock)).await?;
            let fresh = apply(&mut tx.conn(), m.name, script).await?;
            tx.commit().await?;
            if fresh {
                tracing::info!(migration = m.name, "applied migration");
                applied.push(m.name);
            }
        }
        Ok(applied)
    }
}

/// Apply one migration's script unless it is recorded already; whether it was applied.
async fn apply(conn: &mut Conn<'_>, name: &str, script: &str) -> Result<bool, StoreError> {
    let seen = conn
        .fetch_one(&Sql::new("SELECT COUNT(*) FROM schema_migrations WHERE name = $1").bind(name))
        .await?
        .get::<i64>(0)?;
    if seen > 0 {
        return Ok(false);
    }
    conn.script(script).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    conn.execute(
        &Sql::new("INSERT INTO schema_migrations (name, applied_at_ms) VALUES ($1, $2)")
            .bind(name)
            .bind(now),
    )
    .await?;
    Ok(true)
}
