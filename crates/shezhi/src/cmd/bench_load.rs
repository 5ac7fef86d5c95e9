//! `shezhi bench load`: the register's bulk load against the raw speed of the database, each
//! into a fresh database of the same backend, then the resident memory of a server started on
//! the loaded data.

use super::register::{now_ms, scope};
use super::{CliError, ensure_territory};
use crate::config::{BenchBackend, RegisterArgs, Scale};
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_domain::territory::Level;
use shezhi_store::register::{LoadOptions, LoadSpec};
use shezhi_store::{Store, StoreOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEFAULT_PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database made for one measurement and removed afterwards.
pub(crate) struct BenchDb {
    pub(crate) url: String,
    drop: Option<(String, String)>,
}

pub(crate) async fn fresh_db(
    backend: BenchBackend,
    at: Option<&str>,
    name: &str,
) -> Result<BenchDb, CliError> {
    let tag = format!("shezhi_bench_{name}_{}", std::process::id());
    match backend {
        BenchBackend::Sqlite => {
            let dir = at
                .map(std::path::PathBuf::from)
                .unwrap_or_else(std::env::temp_dir);
            let path = dir.join(format!("{tag}.db"));
            remove_sqlite(&path.display().to_string());
            Ok(BenchDb {
                url: format!("sqlite://{}", path.display()),
                drop: None,
            })
        }
        BenchBackend::Postgres => {
            let admin_url = at.unwrap_or(DEFAULT_PG_ADMIN).to_string();
            let admin = Store::connect(
                &admin_url,
                &StoreOptions {
                    max_connections: 1,
                    ..Default::default()
                },
            )
            .await?;
            admin
                .execute_admin(&format!("DROP DATABASE IF EXISTS {tag} WITH (FORCE)"))
                .await?;
            admin
                .execute_admin(&format!("CREATE DATABASE {tag}"))
                .await?;
            admin.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            Ok(BenchDb {
                url: format!("{base}/{tag}"),
                drop: Some((admin_url, tag)),
            })
        }
    }
}

fn remove_sqlite(path: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

impl BenchDb {
    pub(crate) async fn remove(self) -> Result<(), CliError> {
        match self.drop {
            Some((admin_url, tag)) => {
                let admin = Store::connect(
                    &admin_url,
                    &StoreOptions {
                        max_connections: 1,
                        ..Default::default()
                    },
                )
                .await?;
                admin
                    .execute_admin(&format!("DROP DATABASE IF EXISTS {tag} WITH (FORCE)"))
                    .await?;
                admin.close().await;
            }
            None => remove_sqlite(self.url.trim_start_matches("sqlite://")),
        }
        Ok(())
    }
}

async fn prepared(url: &str, scale: Scale) -> Result<(Store, LoadSpec), CliError> {
    let store = Store::open(url, &StoreOptions::default()).await?;
    ensure_territory(&store).await?;
    let args = RegisterArgs {
        scale,
        region: None,
        seed: 2026,
    };
    let scope = scope(&store, &args).await?;
    let plans = store.register_plans(&scope).await?;
    Ok((
        store,
        LoadSpec {
            plans,
            seed: args.seed,
            as_of: synth::default_as_of(),
        },
    ))
}

pub async fn load(
    scale: Scale,
    backend: BenchBackend,
    at: Option<&str>,
    keep: bool,
) -> Result<(), CliError> {
    let key = super::serve::new_key();
    let vault = Arc::new(Vault::new(&key));

    // The application's load, pipelined, with sealing, counts and resumption marks.
    let app_db = fresh_db(backend, at, "app").await?;
    let (store, spec) = prepared(&app_db.url, scale).await?;
    let grids = spec.plans.len();
    let opts = LoadOptions::new(now_ms());
    let app = store
        .load_register(spec, vault.clone(), opts, |_| {})
        .await?;
    let root = store.root_code().await?.unwrap_or_default();
    let figures = store
        .region_counts(
            &shezhi_domain::territory::RegionCode::parse(&root)
                .map_err(|e| CliError::Config(e.to_string()))?,
        )
        .await?;
    let levels = store.level_counts().await?;
    store.close().await;

    // The raw baseline: the same rows, inserted with nothing else, timing only the inserts.
    let raw_db = fresh_db(backend, at, "raw").await?;
    let (raw_store, spec) = prepared(&raw_db.url, scale).await?;
    let raw = raw_store
        .raw_insert_baseline(spec, &vault, LoadOptions::new(0).batch_rows)
        .await?;
    raw_store.close().await;
    raw_db.remove().await?;

    let memory = server_memory(&app_db.url, &key).await;

    let backend_name = match backend {
        BenchBackend::Sqlite => "SQLite (multi-row INSERT)",
        BenchBackend::Postgres => "PostgreSQL (COPY)",
    };
    println!("## Register bulk load: {backend_name}, scale {scale:?}\n");
    println!(
        "grids: {grids}, rows: {}, load time {:.1?}\n",
        app.rows, app.elapsed
    );
    println!("| path | rows | time | rows/s | ratio |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| raw baseline (pre-generated rows, inserts only) | {} | {:.1?} | {:.0} | 1.00 |",
        raw.rows,
        raw.insert_time,
        raw.rows_per_second()
    );
    println!(
        "| shezhi load (generate, seal, insert, count, mark) | {} | {:.1?} | {:.0} | {:.2} |",
        app.rows,
        app.elapsed,
        app.rows_per_second(),
        app.rows_per_second() / raw.rows_per_second()
    );
    println!();
    let get = |m: &str| figures.get(m).copied().unwrap_or(0);
    let level = |l: Level| levels.iter().find(|(x, _)| *x == l).map_or(0, |(_, n)| *n);
    println!(
        "loaded: {} residents, {} households, {} rooms, {} buildings, {} staff assignments; territory: {} grids, {} micro-grids",
        get("residents"),
        get("households"),
        get("rooms"),
        get("buildings"),
        get("staff"),
        level(Level::Grid),
        level(Level::MicroGrid)
    );
    match memory {
        Ok((rss, hwm, ready)) => println!(
            "server on the loaded database: resident memory {:.0} MiB (peak {:.0} MiB), ready in {ready:.1?}",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ),
        Err(e) => println!("server memory not measured: {e}"),
    }
    if keep {
        println!("kept: {}", app_db.url);
    } else {
        app_db.remove().await?;
    }
    Ok(())
}

/// Start `shezhi serve` on the database, wait until it is ready, read a few pages, and return
/// its resident and peak memory in KiB (from /proc) and the time it took to become ready.
async fn server_memory(url: &str, key: &DataKey) -> Result<(u64, u64, Duration), String> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .args([
            "serve",
            "--database-url",
            url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("SHEZHI_DATA_KEY", key.to_hex())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id().ok_or("server exited")?;
    let mut ready = None;
    while started.elapsed() < Duration::from_secs(600) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("server exited: {status}"));
        }
        if get(port, "/readyz")
            .await
            .is_ok_and(|s| s.starts_with("HTTP/1.1 200"))
        {
            ready = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = ready.ok_or("server not ready within 10 minutes")?;
    for path in [
        "/api/v1/regions/510100000000",
        "/api/v1/regions/510104000000/children",
        "/api/v1/locate?lon=104.0657&lat=30.6595",
    ] {
        let _ = get(port, path).await;
    }
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let out = (field("VmRSS:"), field("VmHWM:"), ready);
    let _ = child.kill().await;
    Ok(out)
}

async fn get(port: u16, path: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
