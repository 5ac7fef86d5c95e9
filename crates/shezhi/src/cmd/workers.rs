//! Background work of a server: the SLA sweeper (fires due case timers; several servers on one
//! PostgreSQL may all run it, each timer still fires once) and the outbound message sender
//! (here the log channel: a deployment plugs its SMS or WeChat gateway in at `send`), and on
//! PostgreSQL the fold of the case counter log into the counters (readers add what is not yet
//! folded, so the fold's pace changes no figure, only how many log rows a read adds up).

use shezhi_domain::calendar::WorkCalendar;
use shezhi_domain::clock::Clock;
use shezhi_store::Store;
use shezhi_store::cases::Outgoing;
use std::sync::Arc;
use std::time::Duration;

/// Timers fired per sweep transaction batch.
const SWEEP_BATCH: i64 = 2_000;

/// Sweep every `every` until the process ends.
pub fn spawn_sweeper(
    store: Store,
    clock: Arc<dyn Clock>,
    calendar: Arc<WorkCalendar>,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                match store.sweep(clock.now_ms(), &calendar, SWEEP_BATCH).await {
                    Ok(r) => {
                        if r.fired > 0 {
                            tracing::info!(
                                fired = r.fired,
                                overdue = r.overdue,
                                escalated = r.escalated,
                                supervised = r.supervised,
                                late_check_ins = r.late_check_ins,
                                lag_ms = r.max_lag_ms,
                                "sla sweep"
                            );
                            metrics::histogram!("shezhi_sla_sweep_lag_seconds")
                                .record(r.max_lag_ms as f64 / 1000.0);
                        }
                        if r.fired < SWEEP_BATCH as u64 {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sla sweep failed; retrying at the next tick");
                        break;
                    }
                }
            }
            // Directives: remind late recipients, once per rule and version.
            match store.sweep_directive_reminders(clock.now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(notices = n, "directive reminders"),
                Err(e) => {
                    tracing::warn!(error = %e, "directive reminders failed; retrying at the next tick")
                }
            }
        }
    });
}

/// How often a server folds the counter log: rarely enough that a fold adds up many
/// transactions' deltas of the same counters, often enough that a read adds few rows.
pub const FOLD_EVERY: Duration = Duration::from_secs(1);

/// Run `batch` again at once while it does a full batch of `full`; returns what it did. An
/// error is logged (naming `what`) and ends the round: the next tick tries again.
async fn drain<F, Fut>(full: i64, what: &str, mut batch: F) -> u64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, shezhi_store::StoreError>>,
{
    let mut done = 0;
    loop {
        match batch().await {
            Ok(n) => {
                done += n;
                if n < full as u64 {
                    return done;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "{what} failed; retrying at the next tick");
                return done;
            }
        }
    }
}

/// Fold the case counter log every `every` (PostgreSQL; nothing to do on SQLite), at once
/// again while a fold finds a full batch. Returns the task, for callers that stop it.
pub fn spawn_counter_fold(store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if store.backend() != shezhi_store::Backend::Postgres {
            return;
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let full = shezhi_store::cases::FOLD_BATCH;
            drain(full, "counter fold", || store.fold_counter_log(full)).await;
        }
    })
}

/// How often a server refreshes the query planner's statistics (SQLite keeps none of its
/// own; see `Store::refresh_statistics`).
pub const STATISTICS_EVERY: Duration = Duration::from_secs(3_600);

/// Refresh the planner's statistics at start and every `every` after. Returns the task, for
/// callers that stop it.
pub fn spawn_statistics(store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            match store.refresh_statistics().await {
                Ok(true) => tracing::info!(
                    seconds = started.elapsed().as_secs_f64(),
                    "planner statistics refreshed"
                ),
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "refreshing planner statistics failed; retrying at the next tick")
                }
            }
        }
    })
}

/// How often a server indexes the words of new cases (see `Store::index_case_text`); a case
/// not yet indexed is still found, matched in memory.
pub const INDEX_EVERY: Duration = Duration::from_secs(1);

/// Index the words of new cases every `every`, at once again while a run finds a full
/// batch. Returns the task, for callers that stop it.
pub fn spawn_search_indexer(store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        shezhi_domain::search::warm_up();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let full = shezhi_store::cases::INDEX_BATCH;
            let done = drain(full, "search indexing", || store.index_case_text(full)).await;
            // How far behind intake the index is, for alerting; and, catching up after an
            // upgrade or a bulk load, how far it got.
            if let Ok(n) = store.unindexed_cases().await {
                metrics::gauge!("shezhi_search_unindexed_cases").set(n as f64);
                if done > full as u64 {
                    tracing::info!(
                        indexed = done,
                        to_go = n,
                        "indexing the words of earlier cases"
                    );
                }
            }
        }
    })
}

/// An outbound channel.
pub trait Channel: Send + Sync + 'static {
    /// Deliver one message; an error leaves it in the outbox for the next round.
    fn send(&self, m: &Outgoing) -> Result<(), String>;
}

/// Writes messages to the log instead of sending them.
pub struct LogChannel;

impl Channel for LogChannel {
    fn send(&self, m: &Outgoing) -> Result<(), String> {
        tracing::info!(channel = %m.channel, recipient = %m.recipient, body = %m.body, "outbound message (log channel)");
        Ok(())
    }
}

/// Send the outbox every `every` until the process ends.
pub fn spawn_outbox(
    store: Store,
    clock: Arc<dyn Clock>,
    channel: Arc<dyn Channel>,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let pending = match store.outbox_pending(500).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox unavailable");
                    continue;
                }
            };
            for m in pending {
                match channel.send(&m) {
                    Ok(()) => {
                        if let Err(e) = store.outbox_sent(m.id, clock.now_ms()).await {
                            tracing::warn!(error = %e, id = m.id, "could not mark a message sent");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, id = m.id, "message not sent; will retry"),
                }
            }
        }
    });
}
