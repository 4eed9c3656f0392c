//! `siemtap validate FILE...`: configuration and connector files checked without the network.
//! Exit 0 when every file is valid; 2 otherwise, with `FILE:LINE:COL: problem` per error.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ValidateArgs;
use crate::config::Config;
use crate::run::{Exit, http_config};
use crate::run_config::builtin_env;

/// Top-level keys that only a configuration file has.
const CONFIG_KEYS: &[&str] = &[
    "source",
    "output",
    "state_dir",
    "connector_dirs",
    "log_file",
    "secrets_file",
    "max_runtime",
    "debug",
];

fn is_config(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    match text.parse::<toml::Table>() {
        Ok(table) => table.keys().any(|k| CONFIG_KEYS.contains(&k.as_str())),
        // Unparsable: report it through the config loader (it names line and column).
        Err(_) => !path.to_string_lossy().contains("connector"),
    }
}

/// Problems in one configuration file (semantic checks after parsing), and warnings.
fn check_config(path: &Path, warnings: &mut Vec<String>) -> Vec<String> {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => return vec![e.to_string()],
    };
    let env: HashMap<String, String> = std::env::vars().collect();
    let http = match http_config(&env)
        .and_then(|c| siemtap_http::HttpClient::new(c).map_err(|e| e.to_string()))
    {
        Ok(h) => h,
        Err(e) => return vec![format!("{}: {e}", path.display())],
    };
    let mut problems = Vec::new();
    for source in &config.file.sources {
        let connector = source.connector.get_ref();
        let at = |msg: String| config.error_at(source.connector.span(), msg).to_string();
        if let Some(builtin) = siemtap_connectors::find(connector) {
            let state = config.state_file(source);
            let secrets = config.secrets_file();
            match builtin_env(
                builtin.env_prefix,
                siemtap_connectors::settings_for(builtin.name),
                source,
                &state,
                secrets,
                &env,
            ) {
                Err(m) => problems.push(at(m)),
                Ok(env) => {
                    let secret_names =
                        match crate::run_config::builtin_secret_names(builtin, source) {
                            Ok(names) => names,
                            Err(m) => {
                                problems.push(at(m));
                                continue;
                            }
                        };
                    for w in (builtin.warnings)(&env) {
                        tracing::warn!("{w}");
                        warnings.push(at(format!("warning: {w}")));
                    }
                    let ctx = siemtap_connectors::DropInContext {
                        env: &env,
                        http: http.clone(),
                        source: None,
                        lookback_hours: None,
                        exe_dir: config.base_dir(),
                        state_dir: config.base_dir(),
                        secret_names,
                    };
                    if let Err(e) = (builtin.drop_in)(&ctx) {
                        let f = e.failure;
                        if f.code == siemtap_core::ErrorCode::ConfigMissingCredential {
                            // Secrets may only exist where the run happens; say so, do not fail.
                            tracing::warn!("{}", at(format!("warning: {}", f.message)));
                        } else {
                            problems.push(at(f.message));
                        }
                    }
                }
            }
        } else {
            match config.find_connector_file(connector) {
                None => problems.push(at(format!(
                    "connector {connector:?} is neither built in ({}) nor a file {connector}.toml in {}",
                    siemtap_connectors::REGISTRY.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
                    config.connector_dirs().iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                ))),
                Some(file) => match siemtap_connectors::rest::load_file(&file) {
                    Err(e) => problems.push(e.to_string()),
                    // The dry run checks the settings against the variables the file declares.
                    Ok(spec) => {
                        if let Err(m) = crate::run_config::declarative_secret_names(source, &spec) {
                            problems.push(at(m));
                        }
                        if let Some(m) = check_declarative_settings(&spec, source, &http) {
                            problems.push(at(m));
                        }
                    }
                },
            }
        }
    }
    problems
}

/// Settings problems of a declarative source (unknown or missing variables), found by a dry
/// run that needs no secrets and no network.
fn check_declarative_settings(
    spec: &siemtap_connectors::rest::ConnectorSpec,
    source: &crate::config::SourceConfig,
    http: &siemtap_http::HttpClient,
) -> Option<String> {
    let chain =
        siemtap_secrets::CredentialChain::new(siemtap_secrets::ChainSources::default()).ok()?;
    let opts = siemtap_connectors::rest::SourceOptions {
        source_name: source.name.get_ref(),
        settings: &source.settings,
        chain: &chain,
        http: http.clone(),
        streams: source.streams.clone(),
        lookback: None,
    };
    match spec.plan(opts, &siemtap_core::StateStore::ephemeral()) {
        Err(f) if f.code == siemtap_core::ErrorCode::ConfigInvalid => Some(f.message),
        _ => None,
    }
}

/// Validates every file; prints one line per file (and per problem).
pub fn run(args: ValidateArgs) -> Exit {
    let _ = crate::logging::init(&crate::logging::LogTarget::choose(None), 0);
    let files: Vec<PathBuf> = args.config.into_iter().chain(args.files).collect();
    if files.is_empty() {
        crate::run::report_fatal(
            "give at least one file: siemtap validate FILE... (config or connector files)",
        );
        return Exit::Usage;
    }
    let mut out = std::io::stdout().lock();
    let mut ok = true;
    let kinds: Vec<(PathBuf, bool)> = files.iter().map(|f| (f.clone(), is_config(f))).collect();
    // Rule blocks of everything validated together (plus the built-in ones) must not overlap.
    let mut blocks = crate::wazuh_connector::block_problems(&kinds).into_iter();
    for file in &files {
        let mut warnings = Vec::new();
        let mut problems = if is_config(file) {
            check_config(file, &mut warnings)
        } else {
            match siemtap_connectors::rest::load_file(file) {
                Ok(spec) => {
                    let notes = spec.notes().into_iter();
                    warnings.extend(notes.map(|n| format!("{}: {n}", file.display())));
                    Vec::new()
                }
                Err(e) => vec![e.to_string()],
            }
        };
        problems.extend(blocks.next().unwrap_or_default());
        for w in &warnings {
            let _ = writeln!(out, "{w}");
        }
        if problems.is_empty() {
            let _ = writeln!(out, "{}: ok", file.display());
        } else {
            ok = false;
            for p in problems {
                let _ = writeln!(out, "{p}");
            }
        }
    }
    if ok { Exit::Ok } else { Exit::Usage }
}
