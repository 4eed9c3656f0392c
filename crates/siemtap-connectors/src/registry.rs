//! The static list of built-in connectors.

use std::collections::HashMap;
use std::path::PathBuf;

use siemtap_core::shape::Shaper;
use siemtap_core::{Failure, Source};
use siemtap_http::HttpClient;

/// What the binary hands a connector for a drop-in run (`siemtap run NAME` without
/// `--config`): the environment the reference integration read, and the CLI overrides.
pub struct DropInContext<'a> {
    /// Snapshot of the process environment.
    pub env: &'a HashMap<String, String>,
    /// The shared HTTP client.
    pub http: HttpClient,
    /// `--source` (overrides the connector's env var).
    pub source: Option<&'a str>,
    /// `--lookback` hours (overrides the connector's env var).
    pub lookback_hours: Option<f64>,
    /// Directory of the running executable: where the reference kept state and secrets.
    pub exe_dir: PathBuf,
    /// Where default state files go (`<connector>.state.json` when `<PREFIX>_STATE_FILE` is
    /// unset): `--state-dir`, else `exe_dir`.
    pub state_dir: PathBuf,
    /// Per-source secret names (`[source.secrets]` in a config file): standard env name ->
    /// the name looked up instead in every tier. Empty for drop-in runs.
    pub secret_names: HashMap<String, String>,
}

/// A drop-in run, ready to go.
pub struct DropIn {
    /// The state file all sources of this run share.
    pub state_file: PathBuf,
    /// One source per tenant.
    pub sources: Vec<Box<dyn Source>>,
    /// Failures found while building (e.g. an invalid tenant entry); each is reported as an
    /// error event, and the remaining sources still run.
    pub failures: Vec<Failure>,
    /// Shapes error events that belong to no source (startup failures).
    pub shaper: Box<dyn Shaper>,
}

/// A configuration failure that stops the run: report `failure` with `shaper`, exit 2.
pub struct DropInError {
    /// The failure to report.
    pub failure: Failure,
    /// Shapes it as the connector's error event.
    pub shaper: Box<dyn Shaper>,
}

/// One built-in connector.
pub struct Connector {
    /// Name used on the command line (`1password`).
    pub name: &'static str,
    /// Prefix of the drop-in environment variables (`OP` for `OP_BASE_URL`, `OP_DEBUG`, ...).
    pub env_prefix: &'static str,
    /// `[source.settings]` keys a config file may give it: its drop-in variables without the
    /// prefix, in lower case.
    pub settings: &'static [&'static str],
    /// Credentials it reads from the chain (`[source.secrets]` may rename them).
    pub credentials: &'static [siemtap_secrets::CredentialKey],
    /// Streams, in run order (`--source` values).
    pub streams: &'static [&'static str],
    /// Warnings about a configuration that works but will hurt (e.g. a schedule over the
    /// vendor's daily quota), from the drop-in environment; shown by `validate` and `plan`.
    pub warnings: fn(&HashMap<String, String>) -> Vec<String>,
    /// Builds a drop-in run from the environment.
    pub drop_in: fn(&DropInContext<'_>) -> Result<DropIn, DropInError>,
}

/// A `warnings` hook for connectors with nothing to warn about.
pub fn no_warnings(_: &HashMap<String, String>) -> Vec<String> {
    Vec::new()
}

/// Every built-in connector.
pub static REGISTRY: &[Connector] = &[
    crate::onepassword::CONNECTOR,
    crate::proofpoint::CONNECTOR,
    crate::cortex_xdr::CONNECTOR,
];

/// The `[source.settings]` keys a config file may give a built-in connector (empty for an
/// unknown name).
pub fn settings_for(name: &str) -> &'static [&'static str] {
    find(name).map_or(&[], |c| c.settings)
}

/// Looks a connector up by name (case-insensitive).
pub fn find(name: &str) -> Option<&'static Connector> {
    REGISTRY.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}
