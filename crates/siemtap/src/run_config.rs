//! `siemtap run --config F`: every enabled source of a configuration file, one after another,
//! into the run's outputs (all of them: fan-out). Built-in connectors get their drop-in variables from `[source.settings]`;
//! declarative connectors are loaded from their connector files.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use siemtap_connectors::{DropIn, DropInContext};
use siemtap_core::runner::{RunOptions, Runner, StopSignal, fair_share};
use siemtap_core::{ErrorCode, Failure, SinkContext, StateError, StateStore};
use siemtap_http::HttpClient;

use crate::config::{Config, SourceConfig, parse_duration};
use crate::run::{
    Exit, OutputSpecs, budget_deadline, close_outputs, emit_stateless, http_config, open_outputs,
    or_stdout, report_fatal,
};

/// Options from the command line that override the file.
pub struct ConfigRun {
    /// `--source NAME[,NAME]`: only these sources.
    pub only: Option<Vec<String>>,
    /// `--all`: no state read or written.
    pub all: bool,
    /// `--output`, each time it was given (empty: the file's `output`).
    pub outputs: OutputSpecs,
    /// `--max-runtime` (None: the file's, else 120 s; zero: none).
    pub max_runtime: Option<Duration>,
}

/// A source ready to run: its sources (tenants), state file and startup failures.
struct Prepared {
    name: String,
    plan: DropIn,
}

/// Translates `[source.settings]` into a built-in connector's drop-in environment.
pub fn builtin_env(
    prefix: &str,
    allowed: &[&str],
    source: &SourceConfig,
    state_file: &std::path::Path,
    secrets_file: Option<PathBuf>,
    base_env: &HashMap<String, String>,
) -> Result<HashMap<String, String>, String> {
    let mut env = base_env.clone();
    for (key, value) in &source.settings {
        if !allowed.contains(&key.as_str()) {
            return Err(format!(
                "source {:?}: unknown setting `{key}` for connector {:?}; known settings: {}",
                source.name.get_ref(),
                source.connector.get_ref(),
                allowed.join(", ")
            ));
        }
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        env.insert(format!("{prefix}_{}", key.to_ascii_uppercase()), text);
    }
    env.insert(
        format!("{prefix}_STATE_FILE"),
        state_file.display().to_string(),
    );
    if let Some(s) = secrets_file {
        env.insert(format!("{prefix}_SECRETS_FILE"), s.display().to_string());
    }
    if let Some(streams) = &source.streams {
        env.insert(format!("{prefix}_SOURCE"), streams.join(","));
    }
    if let Some(l) = &source.lookback
        && let Some(d) = parse_duration(l.get_ref())
    {
        env.insert(
            format!("{prefix}_LOOKBACK_HOURS"),
            (d.as_secs_f64() / 3600.0).to_string(),
        );
    }
    Ok(env)
}

/// The `[source.secrets]` renames of a built-in source, checked against the credentials the
/// connector reads.
pub fn builtin_secret_names(
    builtin: &siemtap_connectors::Connector,
    source: &SourceConfig,
) -> Result<HashMap<String, String>, String> {
    let known: Vec<String> = builtin
        .credentials
        .iter()
        .map(|k| k.env_name.to_owned())
        .collect();
    source.secret_names(&known)
}

/// The `[source.secrets]` renames of a declarative source, keyed by the env names its
/// connector file gives its secrets.
pub fn declarative_secret_names(
    source: &SourceConfig,
    spec: &siemtap_connectors::rest::ConnectorSpec,
) -> Result<HashMap<String, String>, String> {
    let known: Vec<String> = spec
        .secret_names()
        .iter()
        .filter_map(|n| spec.secret_key(n))
        .map(|k| k.env_name.to_owned())
        .collect();
    source.secret_names(&known)
}

/// Builds one configured source. `Err` is a failure to report (and the source is skipped).
fn prepare(
    config: &Config,
    source: &SourceConfig,
    http: &HttpClient,
    env: &HashMap<String, String>,
) -> Result<Prepared, (Failure, Option<Box<dyn siemtap_core::shape::Shaper>>)> {
    let name = source.name.get_ref().clone();
    let state_file = config.state_file(source);
    let secrets_file = config.secrets_file();
    let connector = source.connector.get_ref();
    if let Some(builtin) = siemtap_connectors::find(connector) {
        let allowed = siemtap_connectors::settings_for(builtin.name);
        let env = builtin_env(
            builtin.env_prefix,
            allowed,
            source,
            &state_file,
            secrets_file,
            env,
        )
        .map_err(|m| {
            (
                Failure::new(ErrorCode::ConfigInvalid, "orchestrator", m),
                None,
            )
        })?;
        let secret_names = builtin_secret_names(builtin, source).map_err(|m| {
            (
                Failure::new(ErrorCode::ConfigInvalid, "orchestrator", m),
                None,
            )
        })?;
        let ctx = DropInContext {
            env: &env,
            http: http.clone(),
            source: None,
            lookback_hours: None,
            exe_dir: config.base_dir(),
            state_dir: config.base_dir(),
            secret_names,
        };
        return (builtin.drop_in)(&ctx)
            .map(|plan| Prepared {
                name: name.clone(),
                plan,
            })
            .map_err(|e| (e.failure, Some(e.shaper)));
    }
    let Some(file) = config.find_connector_file(connector) else {
        let dirs: Vec<_> = config
            .connector_dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Err((
            Failure::new(
                ErrorCode::ConfigInvalid,
                "orchestrator",
                format!(
                    "source {name:?}: connector {connector:?} is neither built in nor a file {connector}.toml in {}",
                    dirs.join(", ")
                ),
            ),
            None,
        ));
    };
    let spec = siemtap_connectors::rest::load_file(&file).map_err(|e| {
        (
            Failure::new(ErrorCode::ConfigInvalid, "orchestrator", e.to_string()),
            None,
        )
    })?;
    let chain = siemtap_secrets::CredentialChain::new(siemtap_secrets::ChainSources {
        credentials_directory: env
            .get("CREDENTIALS_DIRECTORY")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from),
        secrets_file,
        env: env.clone(),
        renames: declarative_secret_names(source, &spec).map_err(|m| {
            (
                Failure::new(ErrorCode::ConfigInvalid, "orchestrator", m),
                Some(spec.shaper()),
            )
        })?,
    })
    .map_err(|e| {
        (
            Failure::new(
                ErrorCode::ConfigMissingCredential,
                "orchestrator",
                e.to_string(),
            ),
            Some(spec.shaper()),
        )
    })?;
    let opts = siemtap_connectors::rest::SourceOptions {
        source_name: &name,
        settings: &source.settings,
        chain: &chain,
        http: http.clone(),
        streams: source.streams.clone(),
        lookback: source
            .lookback
            .as_ref()
            .and_then(|l| parse_duration(l.get_ref())),
    };
    let built = spec
        .build_source(opts)
        .map_err(|f| (f, Some(spec.shaper())))?;
    Ok(Prepared {
        name,
        plan: DropIn {
            state_file,
            sources: vec![built],
            failures: Vec::new(),
            shaper: spec.shaper(),
        },
    })
}

/// A source that could not start: its failure and, when known, the shaper of its events.
type Early = (Failure, Option<Box<dyn siemtap_core::shape::Shaper>>);

/// The sources ready to run with their locked state, those that could not start, and the exit
/// code their failures call for.
type PreparedAll = (Vec<(Prepared, StateStore)>, Vec<Early>, Exit);

/// Builds every selected source and locks its state. `Err`: a locked state ends the run.
fn prepare_all(
    config: &Config,
    selected: Vec<&SourceConfig>,
    http: &HttpClient,
    env: &HashMap<String, String>,
    all: bool,
) -> Result<PreparedAll, Exit> {
    let mut exit = Exit::Ok;
    let mut ready: Vec<(Prepared, StateStore)> = Vec::new();
    let mut early: Vec<Early> = Vec::new();
    for source in selected {
        match prepare(config, source, http, env) {
            Ok(p) => {
                let store = if all {
                    Ok(StateStore::ephemeral())
                } else {
                    StateStore::open(&p.plan.state_file)
                };
                match store {
                    // A stored value a stream cannot use is corrupt state, like a bad file.
                    Ok(store) => match p.plan.sources.iter().find_map(|s| {
                        siemtap_core::runner::check_positions(&store, s.as_ref()).err()
                    }) {
                        None => ready.push((p, store)),
                        Some(mut failure) => {
                            failure.message = format!("source {:?}: {}", p.name, failure.message);
                            early.push((failure, Some(p.plan.shaper)));
                            exit = Exit::StateUnreadable;
                        }
                    },
                    Err(e @ StateError::Locked { .. }) => {
                        report_fatal(&format!("source {:?}: {e}", p.name));
                        return Err(Exit::Locked);
                    }
                    Err(e) => {
                        let failure = Failure::new(
                            ErrorCode::StateReadError,
                            "orchestrator",
                            format!(
                                "source {:?}: {e}{}",
                                p.name,
                                crate::privilege::permission_hint()
                            ),
                        );
                        early.push((failure, Some(p.plan.shaper)));
                        exit = Exit::StateUnreadable;
                    }
                }
            }
            Err((failure, shaper)) => {
                if exit == Exit::Ok {
                    exit = Exit::Usage;
                }
                early.push((failure, shaper));
            }
        }
    }
    Ok((ready, early, exit))
}

/// The run's outputs: `--output` (each time given), else the file's `output` (a path in the
/// file is relative to the file, one on the command line to the working directory), else
/// stdout.
fn outputs_for(config: &Config, cli: OutputSpecs) -> OutputSpecs {
    if cli.is_empty() {
        or_stdout(config.outputs())
    } else {
        cli
    }
}

/// Runs the configuration.
pub async fn execute(config: &Config, opts: ConfigRun, stop: StopSignal) -> Exit {
    let env: HashMap<String, String> = std::env::vars().collect();
    let max_runtime = opts
        .max_runtime
        .or(config.max_runtime)
        .unwrap_or(Duration::from_secs(120));
    let deadline = budget_deadline((!max_runtime.is_zero()).then_some(max_runtime));
    let outputs = outputs_for(config, opts.outputs);
    // One set of outputs for every source: the Wazuh location names the configuration.
    let ctx = SinkContext {
        env: &env,
        run_label: "config",
        deadline,
    };
    let http = match http_config(&env).and_then(|c| HttpClient::new(c).map_err(|e| e.to_string())) {
        Ok(h) => h,
        Err(e) => {
            return crate::usage::usage_error(
                crate::usage::stdout_is_event_channel(&outputs),
                &format!("cannot set up the HTTP client: {e}"),
            );
        }
    };
    let selected: Vec<&SourceConfig> = config
        .file
        .sources
        .iter()
        .filter(|s| !s.disabled)
        .filter(|s| {
            opts.only
                .as_ref()
                .is_none_or(|only| only.iter().any(|n| n == s.name.get_ref()))
        })
        .collect();
    if let Some(only) = &opts.only {
        for n in only {
            if !config.file.sources.iter().any(|s| s.name.get_ref() == n) {
                let names: Vec<&str> = config
                    .file
                    .sources
                    .iter()
                    .map(|s| s.name.get_ref().as_str())
                    .collect();
                return crate::usage::usage_error(
                    crate::usage::stdout_is_event_channel(&outputs),
                    &format!(
                        "--source {n:?}: no such source in {}; fix: use one of {}",
                        config.path.display(),
                        names.join(", ")
                    ),
                );
            }
        }
    }
    // Build every source, then lock every state file, before anything is emitted: the file
    // sink's recovery needs the committed length of all of them.
    let (ready, early, exit) = match prepare_all(config, selected, &http, &env, opts.all) {
        Ok(all) => all,
        Err(exit) => return exit,
    };
    let mut ready = ready;
    for (failure, shaper) in &early {
        // A failure outside any connector (an unknown connector, a bad setting) uses siemtap's
        // own envelope: it is an event too, and the other sources still run.
        let shaper: &dyn siemtap_core::shape::Shaper = match shaper {
            Some(shaper) => shaper.as_ref(),
            None => &crate::usage::SiemtapShaper,
        };
        if emit_stateless(&outputs, &ctx, shaper, failure).await == Exit::Delivery {
            return Exit::Delivery;
        }
    }
    // Every state file is locked: each output recovers to the largest position any of them
    // committed for it.
    let mut stores: Vec<&mut StateStore> = ready.iter_mut().map(|(_, s)| s).collect();
    let mut sinks =
        match open_outputs(&outputs, &ctx, &mut stores, &crate::usage::SiemtapShaper).await {
            Ok(sinks) => sinks,
            Err(exit) => return exit,
        };
    drop(stores);
    let mut runner = sinks.runner(RunOptions {
        deadline,
        stop,
        ..RunOptions::default()
    });
    let ran = run_ready(&mut runner, &mut ready, deadline).await;
    drop(runner);
    close_outputs(&mut sinks).await;
    if ran == Exit::Ok { exit } else { ran }
}

/// Runs every ready source through `runner`, one after another.
async fn run_ready(
    runner: &mut Runner<'_>,
    ready: &mut [(Prepared, StateStore)],
    deadline: Option<tokio::time::Instant>,
) -> Exit {
    let total: usize = ready.iter().map(|(p, _)| p.plan.sources.len()).sum();
    let mut done = 0;
    for (prepared, store) in ready {
        for failure in &prepared.plan.failures {
            if let Err(e) = runner
                .emit_failure(store, prepared.plan.shaper.as_ref(), failure)
                .await
            {
                report_fatal(&e.to_string());
                return Exit::Delivery;
            }
        }
        for source in &mut prepared.plan.sources {
            let share = fair_share(deadline, total - done);
            done += 1;
            if let Err(e) = runner.run_source(store, source.as_mut(), share).await {
                report_fatal(&e.to_string());
                return Exit::Delivery;
            }
            tracing::info!(source = %prepared.name, label = source.label(), "source finished");
        }
    }
    Exit::Ok
}
