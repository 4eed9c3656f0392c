//! Fan-out: one batch to every output of a run. A page counts as delivered only when every
//! output accepted it; one refusal holds the cursor, the outputs that had accepted the page go
//! back to their committed position (exactly-once outputs drop it again) and every other
//! output gets an error event naming the refusal.

use jiff::Timestamp;

use super::{RunError, Runner};
use crate::shape::Shaper;
use crate::{Delivery, ErrorCode, Failure, Sink, SinkError, StateStore};

/// One output of a runner with the last position this run knows to be committed for it.
pub(super) struct Output<'s> {
    pub sink: &'s mut dyn Sink,
    pub committed: Option<u64>,
}

/// What the outputs reported for a batch they accepted: `(output index, position)` for each
/// output that keeps a position (its id is looked up when the positions are written).
pub(super) type Positions = Vec<(usize, u64)>;

impl Output<'_> {
    /// The position output `i` reported for an accepted batch, if it keeps one.
    fn accepted(&self, i: usize, delivery: &Delivery) -> Option<(usize, u64)> {
        self.sink.output_id()?;
        delivery.position.map(|pos| (i, pos))
    }
}

/// The error event for an output that refused events: what other outputs receive.
pub fn output_failure(err: &SinkError) -> Failure {
    Failure::new(
        ErrorCode::OrchestratorFatal,
        "orchestrator",
        format!(
            "output {} refused events, so no cursor moves until every output accepts them (they are fetched again next run): {}",
            err.sink, err.message
        ),
    )
}

impl Runner<'_> {
    /// Sends the runner's batch to every output in order, stopping at the first refusal
    /// (`Err`: its index and error; the outputs before it accepted the batch).
    pub(super) async fn send_page(&mut self) -> Result<Positions, (usize, SinkError)> {
        let mut positions = Vec::new();
        for (i, out) in self.outputs.iter_mut().enumerate() {
            let delivery = out.sink.send(&self.batch).await.map_err(|e| (i, e))?;
            positions.extend(out.accepted(i, &delivery));
        }
        Ok(positions)
    }

    /// `positions` as the `(output id, position)` pairs the state store writes.
    pub(super) fn position_pairs(&self, positions: &Positions) -> Vec<(&str, u64)> {
        positions
            .iter()
            .filter_map(|&(i, pos)| Some((self.outputs[i].sink.output_id()?, pos)))
            .collect()
    }

    /// Records that `positions` are now committed in state.
    pub(super) fn mark_committed(&mut self, positions: &Positions) {
        for &(i, pos) in positions {
            self.outputs[i].committed = Some(pos);
        }
    }

    /// Output `failed` refused a page the outputs before it had accepted: those go back to
    /// their committed position, then every output but `failed` gets an error event. Returns
    /// the error that ends the run.
    pub(super) async fn page_refused(
        &mut self,
        store: &mut StateStore,
        shaper: &dyn Shaper,
        failed: usize,
        err: SinkError,
    ) -> RunError {
        if self.outputs.len() == 1 {
            return err.into();
        }
        for out in &mut self.outputs[..failed] {
            if let Err(e) = out.sink.recover(out.committed).await {
                tracing::error!("could not take back the refused page from an output: {e}");
            }
        }
        self.report_refusal(store, shaper, failed, &err).await;
        err.into()
    }

    /// Sends the error event for output `failed`'s refusal to every other output and records
    /// their positions; failures here are only logged (the run already ends).
    async fn report_refusal(
        &mut self,
        store: &mut StateStore,
        shaper: &dyn Shaper,
        failed: usize,
        err: &SinkError,
    ) {
        let failure = output_failure(err);
        tracing::error!("{}", super::describe(&failure));
        self.batch.clear();
        self.batch
            .push_with(|out| shaper.error_event(&failure, Timestamp::now(), out));
        let mut positions = Positions::new();
        for (i, out) in self.outputs.iter_mut().enumerate() {
            if i == failed {
                continue;
            }
            match out.sink.send(&self.batch).await {
                Ok(d) => positions.extend(out.accepted(i, &d)),
                Err(e) => tracing::error!("could not report the refusal on {}: {e}", e.sink),
            }
        }
        self.record(store, &positions);
    }

    /// Delivers the batch (error event or run summary, no cursor) to every output; each
    /// output that accepted it has its position recorded. A refusal is reported on the others
    /// and ends the run.
    pub(super) async fn deliver_outside_stream(
        &mut self,
        store: &mut StateStore,
        shaper: &dyn Shaper,
    ) -> Result<(), RunError> {
        let mut positions = Positions::new();
        let mut refused = None;
        for (i, out) in self.outputs.iter_mut().enumerate() {
            match out.sink.send(&self.batch).await {
                Ok(d) => positions.extend(out.accepted(i, &d)),
                Err(e) => {
                    refused = Some((i, e));
                    break;
                }
            }
        }
        self.record(store, &positions);
        match refused {
            None => Ok(()),
            Some((i, e)) => {
                if self.outputs.len() > 1 {
                    self.report_refusal(store, shaper, i, &e).await;
                }
                Err(e.into())
            }
        }
    }

    /// Sends the batch to every output without recording anything (no state to record in, or
    /// the state is what failed). Returns the first refusal after trying them all.
    pub(super) async fn send_unrecorded(&mut self) -> Result<(), RunError> {
        let mut first = None;
        for out in &mut self.outputs {
            if let Err(e) = out.sink.send(&self.batch).await {
                tracing::error!("{e}");
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), |e| Err(e.into()))
    }

    fn record(&mut self, store: &mut StateStore, positions: &Positions) {
        if positions.is_empty() {
            return;
        }
        match store.record_outputs(&self.position_pairs(positions)) {
            Ok(()) => self.mark_committed(positions),
            // The line is out; not recording its position only means a later recovery would
            // cut it. Say so in the log: there is no event channel left to use.
            Err(e) => tracing::error!("could not record output position in state: {e}"),
        }
    }
}
