//! `shezhi admin create-user` and `shezhi audit verify` as an operator runs them.

use shezhi_store::Backend;
use shezhi_store::testing::TestDb;
use std::process::{Command, Output};

fn shezhi(url: &str, args: &[&str], password: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shezhi"));
    c.arg("--database-url")
        .arg(url)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("SHEZHI_NEW_PASSWORD");
    if let Some(p) = password {
        c.env("SHEZHI_NEW_PASSWORD", p);
    }
    c.output()
        .unwrap_or_else(|e| panic!("cannot run shezhi: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn users_and_the_audit_chain(backend: Backend) {
    let db = TestDb::fresh(backend).await;
    let url = db.url.clone();
    let create = [
        "admin",
        "create-user",
        "--username",
        "ops",
        "--bind",
        "admin",
    ];
    let weak = shezhi(&url, &create, Some("short"));
    assert_eq!(weak.status.code(), Some(2), "{}", text(&weak));
    assert!(text(&weak).contains("10"), "{}", text(&weak));
    let ok = shezhi(&url, &create, Some("a-strong-pass-2026"));
    assert!(ok.status.success(), "{}", text(&ok));
    let again = shezhi(&url, &create, Some("a-strong-pass-2026"));
    assert!(text(&again).contains("username_taken"), "{}", text(&again));
    let scope_missing = shezhi(
        &url,
        &[
            "admin",
            "create-user",
            "--username",
            "gw",
            "--bind",
            "grid_worker",
        ],
        Some("a-strong-pass-2026"),
    );
    assert_eq!(scope_missing.status.code(), Some(2));
    let gw = shezhi(
        &url,
        &[
            "admin",
            "create-user",
            "--username",
            "gw",
            "--bind",
            "grid_worker=510104018001001",
        ],
        Some("a-strong-pass-2026"),
    );
    assert!(gw.status.success(), "{}", text(&gw));

    let verify = shezhi(&url, &["audit", "verify"], None);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("2 entries"), "{}", text(&verify));
    db.store
        .execute_admin("UPDATE audit_log SET detail = '{}' WHERE seq = 1")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let broken = shezhi(&url, &["audit", "verify"], None);
    assert_eq!(broken.status.code(), Some(2), "{}", text(&broken));
    assert!(
        text(&broken).contains("audit_chain_broken") && text(&broken).contains("entry 1"),
        "{}",
        text(&broken)
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_on_sqlite() {
    users_and_the_audit_chain(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_on_postgres() {
    users_and_the_audit_chain(Backend::Postgres).await;
}
