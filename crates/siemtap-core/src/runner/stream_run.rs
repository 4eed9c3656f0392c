//! One stream's part of a run: fetch, dedupe, shape, deliver, commit — page by page, with the
//! next page fetched while the current one is delivered and committed.

use std::collections::HashMap;

use jiff::Timestamp;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{RunError, Runner, describe, expired, state_write_failure};
use crate::shape::StreamOutcome;
use crate::{
    ErrorCode, Failure, FetchContext, Page, Source, StateStore, Stream, StreamState, StreamUpdate,
};

/// How one stream's run ended.
pub(super) struct StreamRun {
    pub outcome: StreamOutcome,
    pub failures: u64,
    /// The state file could not be written: the source stops here.
    pub state_unwritable: bool,
}

/// A fetch running in its own task; it owns the stream until it returns it.
type Fetch = JoinHandle<(Box<dyn Stream>, Result<Page, Failure>)>;

/// The position after `page`, known before the page is shaped: what `apply_page` will commit
/// for cursor, last poll and high-water mark.
fn position_after(state: &StreamState, page: &Page) -> StreamState {
    let newest = page.events.iter().filter_map(|e| e.time).max();
    StreamState {
        cursor: page.cursor.clone().or_else(|| state.cursor.clone()),
        tuning: match &page.tuning {
            Some(t) if t.is_null() => None,
            Some(t) => Some(t.clone()),
            None => state.tuning.clone(),
        },
        last_poll: Some(Timestamp::now()),
        high_water: state.high_water.max(newest),
        ledger: Default::default(),
    }
}

fn spawn_fetch(mut stream: Box<dyn Stream>, position: StreamState, ctx: FetchContext) -> Fetch {
    tokio::spawn(async move {
        let result = stream.next_page(&position, ctx).await;
        (stream, result)
    })
}

enum Fetched {
    Page(Box<dyn Stream>, Page),
    Failed(Failure),
    Stopped,
}

async fn wait(fetch: Fetch, runner: &Runner<'_>) -> Fetched {
    let stop = runner.options.stop.clone();
    let hard = runner.options.deadline;
    let abort = fetch.abort_handle();
    let outcome = tokio::select! {
        r = fetch => match r {
            Ok((stream, Ok(page))) => Fetched::Page(stream, page),
            Ok((_, Err(f))) => Fetched::Failed(f),
            Err(e) => Fetched::Failed(
                Failure::new(ErrorCode::ApiUnexpectedError, "orchestrator", format!("the stream's fetch task failed: {e}")),
            ),
        },
        () = stop.fired() => Fetched::Stopped,
        () = sleep_until_opt(hard) => Fetched::Stopped,
    };
    if matches!(outcome, Fetched::Stopped) {
        abort.abort();
    }
    outcome
}

pub(super) async fn run_stream(
    runner: &mut Runner<'_>,
    store: &mut StateStore,
    source: &mut dyn Source,
    stream: Box<dyn Stream>,
    deadline: Option<Instant>,
) -> Result<StreamRun, RunError> {
    let name = stream.name();
    let key = format!("{}{}", source.state_prefix(), name);
    let ledger_window = stream.ledger_window();
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
    // The share decides whether a page may start; a started request may use the run's whole
    // remaining budget.
    let ctx = FetchContext {
        deadline: runner.options.deadline,
    };
    let may_start = |runner: &Runner<'_>| !(runner.options.stop.is_fired() || expired(deadline));
    let mut idle = Some(stream);
    let mut in_flight: Option<Fetch> = None;
    loop {
        let fetch = match in_flight.take() {
            Some(f) => f,
            None if may_start(runner) => {
                let Some(stream) = idle.take() else { break };
                spawn_fetch(stream, store.position(&key), ctx)
            }
            None => {
                run.outcome.budget_stopped = true;
                tracing::info!(stream = %key, "run budget reached; the stream resumes from its checkpoint next run");
                break;
            }
        };
        let page = match wait(fetch, runner).await {
            Fetched::Page(stream, page) => {
                idle = Some(stream);
                page
            }
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
        // Fetch the next page while this one is shaped, delivered and committed. Nothing is
        // committed out of order: if delivery or the commit fails, the prefetched page is dropped.
        if more
            && may_start(runner)
            && let Some(stream) = idle.take()
        {
            let position = position_after(&store.position(&key), &page);
            in_flight = Some(spawn_fetch(stream, position, ctx));
        }
        let update = apply_page(runner, source, store, &key, page, ledger_window, &mut run);
        let positions = if runner.batch.is_empty() {
            Vec::new()
        } else {
            match runner.send_page().await {
                Ok(positions) => positions,
                Err((failed, e)) => {
                    if let Some(f) = in_flight.take() {
                        f.abort();
                    }
                    return Err(runner.page_refused(store, source.shaper(), failed, e).await);
                }
            }
        };
        if let Err(e) = store.apply_outputs(&key, update, &runner.position_pairs(&positions)) {
            if let Some(f) = in_flight.take() {
                f.abort();
            }
            let failure = state_write_failure(name, &e);
            tracing::error!(stream = %key, "{}", describe(&failure));
            run.outcome.success = false;
            run.failures += 1;
            run.state_unwritable = true;
            runner.batch.clear();
            runner
                .batch
                .push_with(|out| source.shaper().error_event(&failure, Timestamp::now(), out));
            runner.send_unrecorded().await?;
            break;
        }
        runner.mark_committed(&positions);
        if !more {
            break;
        }
    }
    if let Some(f) = in_flight {
        f.abort();
    }
    Ok(run)
}

/// Dedupes and shapes a page into the runner's batch; returns what the page changes in the
/// stream's state, to apply once the batch is delivered.
fn apply_page(
    runner: &mut Runner<'_>,
    source: &dyn Source,
    store: &StateStore,
    key: &str,
    page: Page,
    ledger_window: std::time::Duration,
    run: &mut StreamRun,
) -> StreamUpdate {
    let shaper = source.shaper();
    let now = Timestamp::now();
    runner.batch.clear();
    for notice in &page.notices {
        tracing::warn!(source = source.label(), "{}", describe(notice));
        run.failures += 1;
        runner
            .batch
            .push_with(|out| shaper.error_event(notice, now, out));
    }
    let mut update = StreamUpdate {
        cursor: page.cursor,
        last_poll: Some(now),
        newest: None,
        delivered: Vec::new(),
        emitted: false,
        tuning: page.tuning,
        retention: Some((
            i64::try_from(ledger_window.as_secs()).unwrap_or(i64::MAX),
            runner.options.ledger_max_entries,
        )),
    };
    // Ids this page delivers, with their event time; a page that repeats a record delivers
    // it once. One copy of each id: it becomes the ledger entry.
    let mut delivered: HashMap<String, i64> = HashMap::new();
    for event in page.events {
        if let Some(id) = &event.id {
            if store.ledger_contains(key, id) || delivered.contains_key(id) {
                run.outcome.duplicates += 1;
                continue;
            }
            let time = event.time.unwrap_or(now);
            delivered.insert(id.clone(), time.as_second());
        }
        if let Some(time) = event.time
            && update.newest.is_none_or(|n| time > n)
        {
            update.newest = Some(time);
        }
        run.outcome.delivered += 1;
        runner
            .batch
            .push_with(|out| shaper.vendor_event(event, out));
    }
    update.delivered = delivered.into_iter().collect();
    update.emitted = !runner.batch.is_empty();
    update
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
