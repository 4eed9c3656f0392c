//! Proofpoint TAP SIEM API: the connector's first-run walk (spec §3.7) — windows of at most
//! one hour of `GET /v2/siem/all?format=json&interval=START/END` with Basic auth, from
//! `floor_minute(now − look-back)` to `floor_minute(now − settle)`, contiguous, each next
//! start being the window end (or an earlier `queryEndTime`). Only `queryEndTime` and the
//! four category arrays' lengths are parsed.

use jiff::{SignedDuration, Timestamp};

use crate::{Drained, Error};

/// The SIEM endpoint the connector uses.
const SIEM_PATH: &str = "/v2/siem/all";
/// Longest window the API serves.
const MAX_WINDOW_S: i64 = 3600;

/// The window settings the connector runs with (`PP_LOOKBACK_HOURS`, `PP_SETTLE_SECONDS`).
pub struct Settings {
    /// First-run look-back in seconds.
    pub lookback_s: i64,
    /// Windows end at `now − settle`.
    pub settle_s: i64,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Window {
    query_end_time: Option<String>,
    messages_blocked: Option<Vec<serde::de::IgnoredAny>>,
    messages_delivered: Option<Vec<serde::de::IgnoredAny>>,
    clicks_blocked: Option<Vec<serde::de::IgnoredAny>>,
    clicks_permitted: Option<Vec<serde::de::IgnoredAny>>,
}

fn floor_minute(t: Timestamp) -> Result<Timestamp, Error> {
    Ok(Timestamp::from_second(t.as_second().div_euclid(60) * 60)?)
}

fn target_end(settle_s: i64) -> Result<Timestamp, Error> {
    floor_minute(Timestamp::now() - SignedDuration::from_secs(settle_s))
}

fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Drains the SIEM stream of the simulator at `base`.
pub async fn drain(
    client: &reqwest::Client,
    base: &str,
    principal: &str,
    secret: &str,
    s: Settings,
) -> Result<Drained, Error> {
    let url = format!("{base}{SIEM_PATH}");
    let mut out = Drained::default();
    let mut start = floor_minute(Timestamp::now() - SignedDuration::from_secs(s.lookback_s))?;
    loop {
        let end = (start + SignedDuration::from_secs(MAX_WINDOW_S)).min(target_end(s.settle_s)?);
        if end <= start {
            return Ok(out);
        }
        let interval = format!("{}/{}", iso(start), iso(end));
        let response = client
            .get(&url)
            .query(&[("format", "json"), ("interval", interval.as_str())])
            .basic_auth(principal, Some(secret))
            .header("Accept", "application/json")
            .send()
            .await?
            .error_for_status()?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        out.pages += 1;
        let mut next = end;
        if status != 204 {
            let w: Window = serde_json::from_slice(&bytes)?;
            out.events += [
                &w.messages_blocked,
                &w.messages_delivered,
                &w.clicks_blocked,
                &w.clicks_permitted,
            ]
            .into_iter()
            .map(|c| c.as_ref().map_or(0, Vec::len) as u64)
            .sum::<u64>();
            if let Some(q) = w.query_end_time.and_then(|q| q.parse::<Timestamp>().ok()) {
                if q <= start {
                    // No progress reported: the connector stops until the next run.
                    return Ok(out);
                }
                next = next.min(q);
            }
        }
        if next >= target_end(s.settle_s)? {
            return Ok(out);
        }
        start = next;
    }
}
