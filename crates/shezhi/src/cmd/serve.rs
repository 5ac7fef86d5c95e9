//! `shezhi serve` and `shezhi demo`: open the database, make sure a territory is there,
//! build the point index, serve until SIGINT/SIGTERM, then drain and close.

use super::{CliError, ensure_territory, load_locator, open_store};
use crate::config::{Config, DEMO_DATABASE_URL, DemoArgs};
use shezhi_http::AppState;
use shezhi_http::metrics::Metrics;

pub async fn run(cfg: &Config, demo: bool) -> Result<(), CliError> {
    let url = match (&cfg.database_url, demo) {
        (Some(u), _) => u.clone(),
        (None, true) => DEMO_DATABASE_URL.to_string(),
        (None, false) => cfg.database_url().to_string(),
    };
    let store = open_store(cfg, &url).await?;
    ensure_territory(&store).await?;
    let locator = load_locator(&store).await?;
    let mut state = AppState::new(store.clone(), locator);
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
    if demo {
        println!(
            "\n  社智在线 shezhi demo · 成都 Chengdu\n  web:     http://{addr}/\n  api:     http://{addr}/api/openapi.json\n  example: http://{addr}/api/v1/locate?lon=104.0657&lat=30.6595\n"
        );
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| CliError::io("server", e))?;
    tracing::info!("shutting down: connections drained");
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
    run(cfg, true).await
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
