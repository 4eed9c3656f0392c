//! The runner's fan-out rules against two in-memory outputs: a page commits only once both
//! accepted it, with both positions; a refusal holds the cursor, takes the page back from the
//! output that had accepted it (`Sink::recover` with its committed position) and reports the
//! refusal there.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use siemtap_core::runner::{RunOptions, Runner};
use siemtap_core::shape::{RunSummary, Shaper};
use siemtap_core::{
    Batch, BoxFuture, Delivery, Failure, FetchContext, Opened, Page, Record, Sink, SinkError,
    Source, StateStore, Stream, StreamState, VendorEvent,
};

struct Lines;

impl Shaper for Lines {
    fn vendor_event(&self, event: VendorEvent, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("event {}", event.id.unwrap_or_default()).as_bytes());
    }
    fn error_event(&self, failure: &Failure, _now: jiff::Timestamp, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("error {}", failure.message).as_bytes());
    }
    fn run_summary(&self, _summary: &RunSummary, out: &mut Vec<u8>) {
        out.extend_from_slice(b"summary");
    }
}

/// Three pages of two events, cursors `p1`..`p3`.
struct Pages;

impl Stream for Pages {
    fn name(&self) -> &'static str {
        "s"
    }
    fn ledger_window(&self) -> Duration {
        Duration::from_secs(60)
    }
    fn next_page<'a>(
        &'a mut self,
        state: &'a StreamState,
        _ctx: FetchContext,
    ) -> BoxFuture<'a, Result<Page, Failure>> {
        let n = match state.cursor.as_ref().and_then(|c| c.as_str()) {
            None => 1,
            Some(c) => c[1..].parse::<u32>().unwrap() + 1,
        };
        Box::pin(async move {
            let event = |i: u32| VendorEvent {
                event_type: Cow::Borrowed("e"),
                id: Some(format!("{n}.{i}")),
                time: None,
                record: Record::Object(Default::default()),
            };
            Ok(Page {
                events: vec![event(1), event(2)],
                cursor: Some(json!(format!("p{n}"))),
                more: n < 3,
                ..Page::default()
            })
        })
    }
}

struct OneStream;

impl Source for OneStream {
    fn label(&self) -> &str {
        "test"
    }
    fn state_prefix(&self) -> &str {
        ""
    }
    fn shaper(&self) -> &dyn Shaper {
        &Lines
    }
    fn selected_streams(&self) -> Vec<&'static str> {
        vec!["s"]
    }
    fn check_position(&self, _stream: &str, _state: &StreamState) -> Result<(), String> {
        Ok(())
    }
    fn open(&mut self, _ctx: FetchContext) -> BoxFuture<'_, Result<Opened, Failure>> {
        Box::pin(async {
            Ok(Opened {
                streams: vec![Box::new(Pages)],
            })
        })
    }
}

/// An output keeping its bytes, with its length as position; refuses batch number
/// `refuse_at` (1-based) when set.
struct Memory {
    id: &'static str,
    bytes: Arc<Mutex<Vec<u8>>>,
    sends: usize,
    refuse_at: Option<usize>,
    recovered: Arc<Mutex<Vec<Option<u64>>>>,
}

impl Memory {
    fn new(id: &'static str, refuse_at: Option<usize>) -> Self {
        Self {
            id,
            bytes: Arc::default(),
            sends: 0,
            refuse_at,
            recovered: Arc::default(),
        }
    }
}

impl Sink for Memory {
    fn output_id(&self) -> Option<&str> {
        Some(self.id)
    }
    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        self.sends += 1;
        let refuse = self.refuse_at == Some(self.sends);
        Box::pin(async move {
            if refuse {
                return Err(SinkError {
                    sink: self.id.into(),
                    message: "down".into(),
                });
            }
            let mut bytes = self.bytes.lock().unwrap();
            bytes.extend_from_slice(batch.bytes());
            Ok(Delivery {
                position: Some(bytes.len() as u64),
            })
        })
    }
    fn recover(&mut self, committed: Option<u64>) -> BoxFuture<'_, Result<Option<u64>, SinkError>> {
        self.recovered.lock().unwrap().push(committed);
        let mut bytes = self.bytes.lock().unwrap();
        if let Some(c) = committed {
            bytes.truncate(c as usize);
        }
        let now = bytes.len() as u64;
        Box::pin(async move { Ok(Some(now)) })
    }
}

fn text(bytes: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8(bytes.lock().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn every_page_commits_once_both_outputs_took_it_with_both_positions() {
    let (mut a, mut b) = (Memory::new("a", None), Memory::new("b", None));
    let mut store = StateStore::ephemeral();
    let mut runner = Runner::fan_out(
        vec![(&mut a as &mut dyn Sink, Some(0)), (&mut b, Some(0))],
        RunOptions::default(),
    );
    let report = runner
        .run_source(&mut store, &mut OneStream, None)
        .await
        .unwrap();
    assert_eq!(report.delivered(), 6);
    let all = "event 1.1\nevent 1.2\nevent 2.1\nevent 2.2\nevent 3.1\nevent 3.2\nsummary\n";
    assert_eq!(text(&a.bytes), all);
    assert_eq!(text(&b.bytes), all);
    assert_eq!(store.position("s").cursor, Some(json!("p3")));
    assert_eq!(store.output_length("a"), Some(all.len() as u64));
    assert_eq!(store.output_length("b"), Some(all.len() as u64));
}

#[tokio::test]
async fn a_refusal_holds_the_cursor_takes_the_page_back_and_is_reported_on_the_other() {
    // `b` refuses its second batch: page 2.
    let (mut a, mut b) = (Memory::new("a", None), Memory::new("b", Some(2)));
    let recovered = a.recovered.clone();
    let mut store = StateStore::ephemeral();
    let mut runner = Runner::fan_out(
        vec![(&mut a as &mut dyn Sink, Some(0)), (&mut b, Some(0))],
        RunOptions::default(),
    );
    let err = runner
        .run_source(&mut store, &mut OneStream, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("b: down"), "{err}");
    drop(runner);
    let page1 = "event 1.1\nevent 1.2\n";
    assert_eq!(
        *recovered.lock().unwrap(),
        [Some(page1.len() as u64)],
        "back to what page 1 committed"
    );
    let a_text = text(&a.bytes);
    let (kept, report) = a_text.split_at(page1.len());
    assert_eq!(kept, page1, "page 2 was taken back from a");
    assert!(
        report.starts_with("error output b refused events") && report.ends_with('\n'),
        "{a_text}"
    );
    assert_eq!(text(&b.bytes), page1, "b never got page 2 or the report");
    assert_eq!(store.position("s").cursor, Some(json!("p1")), "cursor held");
    assert_eq!(store.output_length("a"), Some(a_text.len() as u64));
    assert_eq!(store.output_length("b"), Some(page1.len() as u64));
}
