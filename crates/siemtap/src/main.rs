//! siemtap: pull security events from vendor APIs into Wazuh and other SIEMs.
//!
//! The binary is thin: it parses the command line, sets up logging and the runtime, and wires
//! a connector, the state store and a sink together (see `run.rs`).

mod cli;
mod config;
mod demo;
mod logging;
mod plan;
mod run;
mod run_config;
mod sim_cmd;
mod state_cmd;
mod validate;
mod wazuh5_cmd;
mod wazuh_cmd;
mod wazuh_connector;
mod wazuh_output;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use siemtap_core::runner::StopSignal;

use cli::{Cli, Command, RunArgs};
use run::{Exit, Output, RunRequest, report_fatal};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            Command::Run(args) => run_command(args).await,
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

/// `siemtap run --config F`.
async fn run_config_command(args: RunArgs, path: &std::path::Path) -> Exit {
    let config = match config::Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            // Logging is not set up yet (the file names the log); say it where a human looks.
            let _ = logging::init(&logging::LogTarget::choose(args.log_file.as_deref()), 0);
            report_fatal(&e.to_string());
            return Exit::Usage;
        }
    };
    let log_file = args
        .log_file
        .clone()
        .or_else(|| config.file.log_file.as_deref().map(|p| config.resolve(p)));
    let debug = args.debug.or(config.file.debug).unwrap_or(0);
    if let Err(e) = logging::init(&logging::LogTarget::choose(log_file.as_deref()), debug) {
        report_fatal(&format!("{e:#}"));
        return Exit::Usage;
    }
    let output = match args.output.as_deref().map(Output::parse).transpose() {
        Ok(o) => o,
        Err(e) => {
            report_fatal(&e);
            return Exit::Usage;
        }
    };
    let stop = StopSignal::new();
    install_stop_handler(stop.clone());
    let opts = run_config::ConfigRun {
        only: args
            .source
            .map(|s| s.split(',').map(|p| p.trim().to_string()).collect()),
        all: args.all,
        output,
        max_runtime: args.max_runtime.map(Duration::from_secs),
    };
    run_config::execute(&config, opts, stop).await
}

async fn run_command(args: RunArgs) -> Exit {
    if let Some(path) = args.config.clone() {
        return run_config_command(args, &path).await;
    }
    let env: HashMap<String, String> = std::env::vars().collect();
    let name = args.connector.clone().unwrap_or_default();
    let Some(connector) = siemtap_connectors::find(&name) else {
        let names: Vec<_> = siemtap_connectors::REGISTRY
            .iter()
            .map(|c| c.name)
            .collect();
        report_fatal(&format!(
            "unknown connector {name:?}; available: {} (declarative connectors run with --config)",
            names.join(", ")
        ));
        return Exit::Usage;
    };
    let env_debug = env
        .get(&format!("{}_DEBUG", connector.env_prefix))
        .and_then(|v| v.trim().parse::<u8>().ok())
        .map(|d| d.min(3));
    let debug = args.debug.or(env_debug).unwrap_or(0);
    if let Err(e) = logging::init(&logging::LogTarget::choose(args.log_file.as_deref()), debug) {
        report_fatal(&format!("{e:#}"));
        return Exit::Usage;
    }
    let output = match Output::parse(args.output.as_deref().unwrap_or("stdout")) {
        Ok(o) => o,
        Err(e) => {
            report_fatal(&e);
            return Exit::Usage;
        }
    };
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_path_buf()))
        .unwrap_or_else(|| ".".into());
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
        output,
        exe_dir,
    };
    run::execute(request, stop).await.exit
}
