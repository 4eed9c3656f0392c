//! The runner: pages from streams to the sink, one page at a time, with the cursor committed
//! only after the sink accepted the page. Streams are isolated: a failure becomes one error
//! event and the next stream runs. Each source ends with a run summary.

mod budget;
mod fan_out;
mod outputs;
mod positions;
mod stream_run;

pub use budget::{StopSignal, expired, fair_share};
pub use fan_out::output_failure;
pub use outputs::{Outputs, RecoverError};
pub use positions::check_positions;

use jiff::Timestamp;
use tokio::time::Instant;

use crate::shape::{RunSummary, Shaper, StreamOutcome};
use crate::{Batch, ErrorCode, Failure, FetchContext, Sink, SinkError, Source, StateStore};

/// Default cap on ledger entries per stream (bounds state size and memory).
pub const DEFAULT_LEDGER_MAX_ENTRIES: usize = 50_000;

/// Knobs of one run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Stop starting new pages at this instant (`--max-runtime` minus a reserve).
    pub deadline: Option<Instant>,
    /// Stop at the next page boundary when fired (SIGTERM).
    pub stop: StopSignal,
    /// Cap on ledger entries per stream.
    pub ledger_max_entries: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            deadline: None,
            stop: StopSignal::new(),
            ledger_max_entries: DEFAULT_LEDGER_MAX_ENTRIES,
        }
    }
}

/// The sink refused a batch: the run stops, nothing after the last commit counts as delivered.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The sink failed.
    #[error("delivery failed, cursor not advanced: {0}")]
    Sink(#[from] SinkError),
}

/// What one source's run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// Each selected stream.
    pub streams: Vec<StreamOutcome>,
    /// Error events emitted.
    pub failures: u64,
}

impl SourceReport {
    /// Records delivered across streams.
    pub fn delivered(&self) -> u64 {
        self.streams.iter().map(|s| s.delivered).sum()
    }
}

/// Drives sources into their outputs (one or several: fan-out, see [`Outputs`]).
pub struct Runner<'s> {
    outputs: Vec<fan_out::Output<'s>>,
    options: RunOptions,
    batch: Batch,
}

impl<'s> Runner<'s> {
    /// A runner delivering into one `sink`.
    pub fn new(sink: &'s mut dyn Sink, options: RunOptions) -> Self {
        Self::fan_out(vec![(sink, None)], options)
    }

    /// A runner delivering every batch into each of `outputs`, each with the position state
    /// holds for it (what [`Sink::recover`] returned), in order.
    pub fn fan_out(outputs: Vec<(&'s mut dyn Sink, Option<u64>)>, options: RunOptions) -> Self {
        Self {
            outputs: outputs
                .into_iter()
                .map(|(sink, committed)| fan_out::Output { sink, committed })
                .collect(),
            options,
            batch: Batch::new(),
        }
    }

    /// The options of this run.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// Runs every selected stream of `source` against `store`, then emits its summary.
    /// `deadline` is this source's share of the run budget.
    pub async fn run_source(
        &mut self,
        store: &mut StateStore,
        source: &mut dyn Source,
        deadline: Option<Instant>,
    ) -> Result<SourceReport, RunError> {
        let selected = source.selected_streams();
        let mut report = SourceReport {
            streams: selected
                .iter()
                .map(|name| StreamOutcome {
                    name,
                    ran: false,
                    success: false,
                    delivered: 0,
                    duplicates: 0,
                    budget_stopped: false,
                })
                .collect(),
            failures: 0,
        };
        let opened = if self.stopping(deadline) {
            None
        } else {
            let ctx = FetchContext {
                deadline: self.options.deadline,
            };
            match source.open(ctx).await {
                Ok(opened) => Some(opened),
                Err(failure) if expired(self.options.deadline) => {
                    tracing::info!(
                        source = source.label(),
                        "run budget reached while opening ({})",
                        describe(&failure)
                    );
                    None
                }
                Err(failure) => {
                    tracing::warn!(source = source.label(), "{}", describe(&failure));
                    for outcome in &mut report.streams {
                        outcome.ran = true;
                    }
                    self.emit_failure(store, source.shaper(), &failure).await?;
                    report.failures += 1;
                    None
                }
            }
        };
        if let Some(opened) = opened {
            let total = opened.streams.len();
            for (i, stream) in opened.streams.into_iter().enumerate() {
                let share = fair_share(deadline, total - i);
                let ran = stream_run::run_stream(self, store, source, stream, share).await?;
                report.failures += ran.failures;
                if let Some(slot) = report
                    .streams
                    .iter_mut()
                    .find(|s| s.name == ran.outcome.name)
                {
                    *slot = ran.outcome;
                }
                if ran.state_unwritable {
                    break;
                }
            }
        }
        let summary = RunSummary {
            timestamp: Timestamp::now(),
            streams: report.streams.clone(),
        };
        self.batch.clear();
        self.batch
            .push_with(|out| source.shaper().run_summary(&summary, out));
        self.deliver_outside_stream(store, source.shaper()).await?;
        // Poll times of pages that changed nothing else are written once, here.
        if let Err(e) = store.flush() {
            tracing::warn!("could not record the poll times in state: {e}");
        }
        Ok(report)
    }

    /// Emits one error event for a failure outside any page (startup, credentials, state).
    /// The output length is recorded when the store can be written.
    pub async fn emit_failure(
        &mut self,
        store: &mut StateStore,
        shaper: &dyn Shaper,
        failure: &Failure,
    ) -> Result<(), RunError> {
        self.batch.clear();
        self.batch
            .push_with(|out| shaper.error_event(failure, Timestamp::now(), out));
        self.deliver_outside_stream(store, shaper).await
    }

    /// Emits an error event with no state at all (the state itself is the problem).
    pub async fn emit_failure_stateless(
        &mut self,
        shaper: &dyn Shaper,
        failure: &Failure,
    ) -> Result<(), RunError> {
        self.batch.clear();
        self.batch
            .push_with(|out| shaper.error_event(failure, Timestamp::now(), out));
        self.send_unrecorded().await
    }

    fn stopping(&self, deadline: Option<Instant>) -> bool {
        self.options.stop.is_fired() || expired(deadline)
    }
}

/// One log line for a failure: `CODE [origin]: message | detail`.
pub fn describe(failure: &Failure) -> String {
    match &failure.detail {
        Some(d) => format!(
            "{} [{}]: {} | {}",
            failure.code, failure.origin, failure.message, d
        ),
        None => format!("{} [{}]: {}", failure.code, failure.origin, failure.message),
    }
}

/// The failure reported when the state file cannot be written.
pub(crate) fn state_write_failure(origin: &str, err: &crate::StateError) -> Failure {
    Failure::new(
        ErrorCode::StateWriteError,
        origin,
        format!(
            "could not save the stream position; events of this page will be fetched again next run: {err}"
        ),
    )
}
