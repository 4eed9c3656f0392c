//! Shaping: turning vendor records, failures and run summaries into output lines. Every rule
//! here is a documented step (docs/events.md): nulls dropped, discriminator placement and
//! collisions, the tenant field, separators and ASCII escaping.

mod envelope;
pub mod json;
mod transcode;

pub use envelope::{DiscriminatorPosition, Envelope, drop_nulls};
pub use json::JsonStyle;

use crate::{Failure, VendorEvent};

/// How a stream ended in a run, for the run summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamOutcome {
    /// Stream name (`signin`).
    pub name: &'static str,
    /// Whether the stream was attempted.
    pub ran: bool,
    /// Whether it finished without a failure (meaningful only when `ran`).
    pub success: bool,
    /// Records delivered in this run.
    pub delivered: u64,
    /// Records suppressed as already delivered.
    pub duplicates: u64,
    /// Whether the run budget stopped it before it was drained.
    pub budget_stopped: bool,
}

/// The end-of-run report of one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    /// When the run ended.
    pub timestamp: jiff::Timestamp,
    /// Every selected stream, in run order.
    pub streams: Vec<StreamOutcome>,
}

/// Connector-specific output shapes. Implemented once per connector; the runner calls it.
pub trait Shaper: Send + Sync {
    /// Writes one vendor record as an output line (no newline).
    fn vendor_event(&self, event: VendorEvent, out: &mut Vec<u8>);
    /// Writes one error event.
    fn error_event(&self, failure: &Failure, now: jiff::Timestamp, out: &mut Vec<u8>);
    /// Writes the run summary.
    fn run_summary(&self, summary: &RunSummary, out: &mut Vec<u8>);
}

/// `%Y-%m-%dT%H:%M:%SZ` in UTC: the timestamp format of error events and summaries.
pub fn utc_seconds(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
