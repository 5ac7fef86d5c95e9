//! Subcommands and the error type that reaches the terminal.

pub mod admin;
pub mod bench;
pub mod bench_campaigns;
pub mod bench_cases;
pub mod bench_load;
pub mod bench_scale;
pub mod checkpoints;
pub mod demo_cases;
pub mod import;
pub mod register;
pub mod serve;
pub mod workers;

use crate::config::Config;
use shezhi_domain::Bilingual;
use shezhi_domain::geocode::Locator;
use shezhi_domain::territory::RegionCode;
use shezhi_domain::territory::division::RowError;
use shezhi_store::{Store, StoreError, StoreOptions};
use std::collections::HashMap;
use std::process::ExitCode;

/// Errors a command reports to its user, in Chinese and English, with a stable code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{} bad rows", .0.len())]
    Rows(Vec<RowError>),
    #[error("no data key configured")]
    MissingKey,
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    AuditBroken(shezhi_domain::audit::BrokenLink),
}

impl CliError {
    pub fn io(what: &str, source: std::io::Error) -> CliError {
        CliError::Io {
            what: what.to_string(),
            source,
        }
    }
}

impl Bilingual for CliError {
    fn code(&self) -> &'static str {
        match self {
            CliError::Config(_) => "invalid_config",
            CliError::Io { .. } => "io_error",
            CliError::Store(e) => e.code(),
            CliError::Rows(_) => "import_rejected",
            CliError::MissingKey => "data_key_missing",
            CliError::Interrupted => "interrupted",
            CliError::AuditBroken(_) => "audit_chain_broken",
        }
    }
    fn zh(&self) -> String {
        match self {
            CliError::Config(m) => format!("配置错误：{m}"),
            CliError::Io { what, source } => format!("无法读写 {what}：{source}"),
            CliError::Store(StoreError::Db(e)) => format!("数据库错误：{e}"),
            CliError::Store(e) => e.zh(),
            CliError::Rows(rows) => format!("导入被拒绝：{} 处错误，未导入任何数据", rows.len()),
            CliError::MissingKey => "未配置数据密钥。身份证号和手机号须加密保存：用 shezhi keygen 生成密钥，再以 --data-key-file 或环境变量 SHEZHI_DATA_KEY 提供".into(),
            CliError::Interrupted => "已中断；已写入的数据保留，再次运行同一命令即可继续".into(),
            CliError::AuditBroken(b) => format!("审计链在第 {} 条断开：{b}", b.seq()),
        }
    }
    fn en(&self) -> String {
        match self {
            CliError::Config(m) => format!("invalid configuration: {m}"),
            CliError::Io { what, source } => format!("cannot read or write {what}: {source}"),
            CliError::Store(StoreError::Db(e)) => format!("database error: {e}"),
            CliError::Store(e) => e.en(),
            CliError::Rows(rows) => {
                format!("import rejected: {} errors, nothing was loaded", rows.len())
            }
            CliError::MissingKey => "no data key configured: identity numbers and phones are stored encrypted; create a key with `shezhi keygen` and pass it with --data-key-file or SHEZHI_DATA_KEY".into(),
            CliError::Interrupted => "interrupted; what was written is kept, run the same command again to resume".into(),
            CliError::AuditBroken(b) => format!("the audit chain breaks at entry {}: {b}", b.seq()),
        }
    }
}

/// Print an error for a person and return the failing exit code.
pub fn fail(e: &CliError) -> ExitCode {
    eprintln!("错误 error [{}]\n  {}\n  {}", e.code(), e.zh(), e.en());
    if let CliError::Rows(rows) = e {
        for r in rows.iter().take(200) {
            eprintln!("  {r}");
        }
        if rows.len() > 200 {
            eprintln!("  … {} more", rows.len() - 200);
        }
    }
    ExitCode::from(2)
}

pub async fn open_store(cfg: &Config, url: &str) -> Result<Store, CliError> {
    let opts = StoreOptions {
        max_connections: cfg.max_connections,
        ..Default::default()
    };
    Ok(Store::open(url, &opts).await?)
}

/// Bind the data key to the database (a different key is refused by its fingerprint) and key
/// the audit chain with the key derived from it, starting the keyed part of the chain if it
/// has none yet. Without a key nothing is bound: appending to a keyed chain is then refused.
pub async fn bind_keys(
    store: &Store,
    key: Option<&shezhi_domain::people::privacy::DataKey>,
    actor: &str,
) -> Result<Option<std::sync::Arc<shezhi_domain::people::privacy::Vault>>, CliError> {
    let Some(key) = key else { return Ok(None) };
    let vault = shezhi_domain::people::privacy::Vault::new(key);
    store.bind_data_key(&vault).await?;
    store
        .bind_audit_key(key.audit_key(), actor, serve::now_ms())
        .await?;
    Ok(Some(std::sync::Arc::new(vault)))
}

pub async fn migrate(cfg: &Config) -> Result<(), CliError> {
    let store = open_store(cfg, cfg.database_url()).await?;
    store.close().await;
    Ok(())
}

/// Load the built-in Chengdu territory into an empty database.
pub async fn ensure_territory(store: &Store) -> Result<(), CliError> {
    if !store.level_counts().await?.is_empty() {
        return Ok(());
    }
    let t = std::time::Instant::now();
    tracing::info!("empty database: generating the built-in Chengdu territory");
    let regions = shezhi_domain::territory::generate::chengdu().map_err(CliError::Config)?;
    let generated = t.elapsed();
    store.put_regions(&regions).await?;
    tracing::info!(regions = regions.len(), ?generated, total = ?t.elapsed(), "territory loaded");
    Ok(())
}

/// Build the point locator from what the database holds.
pub async fn load_locator(store: &Store) -> Result<Locator, CliError> {
    let t = std::time::Instant::now();
    let leaves = store
        .leaf_regions()
        .await?
        .into_iter()
        .map(|l| (l.code, l.shape))
        .collect();
    let mut names: HashMap<RegionCode, String> = HashMap::new();
    for (code, name) in store.region_names().await? {
        if let Ok(c) = RegionCode::parse(&code) {
            names.insert(c, name);
        }
    }
    for (code, name) in store.leaf_names().await? {
        if let Ok(c) = RegionCode::parse(&code) {
            names.insert(c, name);
        }
    }
    let locator = Locator::new(leaves, names);
    tracing::info!(leaves = locator.leaf_count(), took = ?t.elapsed(), "point index built");
    Ok(locator)
}
