//! `Retry-After` header values: delta-seconds, HTTP-date and the broken forms faults use.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::clock::{ns_to_ts, ts_to_ns};

/// Form of `Retry-After` on 429s caused by a real (simulated vendor) limit.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryAfterForm {
    /// `Retry-After: 7`
    #[default]
    Seconds,
    /// `Retry-After: Tue, 31 Mar 2026 23:34:20 GMT` (virtual clock + delay)
    HttpDate,
    /// Alternates seconds, HTTP-date, seconds, ...
    Mixed,
    /// No header.
    Absent,
}

/// Form of `Retry-After` on an injected fault (`"retry_after": {"form": ...}`).
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FaultRetryForm {
    /// Delta-seconds (`value`, default 1).
    Seconds,
    /// HTTP-date `offset_s` (default 1) after the virtual clock.
    HttpDate,
    /// No header.
    Absent,
    /// An unparsable value (`soon, probably`).
    Garbage,
    /// A delta far above any sane cap (`value`, default 999999999).
    Huge,
}

/// Formats `ts` as an IMF-fixdate (`Tue, 31 Mar 2026 23:34:20 GMT`).
pub(crate) fn http_date(ts: Timestamp) -> String {
    ts.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The header value for a real-limit 429 that can be retried after `secs`, or `None` for no
/// header. `mixed_counter` is incremented on every call for the `mixed` form.
pub(crate) fn real_limit_value(
    form: RetryAfterForm,
    secs: u64,
    now_ns: i64,
    mixed_counter: &mut u64,
) -> Option<String> {
    let seconds = || secs.to_string();
    let date = || {
        let at = now_ns.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX / 2) * 1_000_000_000);
        // Round up so the date is never earlier than the delay in seconds.
        http_date(ns_to_ts(at + 999_999_999))
    };
    match form {
        RetryAfterForm::Seconds => Some(seconds()),
        RetryAfterForm::HttpDate => Some(date()),
        RetryAfterForm::Absent => None,
        RetryAfterForm::Mixed => {
            *mixed_counter += 1;
            Some(if !mixed_counter.is_multiple_of(2) {
                seconds()
            } else {
                date()
            })
        }
    }
}

/// The header value for an injected fault, or `None` for no header.
pub(crate) fn fault_value(
    form: FaultRetryForm,
    value: Option<u64>,
    offset_s: Option<i64>,
    now: Timestamp,
) -> Option<String> {
    match form {
        FaultRetryForm::Seconds => Some(value.unwrap_or(1).to_string()),
        FaultRetryForm::HttpDate => {
            let at = ts_to_ns(now).saturating_add(offset_s.unwrap_or(1) * 1_000_000_000);
            Some(http_date(ns_to_ts(at)))
        }
        FaultRetryForm::Absent => None,
        FaultRetryForm::Garbage => Some("soon, probably".to_owned()),
        FaultRetryForm::Huge => Some(value.unwrap_or(999_999_999).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now: Timestamp = "2026-03-31T23:34:13Z".parse().unwrap();
        let ns = ts_to_ns(now);
        let mut c = 0;
        assert_eq!(
            real_limit_value(RetryAfterForm::Seconds, 7, ns, &mut c).as_deref(),
            Some("7")
        );
        assert_eq!(
            real_limit_value(RetryAfterForm::HttpDate, 7, ns, &mut c).as_deref(),
            Some("Tue, 31 Mar 2026 23:34:20 GMT")
        );
        assert_eq!(
            real_limit_value(RetryAfterForm::Mixed, 7, ns, &mut c).as_deref(),
            Some("7")
        );
        assert!(
            real_limit_value(RetryAfterForm::Mixed, 7, ns, &mut c)
                .unwrap()
                .ends_with("GMT")
        );
        assert_eq!(
            real_limit_value(RetryAfterForm::Absent, 7, ns, &mut c),
            None
        );
        assert_eq!(
            fault_value(FaultRetryForm::HttpDate, None, Some(3), now).as_deref(),
            Some("Tue, 31 Mar 2026 23:34:16 GMT")
        );
    }
}
