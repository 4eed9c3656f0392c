//! `siemtap run CONNECTOR`: one collection run in drop-in mode (the reference integration's
//! environment), from state lock to run summary, with the documented exit codes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use siemtap_connectors::{Connector, DropIn, DropInContext};
use siemtap_core::runner::{
    Outputs, RecoverError, RunOptions, Runner, SourceReport, StopSignal, check_positions,
    fair_share,
};
use siemtap_core::shape::Shaper;
use siemtap_core::{ErrorCode, Failure, OutputSpec, SinkContext, StateError, StateStore};
use siemtap_http::{HttpClient, HttpConfig};

/// Process exit codes (docs/operations.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success, also when per-stream failures were reported as error events.
    Ok = 0,
    /// The sink refused events (nothing after the last checkpoint counts as delivered).
    Delivery = 1,
    /// Usage or configuration error (reported as an error event where possible).
    Usage = 2,
    /// The state is locked by another run.
    Locked = 3,
    /// The state file is unreadable or corrupt.
    StateUnreadable = 4,
}

/// The outputs of a run, parsed and not yet opened: every `--output` (repeatable) or the
/// config's `output` list. Each batch goes to all of them (fan-out).
pub type OutputSpecs = Vec<Box<dyn OutputSpec>>;

/// Parses `--output` values (or the config's `output` entries) against the sink registry. The
/// same output twice is refused: it would receive every event twice (or, for a file, two
/// writers would each think they own its end).
pub fn parse_outputs(specs: &[String]) -> Result<OutputSpecs, String> {
    let parsed: OutputSpecs = specs
        .iter()
        .map(|s| siemtap_sinks::parse(s))
        .collect::<Result<_, _>>()?;
    let mut seen = std::collections::HashSet::new();
    for (spec, given) in parsed.iter().zip(specs) {
        let key = spec.output_id().unwrap_or_else(|| spec.describe());
        if !seen.insert(key) {
            return Err(format!(
                "output {given:?} is given twice; fix: name each output once"
            ));
        }
    }
    Ok(parsed)
}

/// The output of a run that names none.
pub const DEFAULT_OUTPUT: &str = "stdout";

/// [`DEFAULT_OUTPUT`] when no output was given.
pub fn or_stdout(outputs: OutputSpecs) -> OutputSpecs {
    if outputs.is_empty() {
        parse_outputs(&[DEFAULT_OUTPUT.to_owned()]).unwrap_or_default()
    } else {
        outputs
    }
}

/// Opens and recovers the outputs of a run. An output that cannot open is reported on those
/// that did (an error event recorded in `stores[0]`, when there is one) and ends the run.
pub(crate) async fn open_outputs(
    specs: &[Box<dyn OutputSpec>],
    ctx: &SinkContext<'_>,
    stores: &mut [&mut StateStore],
    shaper: &dyn Shaper,
) -> Result<Outputs, Exit> {
    let (mut outputs, failed) = Outputs::open(specs, ctx);
    // Recovery (the file sink truncates) runs under the state locks: no other run is writing.
    if let Err(e) = outputs.recover(stores).await {
        return Err(match e {
            RecoverError::Sink(e) => {
                report_fatal(&format!("{e}{}", crate::privilege::permission_hint()));
                Exit::Delivery
            }
            RecoverError::State(e) => {
                report_fatal(&e.to_string());
                Exit::StateUnreadable
            }
        });
    }
    let Some(first) = failed.first() else {
        return Ok(outputs);
    };
    for e in &failed {
        report_fatal(&format!("{e}{}", crate::privilege::permission_hint()));
    }
    if !outputs.is_empty() {
        let failure = siemtap_core::runner::output_failure(first);
        let mut runner = outputs.runner(RunOptions::default());
        let sent = match stores.first_mut() {
            Some(store) => runner.emit_failure(store, shaper, &failure).await,
            None => runner.emit_failure_stateless(shaper, &failure).await,
        };
        if let Err(e) = sent {
            report_fatal(&e.to_string());
        }
    }
    Err(Exit::Delivery)
}

/// Closes the outputs at the end of a run; a failure is logged (the events were accepted).
pub(crate) async fn close_outputs(outputs: &mut Outputs) {
    for e in outputs.close().await {
        tracing::warn!("closing an output failed: {e}");
    }
}

/// Everything one run needs.
pub struct RunRequest {
    /// The connector.
    pub connector: &'static Connector,
    /// Environment snapshot.
    pub env: HashMap<String, String>,
    /// `--source`.
    pub source: Option<String>,
    /// `--lookback`.
    pub lookback_hours: Option<f64>,
    /// `--all`: no state read or written.
    pub all: bool,
    /// `--max-runtime` (None = no budget).
    pub max_runtime: Option<Duration>,
    /// `--output` (at least one).
    pub outputs: OutputSpecs,
    /// Directory of the executable (drop-in defaults).
    pub exe_dir: PathBuf,
    /// Directory of the default state file (`--state-dir`, else `exe_dir`).
    pub state_dir: PathBuf,
}

/// What a run did.
#[derive(Debug)]
pub struct RunResult {
    /// Exit code.
    pub exit: Exit,
    /// Per source: label and report.
    pub reports: Vec<(String, SourceReport)>,
}

impl RunResult {
    fn early(exit: Exit) -> Self {
        Self {
            exit,
            reports: Vec::new(),
        }
    }
}

/// Time kept back from `--max-runtime` for the summary and exit.
pub(crate) fn budget_deadline(max_runtime: Option<Duration>) -> Option<tokio::time::Instant> {
    let budget = max_runtime?;
    let reserve = (budget / 10).clamp(Duration::from_millis(500), Duration::from_secs(10));
    Some(tokio::time::Instant::now() + budget.saturating_sub(reserve))
}

/// Environment variable: per-attempt request timeout in seconds (default 30).
pub const REQUEST_TIMEOUT_ENV: &str = "SIEMTAP_REQUEST_TIMEOUT";
/// Environment variable: extra PEM CA file trusted besides the system roots.
pub const CA_FILE_ENV: &str = "SIEMTAP_CA_FILE";
/// Environment variable: largest accepted response body in bytes (default 64 MiB); a larger
/// body is refused while it streams in and becomes an `API_INVALID_RESPONSE` error event.
pub const MAX_RESPONSE_BYTES_ENV: &str = "SIEMTAP_MAX_RESPONSE_BYTES";
/// Bounds of [`MAX_RESPONSE_BYTES_ENV`]: 1 KiB to 1 GiB.
const MAX_RESPONSE_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1024..=(1 << 30);

/// The HTTP client settings, with the siemtap-wide environment overrides.
pub(crate) fn http_config(env: &HashMap<String, String>) -> Result<HttpConfig, String> {
    let mut config = HttpConfig::default();
    if let Some(v) = env
        .get(REQUEST_TIMEOUT_ENV)
        .filter(|v| !v.trim().is_empty())
    {
        match v.trim().parse::<f64>() {
            Ok(s) if s > 0.0 && s <= 600.0 => config.request_timeout = Duration::from_secs_f64(s),
            _ => {
                return Err(format!(
                    "{REQUEST_TIMEOUT_ENV}={v:?} is invalid: give seconds between 0 and 600 (default 30)"
                ));
            }
        }
    }
    if let Some(v) = env.get(CA_FILE_ENV).filter(|v| !v.trim().is_empty()) {
        config.ca_file = Some(PathBuf::from(v.trim()));
    }
    if let Some(v) = env
        .get(MAX_RESPONSE_BYTES_ENV)
        .filter(|v| !v.trim().is_empty())
    {
        match v.trim().parse::<u64>() {
            Ok(n) if MAX_RESPONSE_BYTES_RANGE.contains(&n) => config.max_body_bytes = n,
            _ => {
                return Err(format!(
                    "{MAX_RESPONSE_BYTES_ENV}={v:?} is invalid: give a byte count between 1024 and 1073741824 (default 67108864 = 64 MiB)"
                ));
            }
        }
    }
    Ok(config)
}

/// Reports a problem that ends the run (or a source): in the log and as one line on stderr,
/// where an operator looks first. When the log itself goes to stderr it is printed once.
pub fn report_fatal(message: &str) {
    tracing::error!("{message}");
    if !crate::logging::logs_to_stderr() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("siemtap: {message}");
        }
    }
}

/// Emits one error event where no state can record it (configuration and state failures).
pub(crate) async fn emit_stateless(
    specs: &[Box<dyn OutputSpec>],
    ctx: &SinkContext<'_>,
    shaper: &dyn Shaper,
    failure: &Failure,
) -> Exit {
    report_fatal(&siemtap_core::runner::describe(failure));
    let (mut outputs, failed) = Outputs::open(specs, ctx);
    for e in &failed {
        report_fatal(&e.to_string());
    }
    let mut runner = outputs.runner(RunOptions::default());
    let sent = runner.emit_failure_stateless(shaper, failure).await;
    drop(runner);
    close_outputs(&mut outputs).await;
    match sent {
        Ok(()) if failed.is_empty() => Exit::Ok,
        Ok(()) => Exit::Delivery,
        Err(e) => {
            report_fatal(&e.to_string());
            Exit::Delivery
        }
    }
}

/// Runs `req` to completion. Every failure that can be an event is one.
pub async fn execute(req: RunRequest, stop: StopSignal) -> RunResult {
    let deadline = budget_deadline(req.max_runtime);
    let ctx = SinkContext {
        env: &req.env,
        run_label: req.connector.name,
        deadline,
    };
    let outputs = &req.outputs;
    let http =
        match http_config(&req.env).and_then(|c| HttpClient::new(c).map_err(|e| e.to_string())) {
            Ok(h) => h,
            Err(e) => {
                return RunResult::early(crate::usage::usage_error(
                    crate::usage::stdout_is_event_channel(outputs),
                    &format!("cannot set up the HTTP client: {e}"),
                ));
            }
        };
    let drop_in_ctx = DropInContext {
        env: &req.env,
        http,
        source: req.source.as_deref(),
        lookback_hours: req.lookback_hours,
        exe_dir: req.exe_dir.clone(),
        state_dir: req.state_dir.clone(),
        secret_names: HashMap::new(),
    };
    let plan = match (req.connector.drop_in)(&drop_in_ctx) {
        Ok(plan) => plan,
        Err(e) => {
            let exit = emit_stateless(outputs, &ctx, e.shaper.as_ref(), &e.failure).await;
            return RunResult::early(if exit == Exit::Ok { Exit::Usage } else { exit });
        }
    };
    let mut store = if req.all {
        StateStore::ephemeral()
    } else {
        match StateStore::open(&plan.state_file) {
            Ok(store) => store,
            Err(e @ StateError::Locked { .. }) => {
                report_fatal(&e.to_string());
                return RunResult::early(Exit::Locked);
            }
            Err(e) => {
                let failure = Failure::new(
                    ErrorCode::StateReadError,
                    "orchestrator",
                    format!("{e}{}", crate::privilege::permission_hint()),
                );
                let exit = emit_stateless(outputs, &ctx, plan.shaper.as_ref(), &failure).await;
                return RunResult::early(if exit == Exit::Ok {
                    Exit::StateUnreadable
                } else {
                    exit
                });
            }
        }
    };
    // A stored value a stream cannot use is corrupt state too: same event, same exit, no write.
    if let Some(failure) = plan
        .sources
        .iter()
        .find_map(|s| check_positions(&store, s.as_ref()).err())
    {
        let exit = emit_stateless(outputs, &ctx, plan.shaper.as_ref(), &failure).await;
        return RunResult::early(if exit == Exit::Ok {
            Exit::StateUnreadable
        } else {
            exit
        });
    }
    let mut sinks = match open_outputs(outputs, &ctx, &mut [&mut store], plan.shaper.as_ref()).await
    {
        Ok(sinks) => sinks,
        Err(exit) => return RunResult::early(exit),
    };
    let options = RunOptions {
        deadline,
        stop,
        ..RunOptions::default()
    };
    let mut runner = sinks.runner(options);
    let result = run_plan(&mut runner, &mut store, plan, deadline).await;
    drop(runner);
    close_outputs(&mut sinks).await;
    result
}

/// Runs a drop-in plan's startup failures and sources through `runner`.
async fn run_plan(
    runner: &mut Runner<'_>,
    store: &mut StateStore,
    plan: DropIn,
    deadline: Option<tokio::time::Instant>,
) -> RunResult {
    let mut result = RunResult {
        exit: Exit::Ok,
        reports: Vec::new(),
    };
    for failure in &plan.failures {
        tracing::warn!("{}", siemtap_core::runner::describe(failure));
        if let Err(e) = runner
            .emit_failure(store, plan.shaper.as_ref(), failure)
            .await
        {
            report_fatal(&e.to_string());
            result.exit = Exit::Delivery;
            return result;
        }
    }
    let mut sources = plan.sources;
    let total = sources.len();
    for (i, source) in sources.iter_mut().enumerate() {
        let share = fair_share(deadline, total - i);
        match runner.run_source(store, source.as_mut(), share).await {
            Ok(report) => {
                tracing::info!(
                    source = source.label(),
                    delivered = report.delivered(),
                    failures = report.failures,
                    "source finished"
                );
                result.reports.push((source.label().to_string(), report));
            }
            Err(e) => {
                report_fatal(&e.to_string());
                result.exit = Exit::Delivery;
                return result;
            }
        }
    }
    result
}
