//! Choosing and opening a backend from a URL: `sqlite://file.db` (WAL, busy timeout,
//! foreign keys) or `postgres://user@host:port/db`.

use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// `rows` in chunks for multi-row statements: chunks whose lengths are powers of two from
/// `max` (a power of two) down to 16, largest first, then the rest (fewer than 16) as one
/// chunk; a batch of 141 rows goes as 128 + 13. A multi-row statement's text depends on its
/// row count, and each connection keeps its prepared statements by text, so batches of every
/// size share a few dozen statements instead of preparing a new one of thousands of
/// parameters for almost every batch, while a small batch still takes one statement.
pub(crate) fn sized_chunks<T>(rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    debug_assert!(max.is_power_of_two() && max >= SMALL_CHUNK);
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = if rest.len() < SMALL_CHUNK {
            rest.len()
        } else {
            max.min(1 << rest.len().ilog2())
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// Below this many rows, [`sized_chunks`] sends the rest in one statement.
const SMALL_CHUNK: usize = 16;

/// Rows per multi-row statement in the write paths that take batches of any size.
pub(crate) const ROWS_PER_STATEMENT: usize = 256;

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The store: a connection pool to one database.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Category versions read so far. A stored version never changes, so entries are never
    /// invalidated; the cache belongs to the pool, hence to one database.
    pub(crate) categories: std::sync::Arc<std::sync::Mutex<crate::cases::CategoryCache>>,
    /// Handling units known to exist (units are added or renamed, never removed).
    pub(crate) units: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// The key of the audit chain, once bound (`Store::bind_audit_key`); shared by clones.
    pub(crate) audit_key: std::sync::Arc<std::sync::OnceLock<shezhi_domain::audit::AuditKey>>,
}

/// The connection as a PostgreSQL connection, if it is one. Code compiled for both backends
/// uses it to take a path only PostgreSQL has (array parameters, whose statement text does
/// not change with the number of rows, so the server parses and plans it once per connection).
pub(crate) fn as_postgres<C: std::any::Any>(conn: &mut C) -> Option<&mut sqlx::PgConnection> {
    (conn as &mut dyn std::any::Any).downcast_mut()
}

/// Run the same body against whichever pool the store holds. The body is compiled once per
/// backend, so it may only use SQL and types both accept.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite($pool) => $body,
            $crate::backend::Pool::Postgres($pool) => $body,
        }
    };
    // The same, naming the backend's `sqlx::Database` type for the body.
    ($store:expr, $pool:ident, $db:ident => $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::backend::Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

fn invalid(url: &str, reason: impl ToString) -> StoreError {
    StoreError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

impl Store {
    /// Open the database named by `url` and apply pending migrations.
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Store, StoreError> {
        let store = Store::connect(url, opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Open the database named by `url` without migrating.
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Store, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            let co = SqliteConnectOptions::from_str(url)
                .map_err(|e| invalid(url, e))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Statement journals (multi-row statements inside a transaction) in memory
                // rather than in temporary files.
                .pragma("temp_store", "memory");
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.connect_timeout)
                .connect_with(co)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let co = PgConnectOptions::from_str(url).map_err(|e| invalid(url, e))?;
            // No ping before each use: a connection the server dropped fails its first
            // statement and is then discarded, and every caller already answers a database
            // fault; the ping would cost every transaction a round trip.
            let pool = PgPoolOptions::new()
                .test_before_acquire(false)
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.connect_timeout)
                .connect_with(co)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Pool::Postgres(pool)
        } else {
            return Err(invalid(url, "scheme must be sqlite: or postgres:"));
        };
        Ok(Store {
            pool,
            categories: Default::default(),
            audit_key: Default::default(),
            units: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }
}

impl Store {
    /// Refresh the query planner's statistics where they are missing or stale; answers
    /// whether there was anything for this database to do. SQLite gathers none by itself:
    /// `PRAGMA optimize` analyses, sampling at most a few thousand rows of each index, every
    /// table whose statistics are missing or whose size has changed tenfold since. On
    /// PostgreSQL autovacuum keeps them.
    pub async fn refresh_statistics(&self) -> Result<bool, StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => {
                // 0x10000: look at every table, not only those this connection has queried;
                // 0x10: with the sampling limit; 0x2: analyse those that need it.
                sqlx::query("PRAGMA optimize = 0x10012").execute(p).await?;
                Ok(true)
            }
            Pool::Postgres(_) => Ok(false),
        }
    }

    /// Run one administrative statement outside a transaction (CREATE/DROP DATABASE).
    pub async fn execute_admin(&self, sql: &str) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::raw_sql(sql).execute(p).await.map(|_| ()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::sized_chunks;

    #[test]
    fn chunks_are_powers_of_two_largest_first_then_the_small_rest() {
        let rows: Vec<u32> = (0..1000).collect();
        for n in [0usize, 1, 2, 3, 15, 16, 17, 141, 256, 257, 511, 1000] {
            let lens: Vec<usize> = sized_chunks(&rows[..n], 256).map(<[u32]>::len).collect();
            let (last, big) = lens.split_last().map_or((0, &[][..]), |(l, b)| (*l, b));
            assert!(
                big.iter()
                    .all(|l| l.is_power_of_two() && (16..=256).contains(l)),
                "{n}: {lens:?}"
            );
            assert!(
                last <= 256 && (last < 16 || last.is_power_of_two()),
                "{n}: {lens:?}"
            );
            assert!(lens.windows(2).all(|w| w[0] >= w[1]), "{n}: {lens:?}");
            assert_eq!(lens.iter().sum::<usize>(), n);
            let joined: Vec<u32> = sized_chunks(&rows[..n], 256).flatten().copied().collect();
            assert_eq!(joined, rows[..n]);
        }
        let lens =
            |n: usize| -> Vec<usize> { sized_chunks(&rows[..n], 256).map(<[u32]>::len).collect() };
        assert_eq!(lens(141), [128, 13]);
        assert_eq!(lens(7), [7]);
        assert_eq!(lens(600), [256, 256, 64, 16, 8]);
    }
}
