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
        let Some(file) = config.find_connector_file(connector) else {
            let _ = writeln!(out, "  error: connector file {connector}.toml not found");
            exit = Exit::Usage;
            continue;
        };
        let spec = match siemtap_connectors::rest::load_file(&file) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(out, "  error: {e}");
                exit = Exit::Usage;
                continue;
            }
        };
        let state_file = config.state_file(source);
        let store = if state_file.exists() {
            match StateStore::open(&state_file) {
                Ok(s) => s,
                Err(e) => {
                    let _ = writeln!(out, "  error: {e}");
                    exit = Exit::StateUnreadable;
                    continue;
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
                exit = Exit::Usage;
                continue;
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
                exit = Exit::Usage;
                continue;
            }
        };
        // A run needs every declared secret; a plan showing `REDACTED` for one that is not
        // there would promise a request that cannot be made.
        let missing: Vec<String> = spec
            .secret_names()
            .iter()
            .filter_map(|n| spec.secret_key(n).map(|k| (n, k)))
            .filter_map(|(n, k)| chain.get(k).err().map(|e| format!("secret `{n}`: {e}")))
            .collect();
        if !missing.is_empty() {
            for m in &missing {
                let _ = writeln!(out, "  error: {m}");
            }
            report_fatal(&format!(
                "source {name}: {} secret(s) missing: {}",
                missing.len(),
                missing.join("; ")
            ));
            exit = Exit::Usage;
            continue;
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
                exit = Exit::Usage;
            }
        }
    }
    exit
}
