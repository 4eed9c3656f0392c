//! Page-to-page logic: the continuation a response gives, and whether the walk goes on.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::request::Continuation;
use super::spec::{PageKind, Pagination};

/// What one response says about the next page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Next {
    /// The continuation the response carried (also on the last page of `body_token`: it is the
    /// resume point).
    pub continuation: Option<Continuation>,
    /// Whether to request it now.
    pub more: bool,
}

/// Default pages per stream per run.
pub(crate) const DEFAULT_MAX_PAGES: u32 = 1000;

fn pointer_text(doc: &Value, ptr: &str) -> Option<String> {
    match doc.pointer(ptr)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn pointer_u64(doc: &Value, ptr: &str) -> Option<u64> {
    match doc.pointer(ptr)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Decides the next page. `sent` is the continuation of the request just made (the start
/// offset/page for the first page), `count` the records it returned.
pub(crate) fn next(
    p: &Pagination,
    limit: u32,
    sent: Option<&Continuation>,
    headers: &HeaderMap,
    doc: &Value,
    count: usize,
) -> Next {
    let numeric = matches!(p.kind, PageKind::Offset | PageKind::PageNumber);
    let mut more = true;
    if let Some(ptr) = &p.has_more
        && doc.pointer(&ptr.0).and_then(Value::as_bool) != Some(true)
    {
        more = false;
    }
    if p.stop_on_empty.unwrap_or(true) && count == 0 {
        more = false;
    }
    if p.stop_on_short.unwrap_or(numeric) && (count as u64) < u64::from(limit) {
        more = false;
    }
    let continuation = match p.kind {
        PageKind::None => None,
        PageKind::BodyToken => p
            .token
            .as_ref()
            .and_then(|t| pointer_text(doc, &t.0))
            .map(Continuation::Token),
        PageKind::NextUrl => p
            .next_url
            .as_ref()
            .and_then(|t| pointer_text(doc, &t.0))
            .map(Continuation::Url),
        PageKind::LinkHeader => link_next(headers).map(Continuation::Url),
        PageKind::Offset => {
            let at = match sent {
                Some(Continuation::Offset(o)) => *o,
                _ => p.start.unwrap_or(0),
            };
            let next = at + count as u64;
            if let Some(total) = p.total.as_ref().and_then(|t| pointer_u64(doc, &t.0))
                && next >= total
            {
                more = false;
            }
            Some(Continuation::Offset(next))
        }
        PageKind::PageNumber => {
            let at = match sent {
                Some(Continuation::Number(n)) => *n,
                _ => p.start.unwrap_or(1),
            };
            if let Some(pages) = p.total_pages.as_ref().and_then(|t| pointer_u64(doc, &t.0))
                && at >= pages
            {
                more = false;
            }
            Some(Continuation::Number(at + 1))
        }
    };
    if continuation.is_none() {
        more = false;
    }
    // No progress: the same token back with nothing in the page.
    if count == 0 && continuation.is_some() && continuation.as_ref() == sent {
        more = false;
    }
    Next { continuation, more }
}

/// The `rel="next"` target of RFC 8288 `Link` headers.
pub(crate) fn link_next(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(text) = value.to_str() else { continue };
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let close = after.find('>')?;
            let target = &after[..close];
            let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
            let params = &after[close + 1..params_end];
            let is_next = params.split(';').any(|param| {
                let param = param.trim().trim_end_matches(',').trim();
                param.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return Some(target.to_owned());
            }
            rest = &after[params_end..];
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::spec::Pointer;

    fn pg(kind: PageKind) -> Pagination {
        Pagination {
            kind,
            ..Pagination::default()
        }
    }

    #[test]
    fn link_header_next_among_several() {
        let mut h = HeaderMap::new();
        h.append(
            "link",
            "<https://x/api/v1/logs?limit=2>; rel=\"self\""
                .parse()
                .unwrap(),
        );
        h.append(
            "link",
            "<https://x/api/v1/logs?after=a,b&limit=2>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            link_next(&h).as_deref(),
            Some("https://x/api/v1/logs?after=a,b&limit=2")
        );
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            "<https://x/1>; rel=\"prev\", <https://x/3>; rel=next"
                .parse()
                .unwrap(),
        );
        assert_eq!(link_next(&h).as_deref(), Some("https://x/3"));
        assert_eq!(link_next(&HeaderMap::new()), None);
    }

    #[test]
    fn body_token_has_more_and_no_progress() {
        let mut p = pg(PageKind::BodyToken);
        p.token = Some(Pointer("/cursor".into()));
        p.has_more = Some(Pointer("/has_more".into()));
        let doc: Value = serde_json::from_str(r#"{"cursor":"c2","has_more":true}"#).unwrap();
        let n = next(&p, 100, None, &HeaderMap::new(), &doc, 3);
        assert_eq!(
            n,
            Next {
                continuation: Some(Continuation::Token("c2".into())),
                more: true
            }
        );
        let doc: Value = serde_json::from_str(r#"{"cursor":"c2","has_more":false}"#).unwrap();
        assert!(!next(&p, 100, None, &HeaderMap::new(), &doc, 3).more);
        let doc: Value = serde_json::from_str(r#"{"cursor":"c2","has_more":true}"#).unwrap();
        let stuck = next(
            &p,
            100,
            Some(&Continuation::Token("c2".into())),
            &HeaderMap::new(),
            &doc,
            0,
        );
        assert!(!stuck.more);
    }

    #[test]
    fn numeric_paging_stops_on_short_page_or_total() {
        let mut p = pg(PageKind::PageNumber);
        p.total_pages = Some(Pointer("/total_pages".into()));
        let doc: Value = serde_json::from_str(r#"{"total_pages":3}"#).unwrap();
        let n = next(
            &p,
            10,
            Some(&Continuation::Number(2)),
            &HeaderMap::new(),
            &doc,
            10,
        );
        assert_eq!(
            n,
            Next {
                continuation: Some(Continuation::Number(3)),
                more: true
            }
        );
        assert!(
            !next(
                &p,
                10,
                Some(&Continuation::Number(3)),
                &HeaderMap::new(),
                &doc,
                10
            )
            .more
        );
        assert!(
            !next(
                &p,
                10,
                Some(&Continuation::Number(1)),
                &HeaderMap::new(),
                &doc,
                4
            )
            .more
        );
        let mut p = pg(PageKind::Offset);
        p.total = Some(Pointer("/total".into()));
        let doc: Value = serde_json::from_str(r#"{"total":25}"#).unwrap();
        let n = next(
            &p,
            10,
            Some(&Continuation::Offset(10)),
            &HeaderMap::new(),
            &doc,
            10,
        );
        assert_eq!(
            n,
            Next {
                continuation: Some(Continuation::Offset(20)),
                more: true
            }
        );
        let n = next(
            &p,
            10,
            Some(&Continuation::Offset(20)),
            &HeaderMap::new(),
            &doc,
            5,
        );
        assert!(!n.more);
    }
}
