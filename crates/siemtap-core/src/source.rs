use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::shape::Shaper;
use crate::{Failure, Page, StreamState};

/// A boxed, sendable future: the traits below are object-safe so connectors can live in a
/// static registry.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a stream may know about the run while fetching.
#[derive(Clone, Copy, Debug)]
pub struct FetchContext {
    /// When the run budget ends. A fetch must not start retries that would end after it, and
    /// a request must not outlive it.
    pub deadline: Option<tokio::time::Instant>,
}

/// One configured instance of a connector: a tenant with its credentials and options.
pub trait Source: Send {
    /// Human label for logs, e.g. `1password` or `1password/client-a`.
    fn label(&self) -> &str;
    /// Prefix of this source's stream keys in the state file (`""` or `"client-a."`).
    fn state_prefix(&self) -> &str;
    /// Turns records, failures and summaries into output lines.
    fn shaper(&self) -> &dyn Shaper;
    /// The streams selected for this run, in run order (the summary reports each).
    fn selected_streams(&self) -> Vec<&'static str>;
    /// Checks the stored position of the selected stream `stream` (its cursor and tuning as
    /// read from the state file) with the same rules the stream's fetch applies: a value of
    /// the wrong JSON type, or one the stream cannot interpret, is `Err` with a sentence saying
    /// which key and what it should be. The run then stops before anything is requested or
    /// written, exactly as for an unparsable state file
    /// ([`crate::runner::check_positions`]). Never reset a value silently instead.
    fn check_position(&self, stream: &str, state: &StreamState) -> Result<(), String>;
    /// Checks credentials and capabilities (e.g. 1Password introspect) and returns the
    /// streams to run. An error means none of the selected streams can run.
    fn open(&mut self, ctx: FetchContext) -> BoxFuture<'_, Result<Opened, Failure>>;
}

/// The outcome of [`Source::open`].
pub struct Opened {
    /// Streams to run, in order. Selected streams missing here are reported `ran: false`.
    pub streams: Vec<Box<dyn Stream>>,
}

/// An independent feed of a source with its own cursor.
pub trait Stream: Send {
    /// The stream name used by `--source`, the state keys and the summary (`signin`).
    fn name(&self) -> &'static str;
    /// How far behind the high-water mark delivered ids must be remembered to suppress
    /// re-reads (the overlap window plus a margin).
    fn ledger_window(&self) -> Duration;
    /// Fetches the next page after `state` (its cursor, last poll and high-water mark; the
    /// dedupe ledger belongs to the runner and is not passed). The runner commits the returned
    /// cursor only after the sink accepted the page, and may call this for page N+1 while page
    /// N is still being delivered: a stream keeps no state that assumes page N was committed.
    fn next_page<'a>(
        &'a mut self,
        state: &'a StreamState,
        ctx: FetchContext,
    ) -> BoxFuture<'a, Result<Page, Failure>>;
}
