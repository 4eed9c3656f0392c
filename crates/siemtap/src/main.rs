//! siemtap: pull security events from vendor APIs into Wazuh and other SIEMs.
//!
//! The binary is thin: it parses the command line, sets up logging and the runtime, and wires
//! a connector, the state store and a sink together (see `run.rs`).

mod cli;
mod config;
mod demo;
mod logging;
mod plan;
mod privilege;
mod run;
mod run_config;
mod sim_cmd;
mod startup;
mod state_cmd;
mod usage;
mod validate;
mod wazuh5_cmd;
mod wazuh_cmd;
mod wazuh_connector;

#[cfg(test)]
mod test_sink;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use siemtap_core::runner::StopSignal;

use cli::{Cli, Command, RunArgs};
use run::{Exit, OutputSpecs, RunRequest, report_fatal};
use startup::Started;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return startup::clap_error(&e),
    };
    // The privilege drop comes first, before the runtime: Linux credentials are per thread and
    // rustix's set_thread_* calls change only the calling thread, so it must run while this is
    // the only thread (the multi-thread runtime below starts its workers at once). Nothing
    // before it opens the network, the state, the log or the output.
    let mut started = None;
    match &cli.command {
        Command::Run(args) => started = Some(startup::run(args)),
        Command::State(args) => {
            if let Err(exit) = startup::state(args) {
                return ExitCode::from(exit as u8);
            }
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            report_fatal(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => match started {
                Some(started) => run_command(args, started).await,
                None => Exit::Usage,
            },
            Command::Validate(args) => validate::run(args),
            Command::Plan(args) => plan::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Sim(args) => sim_cmd::run(args).await,
            Command::State(args) => state_cmd::run(args),
            Command::Wazuh(args) => wazuh_cmd::run(args),
        }
    });
    ExitCode::from(code as u8)
}

/// Fires `stop` on SIGTERM or SIGINT: the run finishes its page, commits and exits 0.
fn install_stop_handler(stop: StopSignal) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => tracing::warn!("SIGTERM: stopping at the next page boundary"),
            _ = tokio::signal::ctrl_c() => tracing::warn!("SIGINT: stopping at the next page boundary"),
        }
        stop.fire();
    });
}

/// Whether a usage error goes to stdout as an event too: `--output` if given and valid (an
/// invalid one: no), else `fallback` (the config file's outputs; none means stdout).
fn events_on_stdout(
    cli: &Result<OutputSpecs, String>,
    fallback: &[Box<dyn siemtap_core::OutputSpec>],
) -> bool {
    match cli {
        Ok(o) if !o.is_empty() => usage::stdout_is_event_channel(o),
        Ok(_) => usage::stdout_is_event_channel(fallback),
        Err(_) => false,
    }
}

/// `siemtap run --config F` (the file was loaded before the privilege drop).
async fn run_config_command(
    args: RunArgs,
    loaded: Result<config::Config, config::ConfigError>,
    started: &Started,
) -> Exit {
    let cli_output = run::parse_outputs(&args.output);
    let config = match loaded {
        Ok(c) => c,
        Err(e) => {
            // Logging is not set up yet (the file names the log); say it where a human looks.
            let _ = logging::init(&logging::LogTarget::choose(args.log_file.as_deref()), 0);
            return usage::usage_error(events_on_stdout(&cli_output, &[]), &e.to_string());
        }
    };
    let on_stdout = events_on_stdout(&cli_output, &config.outputs());
    let log_file = args
        .log_file
        .clone()
        .or_else(|| config.file.log_file.as_deref().map(|p| config.resolve(p)));
    let debug = args.debug.or(config.file.debug).unwrap_or(0);
    if let Err(e) = logging::init(&logging::LogTarget::choose(log_file.as_deref()), debug) {
        let hint = privilege::permission_hint();
        return usage::usage_error(on_stdout, &format!("{e:#}{hint}"));
    }
    started.log();
    let outputs = match cli_output {
        Ok(o) => o,
        Err(e) => return usage::usage_error(false, &e),
    };
    let stop = StopSignal::new();
    install_stop_handler(stop.clone());
    let opts = run_config::ConfigRun {
        only: args
            .source
            .map(|s| s.split(',').map(|p| p.trim().to_string()).collect()),
        all: args.all,
        outputs,
        max_runtime: args.max_runtime.map(Duration::from_secs),
    };
    run_config::execute(&config, opts, stop).await
}

async fn run_command(mut args: RunArgs, mut started: Started) -> Exit {
    let cli_output = run::parse_outputs(&args.output);
    let on_stdout = events_on_stdout(&cli_output, &[]);
    if let Err(e) = &started.privilege {
        // Still root: nothing is opened, the message goes to stderr (and stdout as an event).
        let message = match &started.config {
            Some(Err(config_error)) => format!("{e}; and {config_error}"),
            _ => e.clone(),
        };
        return usage::usage_error(on_stdout, &message);
    }
    if let Some(loaded) = started.config.take() {
        return run_config_command(args, loaded, &started).await;
    }
    let env: HashMap<String, String> = std::env::vars().collect();
    let name = args.connector.take().unwrap_or_default();
    let Some(connector) = siemtap_connectors::find(&name) else {
        let names: Vec<_> = siemtap_connectors::REGISTRY
            .iter()
            .map(|c| c.name)
            .collect();
        let _ = logging::init(&logging::LogTarget::choose(args.log_file.as_deref()), 0);
        return usage::usage_error(
            on_stdout,
            &format!(
                "unknown connector {name:?}; fix: use one of {} (declarative connectors run with --config FILE)",
                names.join(", ")
            ),
        );
    };
    let env_debug = env
        .get(&format!("{}_DEBUG", connector.env_prefix))
        .and_then(|v| v.trim().parse::<u8>().ok())
        .map(|d| d.min(3));
    let debug = args.debug.or(env_debug).unwrap_or(0);
    if let Err(e) = logging::init(&logging::LogTarget::choose(args.log_file.as_deref()), debug) {
        let hint = privilege::permission_hint();
        return usage::usage_error(on_stdout, &format!("{e:#}{hint}"));
    }
    started.log();
    let outputs = match cli_output {
        Ok(o) => run::or_stdout(o),
        Err(e) => return usage::usage_error(false, &e),
    };
    let exe_dir = startup::exe_dir();
    let state_dir = args.state_dir.clone().unwrap_or_else(|| exe_dir.clone());
    let stop = StopSignal::new();
    install_stop_handler(stop.clone());
    let request = RunRequest {
        connector,
        env,
        source: args.source,
        lookback_hours: args.lookback,
        all: args.all,
        max_runtime: match args.max_runtime.unwrap_or(120) {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        },
        outputs,
        exe_dir,
        state_dir,
    };
    run::execute(request, stop).await.exit
}
