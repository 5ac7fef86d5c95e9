//! `shezhi generate` (and the demo's first start): fill the territory with the synthetic
//! register, showing progress with rate and ETA. Ctrl-C stops after the current batch;
//! running the same command again resumes where it stopped.

use super::{CliError, ensure_territory, open_store};
use crate::config::{Config, GenerateArgs, RegisterArgs, Scale};
use shezhi_domain::people::privacy::{DataKey, Vault};
use shezhi_domain::synth;
use shezhi_domain::territory::{Level, RegionCode};
use shezhi_store::Store;
use shezhi_store::register::{LoadOptions, LoadProgress, LoadReport, LoadSpec};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Default places in 锦江区 for the smaller scales.
const DEFAULT_DISTRICT: &str = "510104000000";
const DEFAULT_STREET: &str = "510104018000";

pub async fn generate(cfg: &Config, args: GenerateArgs) -> Result<(), CliError> {
    let key = cfg.data_key.clone().ok_or(CliError::MissingKey)?;
    let store = open_store(cfg, cfg.database_url()).await?;
    ensure_territory(&store).await?;
    let report = fill(&store, &key, &args.register).await;
    store.close().await;
    let report = report?;
    if report.cancelled {
        return Err(CliError::Interrupted);
    }
    Ok(())
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The region a scale fills.
pub async fn scope(store: &Store, args: &RegisterArgs) -> Result<RegionCode, CliError> {
    let parse = |s: &str| RegionCode::parse(s).map_err(|e| CliError::Config(e.to_string()));
    if let Some(r) = &args.region {
        let code = parse(r)?;
        return match store.region(&code).await? {
            Some(_) => Ok(code),
            None => Err(CliError::Config(format!("region {r} does not exist"))),
        };
    }
    let root = store
        .root_code()
        .await?
        .ok_or_else(|| CliError::Config("the territory is empty".into()))?;
    let root = parse(&root)?;
    let pick = |preferred: &str, parent: &RegionCode| {
        let preferred = preferred.to_string();
        let parent = parent.clone();
        async move {
            let kids = store.children(&parent).await?;
            Ok::<_, CliError>(
                kids.iter()
                    .find(|k| k.code == preferred)
                    .or(kids.first())
                    .map(|k| parse(&k.code))
                    .transpose()?
                    .unwrap_or(parent),
            )
        }
    };
    Ok(match args.scale {
        Scale::City => root,
        Scale::District => pick(DEFAULT_DISTRICT, &root).await?,
        Scale::Street => {
            let d = pick(DEFAULT_DISTRICT, &root).await?;
            pick(DEFAULT_STREET, &d).await?
        }
        Scale::Community => {
            let d = pick(DEFAULT_DISTRICT, &root).await?;
            let s = pick(DEFAULT_STREET, &d).await?;
            pick("", &s).await?
        }
    })
}

/// Load the register of the scale's region, resuming an earlier run.
pub async fn fill(
    store: &Store,
    key: &DataKey,
    args: &RegisterArgs,
) -> Result<LoadReport, CliError> {
    let scope = scope(store, args).await?;
    if scope.level() == Level::MicroGrid {
        return Err(CliError::Config("choose a grid or a larger region".into()));
    }
    let t = Instant::now();
    let plans = store.register_plans(&scope).await?;
    tracing::info!(scope = scope.as_str(), grids = plans.len(), took = ?t.elapsed(), "register plan ready");
    let spec = LoadSpec {
        plans,
        seed: args.seed,
        as_of: synth::default_as_of(),
    };
    let opts = LoadOptions::new(now_ms());
    let cancel = opts.cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.store(true, Ordering::Relaxed);
            eprintln!(
                "\n正在停止，已写入的数据会保留；再次运行同一命令即可继续。\nstopping after the current batch; run the same command again to resume."
            );
        }
    });
    let mut printer = Printer::new();
    let report = store
        .load_register(spec, Arc::new(Vault::new(key)), opts, |p| printer.show(p))
        .await;
    watcher.abort();
    printer.done();
    let report = report?;
    tracing::info!(
        scope = scope.as_str(),
        grids_loaded = report.grids_loaded,
        grids_already_there = report.grids_skipped,
        rows = report.rows,
        rows_per_s = report.rows_per_second().round(),
        took = ?report.elapsed,
        cancelled = report.cancelled,
        "register load finished"
    );
    Ok(report)
}

/// A one-line progress display on a terminal, a log line every ten seconds otherwise.
struct Printer {
    tty: bool,
    last: Option<Instant>,
    shown: bool,
}

impl Printer {
    fn new() -> Printer {
        Printer {
            tty: std::io::stderr().is_terminal(),
            last: None,
            shown: false,
        }
    }

    fn show(&mut self, p: &LoadProgress) {
        let every = if self.tty {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(10)
        };
        if self.last.is_some_and(|t| t.elapsed() < every) && p.grids_done < p.grids_total {
            return;
        }
        self.last = Some(Instant::now());
        let secs = p.elapsed.as_secs_f64().max(1e-3);
        let rate = p.rows_done as f64 / secs;
        let frac = p.grids_done as f64 / p.grids_total.max(1) as f64;
        let eta = if frac > 0.0 {
            secs * (1.0 - frac) / frac
        } else {
            0.0
        };
        let line = format!(
            "载入 loading {}/{} grids {:>5.1}%  {:.2}M rows  {:.0}k rows/s  ETA {}",
            p.grids_done,
            p.grids_total,
            frac * 100.0,
            p.rows_done as f64 / 1e6,
            rate / 1e3,
            clock(eta)
        );
        if self.tty {
            eprint!("\r{line}   ");
            let _ = std::io::stderr().flush();
            self.shown = true;
        } else {
            tracing::info!("{line}");
        }
    }

    fn done(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}m{:02}s", s / 60, s % 60)
}
