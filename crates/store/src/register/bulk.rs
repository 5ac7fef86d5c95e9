//! Bulk writing of plain rows: prepared multi-row INSERTs on SQLite, `COPY … FROM STDIN`
//! (text format) on PostgreSQL. A row type is declared once with [`bulk_row!`] and gets both.

use sqlx::sqlite::{Sqlite, SqliteArguments};
use sqlx::{PgConnection, SqliteConnection};
use std::collections::HashMap;

pub(crate) type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

/// SQLite allows 32,766 parameters per statement; stay well below and keep statements of a
/// few fixed sizes so that each is prepared once per connection.
const SQLITE_MAX_PARAMS: usize = 16_000;
const SQLITE_MAX_ROWS: usize = 500;

pub(crate) trait BulkRow {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    fn bind_sqlite<'q>(&'q self, q: SqliteQuery<'q>) -> SqliteQuery<'q>;
    fn write_copy(&self, buf: &mut Vec<u8>);
}

/// Declare a row struct whose field names are the table's column names.
macro_rules! bulk_row {
    ($(#[$m:meta])* $name:ident => $table:literal { $($field:ident : $ty:ty),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) struct $name { $(pub $field: $ty),+ }

        impl $crate::register::bulk::BulkRow for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            fn bind_sqlite<'q>(&'q self, q: $crate::register::bulk::SqliteQuery<'q>) -> $crate::register::bulk::SqliteQuery<'q> {
                q$(.bind(&self.$field))+
            }
            fn write_copy(&self, buf: &mut Vec<u8>) {
                let fields: &[&dyn $crate::register::bulk::CopyValue] = &[$(&self.$field),+];
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        buf.push(b'\t');
                    }
                    f.write(buf);
                }
                buf.push(b'\n');
            }
        }
    };
}
pub(crate) use bulk_row;

/// A value in PostgreSQL's COPY text format.
pub(crate) trait CopyValue {
    fn write(&self, buf: &mut Vec<u8>);
}

impl CopyValue for i64 {
    fn write(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.to_string().as_bytes());
    }
}

impl CopyValue for i32 {
    fn write(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.to_string().as_bytes());
    }
}

impl CopyValue for f64 {
    fn write(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.to_string().as_bytes());
    }
}

impl CopyValue for String {
    fn write(&self, buf: &mut Vec<u8>) {
        for &b in self.as_bytes() {
            match b {
                b'\\' => buf.extend_from_slice(b"\\\\"),
                b'\t' => buf.extend_from_slice(b"\\t"),
                b'\n' => buf.extend_from_slice(b"\\n"),
                b'\r' => buf.extend_from_slice(b"\\r"),
                _ => buf.push(b),
            }
        }
    }
}

impl CopyValue for Vec<u8> {
    fn write(&self, buf: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        buf.extend_from_slice(b"\\\\x");
        for &b in self {
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 15)]);
        }
    }
}

impl<T: CopyValue> CopyValue for Option<T> {
    fn write(&self, buf: &mut Vec<u8>) {
        match self {
            Some(v) => v.write(buf),
            None => buf.extend_from_slice(b"\\N"),
        }
    }
}

/// Cached INSERT statements by (table, rows).
#[derive(Default)]
pub(crate) struct SqliteStatements(HashMap<(&'static str, usize), String>);

impl SqliteStatements {
    fn get<R: BulkRow>(&mut self, rows: usize) -> &str {
        self.0.entry((R::TABLE, rows)).or_insert_with(|| {
            let one = format!("({})", vec!["?"; R::COLUMNS.len()].join(","));
            format!(
                "INSERT OR ROLLBACK INTO {} ({}) VALUES {}",
                R::TABLE,
                R::COLUMNS.join(","),
                vec![one; rows].join(",")
            )
        })
    }
}

/// Insert `rows` with as few prepared multi-row statements as possible.
pub(crate) async fn sqlite_insert<R: BulkRow>(
    conn: &mut SqliteConnection,
    stmts: &mut SqliteStatements,
    rows: &[R],
) -> Result<(), sqlx::Error> {
    let per = (SQLITE_MAX_PARAMS / R::COLUMNS.len()).clamp(1, SQLITE_MAX_ROWS);
    for chunk in rows.chunks(per) {
        let sql = stmts.get::<R>(chunk.len()).to_string();
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = r.bind_sqlite(q);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The COPY text for `rows`.
pub(crate) fn copy_text<R: BulkRow>(rows: &[R]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(rows.len() * 96);
    for r in rows {
        r.write_copy(&mut buf);
    }
    buf
}

/// `COPY table (columns) FROM STDIN` with prepared text.
pub(crate) async fn pg_copy<R: BulkRow>(
    conn: &mut PgConnection,
    text: Vec<u8>,
) -> Result<(), sqlx::Error> {
    if text.is_empty() {
        return Ok(());
    }
    let sql = format!("COPY {} ({}) FROM STDIN", R::TABLE, R::COLUMNS.join(","));
    let mut copy = conn.copy_in_raw(&sql).await?;
    if let Err(e) = copy.send(text).await {
        let _ = copy.abort("client error").await;
        return Err(e);
    }
    copy.finish().await?;
    Ok(())
}
