//! Shared state handed to every handler.

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
}

impl AppState {
    pub fn new(store: Store, locator: Locator) -> AppState {
        AppState {
            store,
            locator: Arc::new(locator),
            metrics: None,
            vault: None,
        }
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
