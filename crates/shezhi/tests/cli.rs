//! The `shezhi` binary as an operator uses it: imports that load whole or not at all, with
//! every bad row named by line, and clear bilingual errors for bad configuration.

use shezhi_domain::territory::Level;
use shezhi_store::testing::TestDb;
use shezhi_store::{Backend, Store};
use std::path::PathBuf;
use std::process::{Command, Output};

fn shezhi(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shezhi"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run shezhi: {e}"))
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shezhi-cli-{}-{name}", std::process::id()));
    std::fs::write(&dir, text).unwrap_or_else(|e| panic!("{e}"));
    dir
}

const DIVISIONS: &str = "level,code,name,parent_code\n\
city,510100000000,成都市,\n\
district,510104000000,锦江区,510100000000\n\
street,510104017000,水井坊街道,510104000000\n\
community,510104017001,水井坊社区居委会,510104017000\n";

const BAD_DIVISIONS: &str = "level,code,name,parent_code\n\
community,510104017002,合江亭社区居委会,510104017000\n\
community,51010401700X,坏代码,510104017000\n\
community,510104018001,无上级,510104018000\n";

const GRIDS: &str = r#"{"type": "FeatureCollection", "features": [
{"type": "Feature", "properties": {"code": "510104017001001", "name": "第一网格", "households": 420},
 "geometry": {"type": "Polygon", "coordinates": [[[104.08,30.64],[104.09,30.64],[104.09,30.65],[104.08,30.65],[104.08,30.64]]]}},
{"type": "Feature", "properties": {"code": "510104017001001001", "name": "1号院"},
 "geometry": {"type": "Polygon", "coordinates": [[[104.08,30.64],[104.09,30.64],[104.09,30.65],[104.08,30.65],[104.08,30.64]]]}}
]}"#;

const BAD_GRIDS: &str = r#"{"type": "FeatureCollection", "features": [
{"type": "Feature", "properties": {"code": "510104017001002", "name": "好网格"},
 "geometry": {"type": "Polygon", "coordinates": [[[104.08,30.64],[104.09,30.64],[104.09,30.65],[104.08,30.65],[104.08,30.64]]]}},
{"type": "Feature", "properties": {"code": "510104017001003", "name": "未闭合"},
 "geometry": {"type": "Polygon", "coordinates": [[[104.08,30.64],[104.09,30.64],[104.09,30.65],[104.08,30.65]]]}},
{"type": "Feature", "properties": {"code": "510104017009001", "name": "无此社区"},
 "geometry": {"type": "Polygon", "coordinates": [[[104.08,30.64],[104.09,30.64],[104.09,30.65],[104.08,30.65],[104.08,30.64]]]}}
]}"#;

async fn count(store: &Store, level: Level) -> i64 {
    store
        .level_counts()
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|(l, _)| *l == level)
        .map(|(_, n)| n)
        .unwrap_or(0)
}

async fn imports_load_whole_or_not_at_all(backend: Backend) {
    let db = TestDb::fresh(backend).await;
    let ok = shezhi(
        &db.url,
        &[
            "import",
            "divisions",
            scratch("d.csv", DIVISIONS).to_str().unwrap_or_default(),
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(count(&db.store, Level::Community).await, 1);

    let bad = shezhi(
        &db.url,
        &[
            "import",
            "divisions",
            scratch("bad.csv", BAD_DIVISIONS)
                .to_str()
                .unwrap_or_default(),
        ],
    );
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(
        err.contains("import_rejected") && err.contains("导入被拒绝"),
        "{err}"
    );
    assert!(err.contains("line 3: [invalid_region_code]"), "{err}");
    assert!(err.contains("line 4: [unknown_parent]"), "{err}");
    // The good row on line 2 was not loaded either.
    assert_eq!(count(&db.store, Level::Community).await, 1);

    let ok = shezhi(
        &db.url,
        &[
            "import",
            "grids",
            scratch("g.geojson", GRIDS).to_str().unwrap_or_default(),
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        (
            count(&db.store, Level::Grid).await,
            count(&db.store, Level::MicroGrid).await
        ),
        (1, 1)
    );

    let bad = shezhi(
        &db.url,
        &[
            "import",
            "grids",
            scratch("bad.geojson", BAD_GRIDS)
                .to_str()
                .unwrap_or_default(),
        ],
    );
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("line 4: [invalid_geometry]"), "{err}");
    assert!(err.contains("line 6: [unknown_parent]"), "{err}");
    assert_eq!(count(&db.store, Level::Grid).await, 1);
    db.cleanup().await;
}

#[tokio::test]
async fn imports_on_sqlite() {
    imports_load_whole_or_not_at_all(Backend::Sqlite).await;
}

#[tokio::test]
async fn imports_on_postgres() {
    imports_load_whole_or_not_at_all(Backend::Postgres).await;
}

#[test]
fn bad_database_url_is_a_clear_cli_error() {
    for url in ["mysql://localhost/x", "not-a-url"] {
        let out = shezhi(url, &["migrate"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("[invalid_database_url]")
                && err.contains("数据库地址")
                && err.contains("invalid database URL"),
            "{err}"
        );
    }
}

#[test]
fn missing_import_file_is_a_clear_cli_error() {
    let url = format!(
        "sqlite://{}",
        std::env::temp_dir()
            .join(format!("shezhi-cli-{}-m.db", std::process::id()))
            .display()
    );
    let out = shezhi(&url, &["import", "grids", "/nonexistent/grids.geojson"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("[io_error]") && err.contains("/nonexistent/grids.geojson"),
        "{err}"
    );
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_shezhi"))
        .arg("openapi")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .unwrap_or_default();
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
}

#[test]
fn a_bad_holidays_file_is_refused_naming_its_line() {
    let dir = std::env::temp_dir();
    let file = dir.join(format!("shezhi-holidays-{}.txt", std::process::id()));
    std::fs::write(
        &file,
        "# 2027 schedule\nyear 2027\nholiday 2027-01-01..2027-01-03 元旦\nworkday 2027-13-01 错误\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "sqlite://{}",
        dir.join(format!("shezhi-cli-{}-h.db", std::process::id()))
            .display()
    );
    let holidays = file.display().to_string();
    let out = shezhi(&url, &["--holidays-file", &holidays, "migrate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 4"), "{err}");
    std::fs::write(
        &file,
        "year 2027\nholiday 2027-01-01..2027-01-03 元旦\nworkday 2027-01-04 元旦调休\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = shezhi(&url, &["--holidays-file", &holidays, "migrate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&file);
}
