//! One stream's part of a run: fetch, dedupe, shape, deliver, commit — page by page.

use jiff::Timestamp;
use tokio::time::Instant;

use super::{RunError, Runner, describe, expired, state_write_failure};
use crate::shape::StreamOutcome;
use crate::{FetchContext, Page, Source, StateStore, Stream, StreamState};

/// How one stream's run ended.
pub(super) struct StreamRun {
    pub outcome: StreamOutcome,
    pub failures: u64,
    /// The state file could not be written: the source stops here.
    pub state_unwritable: bool,
}

enum Fetched {
    Page(Page),
    Failed(crate::Failure),
    Stopped,
}

pub(super) async fn run_stream(
    runner: &mut Runner<'_>,
    store: &mut StateStore,
    source: &mut dyn Source,
    stream: &mut dyn Stream,
    deadline: Option<Instant>,
) -> Result<StreamRun, RunError> {
    let name = stream.name();
    let key = format!("{}{}", source.state_prefix(), name);
    let mut run = StreamRun {
        outcome: StreamOutcome {
            name,
            ran: true,
            success: true,
            delivered: 0,
            duplicates: 0,
            budget_stopped: false,
        },
        failures: 0,
        state_unwritable: false,
    };
    let mut state = store.stream(&key);
    let ledger_window = stream.ledger_window();
    loop {
        if runner.options.stop.is_fired() || expired(deadline) {
            run.outcome.budget_stopped = true;
            tracing::info!(stream = %key, "run budget reached; the stream resumes from its checkpoint next run");
            break;
        }
        // The share decides whether a page may start; a started request may use the run's
        // whole remaining budget.
        let ctx = FetchContext {
            deadline: runner.options.deadline,
        };
        let fetched = {
            let stop = runner.options.stop.clone();
            let hard = runner.options.deadline;
            tokio::select! {
                r = stream.next_page(&state, ctx) => match r {
                    Ok(page) => Fetched::Page(page),
                    Err(f) => Fetched::Failed(f),
                },
                () = stop.fired() => Fetched::Stopped,
                () = sleep_until_opt(hard) => Fetched::Stopped,
            }
        };
        let page = match fetched {
            Fetched::Page(page) => page,
            Fetched::Stopped => {
                run.outcome.budget_stopped = true;
                tracing::info!(stream = %key, "stopped during a fetch; nothing of it was committed");
                break;
            }
            Fetched::Failed(failure) if expired(runner.options.deadline) => {
                // The budget cut the request short: not a vendor failure.
                run.outcome.budget_stopped = true;
                tracing::info!(stream = %key, "run budget reached during a request ({}); resuming next run", describe(&failure));
                break;
            }
            Fetched::Failed(failure) => {
                tracing::warn!(stream = %key, source = source.label(), "{}", describe(&failure));
                run.outcome.success = false;
                run.failures += 1;
                runner
                    .emit_failure(store, source.shaper(), &failure)
                    .await?;
                break;
            }
        };
        let more = page.more;
        let next = apply_page(runner, source, &state, page, ledger_window, &mut run);
        let delivery = if runner.batch.is_empty() {
            None
        } else {
            Some(runner.sink.send(&runner.batch).await?)
        };
        let output = delivery
            .and_then(|d| d.committed_length)
            .zip(runner.sink.output_id().map(str::to_owned));
        match store.commit(
            &key,
            next.clone(),
            output.as_ref().map(|(len, id)| (id.as_str(), *len)),
        ) {
            Ok(()) => state = next,
            Err(e) => {
                let failure = state_write_failure(name, &e);
                tracing::error!(stream = %key, "{}", describe(&failure));
                run.outcome.success = false;
                run.failures += 1;
                run.state_unwritable = true;
                runner.batch.clear();
                runner
                    .batch
                    .push_with(|out| source.shaper().error_event(&failure, Timestamp::now(), out));
                runner.sink.send(&runner.batch).await?;
                break;
            }
        }
        if !more {
            break;
        }
    }
    Ok(run)
}

/// Dedupes and shapes a page into the runner's batch; returns the stream state to commit.
fn apply_page(
    runner: &mut Runner<'_>,
    source: &dyn Source,
    state: &StreamState,
    page: Page,
    ledger_window: std::time::Duration,
    run: &mut StreamRun,
) -> StreamState {
    let shaper = source.shaper();
    let now = Timestamp::now();
    let mut next = state.clone();
    runner.batch.clear();
    for notice in &page.notices {
        tracing::warn!(source = source.label(), "{}", describe(notice));
        run.failures += 1;
        runner
            .batch
            .push_with(|out| shaper.error_event(notice, now, out));
    }
    for event in page.events {
        if let Some(id) = &event.id {
            if next.ledger.contains(id) {
                run.outcome.duplicates += 1;
                continue;
            }
            let time = event.time.unwrap_or(now);
            next.ledger.insert(id.clone(), time.as_second());
        }
        if let Some(time) = event.time
            && next.high_water.is_none_or(|hw| time > hw)
        {
            next.high_water = Some(time);
        }
        run.outcome.delivered += 1;
        runner
            .batch
            .push_with(|out| shaper.vendor_event(event, out));
    }
    if page.cursor.is_some() {
        next.cursor = page.cursor;
    }
    next.last_poll = Some(now);
    if let Some(hw) = next.high_water {
        let window = i64::try_from(ledger_window.as_secs()).unwrap_or(i64::MAX);
        next.ledger.prune(
            hw.as_second().saturating_sub(window),
            runner.options.ledger_max_entries,
        );
    }
    next
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
