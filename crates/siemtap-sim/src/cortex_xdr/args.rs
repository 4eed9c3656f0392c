//! Command-line arguments of `siemtap sim cortex_xdr` and their validation.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use jiff::Timestamp;

use crate::common::faults::FaultPlan;
use crate::common::retry_after::RetryAfterForm;
use crate::error::SimError;

/// `--security-level`: how the `Authorization` header is checked (spec §4.2).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityLevel {
    /// `Authorization = hex(sha256(api_key + nonce + timestamp))` with `x-xdr-nonce` and
    /// `x-xdr-timestamp`.
    #[default]
    Advanced,
    /// `Authorization` is the raw API key.
    Standard,
}

/// Arguments of `siemtap sim cortex_xdr ...`.
#[derive(clap::Args, Clone)]
pub struct CortexXdrArgs {
    /// Address to bind; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Dataset seed: same seed + same clock → byte-identical bodies.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Alerts and incidents (each), spread over [now − 24 h + 15 min, now − 10 min].
    #[arg(long, default_value_t = 100)]
    pub events: u64,
    /// Live arrivals: alerts and incidents (each) per second, at the virtual clock. Every
    /// fourth incident arrival is an update of an existing incident.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Accepted API key (never printed).
    #[arg(long, default_value = "sim-api-key")]
    pub api_key: String,
    /// Accepted `x-xdr-auth-id` (numeric).
    #[arg(long, default_value_t = 1)]
    pub api_key_id: u64,
    /// Key type: `advanced` (hashed, nonce + timestamp) or `standard` (raw key).
    #[arg(long, value_enum, default_value = "advanced")]
    pub security_level: SecurityLevel,
    /// Advanced keys: require `x-xdr-nonce` to be exactly 64 `[A-Za-z0-9]`.
    #[arg(long)]
    pub strict_nonce: bool,
    /// Advanced keys: accepted distance (seconds) between `x-xdr-timestamp` and the sim clock.
    #[arg(long, default_value_t = 300)]
    pub auth_skew: u64,
    /// Advanced keys: reject a nonce seen before (replay) within the skew window.
    #[arg(long)]
    pub reject_nonce_reuse: bool,
    /// Clamp `search_to − search_from` to 100 instead of answering 400.
    #[arg(long)]
    pub clamp_page: bool,
    /// Share of alerts returned without `creation_time` (0–1).
    #[arg(long, default_value_t = 0.1)]
    pub no_creation_time_fraction: f64,
    /// Share of alerts uploaded late: detected 1–6 h before their server insertion (0–1).
    /// They are inserted (and visible) on the normal schedule; only the detection time is old.
    #[arg(long, default_value_t = 0.1)]
    pub late_fraction: f64,
    /// `Retry-After` form on rate-limit 429s.
    #[arg(long, value_enum, default_value = "seconds")]
    pub retry_after_form: RetryAfterForm,
    /// Disable the 10 requests/s limit (benchmarks).
    #[arg(long)]
    pub no_rate_limit: bool,
    /// Fault plan JSON file installed at start (the `POST /_sim/faults` format).
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Start the virtual clock at this RFC 3339 time instead of the system time.
    #[arg(long)]
    pub clock_start: Option<String>,
    /// Start with the virtual clock frozen (it moves only through `POST /_sim/clock`).
    #[arg(long)]
    pub frozen_clock: bool,
}

impl Default for CortexXdrArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            events: 100,
            rate: None,
            api_key: "sim-api-key".to_owned(),
            api_key_id: 1,
            security_level: SecurityLevel::Advanced,
            strict_nonce: false,
            auth_skew: 300,
            reject_nonce_reuse: false,
            clamp_page: false,
            no_creation_time_fraction: 0.1,
            late_fraction: 0.1,
            retry_after_form: RetryAfterForm::Seconds,
            no_rate_limit: false,
            faults: None,
            clock_start: None,
            frozen_clock: false,
        }
    }
}

/// The API key is a secret: Debug redacts it.
impl fmt::Debug for CortexXdrArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CortexXdrArgs")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("events", &self.events)
            .field("rate", &self.rate)
            .field("api_key", &"<redacted>")
            .field("api_key_id", &self.api_key_id)
            .field("security_level", &self.security_level)
            .field("strict_nonce", &self.strict_nonce)
            .field("auth_skew", &self.auth_skew)
            .field("reject_nonce_reuse", &self.reject_nonce_reuse)
            .field("clamp_page", &self.clamp_page)
            .field("no_creation_time_fraction", &self.no_creation_time_fraction)
            .field("late_fraction", &self.late_fraction)
            .field("retry_after_form", &self.retry_after_form)
            .field("no_rate_limit", &self.no_rate_limit)
            .field("faults", &self.faults)
            .field("clock_start", &self.clock_start)
            .field("frozen_clock", &self.frozen_clock)
            .finish()
    }
}

/// Validated settings (the key itself lives in [`super::auth::KeyCheck`]).
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) events: u64,
    pub(crate) rate: Option<f64>,
    pub(crate) key_id: String,
    pub(crate) level: SecurityLevel,
    pub(crate) strict_nonce: bool,
    pub(crate) skew_ms: i64,
    pub(crate) reject_nonce_reuse: bool,
    pub(crate) clamp_page: bool,
    pub(crate) no_creation_fraction: f64,
    pub(crate) late_fraction: f64,
    pub(crate) retry_after_form: RetryAfterForm,
    pub(crate) rate_limit: bool,
    pub(crate) plan: Option<FaultPlan>,
    pub(crate) clock_start: Option<Timestamp>,
    pub(crate) frozen_clock: bool,
}

fn fraction(flag: &'static str, v: f64) -> Result<f64, SimError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(SimError::InvalidFlag {
            flag,
            message: format!("{v} is not a fraction; give a number within 0..=1"),
        })
    }
}

impl Config {
    /// Validates `args` (reads the `--faults` file).
    pub(crate) fn from_args(args: &CortexXdrArgs) -> Result<Self, SimError> {
        if args.api_key.trim().is_empty() {
            return Err(SimError::InvalidFlag {
                flag: "--api-key",
                message: "the key is empty; pass the API key the client will use".to_owned(),
            });
        }
        if let Some(r) = args.rate
            && !(r.is_finite() && r > 0.0)
        {
            return Err(SimError::BadRate(r));
        }
        let plan = match &args.faults {
            None => None,
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| SimError::FaultsRead {
                    path: path.clone(),
                    source,
                })?;
                Some(
                    FaultPlan::from_json(&bytes).map_err(|reason| SimError::FaultsInvalid {
                        path: path.clone(),
                        reason,
                    })?,
                )
            }
        };
        let clock_start = match &args.clock_start {
            None => None,
            Some(s) => Some(s.parse().map_err(|_| SimError::BadClockStart(s.clone()))?),
        };
        Ok(Self {
            events: args.events,
            rate: args.rate,
            key_id: args.api_key_id.to_string(),
            level: args.security_level,
            strict_nonce: args.strict_nonce,
            skew_ms: i64::try_from(args.auth_skew)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
            reject_nonce_reuse: args.reject_nonce_reuse,
            clamp_page: args.clamp_page,
            no_creation_fraction: fraction(
                "--no-creation-time-fraction",
                args.no_creation_time_fraction,
            )?,
            late_fraction: fraction("--late-fraction", args.late_fraction)?,
            retry_after_form: args.retry_after_form,
            rate_limit: !args.no_rate_limit,
            plan,
            clock_start,
            frozen_clock: args.frozen_clock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key_and_bad_fractions_fail() {
        let args = CortexXdrArgs {
            api_key: "very-secret-key".into(),
            ..Default::default()
        };
        let dbg = format!("{args:?}");
        assert!(!dbg.contains("very-secret-key") && dbg.contains("<redacted>"));
        let bad = CortexXdrArgs {
            no_creation_time_fraction: 1.5,
            ..Default::default()
        };
        let e = Config::from_args(&bad).unwrap_err().to_string();
        assert!(e.contains("--no-creation-time-fraction"), "{e}");
        let empty = CortexXdrArgs {
            api_key: " ".into(),
            ..Default::default()
        };
        assert!(Config::from_args(&empty).is_err());
    }
}
