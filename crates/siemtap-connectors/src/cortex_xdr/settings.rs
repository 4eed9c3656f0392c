//! Connector settings from the reference integration's environment variables (spec §4.8),
//! read through the credential chain's non-secret tier (secrets file, then environment), and
//! the FQDN / key-id validation of §4.1 and §4.8.

use std::time::Duration;

/// The streams a run selects, in run order.
pub const ALL_STREAMS: [&str; 2] = ["alerts", "incidents"];

/// The vendor's documented limit: 10 requests per second per tenant.
pub const VENDOR_MAX_RPS: f64 = 10.0;

/// How the API key is sent (spec §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityLevel {
    /// Nonce + timestamp + `sha256(key + nonce + timestamp)`.
    Advanced,
    /// The raw key in `Authorization`.
    Standard,
}

/// Validated settings of one tenant.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `XDR_BASE_URL` without a trailing slash; `None` = `https://api-{fqdn}`.
    pub base_url: Option<String>,
    /// `XDR_SECURITY_LEVEL`.
    pub security_level: SecurityLevel,
    /// First-run window (`XDR_LOOKBACK_HOURS`, `--lookback`).
    pub lookback: Duration,
    /// Windows end this long before now (`XDR_SETTLE_SECONDS`).
    pub settle: Duration,
    /// A run re-reads this much before the stored cursor (`XDR_OVERLAP_SECONDS`).
    pub overlap: Duration,
    /// Selected streams, in run order (`XDR_SOURCE`, `--source`).
    pub streams: Vec<&'static str>,
    /// Client-side request budget shared by both streams (`XDR_REQUESTS_PER_SECOND`).
    pub requests_per_second: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: None,
            security_level: SecurityLevel::Advanced,
            lookback: Duration::from_secs(24 * 3600),
            settle: Duration::from_secs(120),
            overlap: Duration::from_secs(600),
            streams: ALL_STREAMS.to_vec(),
            requests_per_second: 4.0,
        }
    }
}

/// A setting that cannot be used: `CONFIG_INVALID`, naming the variable and the fix. The value
/// is shown only for non-secret settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}{} is invalid: {fix}", value.as_ref().map(|v| format!("={v:?}")).unwrap_or_default())]
pub struct InvalidSetting {
    /// The variable or flag.
    pub name: String,
    /// The offending value; `None` for secrets (FQDN, key id).
    pub value: Option<String>,
    /// What a valid value looks like.
    pub fix: String,
}

fn invalid(name: &str, value: &str, fix: &str) -> InvalidSetting {
    InvalidSetting {
        name: name.into(),
        value: Some(value.into()),
        fix: fix.into(),
    }
}

fn invalid_secret(name: &str, fix: &str) -> InvalidSetting {
    InvalidSetting {
        name: name.into(),
        value: None,
        fix: fix.into(),
    }
}

/// Parses `XDR_SOURCE` / `--source`: `alerts`, `incidents`, `both` (or `all`), or a comma list.
pub fn parse_streams(name: &str, value: &str) -> Result<Vec<&'static str>, InvalidSetting> {
    let mut picked = Vec::new();
    for part in value.split(',').map(|p| p.trim().to_ascii_lowercase()) {
        if part == "both" || part == "all" {
            return Ok(ALL_STREAMS.to_vec());
        }
        match ALL_STREAMS.iter().find(|s| **s == part) {
            Some(s) => picked.push(*s),
            None => return Err(invalid(name, value, "use alerts, incidents or both")),
        }
    }
    Ok(ALL_STREAMS
        .iter()
        .copied()
        .filter(|s| picked.contains(s))
        .collect())
}

fn parse_hours(name: &str, value: &str) -> Result<Duration, InvalidSetting> {
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

fn parse_seconds(
    name: &str,
    value: &str,
    max: u64,
    default: u64,
) -> Result<Duration, InvalidSetting> {
    match value.trim().parse::<u64>() {
        Ok(n) if n <= max => Ok(Duration::from_secs(n)),
        _ => Err(invalid(
            name,
            value,
            &format!("use whole seconds from 0 to {max} (default {default})"),
        )),
    }
}

/// Settings from the drop-in variables. `get` looks a variable up (secrets file, then
/// environment; blank = absent); the CLI flags win over their variables.
pub fn from_lookup(
    get: impl Fn(&str) -> Option<String>,
    source_flag: Option<&str>,
    lookback_hours: Option<f64>,
) -> Result<Settings, InvalidSetting> {
    let get = |k: &str| {
        get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut s = Settings::default();
    if let Some(url) = get("XDR_BASE_URL") {
        s.base_url = Some(validate_base_url(&url)?);
    }
    if let Some(v) = get("XDR_SECURITY_LEVEL") {
        s.security_level = match v.to_ascii_lowercase().as_str() {
            "advanced" => SecurityLevel::Advanced,
            "standard" => SecurityLevel::Standard,
            _ => {
                return Err(invalid(
                    "XDR_SECURITY_LEVEL",
                    &v,
                    "use advanced or standard, the security level of the API key in the XDR console",
                ));
            }
        };
    }
    match lookback_hours {
        Some(h) => s.lookback = parse_hours("--lookback", &h.to_string())?,
        None => {
            if let Some(v) = get("XDR_LOOKBACK_HOURS") {
                s.lookback = parse_hours("XDR_LOOKBACK_HOURS", &v)?;
            }
        }
    }
    match source_flag {
        Some(v) => s.streams = parse_streams("--source", v)?,
        None => {
            if let Some(v) = get("XDR_SOURCE") {
                s.streams = parse_streams("XDR_SOURCE", &v)?;
            }
        }
    }
    if let Some(v) = get("XDR_SETTLE_SECONDS") {
        s.settle = parse_seconds("XDR_SETTLE_SECONDS", &v, 86_400, 120)?;
    }
    if let Some(v) = get("XDR_OVERLAP_SECONDS") {
        s.overlap = parse_seconds("XDR_OVERLAP_SECONDS", &v, 86_400, 600)?;
    }
    if let Some(v) = get("XDR_REQUESTS_PER_SECOND") {
        s.requests_per_second = match v.parse::<f64>() {
            Ok(n) if n > 0.0 && n <= VENDOR_MAX_RPS => n,
            _ => {
                return Err(invalid(
                    "XDR_REQUESTS_PER_SECOND",
                    &v,
                    "use a number greater than 0 and at most 10, the vendor's limit per tenant (default 4)",
                ));
            }
        };
    }
    Ok(s)
}

/// Checks `XDR_BASE_URL`: http(s), trailing slash dropped, https unless loopback. The value is
/// not echoed in errors: a real tenant URL contains the FQDN, which is treated as a secret.
pub fn validate_base_url(url: &str) -> Result<String, InvalidSetting> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| {
        invalid_secret(
            "XDR_BASE_URL",
            "give a URL such as https://api-tenant.xdr.us.paloaltonetworks.com (the value is not shown because it may contain the tenant FQDN)",
        )
    })?;
    if siemtap_http::HttpClient::check_url(&parsed).is_err() {
        return Err(invalid_secret(
            "XDR_BASE_URL",
            "use https (plain http is accepted only for loopback hosts such as http://127.0.0.1:PORT)",
        ));
    }
    Ok(trimmed.to_string())
}

/// Normalises `XDR_FQDN` (strips `http(s)://`, a leading `api-`, any path and `:port`) and
/// validates it (§4.1). The value is a secret: errors never show it.
pub fn normalize_fqdn(raw: &str) -> Result<String, InvalidSetting> {
    let mut host = raw.trim();
    for scheme in ["https://", "http://"] {
        if host.len() >= scheme.len() && host[..scheme.len()].eq_ignore_ascii_case(scheme) {
            host = &host[scheme.len()..];
        }
    }
    host = host.split(['/', '?', '#']).next().unwrap_or_default();
    host = host.split(':').next().unwrap_or_default();
    if host.len() > 4 && host[..4].eq_ignore_ascii_case("api-") {
        host = &host[4..];
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err(invalid_secret(
            "XDR_FQDN",
            "give the tenant host name, e.g. tenant.xdr.us.paloaltonetworks.com (the value is not shown because it is treated as a secret)",
        ));
    }
    Ok(host.to_ascii_lowercase())
}

/// Checks that the key id is numeric (§4.8). The value is a secret: errors never show it.
pub fn validate_key_id(raw: &str) -> Result<(), InvalidSetting> {
    let id = raw.trim();
    if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid_secret(
            "XDR_API_KEY_ID",
            "give the numeric ID column of the API key in the XDR console (Settings > API Keys); the value is not shown because it is treated as a secret",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(
            from_lookup(lookup(&[]), None, None).unwrap(),
            Settings::default()
        );
        let s = from_lookup(
            lookup(&[
                ("XDR_BASE_URL", "http://127.0.0.1:9/"),
                ("XDR_SECURITY_LEVEL", "Standard"),
                ("XDR_LOOKBACK_HOURS", "0.5"),
                ("XDR_SOURCE", "incidents"),
                ("XDR_SETTLE_SECONDS", "0"),
                ("XDR_OVERLAP_SECONDS", "30"),
                ("XDR_REQUESTS_PER_SECOND", "10"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(s.security_level, SecurityLevel::Standard);
        assert_eq!(s.lookback, Duration::from_secs(1800));
        assert_eq!(s.streams, vec!["incidents"]);
        assert_eq!(s.settle, Duration::ZERO);
        assert_eq!(s.overlap, Duration::from_secs(30));
        assert_eq!(s.requests_per_second, 10.0);
        let s = from_lookup(
            lookup(&[("XDR_SOURCE", "alerts"), ("XDR_LOOKBACK_HOURS", "1")]),
            Some("BOTH"),
            Some(2.0),
        )
        .unwrap();
        assert_eq!(s.streams, vec!["alerts", "incidents"]);
        assert_eq!(s.lookback, Duration::from_secs(7200));
        assert_eq!(
            parse_streams("--source", "incidents,alerts").unwrap(),
            ALL_STREAMS
        );
    }

    #[test]
    fn invalid_values_name_the_variable_and_fix() {
        for (k, v) in [
            ("XDR_SECURITY_LEVEL", "high"),
            ("XDR_LOOKBACK_HOURS", "0"),
            ("XDR_LOOKBACK_HOURS", "x"),
            ("XDR_SOURCE", "everything"),
            ("XDR_BASE_URL", "http://api-x.xdr.us.paloaltonetworks.com"),
            ("XDR_BASE_URL", "not a url"),
            ("XDR_SETTLE_SECONDS", "-1"),
            ("XDR_OVERLAP_SECONDS", "1.5"),
            ("XDR_REQUESTS_PER_SECOND", "11"),
            ("XDR_REQUESTS_PER_SECOND", "0"),
        ] {
            let err = from_lookup(lookup(&[(k, v)]), None, None).unwrap_err();
            assert_eq!(err.name, k, "{err}");
            let text = err.to_string();
            assert!(
                text.starts_with(k) && text.contains(" is invalid: "),
                "{text}"
            );
        }
    }

    #[test]
    fn fqdn_is_normalised_and_never_echoed() {
        for raw in [
            "tenant.xdr.us.paloaltonetworks.com",
            "https://api-tenant.xdr.us.paloaltonetworks.com/public_api/v1",
            "HTTP://Tenant.xdr.us.paloaltonetworks.com:443",
            " api-tenant.xdr.us.paloaltonetworks.com ",
        ] {
            assert_eq!(
                normalize_fqdn(raw).unwrap(),
                "tenant.xdr.us.paloaltonetworks.com",
                "{raw}"
            );
        }
        for raw in [
            "",
            "CANARY_localhost",
            "-bad.example.com",
            "a..b",
            "x_y.example.com",
        ] {
            let err = normalize_fqdn(raw).unwrap_err();
            assert_eq!(err.name, "XDR_FQDN");
            assert!(!err.to_string().contains("CANARY"), "{err}");
            if !raw.is_empty() {
                assert!(!err.to_string().contains(raw), "{err}");
            }
        }
    }

    #[test]
    fn key_id_must_be_numeric() {
        validate_key_id("42").unwrap();
        validate_key_id(" 7 ").unwrap();
        for bad in ["", "4a", "CANARY-9", "-1"] {
            let err = validate_key_id(bad).unwrap_err();
            assert_eq!(err.name, "XDR_API_KEY_ID");
            assert!(err.value.is_none());
            assert!(!err.to_string().contains("CANARY"));
        }
    }
}
