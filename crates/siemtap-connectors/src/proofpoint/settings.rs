//! Connector settings from the drop-in environment (`PP_*`, spec §3.6), validated: a bad value
//! is an [`InvalidSetting`] naming the variable and the fix (`CONFIG_INVALID`).

use std::collections::HashMap;
use std::time::Duration;

pub use crate::onepassword::InvalidSetting;

/// The streams a run selects, in run order.
pub const ALL_STREAMS: [&str; 2] = ["siem", "people"];

/// The documented API host.
pub const DEFAULT_BASE_URL: &str = "https://tap-api-v2.proofpoint.com";

/// Validated settings of one Proofpoint source.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// First-run (and `--all`) window, already clamped to `max_lookback`.
    pub lookback: Duration,
    /// Oldest start the API accepts (`PP_MAX_LOOKBACK_HOURS`, default 168 h).
    pub max_lookback: Duration,
    /// Windows end at `now - settle` (`PP_SETTLE_SECONDS`, default 300 s).
    pub settle: Duration,
    /// A run's first window starts this long before the cursor (`PP_OVERLAP_SECONDS`, 900 s).
    pub overlap: Duration,
    /// Seconds between People fetches; `None` disables People (`PP_PEOPLE_INTERVAL=0`).
    pub people_interval: Option<Duration>,
    /// People report `window` in days: 14, 30 or 90 (`PP_PEOPLE_WINDOW`, default 30).
    pub people_window: u32,
    /// People page `size`, 1..=200 (`PP_PEOPLE_PAGE_SIZE`, default 100).
    pub people_page_size: u32,
    /// Selected streams, in run order.
    pub streams: Vec<&'static str>,
    /// Client-side sustained request rate (`PP_REQUESTS_PER_SECOND`, default 5).
    pub requests_per_second: f64,
    /// How often the scheduler runs siemtap (`PP_RUN_INTERVAL`), for the quota estimate only.
    pub run_interval: Option<Duration>,
    /// Body size a SIEM window aims at (`PP_WINDOW_TARGET_BYTES`, default 4 MiB): a larger
    /// window halves the next one, a window under a quarter of it doubles the next one, and a
    /// response over twice the target is abandoned and read again narrower.
    pub window_target_bytes: u64,
}

/// Default of [`Settings::window_target_bytes`]: 4 MiB.
pub const DEFAULT_WINDOW_TARGET_BYTES: u64 = 4 << 20;

/// Accepted range of `PP_WINDOW_TARGET_BYTES`: 256 KiB to 64 MiB.
pub const WINDOW_TARGET_RANGE: (u64, u64) = (256 << 10, 64 << 20);

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            lookback: Duration::from_secs(24 * 3600),
            max_lookback: Duration::from_secs(168 * 3600),
            settle: Duration::from_secs(300),
            overlap: Duration::from_secs(900),
            people_interval: Some(Duration::from_secs(86_400)),
            people_window: 30,
            people_page_size: 100,
            streams: ALL_STREAMS.to_vec(),
            requests_per_second: 5.0,
            run_interval: None,
            window_target_bytes: DEFAULT_WINDOW_TARGET_BYTES,
        }
    }
}

fn invalid(name: &str, value: &str, fix: &str) -> InvalidSetting {
    InvalidSetting {
        name: name.into(),
        value: value.into(),
        fix: fix.into(),
    }
}

/// Parses `PP_SOURCE` / `--source`: `siem`, `people`, `all`, or a comma list.
pub fn parse_streams(name: &str, value: &str) -> Result<Vec<&'static str>, InvalidSetting> {
    let mut picked = Vec::new();
    for part in value.split(',').map(|p| p.trim().to_ascii_lowercase()) {
        if part == "all" {
            return Ok(ALL_STREAMS.to_vec());
        }
        match ALL_STREAMS.iter().find(|s| **s == part) {
            Some(s) => picked.push(*s),
            None => return Err(invalid(name, value, "use siem, people or all")),
        }
    }
    Ok(ALL_STREAMS
        .iter()
        .copied()
        .filter(|s| picked.contains(s))
        .collect())
}

fn parse_hours(name: &str, value: &str, max_hours: f64) -> Result<Duration, InvalidSetting> {
    match value.trim().parse::<f64>() {
        Ok(h) if h > 0.0 && h.is_finite() && h <= max_hours => {
            Ok(Duration::from_secs_f64(h * 3600.0))
        }
        _ => Err(invalid(
            name,
            value,
            &format!("give a number of hours greater than 0 and at most {max_hours}, e.g. 24"),
        )),
    }
}

fn parse_secs(
    name: &str,
    value: &str,
    range: (u64, u64),
    fix: &str,
) -> Result<u64, InvalidSetting> {
    match value.trim().parse::<u64>() {
        Ok(n) if (range.0..=range.1).contains(&n) => Ok(n),
        _ => Err(invalid(name, value, fix)),
    }
}

/// Settings from the drop-in environment, with the CLI overrides (`--source`, `--lookback`).
pub fn from_env(
    env: &HashMap<String, String>,
    source_flag: Option<&str>,
    lookback_hours: Option<f64>,
) -> Result<Settings, InvalidSetting> {
    let mut s = Settings::default();
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(url) = get("PP_BASE_URL") {
        s.base_url = validate_base_url(url)?;
    }
    if let Some(v) = get("PP_MAX_LOOKBACK_HOURS") {
        s.max_lookback = parse_hours("PP_MAX_LOOKBACK_HOURS", v, 24.0 * 90.0)?;
        if s.max_lookback < Duration::from_secs(3600) {
            return Err(invalid(
                "PP_MAX_LOOKBACK_HOURS",
                v,
                "use at least 1 hour (the API documents 12 h to 7 days; default 168)",
            ));
        }
    }
    let lookback = match lookback_hours {
        Some(h) => Some((
            "--lookback",
            parse_hours("--lookback", &h.to_string(), 24.0 * 3650.0)?,
        )),
        None => match get("PP_LOOKBACK_HOURS") {
            Some(v) => Some((
                "PP_LOOKBACK_HOURS",
                parse_hours("PP_LOOKBACK_HOURS", v, 24.0 * 3650.0)?,
            )),
            None => None,
        },
    };
    if let Some((name, lookback)) = lookback {
        s.lookback = lookback;
        if lookback > s.max_lookback {
            tracing::warn!(
                "{name} exceeds the maximum look-back of {} h (PP_MAX_LOOKBACK_HOURS); the first run starts there",
                s.max_lookback.as_secs() / 3600
            );
        }
    }
    s.lookback = s.lookback.min(s.max_lookback);
    if let Some(v) = get("PP_SETTLE_SECONDS") {
        s.settle = Duration::from_secs(parse_secs(
            "PP_SETTLE_SECONDS",
            v,
            (0, 3600),
            "use whole seconds from 0 to 3600 (default 300)",
        )?);
    }
    if let Some(v) = get("PP_OVERLAP_SECONDS") {
        s.overlap = Duration::from_secs(parse_secs(
            "PP_OVERLAP_SECONDS",
            v,
            (0, 1800),
            "use whole seconds from 0 to 1800 (default 900); windows are at most 1 h",
        )?);
    }
    if let Some(v) = get("PP_PEOPLE_INTERVAL") {
        let n = parse_secs(
            "PP_PEOPLE_INTERVAL",
            v,
            (0, 90 * 86_400),
            "use whole seconds (default 86400 = daily; 0 disables the People API)",
        )?;
        s.people_interval = (n > 0).then(|| Duration::from_secs(n));
    }
    if let Some(v) = get("PP_PEOPLE_WINDOW") {
        s.people_window = match v.parse::<u32>() {
            Ok(n @ (14 | 30 | 90)) => n,
            _ => return Err(invalid("PP_PEOPLE_WINDOW", v, "use 14, 30 or 90 (days)")),
        };
    }
    if let Some(v) = get("PP_PEOPLE_PAGE_SIZE") {
        s.people_page_size = parse_secs(
            "PP_PEOPLE_PAGE_SIZE",
            v,
            (1, 200),
            "use a whole number from 1 to 200 (default 100)",
        )? as u32;
    }
    match source_flag {
        Some(v) => s.streams = parse_streams("--source", v)?,
        None => {
            if let Some(v) = get("PP_SOURCE") {
                s.streams = parse_streams("PP_SOURCE", v)?;
            }
        }
    }
    if let Some(v) = get("PP_REQUESTS_PER_SECOND") {
        s.requests_per_second = match v.parse::<f64>() {
            Ok(n) if n > 0.0 && n.is_finite() => n,
            _ => {
                return Err(invalid(
                    "PP_REQUESTS_PER_SECOND",
                    v,
                    "use a number greater than 0 (default 5)",
                ));
            }
        };
    }
    if let Some(v) = get("PP_RUN_INTERVAL") {
        s.run_interval = Some(Duration::from_secs(parse_secs(
            "PP_RUN_INTERVAL",
            v,
            (1, 7 * 86_400),
            "give the scheduler's interval in whole seconds, e.g. 300",
        )?));
    }
    if let Some(v) = get("PP_WINDOW_TARGET_BYTES") {
        s.window_target_bytes = parse_secs(
            "PP_WINDOW_TARGET_BYTES",
            v,
            WINDOW_TARGET_RANGE,
            "give whole bytes from 262144 (256 KiB) to 67108864 (64 MiB), default 4194304 (4 MiB)",
        )?;
    }
    Ok(s)
}

/// Checks `PP_BASE_URL`: a URL, https unless the host is loopback; trailing slash dropped.
pub fn validate_base_url(url: &str) -> Result<String, InvalidSetting> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| {
        invalid(
            "PP_BASE_URL",
            &siemtap_http::redact_url(url),
            "give a URL such as https://tap-api-v2.proofpoint.com",
        )
    })?;
    if siemtap_http::HttpClient::check_url(&parsed).is_err() {
        return Err(invalid(
            "PP_BASE_URL",
            &siemtap_http::redact_url(url),
            "use https (plain http is accepted only for loopback hosts)",
        ));
    }
    let host = parsed.host_str().unwrap_or_default();
    if parsed.scheme() == "https" && host != "tap-api-v2.proofpoint.com" {
        tracing::warn!(
            host,
            "PP_BASE_URL is not the documented Proofpoint TAP API host"
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
    fn defaults_match_the_spec() {
        let s = from_env(&env(&[]), None, None).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.lookback, Duration::from_secs(24 * 3600));
        assert_eq!(s.max_lookback, Duration::from_secs(168 * 3600));
        assert_eq!(s.settle, Duration::from_secs(300));
        assert_eq!(s.overlap, Duration::from_secs(900));
        assert_eq!(s.people_interval, Some(Duration::from_secs(86_400)));
        assert_eq!(s.streams, vec!["siem", "people"]);
        assert_eq!(s.window_target_bytes, 4 * 1024 * 1024);
    }

    #[test]
    fn overrides_and_cli_flags() {
        let s = from_env(
            &env(&[
                ("PP_BASE_URL", "http://127.0.0.1:9/"),
                ("PP_SOURCE", "People"),
                ("PP_LOOKBACK_HOURS", "0.5"),
                ("PP_PEOPLE_INTERVAL", "0"),
                ("PP_SETTLE_SECONDS", "0"),
                ("PP_OVERLAP_SECONDS", "60"),
                ("PP_PEOPLE_WINDOW", "90"),
                ("PP_PEOPLE_PAGE_SIZE", "200"),
                ("PP_RUN_INTERVAL", "300"),
                ("PP_WINDOW_TARGET_BYTES", "262144"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.base_url, "http://127.0.0.1:9");
        assert_eq!(s.streams, vec!["people"]);
        assert_eq!(s.lookback, Duration::from_secs(1800));
        assert_eq!(s.people_interval, None);
        assert_eq!(s.settle, Duration::ZERO);
        assert_eq!(s.overlap, Duration::from_secs(60));
        assert_eq!((s.people_window, s.people_page_size), (90, 200));
        assert_eq!(s.run_interval, Some(Duration::from_secs(300)));
        assert_eq!(s.window_target_bytes, 256 * 1024);
        let s = from_env(
            &env(&[("PP_SOURCE", "siem")]),
            Some("people,siem"),
            Some(2.0),
        )
        .unwrap();
        assert_eq!(s.streams, vec!["siem", "people"]);
        assert_eq!(s.lookback, Duration::from_secs(7200));
    }

    #[test]
    fn lookback_is_clamped_to_the_maximum() {
        let s = from_env(
            &env(&[
                ("PP_LOOKBACK_HOURS", "500"),
                ("PP_MAX_LOOKBACK_HOURS", "12"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.lookback, Duration::from_secs(12 * 3600));
        assert_eq!(s.max_lookback, Duration::from_secs(12 * 3600));
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (k, v) in [
            ("PP_BASE_URL", "http://tap.example.com"),
            ("PP_BASE_URL", "not a url"),
            ("PP_LOOKBACK_HOURS", "-1"),
            ("PP_LOOKBACK_HOURS", "soon"),
            ("PP_MAX_LOOKBACK_HOURS", "0.5"),
            ("PP_SETTLE_SECONDS", "-5"),
            ("PP_OVERLAP_SECONDS", "3600"),
            ("PP_PEOPLE_INTERVAL", "daily"),
            ("PP_PEOPLE_WINDOW", "7"),
            ("PP_PEOPLE_PAGE_SIZE", "201"),
            ("PP_SOURCE", "clicks"),
            ("PP_REQUESTS_PER_SECOND", "0"),
            ("PP_RUN_INTERVAL", "0"),
            ("PP_WINDOW_TARGET_BYTES", "262143"),
            ("PP_WINDOW_TARGET_BYTES", "67108865"),
            ("PP_WINDOW_TARGET_BYTES", "4MiB"),
        ] {
            let err = from_env(&env(&[(k, v)]), None, None).unwrap_err();
            assert_eq!(err.name, k, "{err}");
            assert!(err.to_string().starts_with(k), "{err}");
        }
    }
}
