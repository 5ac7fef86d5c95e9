//! `shezhi admin create-user`, `shezhi admin create-token` and `shezhi audit verify` as an
//! operator runs them.

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

    // An API token: printed once on stdout, stored only as its hash, audited, expiring.
    let made = shezhi(
        &url,
        &[
            "admin",
            "create-token",
            "--username",
            "ops",
            "--name",
            "open311",
            "--days",
            "30",
        ],
        None,
    );
    assert!(made.status.success(), "{}", text(&made));
    let token = String::from_utf8_lossy(&made.stdout).trim().to_string();
    assert!(
        token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        text(&made)
    );
    let hash = shezhi_domain::access::secret_hash(&token);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_else(|e| panic!("{e}"));
    let user = |at: i64| {
        let store = db.store.clone();
        let hash = hash.clone();
        async move {
            store
                .api_token_user(&hash, at)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    assert!(user(now).await.is_some());
    assert_eq!(user(now + 31 * 86_400_000).await, None);
    let audit = db
        .store
        .debug_dump_table("audit_log")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        audit.contains("api_token_created") && !audit.contains(&token),
        "{audit}"
    );
    let nobody = shezhi(
        &url,
        &[
            "admin",
            "create-token",
            "--username",
            "nobody",
            "--name",
            "x",
        ],
        None,
    );
    assert_eq!(nobody.status.code(), Some(2), "{}", text(&nobody));
    assert!(text(&nobody).contains("nobody"), "{}", text(&nobody));
    let never = shezhi(
        &url,
        &[
            "admin",
            "create-token",
            "--username",
            "ops",
            "--name",
            "x",
            "--days",
            "0",
        ],
        None,
    );
    assert_eq!(never.status.code(), Some(2), "{}", text(&never));

    let verify = shezhi(&url, &["audit", "verify"], None);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("3 entries"), "{}", text(&verify));
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

    // Revocation: tokens expire in 90 days unless said otherwise, are listed without their
    // secret and revoked at once; a disabled user's tokens stop, and start again when enabled.
    let second = shezhi(
        &url,
        &["admin", "create-token", "--username", "ops", "--name", "gw"],
        None,
    );
    assert!(second.status.success(), "{}", text(&second));
    let second_hash =
        shezhi_domain::access::secret_hash(String::from_utf8_lossy(&second.stdout).trim());
    let holder = |at: i64| {
        let store = db.store.clone();
        let hash = second_hash.clone();
        async move {
            store
                .api_token_user(&hash, at)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    assert!(holder(now + 89 * 86_400_000).await.is_some());
    assert_eq!(holder(now + 91 * 86_400_000).await, None);
    let listed = shezhi(&url, &["admin", "list-tokens", "--username", "ops"], None);
    assert!(listed.status.success(), "{}", text(&listed));
    let listing = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listing.contains("open311") && listing.contains("gw") && !listing.contains(&token),
        "{listing}"
    );
    let first_id = listing
        .lines()
        .find(|l| l.contains("open311"))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_default()
        .to_string();
    let revoked = shezhi(&url, &["admin", "revoke-token", "--id", &first_id], None);
    assert!(revoked.status.success(), "{}", text(&revoked));
    assert_eq!(user(now).await, None, "a revoked token still works");
    let disabled = shezhi(&url, &["admin", "disable-user", "--username", "ops"], None);
    assert!(disabled.status.success(), "{}", text(&disabled));
    assert_eq!(
        holder(now).await,
        None,
        "a disabled user's token still works"
    );
    let enabled = shezhi(&url, &["admin", "enable-user", "--username", "ops"], None);
    assert!(enabled.status.success(), "{}", text(&enabled));
    assert!(holder(now).await.is_some());
    let ended = shezhi(&url, &["admin", "end-sessions", "--username", "ops"], None);
    assert!(ended.status.success(), "{}", text(&ended));
    db.cleanup().await;
}

/// A keyed chain from the command line: commands given the data key key the chain, one
/// without it may not append to it; `audit checkpoint` writes signed checkpoints and
/// `audit verify` finds entries cut from the end (exit 2) with the key or without it.
async fn a_keyed_chain_and_its_checkpoints(backend: Backend) {
    let db = TestDb::fresh(backend).await;
    let url = db.url.clone();
    let dir = std::env::temp_dir().join(format!(
        "shezhi-audit-cli-{}-{:?}",
        std::process::id(),
        backend
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let key_file = dir.join("data.key");
    std::fs::write(&key_file, format!("{}\n", "5a".repeat(32))).unwrap_or_else(|e| panic!("{e}"));
    let cps = dir.join("audit-checkpoints");
    let (key_arg, cps_arg) = (key_file.display().to_string(), cps.display().to_string());
    let keyed = |args: &[&str], pw: Option<&str>| {
        let mut all = vec!["--data-key-file", &key_arg, "--audit-checkpoints", &cps_arg];
        all.extend_from_slice(args);
        shezhi(&url, &all, pw)
    };
    let plain = |args: &[&str], pw: Option<&str>| {
        let mut all = vec!["--audit-checkpoints", &cps_arg];
        all.extend_from_slice(args);
        shezhi(&url, &all, pw)
    };
    let user = |name: &'static str| {
        [
            "admin",
            "create-user",
            "--username",
            name,
            "--bind",
            "admin",
        ]
    };
    let made = keyed(&user("ops"), Some("a-strong-pass-2026"));
    assert!(made.status.success(), "{}", text(&made));
    let refused = plain(&user("ops2"), Some("a-strong-pass-2026"));
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("audit_key_missing"),
        "{}",
        text(&refused)
    );
    let none_yet = keyed(&["audit", "verify"], None);
    assert!(none_yet.status.success(), "{}", text(&none_yet));
    assert!(
        text(&none_yet).contains("2 entries") && text(&none_yet).contains("0 checkpoints"),
        "{}",
        text(&none_yet)
    );
    for _ in 0..2 {
        let w = keyed(&["audit", "checkpoint"], None);
        assert!(w.status.success(), "{}", text(&w));
    }
    let made = keyed(&user("ops3"), Some("a-strong-pass-2026"));
    assert!(made.status.success(), "{}", text(&made));
    let w = keyed(&["audit", "checkpoint"], None);
    assert!(w.status.success(), "{}", text(&w));
    let file = std::fs::read_to_string(&cps).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(file.lines().count(), 3, "{file}");
    let ok = keyed(&["audit", "verify"], None);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("3 entries")
            && text(&ok).contains("3 checkpoints checked (3 signatures)"),
        "{}",
        text(&ok)
    );
    let blind = plain(&["audit", "verify"], None);
    assert!(blind.status.success(), "{}", text(&blind));
    assert!(
        text(&blind).contains("only the unkeyed structure"),
        "{}",
        text(&blind)
    );

    // Cut the newest entry and move the head back.
    let rows = db
        .store
        .debug_audit_rows()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    db.store
        .debug_rewrite_audit(&rows[..2], Some(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for cut in [
        keyed(&["audit", "verify"], None),
        plain(&["audit", "verify"], None),
    ] {
        assert_eq!(cut.status.code(), Some(2), "{}", text(&cut));
        assert!(
            text(&cut).contains("audit_chain_broken") && text(&cut).contains("truncated"),
            "{}",
            text(&cut)
        );
    }
    // A line that is not a checkpoint is a damaged file, not a pass.
    std::fs::write(&cps, "not a checkpoint\n").unwrap_or_else(|e| panic!("{e}"));
    let damaged = keyed(&["audit", "verify"], None);
    assert_eq!(damaged.status.code(), Some(2), "{}", text(&damaged));
    let _ = std::fs::remove_dir_all(&dir);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_audit_on_sqlite() {
    a_keyed_chain_and_its_checkpoints(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_audit_on_postgres() {
    a_keyed_chain_and_its_checkpoints(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_on_sqlite() {
    users_and_the_audit_chain(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_on_postgres() {
    users_and_the_audit_chain(Backend::Postgres).await;
}
