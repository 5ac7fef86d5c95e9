//! Configuration in layers: built-in defaults, then a TOML file (`--config`), then
//! `SHEZHI_*` environment variables, then command-line flags. The result is one typed
//! struct passed down; nothing reads the environment later.

use crate::cmd::CliError;
use clap::{Args, Parser, Subcommand};
use shezhi_domain::people::privacy::DataKey;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "shezhi",
    version,
    about = "社智在线 shezhi — community governance platform"
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "SHEZHI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://path/to/file.db or postgres://user@host:port/db
    #[arg(long, global = true, env = "SHEZHI_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, global = true, env = "SHEZHI_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data key for personal data at rest: 64 hex characters (see `shezhi keygen`).
    #[arg(long, global = true, env = "SHEZHI_DATA_KEY", hide_env_values = true)]
    pub data_key: Option<String>,
    /// File holding the data key (alternative to --data-key).
    #[arg(long, global = true, env = "SHEZHI_DATA_KEY_FILE")]
    pub data_key_file: Option<PathBuf>,
    /// Append-only file of signed audit checkpoints, outside the database (default: beside a
    /// SQLite file as `<file>.audit-checkpoints`; for PostgreSQL `<database>.audit-checkpoints`
    /// in the working directory).
    #[arg(long, global = true, env = "SHEZHI_AUDIT_CHECKPOINTS")]
    pub audit_checkpoints: Option<PathBuf>,
    /// Minutes between audit checkpoints of a running server (also written at start and at
    /// shutdown).
    #[arg(long, global = true, env = "SHEZHI_AUDIT_CHECKPOINT_MINUTES", value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub audit_checkpoint_minutes: Option<u64>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "SHEZHI_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Public holidays and make-up workdays of further years (or corrections), in the
    /// calendar's text format (`year 2027`, `holiday 2027-01-01..2027-01-03 元旦`,
    /// `workday …`); added to the built-in 2025 and 2026.
    #[arg(long, global = true, env = "SHEZHI_HOLIDAYS_FILE")]
    pub holidays_file: Option<PathBuf>,
    /// The URL people reach the server at, e.g. `https://shezhi.example.gov.cn` (behind a
    /// proxy: the proxy's). An `https://` URL marks the session cookie `Secure`.
    #[arg(long, global = true, env = "SHEZHI_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Mark the session cookie `Secure` (`true`/`false`); default: when the public URL is https.
    #[arg(long, global = true, env = "SHEZHI_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Reverse proxies whose `X-Forwarded-For` names the client: addresses or CIDR blocks,
    /// comma-separated (`10.0.0.5,10.1.0.0/16`). Without it the header is ignored.
    #[arg(
        long,
        global = true,
        env = "SHEZHI_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// The token a Prometheus scraper sends as `Authorization: Bearer …` to read `/metrics`;
    /// without it `/metrics` answers only this machine (loopback).
    #[arg(
        long,
        global = true,
        env = "SHEZHI_METRICS_TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Seconds a client has to send a request's headers; also the longest a kept-alive
    /// connection may stay idle (default 10).
    #[arg(long, global = true, env = "SHEZHI_HEADER_READ_TIMEOUT_SECS",
        value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_read_timeout_secs: Option<u64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and web pages (the built-in Chengdu territory is loaded on first start).
    Serve,
    /// Serve a live demo of real Chengdu on an embedded database.
    Demo(DemoArgs),
    /// Load divisions (CSV) or grid polygons (GeoJSON) supplied by a city.
    Import(ImportArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Fill the database with a synthetic register of houses and people (resumable).
    Generate(GenerateArgs),
    /// Print a new random data key.
    Keygen,
    /// Users and roles.
    Admin(AdminArgs),
    /// The audit trail.
    Audit(AuditArgs),
    /// Run a benchmark and print its report.
    Bench(BenchArgs),
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Start from an empty database even if the demo file exists.
    #[arg(long)]
    pub fresh: bool,
    #[command(flatten)]
    pub register: RegisterArgs,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub what: AdminWhat,
}

#[derive(Debug, Subcommand)]
pub enum AdminWhat {
    /// Create a user; the password comes from the environment variable SHEZHI_NEW_PASSWORD.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// A role binding: `admin`, `grid_worker=510104018001001`, `unit_staff=UNITCODE`…
        /// Repeat for several.
        #[arg(long = "bind", required = true)]
        bind: Vec<String>,
    },
    /// Make an API token for a user (for integrations such as an Open311 client). The token is
    /// printed once on stdout and stored only as its hash.
    CreateToken {
        #[arg(long)]
        username: String,
        /// What the token is for, e.g. `open311-gateway`.
        #[arg(long)]
        name: String,
        /// Days until it expires (default 90).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650), conflicts_with = "no_expiry")]
        days: Option<u32>,
        /// A token that never expires (for a gateway whose key is rotated by other means).
        #[arg(long)]
        no_expiry: bool,
    },
    /// List a user's API tokens (id, name, created, expires, revoked).
    ListTokens {
        #[arg(long)]
        username: String,
    },
    /// Revoke an API token at once.
    RevokeToken {
        #[arg(long)]
        id: i64,
    },
    /// Disable a user: no sign-in, no token; their sessions end now.
    DisableUser {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user again.
    EnableUser {
        #[arg(long)]
        username: String,
    },
    /// End every browser session of a user.
    EndSessions {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub what: AuditWhat,
}

#[derive(Debug, Subcommand)]
pub enum AuditWhat {
    /// Recompute the chain (its keyed links with the data key, if given), check it against
    /// every signed checkpoint, and report the first problem (exit code 2).
    Verify,
    /// Append a checkpoint of the chain's head now, signed with the data key if given (a
    /// server writes them itself; this is for around backups or from cron).
    Checkpoint,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub register: RegisterArgs,
}

/// How much of the synthetic register to generate.
#[derive(Debug, Clone, Args)]
pub struct RegisterArgs {
    /// How much of Chengdu to fill with houses and people.
    #[arg(long, value_enum, default_value_t = Scale::District)]
    pub scale: Scale,
    /// The community, street or district to fill (default: in 锦江区). Ignored for `city`.
    #[arg(long)]
    pub region: Option<String>,
    /// Seed of the generator: the same seed gives the same register.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    Community,
    Street,
    District,
    City,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportWhat,
}

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Divisions as CSV with the header level,code,name,parent_code.
    Divisions { file: PathBuf },
    /// Grids and micro-grids as a GeoJSON FeatureCollection (properties: code, name, kind).
    Grids { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Point → micro-grid lookups per second on one core, against a brute-force scan.
    Geocode {
        /// Lookups through the index.
        #[arg(long, default_value_t = 5_000_000)]
        lookups: usize,
        /// Lookups through the brute-force scan (it is slow).
        #[arg(long, default_value_t = 2_000)]
        scan_lookups: usize,
    },
    /// Register load rate against a raw insert (SQLite) or bare COPY (PostgreSQL) of the
    /// same rows, each into a fresh database; then the server's memory with the data loaded.
    Load {
        #[arg(long, value_enum, default_value_t = Scale::District)]
        scale: Scale,
        #[arg(long, value_enum, default_value_t = BenchBackend::Sqlite)]
        backend: BenchBackend,
        /// Where fresh benchmark databases are made: a directory for SQLite, an admin URL
        /// for PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres).
        #[arg(long)]
        at: Option<String>,
        /// Keep the loaded databases afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// The case loop: durable intake with group commit against single-row commits, and full
    /// lifecycles against raw "insert event + update row" transactions, on a fresh database.
    Cases {
        #[arg(long, value_enum, default_value_t = BenchBackend::Sqlite)]
        backend: BenchBackend,
        /// As for `bench load`.
        #[arg(long)]
        at: Option<String>,
        /// Reports taken in.
        #[arg(long, default_value_t = 20_000)]
        reports: usize,
        /// Submitters at once (people pressing "send").
        #[arg(long, default_value_t = 256)]
        writers: usize,
        /// Cases taken through accept, dispatch, sign, feedback and verify.
        #[arg(long, default_value_t = 2_000)]
        lifecycles: usize,
        /// Cases moving at once (people taking steps at the same moment), for the lifecycles
        /// and for their raw baseline alike.
        #[arg(long, default_value_t = 4)]
        movers: usize,
    },
    /// A city-wide household campaign: making it against a raw INSERT … SELECT of the same
    /// task rows, visit ingest against bare batches with the coverage view read meanwhile,
    /// and the seeds' peak-hour pace with its send-to-commit lag.
    Campaigns {
        #[arg(long, value_enum, default_value_t = BenchBackend::Sqlite)]
        backend: BenchBackend,
        /// As for `bench load`.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, default_value_t = 8_750_000)]
        households: i64,
        /// Visits ingested (each run twice: through shezhi and raw).
        #[arg(long, default_value_t = 100_000)]
        visits: usize,
        /// Seconds of the peak-hour pace.
        #[arg(long, default_value_t = 60)]
        pace_seconds: u64,
    },
    /// The city overview with millions of cases against a GROUP BY over them, and the SLA
    /// sweeper's lag in real time with 1 % of the open cases coming due each minute.
    Scale {
        #[arg(long, value_enum, default_value_t = BenchBackend::Sqlite)]
        backend: BenchBackend,
        /// As for `bench load`.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, default_value_t = 10_000_000)]
        cases: usize,
        /// Minutes of timers coming due.
        #[arg(long, default_value_t = 3)]
        minutes: u64,
        /// Keep the database afterwards.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchBackend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The configuration file's shape; every field optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<SocketAddr>,
    log_format: Option<LogFormat>,
    max_connections: Option<u32>,
    data_key_file: Option<PathBuf>,
    holidays_file: Option<PathBuf>,
    audit_checkpoints: Option<PathBuf>,
    audit_checkpoint_minutes: Option<u64>,
    public_url: Option<String>,
    secure_cookies: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    metrics_token: Option<String>,
    header_read_timeout_secs: Option<u64>,
}

/// The effective configuration.
#[derive(Clone)]
pub struct Config {
    /// None means "the command's default" (the demo uses its own file).
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub max_connections: u32,
    /// Key for personal data at rest; None disables writing and searching it.
    pub data_key: Option<DataKey>,
    /// The working-day calendar the case clocks run on.
    pub calendar: shezhi_domain::calendar::WorkCalendar,
    /// The audit checkpoint file, if set (else see [`Config::audit_checkpoints`]).
    pub audit_checkpoints: Option<PathBuf>,
    /// Minutes between a server's audit checkpoints.
    pub audit_checkpoint_minutes: u64,
    /// The URL people reach the server at (`http://` or `https://`), if configured.
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: shezhi_http::auth::TrustedProxies,
    /// The token `/metrics` asks of scrapers (None: loopback only).
    pub metrics_token: Option<String>,
    /// Whether the session cookie is marked `Secure` (set, or derived from `public_url`).
    pub secure_cookies: bool,
    /// Header-read and keep-alive idle limit of connections.
    pub header_read_timeout: std::time::Duration,
}

impl std::fmt::Debug for Config {
    // The URL may hold a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<hidden>"),
            )
            .field("listen", &self.listen)
            .field("log_format", &self.log_format)
            .field("max_connections", &self.max_connections)
            .field("data_key", &self.data_key)
            .field("calendar_years", &self.calendar.years())
            .field("audit_checkpoints", &self.audit_checkpoints)
            .field("audit_checkpoint_minutes", &self.audit_checkpoint_minutes)
            .field("public_url", &self.public_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<hidden>"),
            )
            .field("secure_cookies", &self.secure_cookies)
            .field("header_read_timeout", &self.header_read_timeout)
            .finish()
    }
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Minutes between audit checkpoints unless configured.
pub const DEFAULT_AUDIT_CHECKPOINT_MINUTES: u64 = 10;
pub const DEMO_DATABASE_URL: &str = "sqlite://shezhi-demo.db";
/// The demo's data key, created beside the demo database on first start.
pub const DEMO_KEY_FILE: &str = "shezhi-demo.key";

impl Config {
    pub fn load(cli: &Cli) -> Result<Config, CliError> {
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| CliError::io(&path.display().to_string(), e))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        let listen = match cli.listen.or(file.listen) {
            Some(l) => l,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|e| CliError::Config(format!("{e}")))?,
        };
        let key_file = cli.data_key_file.clone().or(file.data_key_file);
        let data_key = match (&cli.data_key, key_file) {
            (Some(hex), _) => Some(parse_key(hex, "--data-key")?),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| CliError::io(&path.display().to_string(), e))?;
                Some(parse_key(&text, &path.display().to_string())?)
            }
            (None, None) => None,
        };
        let mut calendar = shezhi_domain::calendar::WorkCalendar::china();
        if let Some(path) = cli.holidays_file.clone().or(file.holidays_file) {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| CliError::io(&path.display().to_string(), e))?;
            load_years(&mut calendar, &text)
                .map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?;
        }
        let audit_checkpoint_minutes = cli
            .audit_checkpoint_minutes
            .or(file.audit_checkpoint_minutes)
            .unwrap_or(DEFAULT_AUDIT_CHECKPOINT_MINUTES);
        if !(1..=1440).contains(&audit_checkpoint_minutes) {
            return Err(CliError::Config(format!(
                "audit_checkpoint_minutes must be 1 to 1440, not {audit_checkpoint_minutes}"
            )));
        }
        let public_url = match cli.public_url.clone().or(file.public_url) {
            Some(u) => Some(parse_public_url(&u)?),
            None => None,
        };
        let secure_cookies = shezhi_http::secure_cookies_for(
            public_url.as_deref(),
            cli.secure_cookies.or(file.secure_cookies),
        );
        let header_read_timeout = match cli
            .header_read_timeout_secs
            .or(file.header_read_timeout_secs)
        {
            Some(0) => {
                return Err(CliError::Config(
                    "header_read_timeout_secs must be at least 1".into(),
                ));
            }
            Some(secs) => std::time::Duration::from_secs(secs),
            None => shezhi_http::serve::HEADER_READ_TIMEOUT,
        };
        let trusted_proxies = shezhi_http::auth::TrustedProxies::parse(
            &cli.trusted_proxies
                .clone()
                .or(file.trusted_proxies)
                .unwrap_or_default(),
        )
        .map_err(|e| CliError::Config(format!("trusted_proxies: {e}")))?;
        let metrics_token = cli
            .metrics_token
            .clone()
            .or(file.metrics_token)
            .filter(|t| !t.trim().is_empty());
        Ok(Config {
            trusted_proxies,
            metrics_token,
            audit_checkpoints: cli.audit_checkpoints.clone().or(file.audit_checkpoints),
            audit_checkpoint_minutes,
            calendar,
            public_url,
            secure_cookies,
            header_read_timeout,
            data_key,
            database_url: cli.database_url.clone().or(file.database_url),
            listen,
            log_format: cli
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            max_connections: file.max_connections.unwrap_or(8),
        })
    }

    /// The database URL, or the default for commands that are not the demo.
    pub fn database_url(&self) -> &str {
        self.database_url.as_deref().unwrap_or("sqlite://shezhi.db")
    }

    /// The audit checkpoint file for the database at `url`: as configured, else beside a
    /// SQLite file (`shezhi.db.audit-checkpoints`), else for PostgreSQL in the working
    /// directory named after the database (`shezhi.audit-checkpoints`), so that two
    /// databases never share a file.
    pub fn audit_checkpoints(&self, url: &str) -> PathBuf {
        if let Some(p) = &self.audit_checkpoints {
            return p.clone();
        }
        let without_query = url.split('?').next().unwrap_or(url);
        let stem = if let Some(rest) = without_query
            .strip_prefix("sqlite://")
            .or_else(|| without_query.strip_prefix("sqlite:"))
        {
            rest.to_string()
        } else {
            // postgres://user@host:port/database: the database's name, or `postgres`.
            let after_scheme = without_query.split_once("://").map_or("", |(_, r)| r);
            match after_scheme.split_once('/') {
                Some((_, db)) if !db.is_empty() => db.to_string(),
                _ => "postgres".to_string(),
            }
        };
        let stem = if stem.is_empty() || stem.starts_with(":memory:") {
            "shezhi".to_string()
        } else {
            stem
        };
        PathBuf::from(format!("{stem}.audit-checkpoints"))
    }
}

/// Load every `year …` block of a holidays file; errors name the line in the file.
pub fn load_years(
    cal: &mut shezhi_domain::calendar::WorkCalendar,
    text: &str,
) -> Result<Vec<i32>, String> {
    use shezhi_domain::Bilingual;
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("year "))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return Err("no `year` line / 没有 year 行".into());
    }
    let mut years = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        let block = lines[start..end].join("\n");
        let year = cal
            .load_year(&block)
            .map_err(|e| format!("line {}: {} / {}", start + e.line(), e.en(), e.zh()))?;
        years.push(year);
    }
    Ok(years)
}

/// A public URL: `http://` or `https://`, a host, nothing else checked; without a trailing `/`.
fn parse_public_url(text: &str) -> Result<String, CliError> {
    let t = text.trim();
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            t.get(..scheme.len())
                .filter(|s| s.eq_ignore_ascii_case(scheme))
                .map(|_| &t[scheme.len()..])
        })
        .ok_or_else(|| {
            CliError::Config(format!(
                "public_url {t:?}: must start with https:// or http://"
            ))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CliError::Config(format!("public_url {t:?}: no host")));
    }
    Ok(t.trim_end_matches('/').to_string())
}

fn parse_key(text: &str, from: &str) -> Result<DataKey, CliError> {
    DataKey::from_hex(text).map_err(|e| CliError::Config(format!("{from}: {e}")))
}

pub fn init_tracing(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cfg.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<Config, CliError> {
        let cli = Cli::try_parse_from(
            std::iter::once("shezhi")
                .chain(args.iter().copied())
                .chain(["serve"]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Config::load(&cli)
    }

    #[test]
    fn an_https_public_url_marks_the_cookie_secure_unless_overridden() {
        let secure = |args: &[&str]| load(args).map(|c| c.secure_cookies).ok();
        assert_eq!(
            secure(&["--public-url", "https://shezhi.example.gov.cn/"]),
            Some(true)
        );
        assert_eq!(secure(&["--public-url", "HTTPS://a.example"]), Some(true));
        assert_eq!(
            secure(&["--public-url", "http://10.0.0.5:8080"]),
            Some(false)
        );
        assert_eq!(
            secure(&[
                "--public-url",
                "https://a.example",
                "--secure-cookies",
                "false"
            ]),
            Some(false)
        );
        assert_eq!(secure(&["--secure-cookies", "true"]), Some(true));
        let c = load(&["--public-url", "https://a.example/"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.public_url.as_deref(), Some("https://a.example"));
    }

    #[test]
    fn a_public_url_without_scheme_or_host_is_refused() {
        for bad in [
            "shezhi.example",
            "ftp://a.example",
            "https://",
            "https:///x",
            "https://a b",
        ] {
            assert!(load(&["--public-url", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_header_read_timeout_is_configurable() {
        let c = load(&["--header-read-timeout-secs", "3"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.header_read_timeout, std::time::Duration::from_secs(3));
        let c = load(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.header_read_timeout,
            shezhi_http::serve::HEADER_READ_TIMEOUT
        );
    }
}
