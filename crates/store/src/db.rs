//! The one place where the store meets its two databases. Use-case code builds a statement
//! once ([`Sql`]: text with `$n` placeholders, which both SQLite and PostgreSQL read, and its
//! values as [`Arg`]s), runs it on a [`Conn`] (a pooled connection or an open [`Tx`]) and
//! reads [`Row`]s; only this module matches on the backend to bind and run. What the
//! dialects do differently is asked of [`Backend`] by name (`lock_for_update`,
//! `indexed_by`, `supports_arrays`), so that a newcomer finds every dialect choice here.

use crate::backend::{Backend, Pool, Store};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

/// A value bound to a placeholder. Arrays are PostgreSQL's: a multi-row write as one
/// parameter per column, so that the statement's text does not depend on the row count.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    F64(f64),
    OptF64(Option<f64>),
    Text(String),
    OptText(Option<String>),
    Bytes(Vec<u8>),
    I64s(Vec<i64>),
    F64s(Vec<f64>),
    Texts(Vec<String>),
    OptTexts(Vec<Option<String>>),
    OptI64s(Vec<Option<i64>>),
}

macro_rules! arg_from {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::$v(v.into())
            }
        }
    )*};
}

arg_from! {
    i64 => I64, i32 => I64, u32 => I64, Option<i64> => OptI64, f64 => F64,
    Option<f64> => OptF64, String => Text, &str => Text, &String => Text,
    Option<String> => OptText, Vec<u8> => Bytes, Vec<i64> => I64s, Vec<f64> => F64s,
    Vec<String> => Texts, Vec<Option<String>> => OptTexts, Vec<Option<i64>> => OptI64s,
}

impl From<bool> for Arg {
    /// Flags are stored as 0 or 1 on both databases.
    fn from(v: bool) -> Arg {
        Arg::I64(i64::from(v))
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::OptText(v.map(str::to_string))
    }
}

impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Arg {
        Arg::Bytes(v.to_vec())
    }
}

impl From<usize> for Arg {
    fn from(v: usize) -> Arg {
        Arg::I64(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

/// A statement and its values. Written whole (`Sql::new("… $1 …").bind(x)`) or built piece
/// by piece (`push`, `push_bind`, `push_list`), which numbers the placeholders itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// The value of the next placeholder the text already holds.
    pub fn bind(mut self, value: impl Into<Arg>) -> Sql {
        self.args.push(value.into());
        self
    }

    /// More text.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// A placeholder for `value`, numbered after those before it.
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Sql {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Placeholders for each value, separated by commas (for `IN (…)` and `VALUES (…)`).
    pub fn push_list<A: Into<Arg>>(&mut self, values: impl IntoIterator<Item = A>) -> &mut Sql {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.push_bind(v);
        }
        self
    }

    /// `(…), (…), …` for a multi-row insert: one group of placeholders per row.
    pub fn push_rows<T>(&mut self, rows: &[T], mut row: impl FnMut(&T) -> Vec<Arg>) -> &mut Sql {
        for (i, r) in rows.iter().enumerate() {
            self.text.push_str(if i == 0 { "(" } else { ", (" });
            self.push_list(row(r));
            self.text.push(')');
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    fn sqlite(&self) -> Result<Query<'_, Sqlite, SqliteArguments<'_>>, sqlx::Error> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::OptI64(v) => q.bind(*v),
                Arg::F64(v) => q.bind(*v),
                Arg::OptF64(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
                Arg::Bytes(v) => q.bind(v.as_slice()),
                Arg::I64s(_)
                | Arg::F64s(_)
                | Arg::Texts(_)
                | Arg::OptTexts(_)
                | Arg::OptI64s(_) => {
                    return Err(sqlx::Error::Protocol(
                        "array parameters are PostgreSQL's; SQLite takes rows".into(),
                    ));
                }
            };
        }
        Ok(q)
    }

    fn postgres(&self) -> Query<'_, Postgres, PgArguments> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::OptI64(v) => q.bind(*v),
                Arg::F64(v) => q.bind(*v),
                Arg::OptF64(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
                Arg::Bytes(v) => q.bind(v.as_slice()),
                Arg::I64s(v) => q.bind(v.as_slice()),
                Arg::F64s(v) => q.bind(v.as_slice()),
                Arg::Texts(v) => q.bind(v.as_slice()),
                Arg::OptTexts(v) => q.bind(v.as_slice()),
                Arg::OptI64s(v) => q.bind(v.as_slice()),
            };
        }
        q
    }
}

/// A type both databases decode a column into.
pub trait Col:
    Sized
    + for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
{
}

impl<T> Col for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
{
}

/// A row of either database.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    /// Column `i` (from 0).
    pub fn get<T: Col>(&self, i: usize) -> Result<T, sqlx::Error> {
        match self {
            Row::Sqlite(r) => sqlx::Row::try_get(r, i),
            Row::Postgres(r) => sqlx::Row::try_get(r, i),
        }
    }

    /// The column named `name`.
    pub fn col<T: Col>(&self, name: &str) -> Result<T, sqlx::Error> {
        match self {
            Row::Sqlite(r) => sqlx::Row::try_get(r, name),
            Row::Postgres(r) => sqlx::Row::try_get(r, name),
        }
    }

    /// A flag stored as 0 or 1.
    pub fn flag(&self, i: usize) -> Result<bool, sqlx::Error> {
        Ok(self.get::<i64>(i)? != 0)
    }
}

/// A connection of either database: pooled, or the one an open transaction holds.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl<'c> From<&'c mut SqliteConnection> for Conn<'c> {
    fn from(c: &'c mut SqliteConnection) -> Conn<'c> {
        Conn::Sqlite(c)
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(c: &'c mut PgConnection) -> Conn<'c> {
        Conn::Postgres(c)
    }
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Rows changed.
    pub async fn execute(&mut self, q: &Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => q.sqlite()?.execute(&mut **c).await?.rows_affected(),
            Conn::Postgres(c) => q.postgres().execute(&mut **c).await?.rows_affected(),
        })
    }

    pub async fn fetch_all(&mut self, q: &Sql) -> Result<Vec<Row>, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let rows = q.sqlite()?.fetch_all(&mut **c).await?;
                rows.into_iter().map(Row::Sqlite).collect()
            }
            Conn::Postgres(c) => {
                let rows = q.postgres().fetch_all(&mut **c).await?;
                rows.into_iter().map(Row::Postgres).collect()
            }
        })
    }

    pub async fn fetch_optional(&mut self, q: &Sql) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => q.sqlite()?.fetch_optional(&mut **c).await?.map(Row::Sqlite),
            Conn::Postgres(c) => q
                .postgres()
                .fetch_optional(&mut **c)
                .await?
                .map(Row::Postgres),
        })
    }

    pub async fn fetch_one(&mut self, q: &Sql) -> Result<Row, sqlx::Error> {
        self.fetch_optional(q)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Several statements without values, as one script (migrations, session settings).
    pub async fn script(&mut self, text: &str) -> Result<(), sqlx::Error> {
        match self {
            Conn::Sqlite(c) => sqlx::raw_sql(text).execute(&mut **c).await.map(|_| ()),
            Conn::Postgres(c) => sqlx::raw_sql(text).execute(&mut **c).await.map(|_| ()),
        }
    }
}

/// A connection taken from the store's pool, returned to it when dropped.
pub enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// An open transaction; rolled back when dropped without [`Tx::commit`].
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

impl Store {
    /// A connection from the pool.
    pub async fn acquire(&self) -> Result<Pooled, sqlx::Error> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Pooled::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Pooled::Postgres(p.acquire().await?),
        })
    }

    /// A transaction. On SQLite it begins deferred: its first write takes the database's
    /// write lock, so a transaction that reads then writes should write first (an `UPDATE`
    /// that locks what it reads) to keep two writers from deadlocking.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// One statement on a pooled connection.
    pub async fn execute(&self, q: &Sql) -> Result<u64, sqlx::Error> {
        self.acquire().await?.conn().execute(q).await
    }

    pub async fn fetch_all(&self, q: &Sql) -> Result<Vec<Row>, sqlx::Error> {
        self.acquire().await?.conn().fetch_all(q).await
    }

    pub async fn fetch_optional(&self, q: &Sql) -> Result<Option<Row>, sqlx::Error> {
        self.acquire().await?.conn().fetch_optional(q).await
    }

    pub async fn fetch_one(&self, q: &Sql) -> Result<Row, sqlx::Error> {
        self.acquire().await?.conn().fetch_one(q).await
    }
}

/// A case's words for the full-text index: its title, description and address, and the
/// codes of the regions it lies in.
pub struct IndexedText<'a> {
    pub id: i64,
    pub fields: [&'a str; 3],
    pub places: &'a [String],
}

/// What the two dialects write differently, asked for by name.
impl Backend {
    /// Rows for the full-text index `case_search`: FTS5 columns of terms on SQLite (the case
    /// id as the row id), one `tsvector` with weights and places on PostgreSQL.
    pub fn index_text(self, rows: &[IndexedText<'_>]) -> Sql {
        use shezhi_domain::search::{terms, tsvector};
        match self {
            Backend::Sqlite => {
                let mut q = Sql::new(
                    "INSERT INTO case_search (rowid, title, description, address, place) VALUES ",
                );
                q.push_rows(rows, |r| {
                    let [t, d, a] = r.fields;
                    vec![
                        r.id.into(),
                        terms(t).join(" ").into(),
                        terms(d).join(" ").into(),
                        terms(a).join(" ").into(),
                        r.places.join(" ").into(),
                    ]
                });
                q
            }
            Backend::Postgres => {
                let mut q = Sql::new("INSERT INTO case_search (case_id, terms) VALUES ");
                for (i, r) in rows.iter().enumerate() {
                    let [t, d, a] = r.fields;
                    q.push(if i == 0 { "(" } else { ", (" })
                        .push_bind(r.id)
                        .push(", CAST(")
                        .push_bind(tsvector(&[t, d, a], r.places))
                        .push(" AS tsvector))");
                }
                q
            }
        }
    }

    /// A text query in the index's own syntax (FTS5 or `tsquery`), within `places` (region
    /// codes; none: anywhere).
    pub fn text_query(self, query: &shezhi_domain::search::TextQuery, places: &[&str]) -> String {
        use shezhi_domain::search::within_places;
        match self {
            Backend::Sqlite => within_places(&query.fts5(), places, true),
            Backend::Postgres => within_places(&query.tsquery(), places, false),
        }
    }

    /// The clause that locks the rows a `SELECT` reads until the transaction ends. SQLite
    /// has none: its transaction holds the whole database once it has written.
    pub fn lock_for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// The clause that makes SQLite's planner use `index` for `table` (it keeps no
    /// statistics and may pick a worse one); PostgreSQL plans from its statistics.
    pub fn indexed_by(self, table: &str, index: &str) -> String {
        match self {
            Backend::Sqlite => format!("{table} INDEXED BY {index}"),
            Backend::Postgres => table.to_string(),
        }
    }

    /// Whether a statement may take a whole column of rows as one array parameter.
    pub fn supports_arrays(self) -> bool {
        self == Backend::Postgres
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_number_their_placeholders_in_order() {
        let mut q = Sql::new("SELECT id FROM t WHERE a = ");
        q.push_bind(7_i64)
            .push(" AND b IN (")
            .push_list(["x", "y"])
            .push(")");
        assert_eq!(q.text(), "SELECT id FROM t WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(
            q.args(),
            &[Arg::I64(7), Arg::Text("x".into()), Arg::Text("y".into())]
        );
        let mut rows = Sql::new("INSERT INTO t (a, b) VALUES ");
        rows.push_rows(&[(1_i64, "p"), (2, "q")], |(a, b)| {
            vec![(*a).into(), (*b).into()]
        });
        assert_eq!(
            rows.text(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }

    #[test]
    fn the_dialects_differ_only_where_asked() {
        assert_eq!(Backend::Sqlite.lock_for_update(), "");
        assert_eq!(Backend::Postgres.lock_for_update(), " FOR UPDATE");
        assert_eq!(
            Backend::Sqlite.indexed_by("cases", "cases_due"),
            "cases INDEXED BY cases_due"
        );
        assert_eq!(Backend::Postgres.indexed_by("cases", "cases_due"), "cases");
        assert!(Backend::Postgres.supports_arrays() && !Backend::Sqlite.supports_arrays());
        let arrays = Sql::new("SELECT $1").bind(vec![1_i64, 2]);
        assert!(arrays.sqlite().is_err());
    }
}
