//! The three APIs' behaviour, written from their public documentation: Okta System Log
//! (`since`/`until`/`limit`/`after`, Link header paging, polling without `until`), an OAuth2
//! client-credentials token endpoint with a Microsoft-Graph-style `alerts_v2` list
//! (`$top`, `$filter` on `createdDateTime`, `@odata.nextLink`), and a page-number API
//! (`page`, `per_page`, `total_pages`).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, Uri, header};
use serde_json::{Value, json};

use super::api::{Answer, basic};
use super::data::{Feed, NS};
use super::state::RestSim;
use crate::common::prng::Draw;

fn parse_ts(s: &str) -> Option<i64> {
    let t: jiff::Timestamp = s.parse().ok()?;
    i64::try_from(t.as_nanosecond()).ok()
}

/// Percent-encodes a query value (everything but unreserved characters).
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Keyset position `(event time, index)` as an opaque token.
fn key_token(t: i64, i: u64) -> String {
    format!("{t:x}.{i:x}")
}

fn parse_key(s: &str) -> Option<(i64, u64)> {
    let (t, i) = s.split_once('.')?;
    Some((
        i64::from_str_radix(t, 16).ok()?,
        u64::from_str_radix(i, 16).ok()?,
    ))
}

/// 401 bodies in each API's style.
pub(crate) fn unauthorized(token_endpoint: bool, feed: Option<Feed>) -> Answer {
    let body = match (token_endpoint, feed) {
        (true, _) => {
            json!({"error": "invalid_client", "error_description": "client authentication failed"})
        }
        (_, Some(Feed::SystemLog)) => {
            json!({"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorCauses": []})
        }
        (_, Some(Feed::SecurityAlerts)) => {
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty, invalid or expired."}})
        }
        _ => json!({"error": "invalid api_key"}),
    };
    Answer::err(StatusCode::UNAUTHORIZED, body)
}

fn form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    Uri::try_from(format!("/?{text}"))
        .ok()
        .and_then(|u| axum::extract::Query::<HashMap<String, String>>::try_from_uri(&u).ok())
        .map(|q| q.0)
        .unwrap_or_default()
}

/// Client authentication of the token endpoint: HTTP Basic or form fields.
pub(crate) fn client_ok(sim: &RestSim, headers: &HeaderMap, body: &[u8]) -> Result<bool, ()> {
    let (id, secret) = match basic(headers) {
        Some(pair) => pair,
        None => {
            let f = form(body);
            (
                f.get("client_id").cloned().ok_or(())?,
                f.get("client_secret").cloned().ok_or(())?,
            )
        }
    };
    Ok(id == sim.cfg.client_id && secret == sim.cfg.client_secret)
}

/// `POST /oauth2/v2.0/token`.
pub(crate) fn token(sim: &RestSim, body: &[u8], now_ns: i64) -> Answer {
    let f = form(body);
    if f.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Answer::err(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}),
        );
    }
    if f.get("scope").is_none_or(|s| s.trim().is_empty()) {
        return Answer::err(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_scope", "error_description": "scope is required, e.g. https://graph.microsoft.com/.default"}),
        );
    }
    let mut st = sim.state();
    st.token_seq += 1;
    st.token_requests += 1;
    let mut d = Draw::new(&[st.seed, 0x544F_4B4E, st.token_seq]);
    let token = format!(
        "simat.{}.{:016x}{:016x}",
        st.token_seq,
        d.next_u64(),
        d.next_u64()
    );
    let ttl = sim.cfg.token_ttl_s;
    st.tokens
        .insert(token.clone(), now_ns.saturating_add(ttl.saturating_mul(NS)));
    Answer::ok(
        json!({"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": token}),
    )
}

fn bad(body: Value) -> Answer {
    Answer::err(StatusCode::BAD_REQUEST, body)
}

fn okta_bad(what: &str) -> Answer {
    bad(
        json!({"errorCode": "E0000001", "errorSummary": format!("Api validation failed: {what}"), "errorCauses": [{"errorSummary": what}]}),
    )
}

/// `GET /api/v1/logs`.
pub(crate) fn okta(sim: &RestSim, q: &HashMap<String, String>, host: &str, now_ns: i64) -> Answer {
    let limit: usize = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return okta_bad("limit must be 1..1000"),
    };
    let since = match q.get("since") {
        None => now_ns - 7 * 86_400 * NS,
        Some(s) => match parse_ts(s) {
            Some(t) => t,
            None => return okta_bad("since is not an ISO 8601 time"),
        },
    };
    let until = match q.get("until") {
        None => None,
        Some(s) => match parse_ts(s) {
            Some(t) => Some(t),
            None => return okta_bad("until is not an ISO 8601 time"),
        },
    };
    if q.get("sortOrder").is_some_and(|s| s != "ASCENDING") {
        return okta_bad("the simulator serves sortOrder=ASCENDING only");
    }
    let after = match q.get("after") {
        None => None,
        Some(a) => match parse_key(a) {
            Some(k) => Some(k),
            None => return okta_bad("after is not a cursor this server issued"),
        },
    };
    let ds = sim.dataset(Feed::SystemLog);
    let all: Vec<u64> = ds
        .visible(now_ns, Some(since), until)
        .into_iter()
        .filter(|&i| after.is_none_or(|(t, j)| (ds.event_ns(i), i) > (t, j)))
        .collect();
    let page: Vec<u64> = all.iter().copied().take(limit).collect();
    let more = all.len() > page.len();
    let records: Vec<Value> = page.iter().map(|&i| ds.record(i)).collect();
    sim.served(Feed::SystemLog, page.iter().map(|&i| ds.id(i)));
    let mut base = format!(
        "http://{host}/api/v1/logs?since={}",
        enc(&super::data::ts(since, 3))
    );
    if let Some(u) = until {
        base.push_str(&format!("&until={}", enc(&super::data::ts(u, 3))));
    }
    base.push_str(&format!("&limit={limit}&sortOrder=ASCENDING"));
    let mut a = Answer::ok(Value::Array(records));
    a.items = Some(page.len() as u64);
    let self_link = match q.get("after") {
        Some(x) => format!("{base}&after={}", enc(x)),
        None => base.clone(),
    };
    a.headers
        .push((header::LINK, format!("<{self_link}>; rel=\"self\"")));
    // Bounded queries link to the next page only while records remain; polling queries
    // (no `until`) always carry a next link.
    let last = page
        .last()
        .map(|&i| key_token(ds.event_ns(i), i))
        .or_else(|| q.get("after").cloned());
    if more || until.is_none() {
        let next = match last {
            Some(k) => format!("{base}&after={}", enc(&k)),
            None => base,
        };
        a.headers
            .push((header::LINK, format!("<{next}>; rel=\"next\"")));
    }
    a
}

fn graph_bad(msg: &str) -> Answer {
    bad(json!({"error": {"code": "BadRequest", "message": msg}}))
}

/// `$filter=createdDateTime ge T and createdDateTime lt T` (ge/gt/le/lt, any order).
fn graph_filter(f: &str) -> Result<(Option<i64>, Option<i64>), String> {
    let mut from = None;
    let mut to = None;
    for clause in f.split(" and ") {
        let parts: Vec<&str> = clause.split_whitespace().collect();
        let [field, op, value] = parts.as_slice() else {
            return Err(format!("cannot parse filter clause {clause:?}"));
        };
        if *field != "createdDateTime" {
            return Err(format!(
                "filtering on {field} is not supported; use createdDateTime"
            ));
        }
        let t = parse_ts(value.trim_matches('\''))
            .ok_or_else(|| format!("{value} is not a DateTimeOffset"))?;
        match *op {
            "ge" => from = Some(t),
            "gt" => from = Some(t + 1),
            "lt" => to = Some(t),
            "le" => to = Some(t + 1),
            o => return Err(format!("operator {o} is not supported")),
        }
    }
    Ok((from, to))
}

/// `GET /v1.0/security/alerts_v2`.
pub(crate) fn graph(sim: &RestSim, q: &HashMap<String, String>, host: &str, now_ns: i64) -> Answer {
    let (top, from, to, after) = if let Some(tok) = q.get("$skiptoken") {
        let parts: Vec<&str> = tok.split('_').collect();
        let num = |s: &str| i64::from_str_radix(s, 16).ok();
        match parts.as_slice() {
            [top, from, to, t, i] => match (num(top), num(from), num(to), num(t), num(i)) {
                (Some(top), Some(f), Some(e), Some(t), Some(i)) => (
                    top as usize,
                    (f >= 0).then_some(f),
                    (e >= 0).then_some(e),
                    Some((t, i as u64)),
                ),
                _ => return graph_bad("$skiptoken is invalid"),
            },
            _ => return graph_bad("$skiptoken is invalid"),
        }
    } else {
        let top = match q.get("$top").map(|t| t.parse::<usize>()) {
            None => 100,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => return graph_bad("$top must be 1..1000"),
        };
        let (from, to) = match q.get("$filter") {
            None => (None, None),
            Some(f) => match graph_filter(f) {
                Ok(b) => b,
                Err(m) => return graph_bad(&m),
            },
        };
        (top, from, to, None)
    };
    let ds = sim.dataset(Feed::SecurityAlerts);
    let all: Vec<u64> = ds
        .visible(now_ns, from, to)
        .into_iter()
        .filter(|&i| after.is_none_or(|(t, j)| (ds.event_ns(i), i) > (t, j)))
        .collect();
    let page: Vec<u64> = all.iter().copied().take(top).collect();
    let records: Vec<Value> = page.iter().map(|&i| ds.record(i)).collect();
    sim.served(Feed::SecurityAlerts, page.iter().map(|&i| ds.id(i)));
    let mut body = json!({
        "@odata.context": format!("http://{host}/v1.0/$metadata#security/alerts_v2"),
        "value": records,
    });
    if all.len() > page.len()
        && let Some(&last) = page.last()
    {
        let tok = format!(
            "{:x}_{:x}_{:x}_{:x}_{:x}",
            top,
            from.unwrap_or(-1).max(-1) as u64 & 0x7FFF_FFFF_FFFF_FFFF,
            to.unwrap_or(-1).max(-1) as u64 & 0x7FFF_FFFF_FFFF_FFFF,
            ds.event_ns(last),
            last
        );
        body["@odata.nextLink"] = Value::String(format!(
            "http://{host}/v1.0/security/alerts_v2?$skiptoken={tok}"
        ));
    }
    let mut a = Answer::ok(body);
    a.items = Some(page.len() as u64);
    a
}

/// `GET /api/items`.
pub(crate) fn items(sim: &RestSim, q: &HashMap<String, String>, now_ns: i64) -> Answer {
    let err = |m: &str| bad(json!({"error": m}));
    let per_page: usize = match q.get("per_page").map(|v| v.parse::<usize>()) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return err("per_page must be 1..100"),
    };
    let page: usize = match q.get("page").map(|v| v.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return err("page must be 1 or more"),
    };
    let since = match q.get("since").map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(s)) => Some(s.saturating_mul(NS)),
        Some(Err(_)) => return err("since must be epoch seconds"),
    };
    let ds = sim.dataset(Feed::Items);
    let all = ds.visible(now_ns, since, None);
    let total = all.len();
    let slice: Vec<u64> = all
        .iter()
        .copied()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    sim.served(Feed::Items, slice.iter().map(|&i| ds.id(i)));
    let mut a = Answer::ok(json!({
        "page": page,
        "per_page": per_page,
        "total": total,
        "total_pages": total.div_ceil(per_page),
        "items": slice.iter().map(|&i| ds.record(i)).collect::<Vec<_>>(),
    }));
    a.items = Some(slice.len() as u64);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_filter_bounds() {
        let (f, t) = graph_filter(
            "createdDateTime ge 2026-03-01T00:00:00Z and createdDateTime lt 2026-03-01T01:00:00Z",
        )
        .unwrap();
        assert_eq!(t.unwrap() - f.unwrap(), 3600 * NS);
        assert!(
            graph_filter("severity eq 'high'")
                .unwrap_err()
                .contains("createdDateTime")
        );
        assert!(graph_filter("createdDateTime ge yesterday").is_err());
    }

    #[test]
    fn query_values_are_percent_encoded_and_keys_round_trip() {
        assert_eq!(
            enc("2026-03-01T00:00:00.000Z"),
            "2026-03-01T00%3A00%3A00.000Z"
        );
        assert_eq!(parse_key(&key_token(123_456, 7)), Some((123_456, 7)));
        assert_eq!(parse_key("nope"), None);
    }
}
