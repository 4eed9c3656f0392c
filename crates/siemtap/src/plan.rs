//! `siemtap plan --config F`: for each source, the first request each stream would make from
//! its current state (secrets redacted) and the cursor it would store. Nothing is sent,
//! emitted or committed.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use siemtap_core::StateStore;

use crate::cli::PlanArgs;
use crate::config::{Config, parse_duration};
use crate::run::{Exit, http_config, report_fatal};

/// Prints the plan.
pub async fn run(args: PlanArgs) -> Exit {
    let _ = crate::logging::init(&crate::logging::LogTarget::choose(None), 0);
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            report_fatal(&e.to_string());
            return Exit::Usage;
        }
    };
    let env: HashMap<String, String> = std::env::vars().collect();
    let http = match http_config(&env)
        .and_then(|c| siemtap_http::HttpClient::new(c).map_err(|e| e.to_string()))
    {
        Ok(h) => h,
        Err(e) => {
            report_fatal(&e);
            return Exit::Usage;
        }
    };
    let mut out = std::io::stdout().lock();
    let mut exit = Exit::Ok;
    for source in config.file.sources.iter().filter(|s| !s.disabled) {
        let name = source.name.get_ref();
        let connector = source.connector.get_ref();
        let _ = writeln!(out, "source {name} (connector {connector})");
        if let Some(builtin) = siemtap_connectors::find(connector) {
            let state = config.state_file(source);
            let secrets = config.secrets_file();
            let allowed = siemtap_connectors::settings_for(builtin.name);
            match crate::run_config::builtin_env(
                builtin.env_prefix,
                allowed,
                source,
                &state,
                secrets,
                &env,
            ) {
                Ok(env) => {
                    for w in (builtin.warnings)(&env) {
                        let _ = writeln!(out, "  warning: {w}");
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "  error: {e}");
                    exit = Exit::Usage;
                }
            }
            let _ = writeln!(
                out,
                "  built-in connector: its requests are described in docs/connectors/{}.md; request-level plans are shown for declarative connectors",
                builtin.name
            );
            continue;
        }
        let code = plan_declarative(&mut out, &config, source, &env, &http);
        if code != Exit::Ok {
            exit = code;
        }
    }
    exit
}

/// The plan of one declarative source; `Exit::Ok` or the exit code its error calls for.
fn plan_declarative(
    out: &mut impl Write,
    config: &Config,
    source: &crate::config::SourceConfig,
    env: &HashMap<String, String>,
    http: &siemtap_http::HttpClient,
) -> Exit {
    let name = source.name.get_ref();
    let connector = source.connector.get_ref();
    let Some(file) = config.find_connector_file(connector) else {
        let _ = writeln!(out, "  error: connector file {connector}.toml not found");
        return Exit::Usage;
    };
    let spec = match siemtap_connectors::rest::load_file(&file) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "  error: {e}");
            return Exit::Usage;
        }
    };
    let state_file = config.state_file(source);
    let store = if state_file.exists() {
        match StateStore::open(&state_file) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(out, "  error: {e}");
                return Exit::StateUnreadable;
            }
        }
    } else {
        StateStore::ephemeral()
    };
    let secrets_file = config.secrets_file();
    let renames = match crate::run_config::declarative_secret_names(source, &spec) {
        Ok(r) => r,
        Err(m) => {
            let _ = writeln!(out, "  error: {m}");
            return Exit::Usage;
        }
    };
    let chain = match siemtap_secrets::CredentialChain::new(siemtap_secrets::ChainSources {
        credentials_directory: env
            .get("CREDENTIALS_DIRECTORY")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from),
        secrets_file,
        env: env.clone(),
        renames,
    }) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(out, "  error: {e}");
            return Exit::Usage;
        }
    };
    // A run needs every declared secret; a plan showing `REDACTED` for one that is not
    // there would promise a request that cannot be made.
    let missing = missing_secrets(&spec, &chain);
    if !missing.is_empty() {
        for m in &missing {
            let _ = writeln!(out, "  error: {m}");
        }
        report_fatal(&format!(
            "source {name}: {} secret(s) missing: {}",
            missing.len(),
            missing.join("; ")
        ));
        return Exit::Usage;
    }
    let opts = siemtap_connectors::rest::SourceOptions {
        source_name: name,
        settings: &source.settings,
        chain: &chain,
        http: http.clone(),
        streams: source.streams.clone(),
        lookback: source
            .lookback
            .as_ref()
            .and_then(|l| parse_duration(l.get_ref())),
    };
    match spec.plan(opts, &store) {
        Ok(requests) => {
            for r in requests {
                let _ = writeln!(out, "  stream {}: {} {}", r.stream, r.method, r.url);
                for (k, v) in &r.headers {
                    let _ = writeln!(out, "    {k}: {v}");
                }
                if let Some(body) = &r.body {
                    let _ = writeln!(out, "    body: {body}");
                }
                let _ = writeln!(out, "    cursor: {}", r.cursor_note);
            }
        }
        Err(f) => {
            let _ = writeln!(out, "  error: {}: {}", f.code, f.message);
            return Exit::Usage;
        }
    }
    Exit::Ok
}

/// The declared secrets of `spec` the chain cannot supply, each with the chain's message
/// (names and places only, never a value).
fn missing_secrets(
    spec: &siemtap_connectors::rest::ConnectorSpec,
    chain: &siemtap_secrets::CredentialChain,
) -> Vec<String> {
    spec.secret_names()
        .iter()
        .filter_map(|n| spec.secret_key(n).map(|k| (n, k)))
        .filter_map(|(n, k)| chain.get(k).err().map(|e| format!("secret `{n}`: {e}")))
        .collect()
}
