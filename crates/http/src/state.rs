//! Shared state handed to every handler.

use shezhi_domain::calendar::WorkCalendar;
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
    pub limits: Arc<Limits>,
    /// The token a metrics scraper must send; None serves `/metrics` to loopback only.
    pub metrics_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<crate::auth::TrustedProxies>,
    /// Mark cookies `Secure` (when served over HTTPS, directly or behind a proxy); see
    /// [`secure_cookies_for`].
    pub secure_cookies: bool,
    /// Working days, holidays and make-up days the case clocks run on.
    pub calendar: Arc<WorkCalendar>,
    /// Group-committed intake; without it each report is its own transaction.
    pub intake: Option<shezhi_store::cases::GroupIntake>,
    /// Group-committed steps on cases; without it each step is its own transaction.
    pub steps: Option<shezhi_store::cases::GroupSteps>,
}

/// Rate limits of the server, shared by all requests.
#[derive(Debug)]
pub struct Limits {
    /// Sign-in attempts per client address.
    pub sign_in_address: crate::ratelimit::RateLimiter,
    /// Requests without credentials per client address.
    pub anonymous_address: crate::ratelimit::RateLimiter,
    /// Requests per API key (integrations, Open311 clients), whatever their address.
    pub api_key: crate::ratelimit::RateLimiter,
    /// Sign-in turns of names that are not accounts (they back off like accounts).
    pub unknown_names: crate::ratelimit::UnknownNames,
    /// Failed tracking attempts (a wrong phone ending) per case number.
    pub track_failures: crate::ratelimit::RateLimiter,
    /// Searches by a full identity number or phone per user.
    pub full_number_search: crate::ratelimit::RateLimiter,
    /// Bytes of photos on reports without an account, per client address.
    pub anonymous_photo_bytes_address: crate::ratelimit::RateLimiter,
    /// Bytes of photos on reports without an account, all addresses together.
    pub anonymous_photo_bytes_total: crate::ratelimit::RateLimiter,
    /// Most pixels (width × height) a photo may have; read from its header before it is
    /// decoded, so that a small file that unpacks to gigabytes is refused first.
    pub photo_max_pixels: u64,
    /// Photos decoded at once (each may take width × height × 4 bytes while it is checked).
    pub photo_decoders: tokio::sync::Semaphore,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sign_in_address: crate::ratelimit::RateLimiter::new(30, 60_000),
            anonymous_address: crate::ratelimit::RateLimiter::new(600, 60_000),
            api_key: crate::ratelimit::RateLimiter::new(1_200, 60_000),
            unknown_names: crate::ratelimit::UnknownNames::default(),
            track_failures: crate::ratelimit::RateLimiter::new(10, 3_600_000),
            full_number_search: crate::ratelimit::RateLimiter::new(30, 3_600_000),
            anonymous_photo_bytes_address: crate::ratelimit::RateLimiter::new(20 << 20, 3_600_000),
            anonymous_photo_bytes_total: crate::ratelimit::RateLimiter::new(500 << 20, 86_400_000),
            photo_max_pixels: 40_000_000,
            photo_decoders: tokio::sync::Semaphore::new(2),
        }
    }
}

/// Whether the session cookie is marked `Secure`: as configured when `secure_cookies` is
/// set, otherwise when the public URL people reach the server at is `https://` (a server
/// behind a TLS-terminating proxy listens on plain HTTP but is reached over HTTPS).
pub fn secure_cookies_for(public_url: Option<&str>, secure_cookies: Option<bool>) -> bool {
    secure_cookies.unwrap_or_else(|| {
        public_url.is_some_and(|u| {
            u.get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
        })
    })
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
            limits: Arc::new(Limits::default()),
            metrics_token: None,
            trusted_proxies: Arc::new(crate::auth::TrustedProxies::default()),
            secure_cookies: false,
            calendar: Arc::new(WorkCalendar::china()),
            intake: None,
            steps: None,
        }
    }

    /// Take reports and steps through group-commit writers (needs a running tokio runtime;
    /// set the clock, vault and calendar first).
    pub fn with_group_commit(mut self, max_batch: usize) -> AppState {
        self.intake = Some(shezhi_store::cases::GroupIntake::start(
            self.store.clone(),
            self.vault.clone(),
            self.clock.clone(),
            self.calendar.clone(),
            max_batch,
        ));
        self.steps = Some(shezhi_store::cases::GroupSteps::start(
            self.store.clone(),
            self.calendar.clone(),
            max_batch,
        ));
        self
    }

    /// Take a step on a case now, through the group writer when there is one.
    pub async fn take_step(
        &self,
        case_id: i64,
        input: shezhi_store::cases::StepInput,
    ) -> Result<shezhi_store::cases::StepDone, shezhi_store::StoreError> {
        let now = self.clock.now_ms();
        match &self.steps {
            Some(g) => {
                g.take(shezhi_store::cases::StepJob {
                    case_id,
                    input,
                    now,
                })
                .await
            }
            None => {
                self.store
                    .take_step(case_id, &input, now, &self.calendar)
                    .await
            }
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

    pub fn with_limits(mut self, l: Limits) -> AppState {
        self.limits = Arc::new(l);
        self
    }

    pub fn with_trusted_proxies(mut self, t: crate::auth::TrustedProxies) -> AppState {
        self.trusted_proxies = Arc::new(t);
        self
    }

    pub fn with_metrics(mut self, m: crate::metrics::Metrics) -> AppState {
        self.metrics = Some(m);
        self
    }
}
