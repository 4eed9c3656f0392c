//! URL policy (https, or http on loopback only) and URL redaction for messages and logs.

use std::net::IpAddr;

use reqwest::Url;

use crate::HttpError;

/// https always; plain http only when the host is loopback (`localhost`, 127.0.0.0/8, `::1`).
pub(crate) fn check_url(url: &Url) -> Result<(), HttpError> {
    let host = match url.host_str().filter(|h| !h.is_empty()) {
        Some(host) => host,
        None => {
            return Err(HttpError::InvalidUrl {
                url: redact_url(url.as_str()),
                reason: "the URL has no host; use https://host/...".into(),
            });
        }
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(HttpError::InsecureUrl {
            url: redact_url(url.as_str()),
        }),
        other => Err(HttpError::InvalidUrl {
            url: redact_url(url.as_str()),
            reason: format!("unsupported scheme {other:?}; use https"),
        }),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => host
            .strip_suffix('.')
            .unwrap_or(host)
            .eq_ignore_ascii_case("localhost"),
    }
}

/// Drop userinfo, replace every query value with `REDACTED` and any fragment with `REDACTED`.
///
/// Works on text, so it also redacts URLs that do not parse.
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((a, _)) => (a, Some("REDACTED")),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = strip_userinfo(base);
    if let Some(query) = query {
        out.push('?');
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) => format!("{key}=REDACTED"),
                None => pair.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn strip_userinfo(base: &str) -> String {
    let (scheme, rest) = match base.find("://") {
        Some(i) => base.split_at(i + 3),
        None => ("", base),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    format!("{scheme}{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), HttpError> {
        check_url(&Url::parse(s).expect("test URL parses"))
    }

    #[test]
    fn https_and_loopback_http_are_allowed() {
        for ok in [
            "https://events.1password.com/api/v2/auditevents",
            "http://127.0.0.1:8080/x",
            "http://127.3.4.5/x",
            "http://localhost:1234/",
            "http://LOCALHOST./",
            "http://[::1]:9000/a",
        ] {
            check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn plain_http_elsewhere_is_refused_and_redacted() {
        let err = check("http://user:hunter2@example.com/siem?secret=abc123&x=1#tok").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, HttpError::InsecureUrl { .. }), "{err:?}");
        assert!(
            text.contains("http://example.com/siem?secret=REDACTED&x=REDACTED"),
            "{text}"
        );
        for leaked in ["hunter2", "user", "abc123", "tok"] {
            assert!(!text.contains(leaked), "{leaked} leaked in {text}");
            assert!(!format!("{err:?}").contains(leaked));
        }
        for bad in [
            "http://10.0.0.1/",
            "http://localhost.evil.com/",
            "http://128.0.0.1/",
        ] {
            assert!(
                matches!(check(bad), Err(HttpError::InsecureUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn other_schemes_are_invalid() {
        assert!(matches!(
            check("ftp://example.com/"),
            Err(HttpError::InvalidUrl { .. })
        ));
        assert!(matches!(
            check("file:///etc/passwd"),
            Err(HttpError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn redact_url_handles_unparsable_text() {
        assert_eq!(
            redact_url("https://a:b@h/p?k=v&flag"),
            "https://h/p?k=REDACTED&flag"
        );
        assert_eq!(
            redact_url("not a url?token=zzz"),
            "not a url?token=REDACTED"
        );
        assert_eq!(redact_url("https://h/p"), "https://h/p");
    }
}
