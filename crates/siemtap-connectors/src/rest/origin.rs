//! Where a request may go, and so where the credential may go: the origin (scheme, host, port)
//! of the stream's first request URL, plus the connector file's `trusted_origins`. And URL
//! templates that place each value by where it lands: a value in the path is percent-encoded
//! as one segment, in the query or fragment as one component, so vendor data can neither climb
//! out of its segment nor move the request to another origin.

use reqwest::Url;
use serde_json::Value;
use siemtap_http::{HttpClient, redact_url};

use super::template::{Placeholder, Template};

/// `scheme://host[:port]` of `url` (the default port left out), `None` for opaque origins.
pub(crate) fn origin_of(url: &Url) -> Option<String> {
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Checks one `trusted_origins` entry and returns its canonical form. It must be an absolute
/// `https://host[:port]` origin (plain http only for loopback hosts, as for every URL).
pub(crate) fn parse_trusted(text: &str) -> Result<String, String> {
    let url = Url::parse(text).map_err(|e| {
        format!("{text:?} is not an absolute URL ({e}); write an origin such as \"https://cdn.example.com\"")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{text:?} carries a user name or password; write only scheme://host[:port]"
        ));
    }
    let origin = origin_of(&url).ok_or_else(|| {
        format!("{text:?} has no host; write an origin such as \"https://cdn.example.com\"")
    })?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?} must be an origin only, with no path, query or fragment: write \"{origin}\""
        ));
    }
    HttpClient::check_url(&url).map_err(|_| {
        format!(
            "{text:?}: a trusted origin must use https (plain http only for localhost and 127.0.0.1)"
        )
    })?;
    Ok(origin)
}

/// The origins a stream's requests may go to.
pub(crate) struct Origins<'a> {
    /// The origin of the rendered first-request URL.
    pub base: Option<String>,
    /// `trusted_origins` of the connector file, as written (checked at load).
    pub trusted: &'a [String],
}

impl Origins<'_> {
    /// Whether a request (with the credential) may be sent to `url`.
    pub(crate) fn allows(&self, url: &Url) -> bool {
        let Some(origin) = origin_of(url) else {
            return false;
        };
        self.base.as_deref() == Some(origin.as_str())
            || self
                .trusted
                .iter()
                .any(|t| parse_trusted(t).is_ok_and(|t| t == origin))
    }

    /// The refusal for a URL on another origin: names the redacted URL and the fix.
    pub(crate) fn refusal(&self, url: &Url) -> String {
        let origin = origin_of(url).unwrap_or_else(|| "(no origin)".into());
        format!(
            "the API named a next page on another origin, {} (the credential is sent only to {}{}); no request was made. If the vendor really serves pages from {origin}, add \"{origin}\" to trusted_origins in the connector file",
            redact_url(url.as_str()),
            self.base
                .as_deref()
                .unwrap_or("the origin of the first request"),
            if self.trusted.is_empty() {
                String::new()
            } else {
                format!(" and {}", self.trusted.join(", "))
            },
        )
    }
}

/// The part of a URL the text rendered so far ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// Scheme and authority (or nothing yet).
    Authority,
    Path,
    Query,
    Fragment,
}

fn part(so_far: &str) -> Part {
    if so_far.contains('#') {
        Part::Fragment
    } else if so_far.contains('?') {
        Part::Query
    } else {
        match so_far.find("://") {
            Some(i) if so_far[i + 3..].contains('/') => Part::Path,
            Some(_) => Part::Authority,
            None if so_far.is_empty() => Part::Authority,
            None => Part::Path,
        }
    }
}

/// Every byte outside `keep` (and the unreserved set) as `%XX`.
fn encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why a URL template could not be rendered safely.
#[derive(Debug)]
pub(crate) enum UrlError {
    /// A placeholder value is a dot segment (`.`/`..`) in the path.
    DotSegment(Placeholder),
    /// The vendor-supplied values change the origin the template names.
    OriginChanged(Placeholder),
}

/// Whether a placeholder is operator configuration (used as written, e.g. a base URL with a
/// path): `{var.NAME}`.
fn is_config(ph: &Placeholder) -> bool {
    ph.scope == "var"
}

/// Whether a placeholder carries data from the API or the walk (`{page.*}`, `{cursor}`,
/// `{window.*}`): it must never decide the origin.
fn is_data(ph: &Placeholder) -> bool {
    matches!(ph.scope.as_str(), "page" | "window" | "")
}

fn text_of(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The text a value becomes where it lands (`so_far` is the URL rendered before it).
fn place(so_far: &str, ph: &Placeholder, raw: String) -> Result<String, UrlError> {
    if is_config(ph) {
        return Ok(raw);
    }
    Ok(match part(so_far) {
        Part::Authority => raw,
        Part::Path if raw == "." || raw == ".." => return Err(UrlError::DotSegment(ph.clone())),
        Part::Path => encode(&raw, b"!$&'()*+,;=:@"),
        Part::Query | Part::Fragment => encode(&raw, b""),
    })
}

/// Renders a URL template: configuration (`{var.*}`) as written; any other value encoded for
/// the part of the URL it lands in (a path segment: everything but unreserved, sub-delims, `:`
/// and `@`; query and fragment: everything but unreserved). A value of `.` or `..` in the path
/// is refused, and so is data that changes the origin: the template rendered with its data
/// placeholders blank must name the same origin.
pub(crate) fn render_url(
    t: &Template,
    resolve: &mut impl FnMut(&Placeholder) -> Value,
) -> Result<String, UrlError> {
    let text = t.render_encoded(&mut |so_far, ph| place(so_far, ph, text_of(resolve(ph))))?;
    let Some(data) = t.placeholders().find(|p| is_data(p)).cloned() else {
        return Ok(text);
    };
    let blank = t
        .render_encoded(&mut |so_far, ph| {
            let raw = if is_data(ph) {
                String::new()
            } else {
                text_of(resolve(ph))
            };
            place(so_far, ph, raw).or(Ok::<_, UrlError>(String::new()))
        })
        .unwrap_or_default();
    let origin = |s: &str| Url::parse(s).ok().and_then(|u| origin_of(&u));
    if origin(&blank) != origin(&text) {
        return Err(UrlError::OriginChanged(data));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str, token: &str) -> Result<String, UrlError> {
        let t = Template::parse(t).unwrap();
        render_url(&t, &mut |p| match p.scope.as_str() {
            "var" => Value::from("https://api.example.com/v1"),
            _ => Value::from(token),
        })
    }

    #[test]
    fn values_are_encoded_for_their_part() {
        let got = render(
            "{var.b}/page/{page.token}?c={page.token}#{page.token}",
            "a/b?c=d#e f%",
        )
        .unwrap();
        assert_eq!(
            got,
            "https://api.example.com/v1/page/a%2Fb%3Fc=d%23e%20f%25?c=a%2Fb%3Fc%3Dd%23e%20f%25#a%2Fb%3Fc%3Dd%23e%20f%25"
        );
        let url = Url::parse(&got).unwrap();
        assert_eq!(url.path(), "/v1/page/a%2Fb%3Fc=d%23e%20f%25");
        // Timestamps keep their colons in a path.
        assert_eq!(
            render("{var.b}/since/{cursor}", "2026-03-01T00:00:00Z").unwrap(),
            "https://api.example.com/v1/since/2026-03-01T00:00:00Z"
        );
    }

    #[test]
    fn dot_segments_and_origin_changes_are_refused() {
        assert!(matches!(
            render("{var.b}/page/{page.token}", ".."),
            Err(UrlError::DotSegment(_))
        ));
        assert!(matches!(
            render("{var.b}/page/{page.token}", "."),
            Err(UrlError::DotSegment(_))
        ));
        assert!(render("{var.b}/page/{page.token}", "...").is_ok());
        assert!(matches!(
            render("https://api.example.com{page.token}", "@evil.example/x"),
            Err(UrlError::OriginChanged(_))
        ));
        // After a base URL with a path, the value is in the path: `@` stays there, harmless.
        assert_eq!(
            render("{var.b}{page.token}", "@evil.example/x").unwrap(),
            "https://api.example.com/v1@evil.example%2Fx"
        );
        assert!(matches!(
            render("{page.token}/x", "https://evil.example"),
            Err(UrlError::OriginChanged(_))
        ));
        assert!(matches!(
            render("https://api.example.com:{page.token}/x", "8443"),
            Err(UrlError::OriginChanged(_))
        ));
    }

    #[test]
    fn trusted_origins_are_canonical_https_origins() {
        assert_eq!(
            parse_trusted("https://CDN.example.com:443/").unwrap(),
            "https://cdn.example.com"
        );
        assert_eq!(
            parse_trusted("http://127.0.0.1:9").unwrap(),
            "http://127.0.0.1:9"
        );
        for bad in [
            "http://cdn.example.com",
            "https://cdn.example.com/x",
            "https://u:p@cdn.example.com",
            "cdn.example.com",
            "data:text/plain,x",
        ] {
            assert!(parse_trusted(bad).is_err(), "{bad}");
        }
    }
}
