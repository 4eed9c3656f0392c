//! A parsed state file, independent of where it came from.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::StreamState;
use crate::format::{self, LedgerView};

/// The contents of a state file: stream positions, committed output lengths, and any keys this
/// version does not know (kept verbatim so a rewrite never loses them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateSnapshot {
    pub(crate) streams: BTreeMap<String, StreamState>,
    pub(crate) outputs: BTreeMap<String, u64>,
    /// Unknown top-level keys, e.g. Proofpoint's `people_last_fetch` written by the reference.
    pub(crate) extra: BTreeMap<String, Value>,
    /// Unknown keys inside the `"siemtap"` object (from newer versions).
    pub(crate) meta_extra: Map<String, Value>,
}

impl StateSnapshot {
    /// A copy of the stream's state (default if absent).
    pub fn stream(&self, key: &str) -> StreamState {
        self.streams.get(key).cloned().unwrap_or_default()
    }

    /// Keys of all streams present, sorted.
    pub fn stream_keys(&self) -> Vec<String> {
        self.streams.keys().cloned().collect()
    }

    /// Committed length of an output file, by output id (the file's path as given).
    pub fn output_length(&self, output_id: &str) -> Option<u64> {
        self.outputs.get(output_id).copied()
    }

    /// All committed output lengths, sorted by output id.
    pub fn outputs(&self) -> impl Iterator<Item = (&str, u64)> {
        self.outputs.iter().map(|(id, len)| (id.as_str(), *len))
    }

    /// A top-level key this version does not interpret (e.g. `people_last_fetch` written by
    /// the reference Proofpoint integration), exactly as read.
    pub fn extra(&self, key: &str) -> Option<&Value> {
        self.extra.get(key)
    }

    /// Whether no stream and no output is recorded.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty() && self.outputs.is_empty()
    }

    /// The file as pretty JSON with sorted keys, for `siemtap state show`. Ledgers are
    /// summarized as `{"entries": N, "oldest": T, "newest": T}` unless `full`.
    pub fn render(&self, full: bool) -> String {
        let view = if full {
            LedgerView::Full
        } else {
            LedgerView::Summary
        };
        serde_json::to_string_pretty(&format::to_json(self, view))
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot render state: {e}\"}}"))
    }

    /// A copy without the given streams (without any stream if `keys` is empty). Output lengths
    /// and unknown keys are kept. Also returns the keys actually removed.
    pub(crate) fn without_streams(&self, keys: &[String]) -> (Self, Vec<String>) {
        let mut next = self.clone();
        let removed = if keys.is_empty() {
            std::mem::take(&mut next.streams).into_keys().collect()
        } else {
            keys.iter()
                .filter(|k| next.streams.remove(k.as_str()).is_some())
                .cloned()
                .collect()
        };
        (next, removed)
    }
}
