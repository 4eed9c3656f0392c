//! The stored position of a stream and the walk it implies: where the next request starts
//! (time window, continuation) and what is stored after a page.
//!
//! Stored forms (the `<stream>_cursor` state value):
//! - `last_token`: the continuation as a bare string (a token or a next URL);
//! - `max_timestamp` / `window_end`: `{"position": RFC3339, "window": {"start","end"},
//!   "next": {"token"|"url"|"offset"|"page": ...}}`, where `window` and `next` are present only
//!   while a walk is between pages (so a restart resumes mid-window).

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::request::{Continuation, CursorValue};
use super::spec::{CursorKind, PageKind, StreamSpec};

/// Default first-run window.
pub(crate) const DEFAULT_LOOKBACK: Duration = Duration::from_secs(24 * 3600);

/// Where the next request of a stream starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    /// Nothing to read yet (the next window would be empty).
    Idle,
    /// A request to make.
    Walk(Walk),
}

/// One request's position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Walk {
    /// The time window (`{window.start}`, `{window.end}`).
    pub window: (Timestamp, Timestamp),
    /// The stored position before this request.
    pub position: Option<Timestamp>,
    /// The stored token (`last_token`).
    pub token: Option<String>,
    /// The continuation to send (`None` on a first page without numeric paging).
    pub continuation: Option<Continuation>,
    /// Whether this is a later page (`[next_request]`).
    pub later: bool,
}

impl Walk {
    /// `{cursor}` for templates.
    pub(crate) fn cursor_value(&self) -> Option<CursorValue> {
        match (&self.token, self.position) {
            (Some(t), _) => Some(CursorValue::Text(t.clone())),
            (None, Some(p)) => Some(CursorValue::Time(p)),
            (None, None) => None,
        }
    }
}

fn secs(ts: Timestamp) -> Timestamp {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}

fn minus(ts: Timestamp, d: Duration) -> Timestamp {
    let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    ts.checked_sub(d).unwrap_or(Timestamp::MIN)
}

fn plus(ts: Timestamp, d: Duration) -> Timestamp {
    let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    ts.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn dur(d: Option<super::spec::HumanDuration>) -> Duration {
    d.map_or(Duration::ZERO, |d| d.0)
}

/// Where windows may end now: `now − settle_lag`, whole seconds.
pub(crate) fn target_end(spec: &StreamSpec, now: Timestamp) -> Timestamp {
    secs(minus(now, dur(spec.cursor.settle_lag)))
}

fn first_continuation(spec: &StreamSpec) -> Option<Continuation> {
    let p = &spec.pagination;
    match p.kind {
        PageKind::Offset => Some(Continuation::Offset(p.start.unwrap_or(0))),
        PageKind::PageNumber => Some(Continuation::Number(p.start.unwrap_or(1))),
        _ => None,
    }
}

fn ts_at(v: &Value, key: &str) -> Result<Option<Timestamp>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("`{key}` is not an RFC 3339 time")),
        Some(_) => Err(format!("`{key}` is not an RFC 3339 time")),
    }
}

/// The next request of a stream given its stored cursor. `Err` says why the cursor cannot be
/// used (it belongs to another cursor type).
pub(crate) fn step(
    spec: &StreamSpec,
    cursor: Option<&Value>,
    now: Timestamp,
    lookback: Duration,
) -> Result<Step, String> {
    let end = target_end(spec, now);
    let first_start = secs(minus(now, lookback));
    match spec.cursor.kind {
        CursorKind::LastToken => match cursor {
            None => Ok(Step::Walk(Walk {
                window: (first_start.min(end), end),
                position: None,
                token: None,
                continuation: None,
                later: false,
            })),
            Some(Value::String(t)) if !t.is_empty() => Ok(Step::Walk(Walk {
                window: (first_start.min(end), end),
                position: None,
                token: Some(t.clone()),
                continuation: Some(match spec.pagination.kind {
                    PageKind::BodyToken => Continuation::Token(t.clone()),
                    _ => Continuation::Url(t.clone()),
                }),
                later: true,
            })),
            Some(_) => Err("a last_token cursor is a non-empty string".into()),
        },
        CursorKind::MaxTimestamp | CursorKind::WindowEnd => {
            let obj = match cursor {
                None => None,
                Some(v @ Value::Object(_)) => Some(v),
                Some(_) => return Err("a time cursor is an object with `position`".into()),
            };
            let position = match obj {
                Some(o) => ts_at(o, "position")?,
                None => None,
            };
            if let Some(o) = obj
                && let (Some(w), Some(next)) = (o.get("window"), o.get("next"))
            {
                let (Some(ws), Some(we)) = (ts_at(w, "start")?, ts_at(w, "end")?) else {
                    return Err("`window` needs `start` and `end`".into());
                };
                let continuation = Continuation::from_json(next)
                    .ok_or_else(|| "`next` is not a page continuation".to_string())?;
                return Ok(Step::Walk(Walk {
                    window: (ws, we),
                    position,
                    token: None,
                    continuation: Some(continuation),
                    later: true,
                }));
            }
            let overlap = dur(spec.cursor.overlap);
            let start = match position {
                Some(p) => secs(minus(p, overlap)),
                None => first_start,
            };
            let window_end = match (spec.cursor.kind, spec.cursor.max_window) {
                (CursorKind::WindowEnd, Some(w)) => plus(position.unwrap_or(start), w.0).min(end),
                _ => end,
            };
            let caught_up =
                spec.cursor.kind == CursorKind::WindowEnd && position.is_some_and(|p| p >= end);
            if caught_up || window_end <= start {
                return Ok(Step::Idle);
            }
            Ok(Step::Walk(Walk {
                window: (start, window_end),
                position,
                token: None,
                continuation: first_continuation(spec),
                later: false,
            }))
        }
    }
}

/// Whether the stored cursor of `stream` fits its cursor type (the check [`step`] makes),
/// for [`siemtap_core::Source::check_position`]: `Err` names the key and what it should be.
pub(crate) fn check(spec: &StreamSpec, stream: &str, cursor: Option<&Value>) -> Result<(), String> {
    step(spec, cursor, Timestamp::now(), DEFAULT_LOOKBACK)
        .map(drop)
        .map_err(|why| {
            format!("state key {stream}_cursor does not fit this stream's cursor type ({why})")
        })
}

/// The cursor to store after a page, and whether the stream has more to read now.
/// `continuation`/`more` come from pagination, `newest` is the newest record time of the page.
pub(crate) fn after_page(
    spec: &StreamSpec,
    walk: &Walk,
    continuation: Option<Continuation>,
    more: bool,
    newest: Option<Timestamp>,
    now: Timestamp,
) -> (Option<Value>, bool) {
    match spec.cursor.kind {
        CursorKind::LastToken => {
            let stored = continuation
                .as_ref()
                .and_then(|c| c.as_text().map(str::to_owned))
                .or_else(|| walk.token.clone());
            (stored.map(Value::String), more)
        }
        kind => {
            let mut position = walk.position;
            if kind == CursorKind::MaxTimestamp
                && let Some(n) = newest
            {
                position = Some(position.map_or(n, |p| p.max(n)));
            }
            let position_text = |p: Option<Timestamp>| p.map(|t| Value::String(t.to_string()));
            match continuation.filter(|_| more) {
                Some(c) => (
                    Some(json!({
                        "position": position_text(position),
                        "window": {"start": walk.window.0.to_string(), "end": walk.window.1.to_string()},
                        "next": c.to_json(),
                    })),
                    true,
                ),
                None => {
                    if kind == CursorKind::WindowEnd {
                        position = Some(position.map_or(walk.window.1, |p| p.max(walk.window.1)));
                    }
                    let more_windows = kind == CursorKind::WindowEnd
                        && position.is_some_and(|p| p < target_end(spec, now));
                    let stored = position.map(|p| json!({ "position": p.to_string() }));
                    (stored, more_windows)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::load::load_str;

    fn stream(cursor: &str, paging: &str) -> StreamSpec {
        let text = format!(
            r#"name = "t"
namespace = "t"
[[streams]]
name = "s"
request = {{ url = "https://x/a" }}
pagination = {paging}
extract = {{ records = "/items", id = "/id", timestamp = "/t" }}
cursor = {cursor}
"#
        );
        load_str(&text, "t.toml").unwrap().file.streams.remove(0)
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn window_end_walks_windows_of_max_width_until_caught_up() {
        let s = stream(
            r#"{ type = "window_end", settle_lag = "1m", overlap = "5m", max_window = "1h" }"#,
            r#"{ type = "page_number" }"#,
        );
        let now = ts("2026-03-01T12:00:30Z");
        let Step::Walk(w) = step(&s, None, now, Duration::from_secs(3 * 3600)).unwrap() else {
            panic!()
        };
        assert_eq!(
            w.window,
            (ts("2026-03-01T09:00:30Z"), ts("2026-03-01T10:00:30Z"))
        );
        assert_eq!(w.continuation, Some(Continuation::Number(1)));
        let (cursor, more) = after_page(&s, &w, Some(Continuation::Number(2)), false, None, now);
        assert!(more, "more windows before now - settle_lag");
        let cursor = cursor.unwrap();
        assert_eq!(cursor, json!({"position": "2026-03-01T10:00:30Z"}));
        let Step::Walk(w2) = step(&s, Some(&cursor), now, Duration::ZERO).unwrap() else {
            panic!()
        };
        assert_eq!(
            w2.window,
            (ts("2026-03-01T09:55:30Z"), ts("2026-03-01T11:00:30Z"))
        );
        let caught = json!({"position": "2026-03-01T11:59:30Z"});
        assert_eq!(
            step(&s, Some(&caught), now, Duration::ZERO).unwrap(),
            Step::Idle
        );
    }

    #[test]
    fn mid_window_cursor_resumes_the_same_window() {
        let s = stream(
            r#"{ type = "max_timestamp", overlap = "5m" }"#,
            r#"{ type = "link_header" }"#,
        );
        let now = ts("2026-03-01T12:00:00Z");
        let Step::Walk(w) = step(&s, None, now, Duration::from_secs(3600)).unwrap() else {
            panic!()
        };
        let newest = Some(ts("2026-03-01T11:30:00Z"));
        let (c, more) = after_page(
            &s,
            &w,
            Some(Continuation::Url("https://x/a?after=1".into())),
            true,
            newest,
            now,
        );
        assert!(more);
        let c = c.unwrap();
        let Step::Walk(again) = step(&s, Some(&c), now, Duration::from_secs(3600)).unwrap() else {
            panic!()
        };
        assert_eq!(again.window, w.window);
        assert!(again.later);
        assert_eq!(
            again.continuation,
            Some(Continuation::Url("https://x/a?after=1".into()))
        );
        let (done, more) = after_page(&s, &again, None, false, None, now);
        assert!(!more);
        assert_eq!(done.unwrap(), json!({"position": "2026-03-01T11:30:00Z"}));
    }

    #[test]
    fn last_token_keeps_the_previous_token_when_none_comes_back() {
        let s = stream(r#"{ type = "last_token" }"#, r#"{ type = "link_header" }"#);
        let now = ts("2026-03-01T12:00:00Z");
        let Step::Walk(w) =
            step(&s, Some(&json!("https://x/next")), now, DEFAULT_LOOKBACK).unwrap()
        else {
            panic!()
        };
        assert!(w.later);
        let (c, _) = after_page(&s, &w, None, false, None, now);
        assert_eq!(c, Some(json!("https://x/next")));
        assert!(step(&s, Some(&json!({"x": 1})), now, DEFAULT_LOOKBACK).is_err());
    }
}
