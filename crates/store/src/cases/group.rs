//! Group commit for intake: reports submitted at the same moment share one transaction (one
//! disk flush), and each submitter is answered only after that transaction has committed.
//! While one batch is being written, the next one gathers.

use super::{Intake, NewCase};
use crate::{Store, StoreError};
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::clock::Clock;
use shezhi_domain::people::privacy::Vault;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

struct Job {
    case: NewCase,
    reply: oneshot::Sender<Result<Intake, StoreError>>,
}

/// The intake queue in front of [`Store::intake_batch`].
#[derive(Clone)]
pub struct GroupIntake {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for GroupIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupIntake")
    }
}

impl GroupIntake {
    /// Start the writer task; batches hold at most `max_batch` reports.
    pub fn start(
        store: Store,
        vault: Option<Arc<Vault>>,
        clock: Arc<dyn Clock>,
        calendar: Arc<WorkCalendar>,
        max_batch: usize,
    ) -> GroupIntake {
        let (tx, mut rx) = mpsc::channel::<Job>(max_batch.max(1) * 4);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < max_batch {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let (cases, replies): (Vec<NewCase>, Vec<_>) =
                    jobs.into_iter().map(|j| (j.case, j.reply)).unzip();
                let now = clock.now_ms();
                let span = tracing::debug_span!("intake_batch", reports = cases.len());
                match store
                    .intake_batch(&cases, vault.as_deref(), now, &calendar)
                    .instrument(span)
                    .await
                {
                    Ok(answers) => {
                        for (reply, a) in replies.into_iter().zip(answers) {
                            let _ = reply.send(a);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "intake batch failed; nothing of it was stored");
                        let text = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Unavailable(text.clone())));
                        }
                    }
                }
            }
        });
        GroupIntake { jobs: tx }
    }

    /// Submit one report; answers after its batch has committed (or failed).
    pub async fn submit(&self, case: NewCase) -> Result<Intake, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { case, reply })
            .await
            .map_err(|_| StoreError::Unavailable("the intake writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the intake writer has stopped".into()))?
    }
}
