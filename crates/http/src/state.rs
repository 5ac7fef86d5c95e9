//! Shared state handed to every handler.

use shezhi_domain::geocode::Locator;
use shezhi_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub locator: Arc<Locator>,
    pub metrics: Option<crate::metrics::Metrics>,
}

impl AppState {
    pub fn new(store: Store, locator: Locator) -> AppState {
        AppState {
            store,
            locator: Arc::new(locator),
            metrics: None,
        }
    }

    pub fn with_metrics(mut self, m: crate::metrics::Metrics) -> AppState {
        self.metrics = Some(m);
        self
    }
}
