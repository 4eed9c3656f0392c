//! Command-line arguments of `siemtap sim proofpoint` and their validation.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use jiff::Timestamp;
use ring::hmac;

use crate::common::faults::FaultPlan;
use crate::error::SimError;

/// A look-back limit: `12h`, `7d`, `90m`, `3600s` or plain seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookback {
    /// The limit in seconds.
    pub secs: u64,
}

impl FromStr for Lookback {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (num, unit) = match t.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_lowercase()),
            _ => (t, 's'),
        };
        let mult = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => 0,
        };
        match num.parse::<u64>() {
            Ok(n) if n > 0 && mult > 0 => Ok(Self {
                secs: n.saturating_mul(mult),
            }),
            _ => Err(format!(
                "{s:?} is not a look-back; use e.g. 12h, 7d, 90m or a number of seconds"
            )),
        }
    }
}

impl fmt::Display for Lookback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.secs)
    }
}

fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!(
            "{s:?} is not a quota scale; use a positive factor, e.g. 0.01 for 18 requests per bucket"
        )),
    }
}

/// Arguments of `siemtap sim proofpoint ...`.
#[derive(clap::Args, Clone)]
pub struct ProofpointArgs {
    /// Address to bind; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Dataset seed: same seed + same clock → byte-identical bodies.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Records per SIEM category, spread over [now − 24 h + 15 min, now − 10 min].
    #[arg(long, default_value_t = 100)]
    pub events: u64,
    /// Live arrivals: records per second per category, at the virtual clock.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Basic-auth service principal.
    #[arg(long, default_value = "sim-principal")]
    pub principal: String,
    /// Basic-auth service secret.
    #[arg(long, default_value = "sim-secret")]
    pub secret: String,
    /// Oldest window start accepted (older → 400): `12h`, `7d`, or seconds.
    #[arg(long, default_value = "7d")]
    pub max_lookback: Lookback,
    /// Multiplies the 1,800-requests-per-24-h buckets (e.g. 0.01 → 18).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub quota_scale: f64,
    /// Send `Retry-After` (seconds until a quota slot frees) on quota 429s.
    #[arg(long)]
    pub quota_retry_after: bool,
    /// Answer an empty SIEM window with 200 and empty arrays instead of 204.
    #[arg(long)]
    pub empty_as_200: bool,
    /// Also return records exactly at the window end (boundary duplicates).
    #[arg(long)]
    pub inclusive_end: bool,
    /// Reject a window end in the future with 400 instead of clamping it to now.
    #[arg(long)]
    pub strict_future: bool,
    /// Fault plan JSON file installed at start (the `POST /_sim/faults` format).
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Start the virtual clock at this RFC 3339 time instead of the system time.
    #[arg(long)]
    pub clock_start: Option<String>,
    /// Start with the virtual clock frozen (it moves only through `POST /_sim/clock`).
    #[arg(long)]
    pub frozen_clock: bool,
    /// Users in each People report.
    #[arg(long, default_value_t = 50)]
    pub people_users: u64,
    /// Disable the daily quota (benchmarks).
    #[arg(long)]
    pub no_rate_limit: bool,
}

impl Default for ProofpointArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            events: 100,
            rate: None,
            principal: "sim-principal".to_owned(),
            secret: "sim-secret".to_owned(),
            max_lookback: Lookback { secs: 7 * 86_400 },
            quota_scale: 1.0,
            quota_retry_after: false,
            empty_as_200: false,
            inclusive_end: false,
            strict_future: false,
            faults: None,
            clock_start: None,
            frozen_clock: false,
            people_users: 50,
            no_rate_limit: false,
        }
    }
}

/// Credentials are secrets: Debug redacts both the principal and the secret.
impl fmt::Debug for ProofpointArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofpointArgs")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("events", &self.events)
            .field("rate", &self.rate)
            .field("principal", &"<redacted>")
            .field("secret", &"<redacted>")
            .field("max_lookback", &self.max_lookback)
            .field("quota_scale", &self.quota_scale)
            .field("quota_retry_after", &self.quota_retry_after)
            .field("empty_as_200", &self.empty_as_200)
            .field("inclusive_end", &self.inclusive_end)
            .field("strict_future", &self.strict_future)
            .field("faults", &self.faults)
            .field("clock_start", &self.clock_start)
            .field("frozen_clock", &self.frozen_clock)
            .field("people_users", &self.people_users)
            .field("no_rate_limit", &self.no_rate_limit)
            .finish()
    }
}

/// Why the Proofpoint arguments are unusable (besides the shared [`SimError`] cases).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PpArgError {
    /// Shared start-up error.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Empty or `:`-containing principal, or empty secret.
    #[error(
        "--principal / --secret: the principal must be non-empty without ':' and the secret non-empty (Basic auth sends principal:secret)"
    )]
    BadCredentials,
    /// `--quota-scale` out of range.
    #[error("--quota-scale {0}: must be a positive finite factor, e.g. 0.01")]
    BadScale(f64),
}

impl From<PpArgError> for std::io::Error {
    fn from(e: PpArgError) -> Self {
        match e {
            PpArgError::Sim(s) => s.into(),
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}

/// Validated settings.
pub(crate) struct Config {
    /// HMAC of `principal:secret` under `auth_key`; the credentials are not kept.
    pub(crate) auth_tag: hmac::Tag,
    pub(crate) auth_key: hmac::Key,
    pub(crate) events: u64,
    pub(crate) rate: Option<f64>,
    pub(crate) max_lookback_ns: i64,
    pub(crate) quota_scale: f64,
    pub(crate) quota_retry_after: bool,
    pub(crate) empty_as_200: bool,
    pub(crate) inclusive_end: bool,
    pub(crate) strict_future: bool,
    pub(crate) plan: Option<FaultPlan>,
    pub(crate) clock_start: Option<Timestamp>,
    pub(crate) frozen_clock: bool,
    pub(crate) people_users: u64,
    pub(crate) quota: bool,
}

impl Config {
    /// Validates `args` (reads the `--faults` file).
    pub(crate) fn from_args(
        args: &ProofpointArgs,
        auth_key: hmac::Key,
    ) -> Result<Self, PpArgError> {
        if args.principal.is_empty() || args.principal.contains(':') || args.secret.is_empty() {
            return Err(PpArgError::BadCredentials);
        }
        if !(args.quota_scale.is_finite() && args.quota_scale > 0.0) {
            return Err(PpArgError::BadScale(args.quota_scale));
        }
        if let Some(r) = args.rate
            && !(r.is_finite() && r > 0.0)
        {
            return Err(SimError::BadRate(r).into());
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
        let pair = format!("{}:{}", args.principal, args.secret);
        Ok(Self {
            auth_tag: hmac::sign(&auth_key, pair.as_bytes()),
            auth_key,
            events: args.events,
            rate: args.rate,
            max_lookback_ns: i64::try_from(args.max_lookback.secs)
                .unwrap_or(i64::MAX / 1_000_000_000)
                .saturating_mul(1_000_000_000),
            quota_scale: args.quota_scale,
            quota_retry_after: args.quota_retry_after,
            empty_as_200: args.empty_as_200,
            inclusive_end: args.inclusive_end,
            strict_future: args.strict_future,
            plan,
            clock_start,
            frozen_clock: args.frozen_clock,
            people_users: args.people_users,
            quota: !args.no_rate_limit,
        })
    }

    /// Whether `decoded` (`principal:secret` from the Basic header) matches (constant time).
    pub(crate) fn credentials_ok(&self, decoded: &[u8]) -> bool {
        hmac::verify(&self.auth_key, decoded, self.auth_tag.as_ref()).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookback_forms_and_redaction() {
        assert_eq!("12h".parse::<Lookback>().unwrap().secs, 43_200);
        assert_eq!("7d".parse::<Lookback>().unwrap().secs, 604_800);
        assert_eq!("3600".parse::<Lookback>().unwrap().secs, 3600);
        assert_eq!("90m".parse::<Lookback>().unwrap().secs, 5400);
        assert!("7w".parse::<Lookback>().is_err());
        assert!("0h".parse::<Lookback>().is_err());
        assert!(parse_scale("0").is_err() && parse_scale("0.5").is_ok());
        let dbg = format!(
            "{:?}",
            ProofpointArgs {
                principal: "who-xyz".into(),
                secret: "hush-xyz".into(),
                ..Default::default()
            }
        );
        assert!(!dbg.contains("xyz"), "{dbg}");
    }
}
