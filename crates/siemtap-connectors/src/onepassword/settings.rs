//! Connector settings, from the reference integration's environment variables (§2.7) or
//! from a config file.

use std::collections::HashMap;
use std::time::Duration;

/// How long the vendor keeps events.
pub const RETENTION: Duration = Duration::from_secs(120 * 24 * 3600);

/// The streams a run selects, in run order.
pub const ALL_STREAMS: [&str; 3] = ["audit", "signin", "itemusage"];

/// Validated settings shared by every tenant of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// `limit` of first pages, 1..=1000.
    pub page_limit: u32,
    /// First-run window.
    pub lookback: Duration,
    /// How far before the high-water mark a restart re-reads.
    pub overlap: Duration,
    /// Selected streams, in run order.
    pub streams: Vec<&'static str>,
    /// Client-side request budget per token.
    pub requests_per_second: f64,
    /// Client-side rolling-hour budget per token.
    pub requests_per_hour: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: "https://events.1password.com".into(),
            page_limit: 100,
            lookback: Duration::from_secs(24 * 3600),
            overlap: Duration::from_secs(10 * 60),
            streams: ALL_STREAMS.to_vec(),
            requests_per_second: 10.0,
            requests_per_hour: 30_000,
        }
    }
}

/// A setting that cannot be used: `CONFIG_INVALID`, naming the variable and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is invalid: {fix}")]
pub struct InvalidSetting {
    /// The variable or key.
    pub name: String,
    /// The offending value (settings only; never a secret).
    pub value: String,
    /// What a valid value looks like.
    pub fix: String,
}

fn invalid(name: &str, value: &str, fix: &str) -> InvalidSetting {
    InvalidSetting {
        name: name.into(),
        value: value.into(),
        fix: fix.into(),
    }
}

/// Parses `OP_SOURCE` / `--source`: `audit`, `signin`, `itemusage`, `all`, or a comma list.
pub fn parse_streams(name: &str, value: &str) -> Result<Vec<&'static str>, InvalidSetting> {
    let mut picked = Vec::new();
    for part in value.split(',').map(|p| p.trim().to_ascii_lowercase()) {
        if part == "all" {
            return Ok(ALL_STREAMS.to_vec());
        }
        match ALL_STREAMS.iter().find(|s| **s == part) {
            Some(s) => picked.push(*s),
            None => return Err(invalid(name, value, "use audit, signin, itemusage or all")),
        }
    }
    // Run order is fixed whatever order was asked for.
    Ok(ALL_STREAMS
        .iter()
        .copied()
        .filter(|s| picked.contains(s))
        .collect())
}

/// Parses hours (fractional allowed, > 0).
pub fn parse_hours(name: &str, value: &str) -> Result<Duration, InvalidSetting> {
    match value.trim().parse::<f64>() {
        Ok(h) if h > 0.0 && h.is_finite() && h <= 24.0 * 3650.0 => {
            Ok(Duration::from_secs_f64(h * 3600.0))
        }
        _ => Err(invalid(
            name,
            value,
            "give a number of hours greater than 0, e.g. 24 or 0.5",
        )),
    }
}

/// Settings from the drop-in environment (`OP_*`), with CLI overrides.
pub fn from_env(
    env: &HashMap<String, String>,
    source_flag: Option<&str>,
    lookback_hours: Option<f64>,
) -> Result<Settings, InvalidSetting> {
    let mut s = Settings::default();
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(url) = get("OP_BASE_URL") {
        s.base_url = validate_base_url(url)?;
    }
    if let Some(v) = get("OP_PAGE_LIMIT") {
        s.page_limit = match v.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(invalid(
                    "OP_PAGE_LIMIT",
                    v,
                    "use a whole number from 1 to 1000",
                ));
            }
        };
    }
    match lookback_hours {
        Some(h) => s.lookback = parse_hours("--lookback", &h.to_string())?,
        None => {
            if let Some(v) = get("OP_LOOKBACK_HOURS") {
                s.lookback = parse_hours("OP_LOOKBACK_HOURS", v)?;
            }
        }
    }
    match source_flag {
        Some(v) => s.streams = parse_streams("--source", v)?,
        None => {
            if let Some(v) = get("OP_SOURCE") {
                s.streams = parse_streams("OP_SOURCE", v)?;
            }
        }
    }
    if let Some(v) = get("OP_REQUESTS_PER_SECOND") {
        s.requests_per_second = match v.parse::<f64>() {
            Ok(n) if n > 0.0 && n.is_finite() => n,
            _ => {
                return Err(invalid(
                    "OP_REQUESTS_PER_SECOND",
                    v,
                    "use a number greater than 0 (default 10)",
                ));
            }
        };
    }
    if let Some(v) = get("OP_OVERLAP_MINUTES") {
        s.overlap = match v.parse::<u64>() {
            Ok(n) if n <= 24 * 60 => Duration::from_secs(n * 60),
            _ => {
                return Err(invalid(
                    "OP_OVERLAP_MINUTES",
                    v,
                    "use whole minutes from 0 to 1440 (default 10)",
                ));
            }
        };
    }
    Ok(s)
}

/// Checks a base URL: http(s), no trailing slash kept, https unless loopback (checked again
/// by the HTTP client), and a warning for hosts outside the vendor's list.
pub fn validate_base_url(url: &str) -> Result<String, InvalidSetting> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| {
        invalid(
            "OP_BASE_URL",
            &siemtap_http::redact_url(url),
            "give a URL such as https://events.1password.com",
        )
    })?;
    if siemtap_http::HttpClient::check_url(&parsed).is_err() {
        return Err(invalid(
            "OP_BASE_URL",
            &siemtap_http::redact_url(url),
            "use https (plain http is accepted only for loopback hosts)",
        ));
    }
    const KNOWN: [&str; 4] = [
        "events.1password.com",
        "events.ent.1password.com",
        "events.1password.ca",
        "events.1password.eu",
    ];
    let host = parsed.host_str().unwrap_or_default();
    if parsed.scheme() == "https" && !KNOWN.contains(&host) {
        tracing::warn!(
            host,
            "OP_BASE_URL is not one of the documented 1Password Events API hosts"
        );
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let s = from_env(&env(&[]), None, None).unwrap();
        assert_eq!(s, Settings::default());
        let s = from_env(
            &env(&[
                ("OP_PAGE_LIMIT", "1000"),
                ("OP_SOURCE", "SignIn"),
                ("OP_LOOKBACK_HOURS", "0.5"),
                ("OP_BASE_URL", "http://127.0.0.1:9/"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.page_limit, 1000);
        assert_eq!(s.streams, vec!["signin"]);
        assert_eq!(s.lookback, Duration::from_secs(1800));
        assert_eq!(s.base_url, "http://127.0.0.1:9");
        let s = from_env(
            &env(&[("OP_SOURCE", "signin")]),
            Some("itemusage,audit"),
            Some(2.0),
        )
        .unwrap();
        assert_eq!(s.streams, vec!["audit", "itemusage"]);
        assert_eq!(s.lookback, Duration::from_secs(7200));
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (k, v) in [
            ("OP_PAGE_LIMIT", "0"),
            ("OP_PAGE_LIMIT", "1001"),
            ("OP_LOOKBACK_HOURS", "-1"),
            ("OP_SOURCE", "everything"),
            ("OP_BASE_URL", "http://events.example.com"),
            ("OP_BASE_URL", "not a url"),
        ] {
            let err = from_env(&env(&[(k, v)]), None, None).unwrap_err();
            assert_eq!(err.name, k, "{err}");
        }
    }
}
