//! Command-line arguments of `siemtap sim 1password` and their validation.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use jiff::Timestamp;
use ring::hmac;

use super::stream::Stream;
use crate::common::faults::FaultPlan;
use crate::common::prng::hash_str;
use crate::common::retry_after::RetryAfterForm;
use crate::error::SimError;

/// Arguments of `siemtap sim 1password ...`.
#[derive(clap::Args, Clone)]
pub struct OnePasswordArgs {
    /// Address to bind; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Dataset seed: same seed + same clock → byte-identical items.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Events per stream per tenant, spread evenly over [now − 24 h + 15 min, now − 10 min].
    #[arg(long, default_value_t = 100)]
    pub events: u64,
    /// Accepted bearer token, `TOKEN` or `NAME=TOKEN` (one tenant each); repeatable.
    /// Default: one token `sim-token` for tenant `default`.
    #[arg(long)]
    pub token: Vec<String>,
    /// Live arrivals: events per second per stream per tenant, at the virtual clock.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Comma list of introspect features (default: auditevents,itemusages,signinattempts).
    /// Streams left out answer 403.
    #[arg(long)]
    pub features: Option<String>,
    /// Cursors older than this many seconds (virtual clock) are rejected with 400.
    #[arg(long)]
    pub cursor_ttl: Option<u64>,
    /// Treat the `{"ResetCursor":{...}}` wrapper as the live server is suspected to:
    /// inner fields ignored, defaults apply.
    #[arg(long)]
    pub strict_body: bool,
    /// `Retry-After` form on rate-limit 429s.
    #[arg(long, value_enum, default_value = "seconds")]
    pub retry_after_form: RetryAfterForm,
    /// Disable the 600/min and 30,000/h per-token limits (benchmarks).
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
    /// Derive the cursor HMAC key from the seed instead of the OS random generator, so two
    /// runs with the same seed and clock serve byte-identical bodies, cursors included.
    #[arg(long)]
    pub deterministic_cursors: bool,
}

impl Default for OnePasswordArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 0,
            events: 100,
            token: Vec::new(),
            rate: None,
            features: None,
            cursor_ttl: None,
            strict_body: false,
            retry_after_form: RetryAfterForm::Seconds,
            no_rate_limit: false,
            faults: None,
            clock_start: None,
            frozen_clock: false,
            deterministic_cursors: false,
        }
    }
}

/// Tokens are secrets: Debug shows tenant names only.
impl fmt::Debug for OnePasswordArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens: Vec<String> = parse_tokens(&self.token)
            .map(|v| {
                v.into_iter()
                    .map(|(n, _)| format!("{n}=<redacted>"))
                    .collect()
            })
            .unwrap_or_else(|_| vec!["<invalid, redacted>".to_owned()]);
        f.debug_struct("OnePasswordArgs")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("events", &self.events)
            .field("token", &tokens)
            .field("rate", &self.rate)
            .field("features", &self.features)
            .field("cursor_ttl", &self.cursor_ttl)
            .field("strict_body", &self.strict_body)
            .field("retry_after_form", &self.retry_after_form)
            .field("no_rate_limit", &self.no_rate_limit)
            .field("faults", &self.faults)
            .field("clock_start", &self.clock_start)
            .field("frozen_clock", &self.frozen_clock)
            .field("deterministic_cursors", &self.deterministic_cursors)
            .finish()
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `--token` values → `(tenant, token)`. `NAME=TOKEN` when the text before the first `=` is a
/// valid name and the rest is not just `=` padding; otherwise the whole value is the token, and its
/// tenant is `default` (first unnamed token) or `tenant-N` (N = flag position).
pub(crate) fn parse_tokens(flags: &[String]) -> Result<Vec<(String, String)>, SimError> {
    if flags.is_empty() {
        return Ok(vec![("default".to_owned(), "sim-token".to_owned())]);
    }
    let mut out: Vec<(String, String)> = Vec::new();
    let mut unnamed = 0;
    for (i, flag) in flags.iter().enumerate() {
        let index = i + 1;
        let (name, token) = match flag.split_once('=') {
            Some((n, t)) if valid_name(n) && !t.bytes().all(|b| b == b'=') => {
                (n.to_owned(), t.to_owned())
            }
            Some((n, "")) if valid_name(n) => return Err(SimError::EmptyToken { index }),
            Some((n, _)) if n.contains(char::is_whitespace) => {
                return Err(SimError::BadTenantName {
                    index,
                    name: n.to_owned(),
                });
            }
            _ => {
                unnamed += 1;
                let name = if unnamed == 1 {
                    "default".to_owned()
                } else {
                    format!("tenant-{index}")
                };
                (name, flag.clone())
            }
        };
        if token.is_empty() {
            return Err(SimError::EmptyToken { index });
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(SimError::DuplicateTenant(name));
        }
        if let Some((other, _)) = out.iter().find(|(_, t)| *t == token) {
            return Err(SimError::DuplicateToken {
                index,
                other: other.clone(),
            });
        }
        out.push((name, token));
    }
    Ok(out)
}

/// A configured tenant. The token itself is not kept, only its HMAC under a process key.
pub(crate) struct Tenant {
    pub(crate) name: String,
    pub(crate) hash: u64,
    pub(crate) token_tag: hmac::Tag,
}

/// Validated settings.
pub(crate) struct Config {
    pub(crate) tenants: Vec<Tenant>,
    pub(crate) token_key: hmac::Key,
    /// Streams listed by introspect and allowed.
    pub(crate) features: Vec<Stream>,
    pub(crate) events: u64,
    pub(crate) rate: Option<f64>,
    pub(crate) cursor_ttl_ns: Option<i64>,
    pub(crate) strict_body: bool,
    pub(crate) retry_after_form: RetryAfterForm,
    pub(crate) rate_limit: bool,
    pub(crate) plan: Option<FaultPlan>,
    pub(crate) clock_start: Option<Timestamp>,
    pub(crate) frozen_clock: bool,
}

impl Config {
    /// Validates `args` (reads the `--faults` file).
    pub(crate) fn from_args(
        args: &OnePasswordArgs,
        token_key: hmac::Key,
    ) -> Result<Self, SimError> {
        let tenants = parse_tokens(&args.token)?
            .into_iter()
            .map(|(name, token)| Tenant {
                hash: hash_str(&name),
                token_tag: hmac::sign(&token_key, token.as_bytes()),
                name,
            })
            .collect();
        let features = match &args.features {
            None => vec![Stream::Audit, Stream::ItemUsage, Stream::Signin],
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| {
                    Stream::from_feature(f).ok_or_else(|| SimError::UnknownFeature(f.to_owned()))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
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
            tenants,
            token_key,
            features,
            events: args.events,
            rate: args.rate,
            cursor_ttl_ns: args
                .cursor_ttl
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX / 1_000_000_000) * 1_000_000_000),
            strict_body: args.strict_body,
            retry_after_form: args.retry_after_form,
            rate_limit: !args.no_rate_limit,
            plan,
            clock_start,
            frozen_clock: args.frozen_clock,
        })
    }

    /// The tenant whose token is `token` (constant-time per comparison).
    pub(crate) fn tenant_for_token(&self, token: &str) -> Option<usize> {
        let mut found = None;
        for (i, t) in self.tenants.iter().enumerate() {
            if hmac::verify(&self.token_key, token.as_bytes(), t.token_tag.as_ref()).is_ok() {
                found = Some(i);
            }
        }
        found
    }

    /// Index of tenant `name`.
    pub(crate) fn tenant_index(&self, name: &str) -> Option<usize> {
        self.tenants.iter().position(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_flags() {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_tokens(&[]).unwrap(),
            vec![("default".into(), "sim-token".into())]
        );
        let got = parse_tokens(&v(&["a=t1", "plain", "abc==", "b=t2"])).unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "default", "tenant-3", "b"]);
        assert_eq!(got[2].1, "abc==");
        assert!(matches!(
            parse_tokens(&v(&["a=t", "a=u"])),
            Err(SimError::DuplicateTenant(_))
        ));
        assert!(matches!(
            parse_tokens(&v(&["a=t", "b=t"])),
            Err(SimError::DuplicateToken { .. })
        ));
        assert!(matches!(
            parse_tokens(&v(&["bad name=t"])),
            Err(SimError::BadTenantName { .. })
        ));
        let dbg = format!(
            "{:?}",
            OnePasswordArgs {
                token: v(&["a=secret-xyz"]),
                ..Default::default()
            }
        );
        assert!(
            !dbg.contains("secret-xyz") && dbg.contains("a=<redacted>"),
            "{dbg}"
        );
    }
}
