//! Shared state handed to every handler.

use shezhi_domain::clock::Clock;
use shezhi_domain::geocode::Locator;
use shezhi_domain::people::privacy::Vault;
use shezhi_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub locator: Arc<Locator>,
    pub metrics: Option<crate::metrics::Metrics>,
    /// Seals and finds personal data; None when no data key is configured.
    pub vault: Option<Arc<Vault>>,
    pub clock: Arc<dyn Clock>,
}

/// The operating system's clock.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

impl AppState {
    pub fn new(store: Store, locator: Locator) -> AppState {
        AppState {
            store,
            locator: Arc::new(locator),
            metrics: None,
            vault: None,
            clock: Arc::new(SystemClock),
        }
    }

    pub fn with_clock(mut self, c: Arc<dyn Clock>) -> AppState {
        self.clock = c;
        self
    }

    pub fn with_vault(mut self, v: Option<Arc<Vault>>) -> AppState {
        self.vault = v;
        self
    }

    pub fn with_metrics(mut self, m: crate::metrics::Metrics) -> AppState {
        self.metrics = Some(m);
        self
    }
}
