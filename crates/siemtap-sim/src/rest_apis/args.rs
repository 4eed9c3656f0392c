//! Flags of `siemtap sim rest`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::common::retry_after::RetryAfterForm;

/// Arguments of `siemtap sim rest ...`: three example REST APIs on one port.
#[derive(clap::Args, Clone)]
pub struct RestArgs {
    /// Address to bind; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Dataset seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Records per feed, spread evenly over [now − 24 h + 15 min, now − 10 min].
    #[arg(long, default_value_t = 100)]
    pub events: u64,
    /// Okta-style API token (`Authorization: SSWS <token>`).
    #[arg(long, default_value = "sim-okta-token")]
    pub okta_token: String,
    /// OAuth2 client id.
    #[arg(long, default_value = "sim-client")]
    pub client_id: String,
    /// OAuth2 client secret.
    #[arg(long, default_value = "sim-client-secret")]
    pub client_secret: String,
    /// Lifetime of issued access tokens, seconds (virtual clock).
    #[arg(long, default_value_t = 3600)]
    pub token_ttl: u64,
    /// API key of the page-number API (`?api_key=`).
    #[arg(long, default_value = "sim-api-key")]
    pub api_key: String,
    /// `Retry-After` form on rate-limit 429s.
    #[arg(long, value_enum, default_value = "seconds")]
    pub retry_after_form: RetryAfterForm,
    /// Disable the per-credential rate limits.
    #[arg(long)]
    pub no_rate_limit: bool,
    /// Fault plan JSON file installed at start (the `POST /_sim/faults` format).
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Start the virtual clock at this RFC 3339 time instead of the system time.
    #[arg(long)]
    pub clock_start: Option<String>,
    /// Start with the virtual clock frozen.
    #[arg(long)]
    pub frozen_clock: bool,
}

impl Default for RestArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            events: 100,
            okta_token: "sim-okta-token".into(),
            client_id: "sim-client".into(),
            client_secret: "sim-client-secret".into(),
            token_ttl: 3600,
            api_key: "sim-api-key".into(),
            retry_after_form: RetryAfterForm::Seconds,
            no_rate_limit: false,
            faults: None,
            clock_start: None,
            frozen_clock: false,
        }
    }
}

/// Credentials are secrets: Debug leaves them out.
impl fmt::Debug for RestArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestArgs")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("events", &self.events)
            .field("client_id", &self.client_id)
            .field("token_ttl", &self.token_ttl)
            .field("retry_after_form", &self.retry_after_form)
            .field("no_rate_limit", &self.no_rate_limit)
            .field("faults", &self.faults)
            .field("clock_start", &self.clock_start)
            .field("frozen_clock", &self.frozen_clock)
            .finish_non_exhaustive()
    }
}
