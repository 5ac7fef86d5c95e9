//! Group commit: reports (and steps on cases) submitted at the same moment share one
//! transaction (one disk flush), and each submitter is answered only after that transaction
//! has committed. While one group is being written, the next one gathers.

use super::steps::{StepDone, StepJob};
use super::{Intake, NewCase};
use crate::{Store, StoreError};
use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::clock::Clock;
use shezhi_domain::people::privacy::Vault;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

type Answers<A> = Result<Vec<Result<A, StoreError>>, StoreError>;

struct Request<J, A> {
    job: J,
    reply: oneshot::Sender<Result<A, StoreError>>,
}

/// A queue in front of a function that writes a whole group in one transaction.
struct Queue<J, A> {
    jobs: mpsc::Sender<Request<J, A>>,
}

impl<J, A> std::fmt::Debug for Queue<J, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

impl<J, A> Clone for Queue<J, A> {
    fn clone(&self) -> Self {
        Queue {
            jobs: self.jobs.clone(),
        }
    }
}

impl<J: Send + 'static, A: Send + 'static> Queue<J, A> {
    /// Start the writer task: it takes groups of at most `max_batch` jobs off the queue and
    /// answers each job with what `write` returns for it (one answer per job, in order).
    fn start<F, Fut>(what: &'static str, max_batch: usize, write: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Answers<A>> + Send,
    {
        let (tx, mut rx) = mpsc::channel::<Request<J, A>>(max_batch.max(1) * 4);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // Let submitters that are ready to run (those just answered, sending their
                // next job) reach the queue before it is drained: no waiting, only a turn for
                // tasks already runnable.
                tokio::task::yield_now().await;
                let mut group = vec![first];
                while group.len() < max_batch {
                    match rx.try_recv() {
                        Ok(j) => group.push(j),
                        Err(_) => break,
                    }
                }
                let (jobs, replies): (Vec<J>, Vec<_>) =
                    group.into_iter().map(|r| (r.job, r.reply)).unzip();
                let span = tracing::debug_span!("group_commit", what, size = jobs.len());
                match write(jobs).instrument(span).await {
                    Ok(answers) => {
                        for (reply, a) in replies.into_iter().zip(answers) {
                            let _ = reply.send(a);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, what, "a group failed; none of it was stored");
                        let text = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Unavailable(text.clone())));
                        }
                    }
                }
            }
        });
        Queue { jobs: tx }
    }

    /// Submit one job; answers after its group has committed (or failed).
    async fn submit(&self, job: J, what: &str) -> Result<A, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable(format!("the {what} writer has stopped"));
        self.jobs
            .send(Request { job, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The intake queue in front of [`Store::intake_batch`].
#[derive(Clone, Debug)]
pub struct GroupIntake(Queue<NewCase, Intake>);

impl GroupIntake {
    /// Start the writer task; batches hold at most `max_batch` reports.
    pub fn start(
        store: Store,
        vault: Option<Arc<Vault>>,
        clock: Arc<dyn Clock>,
        calendar: Arc<WorkCalendar>,
        max_batch: usize,
    ) -> GroupIntake {
        GroupIntake(Queue::start(
            "intake",
            max_batch,
            move |cases: Vec<NewCase>| {
                let (store, vault, clock, calendar) = (
                    store.clone(),
                    vault.clone(),
                    clock.clone(),
                    calendar.clone(),
                );
                async move {
                    store
                        .intake_batch(&cases, vault.as_deref(), clock.now_ms(), &calendar)
                        .await
                }
            },
        ))
    }

    /// Submit one report; answers after its batch has committed (or failed).
    pub async fn submit(&self, case: NewCase) -> Result<Intake, StoreError> {
        self.0.submit(case, "intake").await
    }
}

/// The step queue in front of [`Store::take_steps`]: steps sent at the same moment share one
/// transaction, and each is answered only after it has committed.
#[derive(Clone, Debug)]
pub struct GroupSteps(Queue<StepJob, StepDone>);

impl GroupSteps {
    /// Start the writer task; a group holds at most `max_batch` steps. One writer serves
    /// both backends: on SQLite there is one writer anyway, and on PostgreSQL a second one
    /// measured slower (its groups are smaller and both wait on the same shared rows).
    pub fn start(store: Store, calendar: Arc<WorkCalendar>, max_batch: usize) -> GroupSteps {
        GroupSteps(Queue::start(
            "step",
            max_batch,
            move |jobs: Vec<StepJob>| {
                let (store, calendar) = (store.clone(), calendar.clone());
                async move { store.take_steps(&jobs, &calendar).await }
            },
        ))
    }

    /// Take one step; answers after its group has committed (or failed).
    pub async fn take(&self, job: StepJob) -> Result<StepDone, StoreError> {
        self.0.submit(job, "step").await
    }
}
