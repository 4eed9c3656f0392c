//! `Retry-After` parsing: delta-seconds and HTTP-date (IMF-fixdate, RFC 850, asctime).

use std::time::Duration;

use jiff::Timestamp;
use jiff::fmt::rfc2822::DateTimeParser;
use jiff::fmt::strtime;
use jiff::tz::Offset;

/// Parse a `Retry-After` value into a wait relative to `now`.
///
/// `"7"` is 7 s; an HTTP-date such as `"Tue, 31 Mar 2026 23:34:20 GMT"` is the time until that
/// instant (a date in the past gives 0). A delta too large for `u64` saturates (callers cap it).
/// Anything else (negative, fractional, garbage) is `None`, i.e. treated as absent.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let wait = at.duration_since(now);
    if wait.is_negative() {
        return Some(Duration::ZERO);
    }
    Duration::try_from(wait).ok()
}

fn parse_http_date(value: &str) -> Option<Timestamp> {
    // IMF-fixdate, the preferred form ("Sun, 06 Nov 1994 08:49:37 GMT").
    if let Ok(ts) = DateTimeParser::new().parse_timestamp(value) {
        return Some(ts);
    }
    // Obsolete forms recipients must still accept (RFC 9110 §5.6.7).
    let obsolete = [
        "%A, %d-%b-%y %H:%M:%S GMT", // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        "%a %b %e %H:%M:%S %Y",      // asctime: "Sun Nov  6 08:49:37 1994"
    ];
    for format in obsolete {
        if let Ok(tm) = strtime::parse(format, value)
            && let Ok(dt) = tm.to_datetime()
            && let Ok(ts) = Offset::UTC.to_timestamp(dt)
        {
            return Some(ts);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-31T23:34:00Z".parse().expect("valid timestamp")
    }

    #[test]
    fn delta_seconds() {
        assert_eq!(parse_retry_after("7", now()), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn http_date_forms() {
        let want = Some(Duration::from_secs(20));
        assert_eq!(
            parse_retry_after("Tue, 31 Mar 2026 23:34:20 GMT", now()),
            want
        );
        assert_eq!(
            parse_retry_after("Tuesday, 31-Mar-26 23:34:20 GMT", now()),
            want
        );
        assert_eq!(parse_retry_after("Tue Mar 31 23:34:20 2026", now()), want);
    }

    #[test]
    fn past_date_is_zero() {
        assert_eq!(
            parse_retry_after("Mon, 30 Mar 2026 00:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn garbage_is_absent() {
        for bad in [
            "",
            "soon",
            "-5",
            "1.5",
            "7s",
            "Tue, 99 Mar 2026 23:34:20 GMT",
            "NaN",
        ] {
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }
}
