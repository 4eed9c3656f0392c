//! The outputs of a run: opened from their specs, recovered against the committed positions
//! state holds for them, and handed to a [`Runner`] together.

use super::{RunOptions, Runner};
use crate::{OutputSpec, Sink, SinkContext, SinkError, StateError, StateStore};

/// Recovery failed: an output could not go back to its committed position, or its start could
/// not be recorded in state.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// The sink's recovery failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The output's start position could not be written to state.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The opened outputs of a run, in the order given.
pub struct Outputs {
    sinks: Vec<Box<dyn Sink>>,
    committed: Vec<Option<u64>>,
}

impl Outputs {
    /// Opens every spec. Returns the outputs that opened and the errors of those that did not
    /// (the caller reports those on the others, then ends the run).
    pub fn open(specs: &[Box<dyn OutputSpec>], ctx: &SinkContext<'_>) -> (Self, Vec<SinkError>) {
        let mut sinks = Vec::with_capacity(specs.len());
        let mut failed = Vec::new();
        for spec in specs {
            match spec.open(ctx) {
                Ok(sink) => sinks.push(sink),
                Err(e) => failed.push(e),
            }
        }
        let committed = vec![None; sinks.len()];
        (Self { sinks, committed }, failed)
    }

    /// Whether no output is open.
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Recovers each output against the largest position any of `stores` committed for it
    /// (the position belongs to the output, not to a stream), then records the position it is
    /// at in every store that has none for it yet. Without that record, a run killed before
    /// its first commit on a new state file would leave its first page in the output with
    /// nothing to cut it back to, and the next run would deliver that page again.
    pub async fn recover(&mut self, stores: &mut [&mut StateStore]) -> Result<(), RecoverError> {
        for (sink, committed) in self.sinks.iter_mut().zip(&mut self.committed) {
            let Some(id) = sink.output_id().map(str::to_owned) else {
                continue;
            };
            let stored = stores.iter().filter_map(|s| s.output_length(&id)).max();
            let now = sink.recover(stored).await?;
            *committed = now.or(stored);
            if let Some(start) = now {
                for store in stores.iter_mut().filter(|s| s.output_length(&id).is_none()) {
                    store.record_output(&id, start)?;
                }
            }
        }
        Ok(())
    }

    /// A runner over every output.
    pub fn runner(&mut self, options: RunOptions) -> Runner<'_> {
        let outputs = self
            .sinks
            .iter_mut()
            .zip(&self.committed)
            .map(|(sink, committed)| (sink.as_mut() as &mut dyn Sink, *committed))
            .collect();
        Runner::fan_out(outputs, options)
    }

    /// Closes every output; returns the errors (the events were already accepted).
    pub async fn close(&mut self) -> Vec<SinkError> {
        let mut errors = Vec::new();
        for sink in &mut self.sinks {
            if let Err(e) = sink.close().await {
                errors.push(e);
            }
        }
        errors
    }
}
