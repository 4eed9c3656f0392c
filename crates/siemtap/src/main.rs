//! siemtap: pull security events from vendor APIs into Wazuh and other SIEMs.
//!
//! The binary is thin: it parses the command line, sets up logging and the runtime, and wires
//! a connector, the state store and a sink together (see `run.rs`).

mod cli;
mod demo;
mod logging;
mod run;
mod sim_cmd;
mod state_cmd;
mod wazuh_cmd;

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

async fn run_command(args: RunArgs) -> Exit {
    let env: HashMap<String, String> = std::env::vars().collect();
    let Some(connector) = siemtap_connectors::find(&args.connector) else {
        let names: Vec<_> = siemtap_connectors::REGISTRY
            .iter()
            .map(|c| c.name)
            .collect();
        report_fatal(&format!(
            "unknown connector {:?}; available: {}",
            args.connector,
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
    let output = match Output::parse(&args.output) {
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
        max_runtime: (args.max_runtime > 0).then(|| Duration::from_secs(args.max_runtime)),
        output,
        exe_dir,
    };
    run::execute(request, stop).await.exit
}
