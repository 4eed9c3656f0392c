//! Query-string parsing and validation of SIEM windows (spec §3.2, §5.3) and People
//! parameters (§3.3). Every rejection is a short text for a 400 body.

use jiff::{SignedDuration, Timestamp};

use super::timeline::{MINUTE_NS, NS};
use crate::common::clock::ts_to_ns;

const HOUR_NS: i64 = 3600 * NS;

/// Decodes `%XX` escapes; `+` stays `+` (so raw `+00:00` offsets work).
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8"))
}

/// `key=value` pairs of a raw query, decoded, in order.
pub(crate) fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

/// The single value of `key`, or an error when it is given twice.
fn single<'a>(pairs: &'a [(String, String)], key: &str) -> Result<Option<&'a str>, String> {
    let mut it = pairs.iter().filter(|(k, _)| k == key);
    let first = it.next().map(|(_, v)| v.as_str());
    if it.next().is_some() {
        return Err(format!("The {key} parameter may be given only once."));
    }
    Ok(first)
}

fn timestamp(s: &str, what: &str) -> Result<i64, String> {
    s.parse::<Timestamp>().map(ts_to_ns).map_err(|_| {
        format!(
            "Cannot parse {what} {s:?}; use ISO-8601 with an offset, e.g. 2026-03-31T23:00:00Z."
        )
    })
}

fn duration(s: &str) -> Option<i64> {
    if !s.starts_with(['P', 'p']) {
        return None;
    }
    let d: SignedDuration = s.parse().ok()?;
    let ns = i64::try_from(d.as_nanos()).ok()?;
    (ns > 0).then_some(ns)
}

/// Parses `interval=<start>/<end>`, where either side may be an ISO-8601 duration
/// (`PT30M/2026-03-31T12:30:00Z`, `2026-03-31T12:00:00Z/PT30M`).
fn interval(s: &str) -> Result<(i64, i64), String> {
    let (a, b) = s.split_once('/').ok_or_else(|| {
        format!("The interval {s:?} must be <start>/<end> in ISO-8601, e.g. 2026-03-31T23:00:00Z/2026-04-01T00:00:00Z.")
    })?;
    match (duration(a), duration(b)) {
        (Some(_), Some(_)) => Err("An interval cannot be two durations.".into()),
        (Some(d), None) => {
            let end = timestamp(b, "interval end")?;
            Ok((end - d, end))
        }
        (None, Some(d)) => {
            let start = timestamp(a, "interval start")?;
            Ok((start, start + d))
        }
        (None, None) => Ok((
            timestamp(a, "interval start")?,
            timestamp(b, "interval end")?,
        )),
    }
}

/// SIEM settings that shape validation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SiemRules {
    pub(crate) max_lookback_ns: i64,
    pub(crate) strict_future: bool,
}

/// A validated SIEM request.
#[derive(Debug, Clone)]
pub(crate) struct SiemQuery {
    /// Window start (inclusive).
    pub(crate) start_ns: i64,
    /// Window end (exclusive), clamped to now.
    pub(crate) end_ns: i64,
    /// `threatType` filter.
    pub(crate) threat_type: Option<String>,
    /// `threatStatus` filter.
    pub(crate) threat_status: Option<String>,
}

impl SiemQuery {
    /// `queryEndTime`: the window end rounded down to the minute.
    pub(crate) fn query_end_ns(&self) -> i64 {
        self.end_ns - self.end_ns.rem_euclid(MINUTE_NS)
    }
}

/// Validates a SIEM query at server time `now_ns`.
pub(crate) fn siem(
    pairs: &[(String, String)],
    rules: SiemRules,
    now_ns: i64,
) -> Result<SiemQuery, String> {
    match single(pairs, "format")? {
        Some("json") => {}
        Some(other) => {
            return Err(format!(
                "Unsupported format {other:?}; this simulator serves format=json only."
            ));
        }
        None => return Err("The format parameter is required; send format=json.".into()),
    }
    let given: Vec<&str> = ["sinceSeconds", "sinceTime", "interval"]
        .into_iter()
        .filter(|k| pairs.iter().any(|(p, _)| p == k))
        .collect();
    if given.len() != 1 {
        return Err(format!(
            "Exactly one of sinceSeconds, sinceTime or interval is required (got {}).",
            if given.is_empty() {
                "none".to_owned()
            } else {
                given.join(", ")
            }
        ));
    }
    let (start, end) = match given[0] {
        "sinceSeconds" => {
            let v = single(pairs, "sinceSeconds")?.unwrap_or_default();
            let n: i64 = v
                .parse()
                .ok()
                .filter(|n| (1..=3600).contains(n))
                .ok_or_else(|| {
                    format!("sinceSeconds must be an integer from 1 to 3600 (got {v:?}).")
                })?;
            let end = now_ns - now_ns.rem_euclid(MINUTE_NS);
            (end - n * NS, end)
        }
        "sinceTime" => {
            let start = timestamp(single(pairs, "sinceTime")?.unwrap_or_default(), "sinceTime")?;
            (start, now_ns)
        }
        _ => interval(single(pairs, "interval")?.unwrap_or_default())?,
    };
    if end <= start {
        return Err("The end of the interval must be after its start.".into());
    }
    if end - start > HOUR_NS {
        return Err(
            "The requested interval is too long; at most 1 hour of data per request.".into(),
        );
    }
    let end = if end > now_ns {
        if rules.strict_future {
            return Err("The interval end is in the future (--strict-future).".into());
        }
        now_ns
    } else {
        end
    };
    if end <= start {
        return Err("The interval starts in the future.".into());
    }
    if start < now_ns - rules.max_lookback_ns {
        return Err(format!(
            "The requested start is too far in the past; the maximum look-back is {} hours.",
            rules.max_lookback_ns / HOUR_NS
        ));
    }
    let filter = |key: &str, allowed: &[&str]| -> Result<Option<String>, String> {
        match single(pairs, key)? {
            None => Ok(None),
            Some(v) if allowed.iter().any(|a| a.eq_ignore_ascii_case(v)) => Ok(Some(v.to_owned())),
            Some(v) => Err(format!("{key}={v:?} is not one of {}.", allowed.join(", "))),
        }
    };
    Ok(SiemQuery {
        start_ns: start,
        end_ns: end,
        threat_type: filter("threatType", &["url", "attachment", "messageText"])?,
        threat_status: filter("threatStatus", &["active", "cleared", "falsePositive"])?,
    })
}

/// A validated People request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeopleQuery {
    pub(crate) window: u32,
    pub(crate) size: u64,
    pub(crate) page: u64,
}

/// Validates `window` (14, 30 or 90; required), `size` (1–200, default 100), `page` (≥ 1).
pub(crate) fn people(pairs: &[(String, String)]) -> Result<PeopleQuery, String> {
    let window = match single(pairs, "window")? {
        None => return Err("The window parameter is required: 14, 30 or 90 (days).".into()),
        Some(v) => match v.parse::<u32>() {
            Ok(w @ (14 | 30 | 90)) => w,
            _ => return Err(format!("window must be 14, 30 or 90 (got {v:?}).")),
        },
    };
    let size = match single(pairs, "size")? {
        None => 100,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=200).contains(s))
            .ok_or_else(|| format!("size must be an integer from 1 to 200 (got {v:?})."))?,
    };
    let page = match single(pairs, "page")? {
        None => 1,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| format!("page must be an integer of at least 1 (got {v:?})."))?,
    };
    Ok(PeopleQuery { window, size, page })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-03-31T12:34:56Z";

    fn run(q: &str) -> Result<SiemQuery, String> {
        let now = timestamp(NOW, "now").unwrap();
        let rules = SiemRules {
            max_lookback_ns: 7 * 24 * HOUR_NS,
            strict_future: false,
        };
        siem(&pairs(Some(q))?, rules, now)
    }

    #[test]
    fn window_forms() {
        let q = run("format=json&interval=2026-03-31T11:00:00Z%2F2026-03-31T12:00:00Z").unwrap();
        assert_eq!(q.end_ns - q.start_ns, HOUR_NS);
        let d = run("format=json&interval=PT30M/2026-03-31T12:00:00%2B00:00").unwrap();
        assert_eq!(d.end_ns, q.end_ns);
        assert_eq!(d.end_ns - d.start_ns, HOUR_NS / 2);
        let s = run("format=json&sinceSeconds=600").unwrap();
        assert_eq!(s.end_ns, timestamp("2026-03-31T12:34:00Z", "").unwrap());
        let f = run("format=json&interval=2026-03-31T12:30:00Z/2026-03-31T13:00:00Z").unwrap();
        assert_eq!(
            f.query_end_ns(),
            timestamp("2026-03-31T12:34:00Z", "").unwrap()
        );
        for bad in [
            "interval=2026-03-31T11:00:00Z/2026-03-31T12:00:00Z",
            "format=syslog&sinceSeconds=60",
            "format=json",
            "format=json&sinceSeconds=60&interval=PT1M/2026-03-31T12:00:00Z",
            "format=json&sinceSeconds=0",
            "format=json&sinceSeconds=3601",
            "format=json&sinceTime=2026-03-31T11:00:00Z",
            "format=json&interval=2026-03-31T10:00:00Z/2026-03-31T11:00:01Z",
            "format=json&interval=2026-03-31T11:00:00Z/2026-03-31T11:00:00Z",
            "format=json&interval=2026-03-20T11:00:00Z/2026-03-20T12:00:00Z",
            "format=json&interval=2026-03-31T11:00:00/2026-03-31T12:00:00",
        ] {
            assert!(run(bad).is_err(), "{bad} must be rejected");
        }
    }

    #[test]
    fn people_params() {
        let p = |q: &str| people(&pairs(Some(q)).unwrap());
        assert_eq!(
            p("window=30").unwrap(),
            PeopleQuery {
                window: 30,
                size: 100,
                page: 1
            }
        );
        assert!(p("window=7").is_err());
        assert!(p("window=30&size=201").is_err());
        assert!(p("window=30&page=0").is_err());
        assert!(p("size=10").is_err());
    }
}
