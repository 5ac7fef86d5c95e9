//! `shezhi serve` and `shezhi demo`: open the database, make sure a territory is there,
//! build the point index, serve until SIGINT/SIGTERM, then drain and close. The audit chain
//! is keyed with the data key, and a checkpoint of its head is written at start, every few
//! minutes and at shutdown (`checkpoints.rs`).

use super::{CliError, ensure_territory, load_locator, open_store, register};
use crate::config::{Config, DEMO_DATABASE_URL, DEMO_KEY_FILE, DemoArgs, RegisterArgs};
use shezhi_domain::people::privacy::DataKey;
use shezhi_http::AppState;
use shezhi_http::metrics::Metrics;
use std::sync::Arc;

pub async fn run(cfg: &Config, demo: Option<&RegisterArgs>) -> Result<(), CliError> {
    let url = match (&cfg.database_url, demo) {
        (Some(u), _) => u.clone(),
        (None, Some(_)) => DEMO_DATABASE_URL.to_string(),
        (None, None) => cfg.database_url().to_string(),
    };
    let store = open_store(cfg, &url).await?;
    ensure_territory(&store).await?;
    let key = match (&cfg.data_key, demo) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(_)) => Some(demo_key()?),
        (None, None) => None,
    };
    // Keys first: the demo's accounts and everything after are audited in the keyed chain.
    let vault = super::bind_keys(&store, key.as_ref(), "system").await?;
    if vault.is_none() {
        if let Some(k) = store.audit_head().await?.keyed_from {
            store.close().await;
            return Err(CliError::Config(format!(
                "the audit trail of this database is keyed from entry {k}: configure its data key (--data-key-file or SHEZHI_DATA_KEY)"
            )));
        }
        tracing::warn!(
            "no data key configured: personal data can be listed masked but not written or searched by number, \
             and the audit trail is not keyed (anyone who can write the database can recompute its plain hash chain)"
        );
    }
    let checkpoints = super::checkpoints::Checkpoints {
        path: cfg.audit_checkpoints(&url),
        key: key.as_ref().map(DataKey::audit_key),
    };
    checkpoints.write(&store, "start").await?;
    if let (Some(key), Some(args)) = (&key, demo) {
        let report = register::fill(&store, key, args).await?;
        if report.cancelled {
            store.close().await;
            return Err(CliError::Interrupted);
        }
    }
    let accounts = match demo {
        Some(_) => super::admin::seed_demo_accounts(&store).await?,
        None => Vec::new(),
    };
    store.ensure_register_indexes().await?;
    store.ensure_catalogue(now_ms()).await?;
    if demo.is_some() {
        let made = super::demo_cases::seed(
            &store,
            &shezhi_domain::calendar::WorkCalendar::china(),
            now_ms(),
            1_500,
        )
        .await?;
        if made > 0 {
            tracing::info!(cases = made, "made the demo's cases");
        }
    }
    let locator = load_locator(&store).await?;
    let mut state = AppState::new(store.clone(), locator).with_vault(vault);
    state.calendar = Arc::new(cfg.calendar.clone());
    state.secure_cookies = cfg.secure_cookies;
    state.metrics_token = cfg.metrics_token.clone();
    let state = state.with_trusted_proxies(cfg.trusted_proxies.clone());
    if !cfg.secure_cookies && demo.is_none() {
        tracing::warn!(
            "the session cookie is not marked Secure: set public_url to the https:// address people use (or secure_cookies = true)"
        );
    }
    let mut state = state.with_group_commit(256);
    super::workers::spawn_sweeper(
        store.clone(),
        state.clock.clone(),
        state.calendar.clone(),
        std::time::Duration::from_secs(10),
    );
    super::workers::spawn_counter_fold(store.clone(), super::workers::FOLD_EVERY);
    super::checkpoints::spawn(
        store.clone(),
        checkpoints.clone(),
        std::time::Duration::from_secs(cfg.audit_checkpoint_minutes * 60),
    );
    super::workers::spawn_search_indexer(store.clone(), super::workers::INDEX_EVERY);
    super::workers::spawn_statistics(store.clone(), super::workers::STATISTICS_EVERY);
    super::workers::spawn_outbox(
        store.clone(),
        state.clock.clone(),
        Arc::new(super::workers::LogChannel),
        std::time::Duration::from_secs(5),
    );
    match Metrics::install() {
        Ok(m) => state = state.with_metrics(m),
        Err(e) => tracing::warn!(error = %e, "metrics disabled"),
    }
    let app = shezhi_http::router(state);
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| CliError::io(&cfg.listen.to_string(), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::io("listener", e))?;
    tracing::info!(%addr, backend = store.backend().as_str(), "listening");
    if demo.is_some() {
        println!(
            "\n  社智在线 shezhi demo · 成都 Chengdu\n  web:     http://{addr}/\n  api:     http://{addr}/api/openapi.json\n  example: http://{addr}/api/v1/locate?lon=104.0657&lat=30.6595\n"
        );
        println!("  accounts (password {}):", super::admin::DEMO_PASSWORD);
        for (user, _, binding) in &accounts {
            println!("    {user:<10} {binding}");
        }
        println!();
    }
    let options = shezhi_http::ServeOptions {
        header_read_timeout: cfg.header_read_timeout,
    };
    shezhi_http::serve(listener, app, options, shutdown_signal())
        .await
        .map_err(|e| CliError::io("server", e))?;
    tracing::info!("shutting down: connections drained");
    if let Err(e) = checkpoints.write(&store, "shutdown").await {
        tracing::warn!(error = %e, "the audit checkpoint at shutdown failed");
    }
    store.close().await;
    Ok(())
}

pub async fn demo(cfg: &Config, args: DemoArgs) -> Result<(), CliError> {
    if args.fresh && cfg.database_url.is_none() {
        let file = DEMO_DATABASE_URL.trim_start_matches("sqlite://");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{file}{suffix}"));
        }
    }
    run(cfg, Some(&args.register)).await
}

pub fn now_ms() -> i64 {
    use shezhi_domain::clock::Clock;
    shezhi_http::SystemClock.now_ms()
}

/// The demo's data key, kept in a file beside the demo database (created on first start).
fn demo_key() -> Result<DataKey, CliError> {
    let path = std::path::Path::new(DEMO_KEY_FILE);
    match std::fs::read_to_string(path) {
        Ok(text) => {
            DataKey::from_hex(&text).map_err(|e| CliError::Config(format!("{DEMO_KEY_FILE}: {e}")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = new_key();
            write_private(path, &(key.to_hex() + "\n"))?;
            tracing::info!(file = DEMO_KEY_FILE, fingerprint = %key.fingerprint(), "created the demo data key");
            Ok(key)
        }
        Err(e) => Err(CliError::io(DEMO_KEY_FILE, e)),
    }
}

/// A new random data key from the operating system's generator.
pub fn new_key() -> DataKey {
    use rand::{RngCore, SeedableRng};
    let mut bytes = [0u8; 32];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut bytes);
    DataKey::from_bytes(bytes)
}

fn write_private(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| CliError::io(&path.display().to_string(), e))?;
    f.write_all(text.as_bytes())
        .map_err(|e| CliError::io(&path.display().to_string(), e))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
