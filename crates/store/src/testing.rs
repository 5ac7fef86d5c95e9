//! Test support: each test gets its own fresh database on the backend it names. SQLite
//! databases are files in the temp directory; PostgreSQL databases are created on the
//! server named by `SHEZHI_TEST_POSTGRES_URL` (default: the machine's own cluster) and
//! dropped afterwards. PostgreSQL is mandatory: an unreachable server fails the test.

use crate::{Backend, Store, StoreOptions};
use shezhi_domain::territory::generate::chengdu;
use shezhi_domain::territory::{Level, RegionRecord};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The generated city restricted to one district (锦江区, 510104) with all its cells:
/// small enough to load per test, and it has every level.
pub fn one_district() -> &'static Vec<RegionRecord> {
    static T: OnceLock<Vec<RegionRecord>> = OnceLock::new();
    T.get_or_init(|| {
        let all = chengdu().unwrap_or_else(|e| panic!("territory generation failed: {e}"));
        all.into_iter()
            .filter(|r| r.level() == Level::City || r.code.as_str().starts_with("510104"))
            .collect()
    })
}

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The admin URL of the test PostgreSQL server.
pub fn postgres_admin_url() -> String {
    std::env::var("SHEZHI_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{prefix}/{db}{query}")
}

/// A fresh database and how to get rid of it.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin: String, name: String },
}

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("shezhi_t_{}_{n}_{nanos}", std::process::id())
}

impl TestDb {
    /// An empty, migrated database on `backend`.
    pub async fn fresh(backend: Backend) -> TestDb {
        let name = unique_name();
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                (format!("sqlite://{}", path.display()), Cleanup::File(path))
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let hint = "start PostgreSQL (scripts/test.sh starts the machine's cluster) or point \
                            SHEZHI_TEST_POSTGRES_URL at a server where you may CREATE DATABASE";
                let admin_store = Store::connect(&admin, &StoreOptions { max_connections: 1, ..Default::default() })
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL is required for the tests and is unreachable at {admin}: {e}; {hint}"));
                admin_store
                    .execute_admin(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}; {hint}"));
                admin_store.close().await;
                (
                    with_database(&admin, &name),
                    Cleanup::Database { admin, name },
                )
            }
        };
        let store = Store::open(&url, &StoreOptions::default())
            .await
            .unwrap_or_else(|e| panic!("cannot open test database {url}: {e}"));
        TestDb {
            store,
            url,
            cleanup,
        }
    }

    /// Close the pool and remove the database.
    pub async fn cleanup(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Database { admin, name } => {
                if let Ok(s) = Store::connect(
                    &admin,
                    &StoreOptions {
                        max_connections: 1,
                        ..Default::default()
                    },
                )
                .await
                {
                    let _ = s
                        .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    s.close().await;
                }
            }
        }
    }
}

/// Run `test` on a fresh database of `backend`, then remove the database.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDb::fresh(backend).await;
    test(db.store.clone()).await;
    db.cleanup().await;
}

/// Declare async tests `fn(Store)` that run once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::testing::run($crate::Backend::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::testing::run($crate::Backend::Postgres, super::$name).await
            }
        }
    )*};
}

/// A transaction (rolled back when dropped) in which PostgreSQL plans without sequential
/// scans, so that a plan shows which index could serve a query even on a small table.
async fn without_seqscan(
    p: &sqlx::PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = p.begin().await?;
    sqlx::raw_sql("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The lines of a SQLite plan: the detail column of `EXPLAIN QUERY PLAN`'s rows (id, parent,
/// notused, detail).
fn plan_details(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<String>, sqlx::Error> {
    rows.iter().map(|r| sqlx::Row::try_get(r, 3)).collect()
}

impl Store {
    /// Make the database refuse every case event whose note is `note` (a trigger raising an
    /// error), to test what the writers do when the database fails part-way.
    pub async fn debug_fail_events_noted(&self, note: &str) -> Result<(), crate::StoreError> {
        let quoted = note.replace('\'', "''");
        match &self.pool {
            crate::backend::Pool::Postgres(p) => {
                sqlx::raw_sql(&format!(
                    "CREATE FUNCTION fail_noted() RETURNS trigger AS $f$ BEGIN \
                       IF NEW.note = '{quoted}' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
                       RETURN NEW; END $f$ LANGUAGE plpgsql; \
                     CREATE TRIGGER fail_noted BEFORE INSERT ON case_events \
                       FOR EACH ROW EXECUTE FUNCTION fail_noted();"
                ))
                .execute(p)
                .await?;
            }
            crate::backend::Pool::Sqlite(p) => {
                sqlx::raw_sql(&format!(
                    "CREATE TRIGGER fail_noted BEFORE INSERT ON case_events \
                       WHEN NEW.note = '{quoted}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
                ))
                .execute(p)
                .await?;
            }
        }
        Ok(())
    }

    /// How the database reads idempotency keys seen before (two pairs asked): the plan's
    /// lines, on PostgreSQL with sequential scans ruled out, so that the lines say which
    /// conditions the primary key serves.
    pub async fn debug_key_lookup_plan(&self) -> Result<Vec<String>, crate::StoreError> {
        let sql = crate::cases::intake::seen_keys_sql(2);
        let lines = match &self.pool {
            crate::backend::Pool::Postgres(p) => {
                let mut tx = without_seqscan(p).await?;
                let pg_sql = format!("EXPLAIN {sql}");
                let mut q = sqlx::query_scalar::<_, String>(&pg_sql);
                for v in ["p1", "k1", "p2", "k2"] {
                    q = q.bind(v);
                }
                q.fetch_all(&mut *tx).await?
            }
            crate::backend::Pool::Sqlite(p) => {
                let sqlite_sql = format!("EXPLAIN QUERY PLAN {sql}");
                let mut q = sqlx::query(&sqlite_sql);
                for v in ["p1", "k1", "p2", "k2"] {
                    q = q.bind(v);
                }
                plan_details(&q.fetch_all(p).await?)?
            }
        };
        Ok(lines)
    }

    /// How the database reads the first page of a case list (see [`Store::cases`]): the plan's
    /// lines, on PostgreSQL with sequential scans ruled out.
    pub async fn debug_case_list_plan(
        &self,
        scopes: Option<&[shezhi_domain::territory::RegionCode]>,
        f: &crate::cases::CaseFilter,
    ) -> Result<Vec<String>, crate::StoreError> {
        use crate::cases::query::{SUMMARY_COLUMNS, case_list_query};
        let (due, id) = crate::cases::query::cursor_keys(None, f.newest_first);
        // The plan of the list's first condition on its words (the index, when it has one).
        let text = self.text_conditions(scopes, f).await?;
        let text = text.as_ref().and_then(|c| c.first());
        let lines = match &self.pool {
            crate::backend::Pool::Postgres(p) => {
                let mut tx = without_seqscan(p).await?;
                let head = format!("EXPLAIN SELECT {SUMMARY_COLUMNS}");
                let mut qb =
                    case_list_query!(sqlx::Postgres, head, scopes, f, due, id, 50, None, text);
                qb.build_query_scalar::<String>()
                    .fetch_all(&mut *tx)
                    .await?
            }
            crate::backend::Pool::Sqlite(p) => {
                let head = format!("EXPLAIN QUERY PLAN SELECT {SUMMARY_COLUMNS}");
                let mut qb =
                    case_list_query!(sqlx::Sqlite, head, scopes, f, due, id, 50, None, text);
                plan_details(&qb.build().fetch_all(p).await?)?
            }
        };
        Ok(lines)
    }

    /// [`Store::cases`] trying the given windows of the deadline order first (see
    /// `cases_in_windows`); also returns the window that served the page (None: the whole
    /// list).
    pub async fn debug_cases_in_windows(
        &self,
        scopes: Option<&[shezhi_domain::territory::RegionCode]>,
        f: &crate::cases::CaseFilter,
        cursor: Option<&str>,
        limit: i64,
        windows: &[i64],
    ) -> Result<(crate::cases::CaseList, Option<i64>), crate::StoreError> {
        self.cases_in_windows(scopes, f, cursor, limit, windows)
            .await
    }

    /// The tables the SQLite planner has statistics for (empty on PostgreSQL).
    pub async fn debug_tables_with_statistics(&self) -> Result<Vec<String>, crate::StoreError> {
        match &self.pool {
            crate::backend::Pool::Sqlite(p) => {
                let exists: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
                )
                .fetch_one(p)
                .await?;
                if exists == 0 {
                    return Ok(Vec::new());
                }
                Ok(
                    sqlx::query_scalar("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl")
                        .fetch_all(p)
                        .await?,
                )
            }
            crate::backend::Pool::Postgres(_) => Ok(Vec::new()),
        }
    }

    /// The audit chain as stored: each entry with its previous hash and its hash, in order.
    pub async fn debug_audit_rows(
        &self,
    ) -> Result<Vec<(shezhi_domain::audit::AuditEntry, String, String)>, crate::StoreError> {
        use sqlx::Row;
        Ok(crate::backend::with_pool!(self, p => {
            sqlx::query("SELECT seq, at_ms, actor, action, target, region_code, ip, detail, prev_hash, hash \
                         FROM audit_log ORDER BY seq")
                .fetch_all(p).await?
                .iter()
                .map(|r| Ok((shezhi_domain::audit::AuditEntry {
                    seq: r.try_get(0)?, at_ms: r.try_get(1)?, actor: r.try_get(2)?, action: r.try_get(3)?,
                    target: r.try_get(4)?, region_code: r.try_get(5)?, ip: r.try_get(6)?, detail: r.try_get(7)?,
                }, r.try_get(8)?, r.try_get(9)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }

    /// Replace the whole audit chain and its head by `rows` (the head: their last entry,
    /// keyed from `keyed_from`), as someone who can write the database could.
    pub async fn debug_rewrite_audit(
        &self,
        rows: &[(shezhi_domain::audit::AuditEntry, String, String)],
        keyed_from: Option<i64>,
    ) -> Result<(), crate::StoreError> {
        let (seq, hash) = rows.last().map_or(
            (0, shezhi_domain::audit::GENESIS.to_string()),
            |(e, _, h)| (e.seq, h.clone()),
        );
        crate::backend::with_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM audit_log").execute(&mut *tx).await?;
            for (e, prev, h) in rows {
                sqlx::query("INSERT INTO audit_log (seq, at_ms, actor, action, target, region_code, ip, detail, prev_hash, hash) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(e.seq).bind(e.at_ms).bind(e.actor.as_str()).bind(e.action.as_str()).bind(e.target.as_str())
                    .bind(e.region_code.as_deref()).bind(e.ip.as_deref()).bind(e.detail.as_str())
                    .bind(prev.as_str()).bind(h.as_str())
                    .execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, keyed_from = $3 WHERE id = 1")
                .bind(seq).bind(hash.as_str()).bind(keyed_from)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every row of a register or access table as text (PostgreSQL's row-to-text cast, bytea in hex), to
    /// search for values that must not be stored in clear.
    pub async fn debug_dump_table(&self, table: &str) -> Result<String, crate::StoreError> {
        const ALLOWED: &[&str] = &[
            "residents",
            "staff",
            "households",
            "resident_tags",
            "register_loads",
            "register_events",
            "staff_assignments",
            "users",
            "sessions",
            "audit_log",
        ];
        if !ALLOWED.contains(&table) {
            return Err(crate::StoreError::Corrupt(format!(
                "not a table the tests may dump: {table}"
            )));
        }
        match &self.pool {
            crate::backend::Pool::Postgres(p) => {
                let sql =
                    format!("SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM {table} t");
                let (s,): (String,) = sqlx::query_as(&sql).fetch_one(p).await?;
                Ok(s)
            }
            crate::backend::Pool::Sqlite(p) => {
                let sql = format!("SELECT * FROM {table}");
                let rows = sqlx::query(&sql).fetch_all(p).await?;
                let mut out = String::new();
                for r in rows {
                    use sqlx::{Column, Row, ValueRef};
                    for (i, c) in r.columns().iter().enumerate() {
                        let raw = r.try_get_raw(i)?;
                        if raw.is_null() {
                            continue;
                        }
                        let text = r
                            .try_get::<String, _>(i)
                            .or_else(|_| r.try_get::<i64, _>(i).map(|v| v.to_string()))
                            .or_else(|_| {
                                r.try_get::<Vec<u8>, _>(i)
                                    .map(|v| String::from_utf8_lossy(&v).into_owned())
                            })
                            .unwrap_or_default();
                        out.push_str(c.name());
                        out.push('=');
                        out.push_str(&text);
                        out.push('\t');
                    }
                    out.push('\n');
                }
                Ok(out)
            }
        }
    }
}
