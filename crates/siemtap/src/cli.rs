//! The command line (clap derive). Flags keep the meaning they had in the reference Python
//! integrations, so siemtap drops in behind an existing `run.sh` and ossec.conf stanza.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// siemtap pulls security events from vendor APIs into Wazuh and other SIEMs,
/// exactly once, with secrets that cannot leak.
#[derive(Debug, Parser)]
#[command(name = "siemtap", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect events once (Wazuh command wodle / systemd timer mode).
    Run(RunArgs),
    /// Check configuration and connector files without touching the network.
    Validate(ValidateArgs),
    /// Dry run: the first request each source would make and the cursor it would store.
    Plan(PlanArgs),
    /// Run the embedded demo: a 1Password simulator and the full pipeline, twice.
    Demo(DemoArgs),
    /// Serve a vendor API simulator on loopback (tests, demos, SIEM pipeline checks).
    Sim(SimArgs),
    /// Inspect or change a state file.
    State(StateArgs),
    /// Wazuh artefacts: rules, rule tests, checker, evaluator, ossec.conf stanza, install.
    Wazuh(crate::wazuh_cmd::WazuhArgs),
}

/// `siemtap run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Connector to run with its drop-in environment variables (e.g. `1password`). Not used
    /// with `--config`.
    #[arg(required_unless_present = "config", conflicts_with = "config")]
    pub connector: Option<String>,
    /// Configuration file with one or more sources (built-in or declarative connectors).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Drop-in mode: streams to collect (`audit`, `signin`, `itemusage`, `all`, or a comma
    /// list). With `--config`: the sources to run (comma list of names).
    #[arg(long)]
    pub source: Option<String>,
    /// Ignore the state and do not update it (backfill / test run).
    #[arg(long)]
    pub all: bool,
    /// First-run window in hours (fractional allowed).
    #[arg(long)]
    pub lookback: Option<f64>,
    /// Log verbosity: 0 warnings and errors, 1 info, 2 debug, 3 trace.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    pub debug: Option<u8>,
    /// Run budget in seconds: no new page starts after it (0 = no budget, at most 604800 =
    /// 7 days). Keep it below the wodle's `<timeout>`.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=crate::config::MAX_RUNTIME_LIMIT_SECS))]
    pub max_runtime: Option<u64>,
    /// Log file. Diagnostics never go to stdout; they go to stderr only with `--log-file
    /// stderr` or when stderr is a terminal.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Where events go: `stdout`, `file:PATH` or `wazuh-socket[:PATH]` (analysisd's queue
    /// socket, default /var/ossec/queue/sockets/queue; settings in docs/wazuh.md). Give it
    /// several times to send every event to each (fan-out): a cursor moves only once every
    /// output accepted the page.
    #[arg(long)]
    pub output: Vec<String>,
    /// User to run as when started as root (default `wazuh`; also `SIEMTAP_USER` or the config
    /// key `user`). `root` keeps root, with a warning. Started as another user: no switch, and
    /// a different user here is an error.
    #[arg(long)]
    pub user: Option<String>,
    /// Drop-in mode: directory of the default state file (`<connector>.state.json`) when
    /// `<PREFIX>_STATE_FILE` is unset; default beside the binary. The Wazuh stanza passes
    /// `var/wodles/siemtap`, which the `wazuh` user can write (the binary's directory is not).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

/// `siemtap validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Configuration files and connector files.
    pub files: Vec<PathBuf>,
    /// A configuration file (same as giving it as a file).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `siemtap plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The configuration file.
    #[arg(long)]
    pub config: PathBuf,
}

/// `siemtap demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Events per stream the simulator makes.
    #[arg(long, default_value_t = 200)]
    pub events: u64,
    /// Directory for the demo's state, log and output (recreated on each demo).
    #[arg(long, default_value = "siemtap-demo")]
    pub dir: PathBuf,
}

/// `siemtap sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Which vendor.
    #[command(subcommand)]
    pub vendor: SimVendor,
}

/// Simulated vendors.
#[derive(Debug, Subcommand)]
pub enum SimVendor {
    /// 1Password Events API.
    #[command(name = "1password")]
    OnePassword(siemtap_sim::OnePasswordArgs),
    /// Cortex XDR public API (alerts, incidents).
    #[command(name = "cortex_xdr")]
    CortexXdr(siemtap_sim::CortexXdrArgs),
    /// Proofpoint TAP (SIEM and People APIs).
    #[command(name = "proofpoint")]
    Proofpoint(siemtap_sim::ProofpointArgs),
    /// Example REST APIs for declarative connectors (Okta-style logs, OAuth2 + Graph-style
    /// alerts, a page-number API).
    #[command(name = "rest")]
    Rest(siemtap_sim::RestArgs),
}

/// `siemtap state`.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// What to do with the state file.
    #[command(subcommand)]
    pub action: StateAction,
    /// `reset` and `rewind` started as root run as this user (default `wazuh`, or
    /// `SIEMTAP_USER`), like `siemtap run`; `root` keeps root.
    #[arg(long, global = true)]
    pub user: Option<String>,
}

/// State file actions.
#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Print the state file (ledgers summarised unless --full).
    Show {
        /// The state file.
        #[arg(long)]
        state_file: PathBuf,
        /// Print ledgers in full.
        #[arg(long)]
        full: bool,
    },
    /// Forget streams so they start over from the lookback window.
    Reset {
        /// The state file.
        #[arg(long)]
        state_file: PathBuf,
        /// Stream keys to reset (e.g. `signin`, `client-a.audit`); all when omitted.
        #[arg(long = "stream")]
        streams: Vec<String>,
    },
    /// Move a stream back to a point in time: its cursor and ledger are dropped and the next
    /// run restarts from TIME minus the overlap.
    Rewind {
        /// The state file.
        #[arg(long)]
        state_file: PathBuf,
        /// Stream key (e.g. `signin`, `client-a.audit`).
        #[arg(long)]
        stream: String,
        /// RFC 3339 time, e.g. `2026-11-20T00:00:00Z`.
        #[arg(long)]
        to: String,
    },
}
