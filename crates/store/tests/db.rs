//! The dialect layer on SQLite and PostgreSQL: one statement text, its values bound and its
//! columns read alike on both; transactions that commit or roll back; arrays where
//! PostgreSQL takes them and a clear refusal where SQLite does not.

// A test that fails says so: its `expect` message is the point.
#![allow(clippy::expect_used)]

use shezhi_store::db::{Arg, Sql};
use shezhi_store::{Backend, Store, on_both_backends};

async fn one_text_reads_and_writes_alike(store: Store) {
    let bytes = match store.backend() {
        Backend::Sqlite => "BLOB",
        Backend::Postgres => "BYTEA",
    };
    store
        .execute(&Sql::new(format!(
            "CREATE TABLE t_db (id BIGINT PRIMARY KEY, name TEXT NOT NULL, note TEXT, x DOUBLE PRECISION, bytes {bytes})"
        )))
        .await
        .expect("create");
    let rows = [
        (1_i64, "甲", Some("一"), 1.5, vec![0_u8, 1]),
        (2, "乙", None, -2.25, vec![]),
        (3, "丙", Some("三"), 0.0, vec![255]),
    ];
    let mut insert = Sql::new("INSERT INTO t_db (id, name, note, x, bytes) VALUES ");
    insert.push_rows(&rows, |(id, name, note, x, bytes)| {
        vec![
            (*id).into(),
            (*name).into(),
            (*note).into(),
            (*x).into(),
            bytes.clone().into(),
        ]
    });
    assert_eq!(store.execute(&insert).await.expect("insert"), 3);

    let mut select = Sql::new("SELECT id, name, note, x, bytes FROM t_db WHERE id IN (");
    select.push_list([1_i64, 2, 3]).push(") ORDER BY id");
    let got = store.fetch_all(&select).await.expect("select");
    assert_eq!(got.len(), 3);
    for (row, want) in got.iter().zip(&rows) {
        assert_eq!(row.get::<i64>(0).expect("id"), want.0);
        assert_eq!(row.get::<String>(1).expect("name"), want.1);
        assert_eq!(
            row.get::<Option<String>>(2).expect("note").as_deref(),
            want.2
        );
        assert_eq!(row.get::<f64>(3).expect("x"), want.3);
        assert_eq!(row.get::<Vec<u8>>(4).expect("bytes"), want.4);
    }
    let none = store
        .fetch_optional(&Sql::new("SELECT id FROM t_db WHERE id = $1").bind(99_i64))
        .await
        .expect("select none");
    assert!(none.is_none());

    // A transaction dropped without commit leaves nothing; a committed one stays.
    let count = || async {
        store
            .fetch_one(&Sql::new("SELECT COUNT(*) FROM t_db"))
            .await
            .expect("count")
            .get::<i64>(0)
            .expect("count column")
    };
    {
        let mut tx = store.begin().await.expect("begin");
        let del = Sql::new("DELETE FROM t_db WHERE id = $1").bind(1_i64);
        assert_eq!(tx.conn().execute(&del).await.expect("delete"), 1);
    }
    assert_eq!(count().await, 3);
    let mut tx = store.begin().await.expect("begin");
    let lock = store.backend().lock_for_update();
    let read = Sql::new(format!("SELECT name FROM t_db WHERE id = $1{lock}")).bind(2_i64);
    let name: String = tx
        .conn()
        .fetch_one(&read)
        .await
        .expect("read")
        .get(0)
        .expect("name");
    assert_eq!(name, "乙");
    tx.conn()
        .execute(&Sql::new("DELETE FROM t_db WHERE id = $1").bind(2_i64))
        .await
        .expect("delete");
    tx.commit().await.expect("commit");
    assert_eq!(count().await, 2);

    // A column of values as one parameter: PostgreSQL's; SQLite says so instead of guessing.
    let ids = Sql::new("SELECT COUNT(*) FROM t_db WHERE id = ANY($1)").bind(vec![1_i64, 3]);
    match store.backend() {
        Backend::Postgres => {
            let n: i64 = store
                .fetch_one(&ids)
                .await
                .expect("array")
                .get(0)
                .expect("n");
            assert_eq!(n, 2);
        }
        Backend::Sqlite => {
            let e = store.fetch_one(&ids).await.err().map(|e| e.to_string());
            assert!(e.is_some_and(|e| e.contains("PostgreSQL")));
        }
    }
    assert_eq!(ids.args(), &[Arg::I64s(vec![1, 3])]);
}

on_both_backends!(one_text_reads_and_writes_alike);
