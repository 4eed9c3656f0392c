//! The line-size guard for stdout: under Wazuh's command wodle each stdout line becomes the
//! datagram `1:command_<tag>:<line>`, which analysisd silently cuts at 65,535 bytes
//! (spec/wazuh.md §2.3, §3.4; vendors.md §1.4: siemtap MUST never emit a longer line).
//!
//! [`LineSizeGuard`] passes every line of at most [`STDOUT_LINE_BUDGET`] bytes through
//! **byte for byte** (the 1Password output is a contract), and only a longer line goes
//! through [`WazuhPrep`] without value shaping: the event is re-encoded compactly and, if that
//! is still too long, shrunk by [`crate::wazuh::size::shrink_to_fit`] and marked
//! (`<ns>.truncated`, `original_size`, `original_sha256`, `truncated_fields`), followed by an
//! `event_truncated` health event on the next line. A line that is not JSON is replaced by an
//! `unparsable_event` health event. Nothing is dropped silently.

use siemtap_core::{Batch, BoxFuture, Delivery, Sink, SinkError};

use crate::wazuh::line::{WazuhPrep, WazuhStats};
use crate::wazuh::size::MAX_DATAGRAM_BYTES;

/// Longest wodle `<tag>` the default budget allows for (bytes).
pub const MAX_WODLE_TAG_BYTES: usize = 64;

/// The stdout line budget (without the newline): 65,535 minus `1:command_` and `:` and a tag
/// of up to [`MAX_WODLE_TAG_BYTES`] bytes = 65,460.
pub const STDOUT_LINE_BUDGET: usize =
    MAX_DATAGRAM_BYTES - "1:command_".len() - ":".len() - MAX_WODLE_TAG_BYTES;

/// Holds every line of a sink to a byte budget; lines within it are untouched.
pub struct LineSizeGuard<S> {
    inner: S,
    prep: WazuhPrep,
    max_bytes: usize,
    batch: Batch,
}

impl<S: Sink> LineSizeGuard<S> {
    /// Guards `inner` with [`STDOUT_LINE_BUDGET`]; health events on.
    pub fn new(inner: S) -> Self {
        Self::with_budget(inner, STDOUT_LINE_BUDGET, true)
    }

    /// Guards `inner` with `max_bytes` per line (at least a few kilobytes);
    /// `health_events` adds an `event_truncated` event after each shrunk line.
    pub fn with_budget(inner: S, max_bytes: usize, health_events: bool) -> Self {
        Self {
            inner,
            prep: WazuhPrep::new(false, health_events),
            max_bytes,
            batch: Batch::new(),
        }
    }

    /// Counters of the lines that were over the budget.
    pub fn stats(&self) -> &WazuhStats {
        self.prep.stats()
    }
}

impl<S: Sink> Sink for LineSizeGuard<S> {
    fn output_id(&self) -> Option<&str> {
        self.inner.output_id()
    }

    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        if batch.lines().all(|l| l.len() <= self.max_bytes) {
            // The common case: the batch goes out exactly as given.
            return self.inner.send(batch);
        }
        self.batch.clear();
        for line in batch.lines() {
            if line.len() <= self.max_bytes {
                self.batch.push_with(|out| out.extend_from_slice(line));
                continue;
            }
            self.prep
                .prepare(line, self.max_bytes)
                .push_into(&mut self.batch);
        }
        Box::pin(async move { self.inner.send(&self.batch).await })
    }

    crate::wazuh::forward_to_inner!();
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::Value;

    use super::*;

    /// Records what reaches the inner sink.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Sink for Capture {
        fn output_id(&self) -> Option<&str> {
            None
        }
        fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
            self.0.lock().unwrap().extend_from_slice(batch.bytes());
            Box::pin(async { Ok(Delivery::default()) })
        }
    }

    fn batch(lines: &[&str]) -> Batch {
        let mut b = Batch::new();
        for l in lines {
            b.push_with(|o| o.extend_from_slice(l.as_bytes()));
        }
        b
    }

    fn send(guard: &mut LineSizeGuard<Capture>, b: &Batch) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(guard.send(b)).unwrap();
    }

    #[test]
    fn budget_leaves_room_for_the_wodle_prefix() {
        let tag = "t".repeat(MAX_WODLE_TAG_BYTES);
        let prefix = format!("1:command_{tag}:");
        assert_eq!(prefix.len() + STDOUT_LINE_BUDGET, MAX_DATAGRAM_BYTES);
    }

    #[test]
    fn lines_within_the_budget_are_byte_identical() {
        let cap = Capture::default();
        let mut g = LineSizeGuard::new(cap.clone());
        // Python-style separators, a null and a float: the guard changes none of it.
        let line = r#"{"integration": "1password", "op": {"uuid": "U1", "latitude": 43.64, "details": null, "event_type": "item_usage"}}"#;
        let shell = r#"{"integration": "1password", "op": {"note": ""}}"#;
        let big = format!(
            r#"{{"integration": "1password", "op": {{"note": "{}"}}}}"#,
            "x".repeat(STDOUT_LINE_BUDGET - shell.len())
        );
        assert_eq!(big.len(), STDOUT_LINE_BUDGET);
        let b = batch(&[line, &big]);
        send(&mut g, &b);
        assert_eq!(&*cap.0.lock().unwrap(), b.bytes());
        assert_eq!(g.stats().truncated, 0);
    }

    #[test]
    fn an_oversize_line_is_shrunk_marked_and_reported() {
        let cap = Capture::default();
        let mut g = LineSizeGuard::new(cap.clone());
        let small = r#"{"integration": "x", "x": {"event_type": "a"}}"#;
        let huge = format!(
            r#"{{"integration": "x", "x": {{"event_type": "alert", "blob": "{}"}}}}"#,
            "a".repeat(200_000)
        );
        send(&mut g, &batch(&[small, &huge, small]));
        let out = cap.0.lock().unwrap().clone();
        let lines: Vec<&[u8]> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 4, "small, shrunk, health, small");
        assert_eq!(lines[0], small.as_bytes());
        assert_eq!(lines[3], small.as_bytes());
        assert!(lines.iter().all(|l| l.len() <= STDOUT_LINE_BUDGET));
        let shrunk: Value = serde_json::from_slice(lines[1]).unwrap();
        assert_eq!(shrunk["x"]["truncated"], true);
        assert_eq!(shrunk["x"]["original_size"], huge.len().to_string());
        let health: Value = serde_json::from_slice(lines[2]).unwrap();
        assert_eq!(health["siemtap"]["check"], "event_truncated");
        assert_eq!(g.stats().truncated, 1);
    }

    #[test]
    fn an_oversize_line_that_is_not_json_is_replaced() {
        let cap = Capture::default();
        let mut g = LineSizeGuard::with_budget(cap.clone(), 4096, false);
        let junk = "z".repeat(10_000);
        send(&mut g, &batch(&[&junk]));
        let out = cap.0.lock().unwrap().clone();
        let v: Value = serde_json::from_slice(out.trim_ascii_end()).unwrap();
        assert_eq!(v["siemtap"]["check"], "unparsable_event");
        assert!(out.len() <= 4097);
    }

    #[tokio::test]
    async fn the_guard_passes_recovery_to_the_sink_it_wraps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        std::fs::write(&path, "{\"a\":1}\n{\"torn\":").unwrap();
        let mut guard = LineSizeGuard::new(crate::FileSink::open_unrecovered(&path).unwrap());
        assert!(
            guard
                .output_id()
                .is_some_and(|id| id.ends_with("events.json"))
        );
        assert_eq!(guard.recover(Some(8)).await.unwrap(), Some(8));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
        assert_eq!(guard.health().await, siemtap_core::Health::Up);
    }
}
