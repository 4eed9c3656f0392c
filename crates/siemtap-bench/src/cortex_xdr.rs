//! Cortex XDR alerts (spec §4.3, §4.10): the connector's first-run walk — closed
//! `server_creation_time` windows of at most one hour from `now − look-back` to
//! `now − settle` (fixed at the start), offset paging 100 at a time sorted on
//! `creation_time`; a window whose first page reports more than 1,000 matches is shrunk to
//! about 900 expected matches (that page is discarded, as the connector does), and a window
//! whose count changes mid-walk is re-paged (at most 3 passes). Each request carries fresh
//! advanced-key headers (64-character nonce, ms timestamp, `sha256_hex(key + nonce + ts)`).
//! Only `reply.total_count` and the length of `reply.alerts` are parsed.

use ring::rand::{SecureRandom, SystemRandom};

use crate::{Drained, Error};

const ALERTS_PATH: &str = "/public_api/v1/alerts/get_alerts";
const PAGE_SIZE: u64 = 100;
const SPLIT_THRESHOLD: u64 = 1000;
const MAX_SPAN_MS: i64 = 3_600_000;
const MAX_PASSES: u32 = 3;
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The walk settings the connector runs with (`XDR_LOOKBACK_HOURS`, `XDR_SETTLE_SECONDS`).
pub struct Settings {
    /// First-run look-back in ms.
    pub lookback_ms: i64,
    /// The walk ends at `now − settle` (fixed when it starts).
    pub settle_ms: i64,
}

#[derive(serde::Deserialize)]
struct Body {
    reply: Reply,
}

#[derive(serde::Deserialize)]
struct Reply {
    total_count: u64,
    alerts: Vec<serde::de::IgnoredAny>,
}

/// An alert window pass in progress.
#[derive(Clone, Copy)]
struct Window {
    from: i64,
    to: i64,
    offset: u64,
    total: Option<u64>,
    read: u64,
    pass: u32,
}

impl Window {
    fn new(from: i64, to: i64, pass: u32) -> Self {
        Self {
            from,
            to,
            offset: 0,
            total: None,
            read: 0,
            pass,
        }
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn nonce(rng: &SystemRandom) -> Result<String, Error> {
    let mut out = String::with_capacity(64);
    let mut buf = [0u8; 96];
    while out.len() < 64 {
        rng.fill(&mut buf).map_err(|_| "OS random source failed")?;
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == 64 {
                break;
            }
            out.push(ALPHABET[usize::from(*b % 62)] as char);
        }
    }
    Ok(out)
}

fn signature(key: &str, nonce: &str, ts: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(key.as_bytes());
    ctx.update(nonce.as_bytes());
    ctx.update(ts.as_bytes());
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn body(w: &Window) -> Result<Vec<u8>, Error> {
    let mut filters = Vec::with_capacity(2);
    for (op, value) in [("gte", w.from), ("lte", w.to)] {
        if value > 0 {
            filters.push(
                serde_json::json!({"field": "server_creation_time", "operator": op, "value": value}),
            );
        }
    }
    Ok(serde_json::to_vec(&serde_json::json!({"request_data": {
        "filters": filters,
        "sort": {"field": "creation_time", "keyword": "asc"},
        "search_from": w.offset,
        "search_to": w.offset + PAGE_SIZE,
    }}))?)
}

/// Drains the alerts of the simulator at `base`.
pub async fn drain(
    client: &reqwest::Client,
    base: &str,
    key_id: &str,
    key: &str,
    s: Settings,
) -> Result<Drained, Error> {
    let url = format!("{base}{ALERTS_PATH}");
    let rng = SystemRandom::new();
    let now = now_ms();
    let run_end = now - s.settle_ms;
    let start = (now - s.lookback_ms).max(1);
    if start >= run_end {
        return Ok(Drained::default());
    }
    let end_of = |from: i64| run_end.min(from.saturating_add(MAX_SPAN_MS));
    let mut w = Window::new(start, end_of(start), 1);
    let mut out = Drained::default();
    loop {
        let nonce = nonce(&rng)?;
        let ts = now_ms().to_string();
        let bytes = client
            .post(&url)
            .header("x-xdr-auth-id", key_id)
            .header("x-xdr-nonce", &nonce)
            .header("x-xdr-timestamp", &ts)
            .header("authorization", signature(key, &nonce, &ts))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body(&w)?)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let reply = serde_json::from_slice::<Body>(&bytes)?.reply;
        out.pages += 1;
        let (total, n) = (reply.total_count, reply.alerts.len() as u64);
        let span = w.to - w.from;
        if w.offset == 0 && total > SPLIT_THRESHOLD && span > 1 {
            // Shrink; this page is discarded.
            let scaled = (i128::from(span) * i128::from(SPLIT_THRESHOLD * 9 / 10)
                / i128::from(total)) as i64;
            w = Window::new(w.from, w.from + scaled.clamp(1, span / 2), 1);
            continue;
        }
        out.events += n;
        let expected = w.total.unwrap_or(total);
        let read = w.read + n;
        let end_of_pass = n == 0 || w.offset + n >= total;
        if total != expected || (end_of_pass && read != total) {
            if w.pass >= MAX_PASSES {
                return Ok(out);
            }
            w = Window::new(w.from, w.to, w.pass + 1);
            continue;
        }
        if end_of_pass {
            if w.to >= run_end {
                return Ok(out);
            }
            w = Window::new(w.to, end_of(w.to), 1);
            continue;
        }
        w = Window {
            offset: w.offset + n,
            total: Some(total),
            read,
            ..w
        };
    }
}
