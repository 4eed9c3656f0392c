//! The `people` stream (spec §3.3): the VAP and top-clickers reports on their own cadence
//! (`PP_PEOPLE_INTERVAL`), one page per request, checkpointed per page.
//!
//! The cursor (state key `people_cursor`) is
//! `{"last_fetch":"<ISO>","pending":{"report":"vap","page":2,"started":"<ISO>","interval":"<report interval>"}}`:
//! `last_fetch` is when the last complete fetch started (the reference's `people_last_fetch`
//! format, e.g. `2026-03-22T10:00:00.123456+00:00`); `pending` is present only while a fetch
//! is part-way, so a stopped run resumes at the next page instead of waiting a day.
//!
//! Proofpoint regenerates the reports (a new `interval`, new rankings). Page N of the new
//! report is not the continuation of page N−1 of the old one, so a resumed fetch that finds
//! the report's `interval` changed since the pages it already delivered starts that report
//! again at page 1: every user of the new report is delivered, none skipped by the re-ranking.
//! The pending fetch also keeps its page `size`, so changing `PP_PEOPLE_PAGE_SIZE` while a
//! report is part-way cannot shift page boundaries under it.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use siemtap_core::{BoxFuture, ErrorCode, Failure, FetchContext, Page, Stream, StreamState};

use super::api::{PEOPLE_REPORTS, PeoplePage, parse_people};
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
    /// A fetch in progress.
    pub pending: Option<Pending>,
}

/// A People fetch part-way through its reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// Index into [`PEOPLE_REPORTS`] of the report being paged.
    pub report: usize,
    /// The next page to fetch (1-based).
    pub page: u32,
    /// When the whole fetch started (becomes `last_fetch` when it completes).
    pub started: Timestamp,
    /// The report `interval` of the pages already delivered (`None` before page 1 or when
    /// the server does not send one).
    pub interval: Option<String>,
    /// The page size of the pages already delivered (`None` before page 2); the rest of the
    /// report is paged with it even if the setting changed.
    pub size: Option<u32>,
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
            let interval = match p.get("interval") {
                None | Some(Value::Null) => None,
                Some(Value::String(i)) => Some(i.clone()),
                Some(_) => return Err("pending.interval is not a string".into()),
            };
            let size = match p.get("size") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .filter(|n| *n >= 1)
                        .ok_or("pending.size is not a page size")?,
                ),
            };
            out.pending = Some(Pending {
                report: index,
                page,
                started,
                interval,
                size,
            });
        }
        Ok(out)
    }

    /// The state value.
    pub fn to_value(&self) -> Value {
        let mut map = serde_json::Map::new();
        if let Some(t) = self.last_fetch {
            map.insert("last_fetch".into(), reference_time(t).into());
        }
        if let Some(p) = &self.pending {
            let mut pending = json!({"report": PEOPLE_REPORTS[p.report].0, "page": p.page, "started": reference_time(p.started)});
            if let Some(i) = &p.interval {
                pending["interval"] = Value::String(i.clone());
            }
            if let Some(size) = p.size {
                pending["size"] = size.into();
            }
            map.insert("pending".into(), pending);
        }
        Value::Object(map)
    }
}

impl PeopleStream {
    /// The stream of `api`; `interval` is the People cadence.
    pub fn new(api: Arc<Api>, interval: Duration) -> Self {
        Self { api, interval }
    }

    /// One page of report `index`.
    async fn fetch_page(
        &self,
        index: usize,
        page_no: u32,
        size: u32,
        ctx: FetchContext,
    ) -> Result<PeoplePage, Failure> {
        let (event_type, path, total_key) = PEOPLE_REPORTS[index];
        let settings = &self.api.settings;
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
        parse_people(
            body.as_deref(),
            event_type,
            total_key,
            settings.people_window,
        )
        .map_err(|what| failures::invalid_response("people", path, &context, &what))
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
        let mut at = match cursor.pending {
            Some(p) => p,
            None => {
                if let Some(last) = cursor.last_fetch
                    && Duration::try_from(now.duration_since(last)).is_ok_and(|d| d < self.interval)
                {
                    tracing::debug!(last_fetch = %last, "People reports not due yet");
                    return Ok(Page::default());
                }
                Pending {
                    report: 0,
                    page: 1,
                    started: now,
                    interval: None,
                    size: None,
                }
            }
        };
        let event_type = PEOPLE_REPORTS[at.report].0;
        let page = loop {
            let size = at.size.unwrap_or(self.api.settings.people_page_size);
            let page = self.fetch_page(at.report, at.page, size, ctx).await?;
            match (&at.interval, &page.interval) {
                (Some(before), Some(now)) if at.page > 1 && before != now => {
                    tracing::info!(
                        report = event_type,
                        page = at.page,
                        old_interval = %before,
                        new_interval = %now,
                        "People report regenerated part-way through a fetch; fetching it again from page 1"
                    );
                    at.page = 1;
                    at.interval = None;
                    at.size = None;
                }
                _ => break page,
            }
        };
        let size = at.size.unwrap_or(self.api.settings.people_page_size);
        let more_pages = page.users > 0
            && at.page < MAX_PAGES
            && match page.total {
                Some(total) => u64::from(at.page) * u64::from(size) < total,
                None => page.users >= size as usize,
            };
        let next = if more_pages {
            PeopleCursor {
                last_fetch: cursor.last_fetch,
                pending: Some(Pending {
                    page: at.page + 1,
                    interval: page.interval.clone(),
                    size: Some(size),
                    ..at.clone()
                }),
            }
        } else if at.report + 1 < PEOPLE_REPORTS.len() {
            PeopleCursor {
                last_fetch: cursor.last_fetch,
                pending: Some(Pending {
                    report: at.report + 1,
                    page: 1,
                    started: at.started,
                    interval: None,
                    size: None,
                }),
            }
        } else {
            PeopleCursor {
                last_fetch: Some(at.started),
                pending: None,
            }
        };
        tracing::debug!(
            report = event_type,
            page = at.page,
            users = page.users,
            "People page read"
        );
        Ok(Page {
            events: page.events,
            more: next.pending.is_some(),
            cursor: Some(next.to_value()),
            notices: Vec::new(),
            tuning: None,
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
            pending: Some(Pending {
                report: 1,
                page: 3,
                started: t,
                interval: Some("2026-03-08T10:00:00Z/2026-03-22T10:00:00Z".into()),
                size: Some(20),
            }),
        };
        let v = c.to_value();
        assert_eq!(
            v.to_string(),
            r#"{"last_fetch":"2026-03-22T10:00:00.123456+00:00","pending":{"report":"top_clickers","page":3,"started":"2026-03-22T10:00:00.123456+00:00","interval":"2026-03-08T10:00:00Z/2026-03-22T10:00:00Z","size":20}}"#
        );
        assert_eq!(PeopleCursor::from_value(Some(&v)).unwrap(), c);
        // State written before the interval was recorded still reads.
        let old =
            json!({"pending": {"report": "vap", "page": 2, "started": "2026-03-22T10:00:00Z"}});
        assert_eq!(
            PeopleCursor::from_value(Some(&old))
                .unwrap()
                .pending
                .unwrap()
                .interval,
            None
        );
        assert_eq!(
            PeopleCursor::from_value(None).unwrap(),
            PeopleCursor::default()
        );
        for bad in [
            json!("2026-03-22T10:00:00Z"),
            json!({"last_fetch": "yesterday"}),
            json!({"pending": {"report": "vip", "page": 1, "started": "2026-03-22T10:00:00Z"}}),
            json!({"pending": {"report": "vap", "page": 0, "started": "2026-03-22T10:00:00Z"}}),
            json!({"pending": {"report": "vap", "page": 2, "started": "2026-03-22T10:00:00Z", "interval": 7}}),
            json!({"pending": {"report": "vap", "page": 2, "started": "2026-03-22T10:00:00Z", "size": 0}}),
        ] {
            assert!(PeopleCursor::from_value(Some(&bad)).is_err(), "{bad}");
        }
    }
}
