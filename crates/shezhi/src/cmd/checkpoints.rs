//! Signed checkpoints of the audit chain's head, kept outside the database: a server appends
//! one to the checkpoint file (and logs it, so that a log collector holds copies) at start,
//! every few minutes and at shutdown; `shezhi audit verify` checks the chain against them.
//! Someone who can rewrite the database but not the key cannot make a chain that agrees with
//! a checkpoint written before the rewrite.

use super::CliError;
use shezhi_domain::audit::{AuditKey, Checkpoint};
use shezhi_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a server's checkpoints go and what signs them.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    pub path: PathBuf,
    pub key: Option<AuditKey>,
}

impl Checkpoints {
    /// Append a checkpoint of the current head (`when`: start, periodic, shutdown) to the
    /// file, synced to disk, and log it.
    pub async fn write(&self, store: &Store, when: &str) -> Result<Checkpoint, CliError> {
        let head = store.audit_head().await?;
        let c = Checkpoint::new(
            head.seq,
            &head.hash,
            super::serve::now_ms(),
            head.keyed_from,
            self.key.as_ref(),
        );
        let line = c.line();
        append_line(&self.path, &line)?;
        tracing::info!(
            target: "shezhi::audit_checkpoint",
            when,
            file = %self.path.display(),
            checkpoint = %line,
            "audit checkpoint"
        );
        Ok(c)
    }
}

fn append_line(path: &Path, line: &str) -> Result<(), CliError> {
    let what = path.display().to_string();
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| CliError::io(&what, e))?;
    f.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| CliError::io(&what, e))
}

/// Write a checkpoint every `every` (the first after one period: the server wrote one at
/// start). A failure is logged and tried again at the next tick.
pub fn spawn(
    store: Store,
    checkpoints: Checkpoints,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = checkpoints.write(&store, "periodic").await {
                tracing::warn!(error = %e, "audit checkpoint failed; retrying at the next tick");
            }
        }
    })
}

/// The checkpoints in `path` with their line numbers (blank lines skipped); `None` if there
/// is no such file. A line that is not a checkpoint is an error: the file was damaged.
pub fn read(path: &Path) -> Result<Option<Vec<(usize, Checkpoint)>>, CliError> {
    let what = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CliError::io(&what, e)),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let c = Checkpoint::parse(line).map_err(|e| {
            CliError::Config(format!(
                "{what} line {}: not an audit checkpoint: {e}",
                i + 1
            ))
        })?;
        out.push((i + 1, c));
    }
    Ok(Some(out))
}
