//! `siemtap run CONNECTOR`: one collection run in drop-in mode (the reference integration's
//! environment), from state lock to run summary, with the documented exit codes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use siemtap_connectors::{Connector, DropInContext};
use siemtap_core::runner::{
    RunOptions, Runner, SourceReport, StopSignal, check_positions, fair_share,
};
use siemtap_core::shape::Shaper;
use siemtap_core::{ErrorCode, Failure, Sink, StateError, StateStore};
use siemtap_http::{HttpClient, HttpConfig};
use siemtap_sinks::{DEFAULT_QUEUE_SOCKET, FileSink, LineSizeGuard, StdoutSink, WazuhSocketSink};

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

/// Where events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Standard output; lines over the command wodle's size budget are shrunk
    /// (`siemtap_sinks::LineSizeGuard`), all others are written byte for byte.
    Stdout,
    /// A JSON-lines file with exactly-once recovery.
    File(PathBuf),
    /// analysisd's queue socket (AF_UNIX datagram), with Wazuh-safe shaping (docs/wazuh.md).
    WazuhSocket(WazuhOutput),
}

/// `--output wazuh-socket[:PATH]`; the other settings come from the environment
/// (`crate::wazuh_output`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WazuhOutput {
    /// The queue socket.
    pub path: PathBuf,
    /// Location when `SIEMTAP_WAZUH_LOCATION` is unset (`siemtap-<connector>` in drop-in runs).
    pub default_location: String,
    /// Run deadline: the sink's retries never go past it.
    pub deadline: Option<tokio::time::Instant>,
}

impl Output {
    /// Parses `--output`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        match spec {
            "stdout" => Ok(Self::Stdout),
            s if s.starts_with("file:") && s.len() > 5 => Ok(Self::File(PathBuf::from(&s[5..]))),
            "wazuh-socket" => Ok(Self::wazuh_socket(PathBuf::from(DEFAULT_QUEUE_SOCKET))),
            s if s.starts_with("wazuh-socket:") && s.len() > 13 => {
                Ok(Self::wazuh_socket(PathBuf::from(&s[13..])))
            }
            other => Err(format!(
                "unknown --output {other:?}; use stdout, file:PATH or wazuh-socket[:PATH]"
            )),
        }
    }

    fn wazuh_socket(path: PathBuf) -> Self {
        Self::WazuhSocket(WazuhOutput {
            path,
            default_location: "siemtap".into(),
            deadline: None,
        })
    }

    /// Binds the output to a run: the Wazuh socket's default location becomes
    /// `siemtap-<connector>` and its retries stop at `deadline`. Other outputs are unchanged.
    pub fn for_run(
        mut self,
        connector: Option<&str>,
        deadline: Option<tokio::time::Instant>,
    ) -> Self {
        if let Self::WazuhSocket(w) = &mut self {
            if let Some(name) = connector {
                w.default_location = format!("siemtap-{name}");
            }
            w.deadline = deadline;
        }
        self
    }

    /// Opens the sink; `store` supplies the committed length for file recovery.
    fn open(&self, store: Option<&StateStore>) -> Result<Box<dyn Sink>, siemtap_core::SinkError> {
        let committed = match self {
            Self::File(path) => store.and_then(|s| s.output_length(&FileSink::output_id_for(path))),
            _ => None,
        };
        self.open_with(committed)
    }

    /// Opens the sink; a file output is first cut back to `committed` (the largest length any
    /// state file committed for it).
    pub fn open_with(
        &self,
        committed: Option<u64>,
    ) -> Result<Box<dyn Sink>, siemtap_core::SinkError> {
        Ok(match self {
            // Under the command wodle every stdout line is one analysisd datagram: lines over
            // the 65,535-byte budget are shrunk, all others pass byte for byte (docs/wazuh.md).
            Self::Stdout => Box::new(LineSizeGuard::new(StdoutSink::new())),
            Self::File(path) => Box::new(FileSink::open(path, committed)?),
            Self::WazuhSocket(w) => {
                let env: HashMap<String, String> = std::env::vars().collect();
                let config = crate::wazuh_output::config(w, &env).map_err(|message| {
                    siemtap_core::SinkError {
                        sink: format!("wazuh-socket:{}", w.path.display()),
                        message,
                    }
                })?;
                Box::new(WazuhSocketSink::new(config)?)
            }
        })
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
    /// `--output`.
    pub output: Output,
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

/// Records where a file output starts, before anything is written to it, in every state that
/// has no committed length for it yet. Without this, a run killed before its first commit on a
/// new state file would leave its first page in the output with nothing to cut it back to, and
/// the next run would deliver that page again.
pub(crate) fn pin_output_start<'a>(
    output: &Output,
    stores: impl IntoIterator<Item = &'a mut StateStore>,
) -> Result<(), siemtap_core::StateError> {
    let Output::File(path) = output else {
        return Ok(());
    };
    let id = FileSink::output_id_for(path);
    let start = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    for store in stores
        .into_iter()
        .filter(|s| s.output_length(&id).is_none())
    {
        store.record_output(&id, start)?;
    }
    Ok(())
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
    output: &Output,
    shaper: &dyn Shaper,
    failure: &Failure,
) -> Exit {
    report_fatal(&siemtap_core::runner::describe(failure));
    let mut sink = match output.open(None) {
        Ok(s) => s,
        Err(e) => {
            report_fatal(&e.to_string());
            return Exit::Delivery;
        }
    };
    let mut runner = Runner::new(sink.as_mut(), RunOptions::default());
    match runner.emit_failure_stateless(shaper, failure).await {
        Ok(()) => Exit::Ok,
        Err(e) => {
            report_fatal(&e.to_string());
            Exit::Delivery
        }
    }
}

/// Runs `req` to completion. Every failure that can be an event is one.
pub async fn execute(req: RunRequest, stop: StopSignal) -> RunResult {
    let deadline = budget_deadline(req.max_runtime);
    let output = req
        .output
        .clone()
        .for_run(Some(req.connector.name), deadline);
    let http =
        match http_config(&req.env).and_then(|c| HttpClient::new(c).map_err(|e| e.to_string())) {
            Ok(h) => h,
            Err(e) => {
                return RunResult::early(crate::usage::usage_error(
                    crate::usage::stdout_is_event_channel(Some(&output)),
                    &format!("cannot set up the HTTP client: {e}"),
                ));
            }
        };
    let ctx = DropInContext {
        env: &req.env,
        http,
        source: req.source.as_deref(),
        lookback_hours: req.lookback_hours,
        exe_dir: req.exe_dir.clone(),
        state_dir: req.state_dir.clone(),
        secret_names: HashMap::new(),
    };
    let plan = match (req.connector.drop_in)(&ctx) {
        Ok(plan) => plan,
        Err(e) => {
            let exit = emit_stateless(&output, e.shaper.as_ref(), &e.failure).await;
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
                let exit = emit_stateless(&output, plan.shaper.as_ref(), &failure).await;
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
        let exit = emit_stateless(&output, plan.shaper.as_ref(), &failure).await;
        return RunResult::early(if exit == Exit::Ok {
            Exit::StateUnreadable
        } else {
            exit
        });
    }
    // The file sink recovers (truncates) under the state lock, so no other run is writing.
    let mut sink = match output.open(Some(&store)) {
        Ok(s) => s,
        Err(e) => {
            report_fatal(&format!("{e}{}", crate::privilege::permission_hint()));
            return RunResult::early(Exit::Delivery);
        }
    };
    if let Err(e) = pin_output_start(&output, [&mut store]) {
        report_fatal(&e.to_string());
        return RunResult::early(Exit::StateUnreadable);
    }
    let options = RunOptions {
        deadline,
        stop,
        ..RunOptions::default()
    };
    let mut runner = Runner::new(sink.as_mut(), options);
    let mut result = RunResult {
        exit: Exit::Ok,
        reports: Vec::new(),
    };
    for failure in &plan.failures {
        tracing::warn!("{}", siemtap_core::runner::describe(failure));
        if let Err(e) = runner
            .emit_failure(&mut store, plan.shaper.as_ref(), failure)
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
        match runner.run_source(&mut store, source.as_mut(), share).await {
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
