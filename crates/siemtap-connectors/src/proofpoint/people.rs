//! The `people` stream (spec §3.3): the VAP and top-clickers reports on their own cadence
//! (`PP_PEOPLE_INTERVAL`), one page per request, checkpointed per page.
//!
//! The cursor (state key `people_cursor`) is
//! `{"last_fetch":"<ISO>","pending":{"report":"vap","page":2,"started":"<ISO>"}}`:
//! `last_fetch` is when the last complete fetch started (the reference's `people_last_fetch`
//! format, e.g. `2026-03-22T10:00:00.123456+00:00`); `pending` is present only while a fetch
//! is part-way, so a stopped run resumes at the next page instead of waiting a day.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use siemtap_core::{BoxFuture, ErrorCode, Failure, FetchContext, Page, Stream, StreamState};

use super::api::{PEOPLE_REPORTS, parse_people};
use super::client::Api;
use super::failures;

/// Safety stop for servers that never report a total.
const MAX_PAGES: u32 = 1_000;

/// The People stream of one source.
pub struct PeopleStream {
    api: Arc<Api>,
    interval: Duration,
}

/// The decoded `people_cursor`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeopleCursor {
    /// Start of the last complete fetch.
    pub last_fetch: Option<Timestamp>,
    /// A fetch in progress: report index into [`PEOPLE_REPORTS`], next page, start time.
    pub pending: Option<(usize, u32, Timestamp)>,
}

/// `2026-03-22T10:00:00.123456+00:00`: the reference's `people_last_fetch` format.
pub fn reference_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%6f+00:00").to_string()
}

impl PeopleCursor {
    /// Decodes the state value; `Err` describes what is wrong.
    pub fn from_value(value: Option<&Value>) -> Result<Self, String> {
        let Some(value) = value else {
            return Ok(Self::default());
        };
        let time = |v: &Value, what: &str| -> Result<Timestamp, String> {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{what} is not an ISO-8601 time"))
        };
        let mut out = Self::default();
        if let Some(t) = value.get("last_fetch").filter(|v| !v.is_null()) {
            out.last_fetch = Some(time(t, "last_fetch")?);
        } else if !value.is_object() {
            return Err("it is not an object".into());
        }
        if let Some(p) = value.get("pending").filter(|v| !v.is_null()) {
            let report = p.get("report").and_then(Value::as_str).unwrap_or("");
            let index = PEOPLE_REPORTS
                .iter()
                .position(|(name, _, _)| *name == report)
                .ok_or("pending.report is not vap or top_clickers")?;
            let page = p
                .get("page")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n >= 1)
                .ok_or("pending.page is not a page number")?;
            let started = time(p.get("started").unwrap_or(&Value::Null), "pending.started")?;
            out.pending = Some((index, page, started));
        }
        Ok(out)
    }

    /// The state value.
    pub fn to_value(&self) -> Value {
        let mut map = serde_json::Map::new();
        if let Some(t) = self.last_fetch {
            map.insert("last_fetch".into(), reference_time(t).into());
        }
        if let Some((index, page, started)) = self.pending {
            map.insert(
                "pending".into(),
                json!({"report": PEOPLE_REPORTS[index].0, "page": page, "started": reference_time(started)}),
            );
        }
        Value::Object(map)
    }
}

impl PeopleStream {
    /// The stream of `api`; `interval` is the People cadence.
    pub fn new(api: Arc<Api>, interval: Duration) -> Self {
        Self { api, interval }
    }

    async fn fetch(&mut self, state: &StreamState, ctx: FetchContext) -> Result<Page, Failure> {
        let now = Timestamp::now();
        let cursor = PeopleCursor::from_value(state.cursor.as_ref()).map_err(|what| {
            Failure::new(
                ErrorCode::StateReadError,
                "people",
                format!(
                    "state key people_cursor is unusable ({what}); fix it or reset the stream with `siemtap state reset`"
                ),
            )
        })?;
        let (index, page_no, started) = match cursor.pending {
            Some(p) => p,
            None => {
                if let Some(last) = cursor.last_fetch
                    && Duration::try_from(now.duration_since(last)).is_ok_and(|d| d < self.interval)
                {
                    tracing::debug!(last_fetch = %last, "People reports not due yet");
                    return Ok(Page::default());
                }
                (0, 1, now)
            }
        };
        let (event_type, path, total_key) = PEOPLE_REPORTS[index];
        let settings = &self.api.settings;
        let size = settings.people_page_size;
        let query = [
            ("window", settings.people_window.to_string()),
            ("size", size.to_string()),
            ("page", page_no.to_string()),
        ];
        let context = format!("window={} page={page_no}", settings.people_window);
        let body = self
            .api
            .get(path, &query, ctx.deadline)
            .await
            .map_err(|e| {
                failures::from_http("people", path, &context, self.api.principal_text(), &e)
            })?;
        let page = parse_people(
            body.as_deref(),
            event_type,
            total_key,
            settings.people_window,
        )
        .map_err(|what| failures::invalid_response("people", path, &context, &what))?;
        let more_pages = page.users > 0
            && page_no < MAX_PAGES
            && match page.total {
                Some(total) => u64::from(page_no) * u64::from(size) < total,
                None => page.users >= size as usize,
            };
        let next = if more_pages {
            PeopleCursor {
                last_fetch: cursor.last_fetch,
                pending: Some((index, page_no + 1, started)),
            }
        } else if index + 1 < PEOPLE_REPORTS.len() {
            PeopleCursor {
                last_fetch: cursor.last_fetch,
                pending: Some((index + 1, 1, started)),
            }
        } else {
            PeopleCursor {
                last_fetch: Some(started),
                pending: None,
            }
        };
        tracing::debug!(
            report = event_type,
            page = page_no,
            users = page.users,
            "People page read"
        );
        Ok(Page {
            events: page.events,
            more: next.pending.is_some(),
            cursor: Some(next.to_value()),
            notices: Vec::new(),
        })
    }
}

impl Stream for PeopleStream {
    fn name(&self) -> &'static str {
        "people"
    }

    /// Report ids carry the report interval; remember them for two cadences.
    fn ledger_window(&self) -> Duration {
        self.interval * 2 + Duration::from_secs(86_400)
    }

    fn next_page<'a>(
        &'a mut self,
        state: &'a StreamState,
        ctx: FetchContext,
    ) -> BoxFuture<'a, Result<Page, Failure>> {
        Box::pin(self.fetch(state, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_in_the_reference_format() {
        let t: Timestamp = "2026-03-22T10:00:00.123456Z".parse().unwrap();
        assert_eq!(reference_time(t), "2026-03-22T10:00:00.123456+00:00");
        let c = PeopleCursor {
            last_fetch: Some(t),
            pending: Some((1, 3, t)),
        };
        let v = c.to_value();
        assert_eq!(
            v.to_string(),
            r#"{"last_fetch":"2026-03-22T10:00:00.123456+00:00","pending":{"report":"top_clickers","page":3,"started":"2026-03-22T10:00:00.123456+00:00"}}"#
        );
        assert_eq!(PeopleCursor::from_value(Some(&v)).unwrap(), c);
        assert_eq!(
            PeopleCursor::from_value(None).unwrap(),
            PeopleCursor::default()
        );
        for bad in [
            json!("2026-03-22T10:00:00Z"),
            json!({"last_fetch": "yesterday"}),
            json!({"pending": {"report": "vip", "page": 1, "started": "2026-03-22T10:00:00Z"}}),
            json!({"pending": {"report": "vap", "page": 0, "started": "2026-03-22T10:00:00Z"}}),
        ] {
            assert!(PeopleCursor::from_value(Some(&bad)).is_err(), "{bad}");
        }
    }
}
