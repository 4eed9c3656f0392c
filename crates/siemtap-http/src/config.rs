//! Client configuration: timeouts, TLS roots, body cap and the retry policy.

use std::path::PathBuf;
use std::time::Duration;

/// Environment variable that disables real sleeping between retries (tests only).
pub const NO_RETRY_SLEEP_ENV: &str = "SIEMTAP_NO_RETRY_SLEEP";

/// Settings for one [`crate::HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// TCP + TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Total time for one attempt, including reading the whole body. Default 30 s.
    pub request_timeout: Duration,
    /// Extra PEM roots trusted in addition to the platform / system roots.
    pub ca_file: Option<PathBuf>,
    /// `User-Agent` header. Default `siemtap/<version>`.
    pub user_agent: String,
    /// Largest accepted response body (after decompression). Default 64 MiB.
    pub max_body_bytes: u64,
    /// Retry behaviour.
    pub retry: RetryPolicy,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            ca_file: None,
            user_agent: format!("siemtap/{}", env!("CARGO_PKG_VERSION")),
            max_body_bytes: 64 * 1024 * 1024,
            retry: RetryPolicy::from_env(),
        }
    }
}

/// Bounded, jittered exponential backoff with Retry-After support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included. Default 5; 0 is treated as 1.
    pub max_attempts: u32,
    /// Backoff ceiling for the first retry, doubled per retry (full jitter). Default 1 s.
    pub base_delay: Duration,
    /// Upper bound of the backoff ceiling. Default 60 s.
    pub max_delay: Duration,
    /// A longer `Retry-After` is capped to this. Default 60 s.
    pub retry_after_cap: Duration,
    /// Really sleep between attempts. When false, delays are still computed, checked
    /// against the deadline and logged, but not slept (tests).
    pub sleep: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            retry_after_cap: Duration::from_secs(60),
            sleep: true,
        }
    }
}

impl RetryPolicy {
    /// Defaults, with `sleep = false` when `SIEMTAP_NO_RETRY_SLEEP=1`.
    pub fn from_env() -> Self {
        Self::from_env_value(std::env::var(NO_RETRY_SLEEP_ENV).ok().as_deref())
    }

    /// Defaults, given the value of `SIEMTAP_NO_RETRY_SLEEP` (`Some("1")` disables sleeping).
    pub fn from_env_value(no_sleep: Option<&str>) -> Self {
        let no_sleep = no_sleep.is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        Self {
            sleep: !no_sleep,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let c = HttpConfig {
            retry: RetryPolicy::default(),
            ..HttpConfig::default()
        };
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.max_body_bytes, 64 << 20);
        assert!(c.user_agent.starts_with("siemtap/"));
        assert_eq!(c.retry.max_attempts, 5);
        assert!(c.retry.sleep);
    }

    #[test]
    fn env_value_disables_sleep() {
        assert!(!RetryPolicy::from_env_value(Some("1")).sleep);
        assert!(RetryPolicy::from_env_value(Some("0")).sleep);
        assert!(RetryPolicy::from_env_value(None).sleep);
    }
}
