//! `shezhi generate` as an operator runs it: refused without a data key, a community loaded,
//! a second run that writes nothing, and the load benchmark on a small scale.

use shezhi_store::testing::TestDb;
use shezhi_store::{Backend, Store};
use std::process::{Command, Output};

fn shezhi(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shezhi"));
    c.args(args)
        .env("RUST_LOG", "info")
        .env_remove("SHEZHI_DATA_KEY");
    for (k, v) in envs {
        c.env(k, v);
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

async fn residents(url: &str, community: &str) -> i64 {
    let store = Store::connect(url, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let code =
        shezhi_domain::territory::RegionCode::parse(community).unwrap_or_else(|e| panic!("{e}"));
    let n = store
        .region_counts(&code)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .get("residents")
        .copied()
        .unwrap_or(0);
    store.close().await;
    n
}

async fn generate_then_rerun(backend: Backend) {
    let db = TestDb::fresh(backend).await;
    let url = db.url.clone();
    let no_key = shezhi(
        &["--database-url", &url, "generate", "--scale", "community"],
        &[],
    );
    assert_eq!(no_key.status.code(), Some(2), "{}", text(&no_key));
    assert!(
        text(&no_key).contains("data_key_missing"),
        "{}",
        text(&no_key)
    );

    let keygen = shezhi(&["keygen"], &[]);
    let key = String::from_utf8_lossy(&keygen.stdout).trim().to_string();
    assert_eq!(key.len(), 64);
    let env = [("SHEZHI_DATA_KEY", key.as_str())];
    let first = shezhi(
        &[
            "--database-url",
            &url,
            "generate",
            "--scale",
            "community",
            "--region",
            "510104018001",
        ],
        &env,
    );
    assert!(first.status.success(), "{}", text(&first));
    let loaded = residents(&url, "510104018001").await;
    assert!(loaded > 1000, "{loaded} residents");
    let again = shezhi(
        &[
            "--database-url",
            &url,
            "generate",
            "--scale",
            "community",
            "--region",
            "510104018001",
        ],
        &env,
    );
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("grids_loaded=0"), "{}", text(&again));
    assert_eq!(residents(&url, "510104018001").await, loaded);
    // Another key is refused: what is sealed could not be read with it.
    let other = shezhi(&["keygen"], &[]);
    let other = String::from_utf8_lossy(&other.stdout).trim().to_string();
    let wrong = shezhi(
        &["--database-url", &url, "generate", "--scale", "community"],
        &[("SHEZHI_DATA_KEY", other.as_str())],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong).contains("data_key_mismatch"),
        "{}",
        text(&wrong)
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_on_sqlite() {
    generate_then_rerun(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_on_postgres() {
    generate_then_rerun(Backend::Postgres).await;
}

#[test]
fn load_benchmark_reports_a_ratio_against_the_raw_baseline() {
    let dir = std::env::temp_dir();
    let out = shezhi(
        &[
            "bench",
            "load",
            "--scale",
            "community",
            "--backend",
            "sqlite",
            "--at",
            &dir.display().to_string(),
        ],
        &[("RUST_LOG", "warn")],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("| raw baseline") && t.contains("| shezhi load"),
        "{t}"
    );
    assert!(t.contains("resident memory"), "{t}");
}
