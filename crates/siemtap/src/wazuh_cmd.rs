//! `siemtap wazuh rules|decoders|tests|check|test|eval|logtest|ossec-conf|install`: generated
//! Wazuh artefacts, the rule checker, the offline rule evaluator, the logtest-socket client and
//! the manager install.
//!
//! Exit codes: 0 success; 1 the checked files or tests failed (or the install stopped);
//! 2 usage error (unknown connector, unreadable file, bad option).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use siemtap_wazuh::check::check_sources;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::BUILTIN;
use siemtap_wazuh::ini;
use siemtap_wazuh::install::{
    InstallOptions, default_systemd_dir, execute, plan, render_plan, selected_credentials, stanzas,
    state_beside_the_binary,
};
use siemtap_wazuh::install_files::encrypt_commands;
use siemtap_wazuh::logtest::{DEFAULT_LOGTEST_SOCKET, LogtestClient};
use siemtap_wazuh::ossec_conf::{DEFAULT_PREFIX, WodleOptions, sha256_file, wodle_stanza};
use siemtap_wazuh::parse::Severity;
use siemtap_wazuh::render::render_file;

use crate::run::Exit;

/// `siemtap wazuh`.
#[derive(Debug, Args)]
pub struct WazuhArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: WazuhAction,
}

/// Wazuh actions.
#[derive(Debug, Subcommand)]
pub enum WazuhAction {
    /// Print rules XML for a connector (all built-in connectors when omitted).
    Rules {
        /// Connector (`1password`, `proofpoint`, `cortex_xdr`, or a declarative one with --block).
        connector: Option<String>,
        /// First id of the connector's 100-id block (relocates a built-in block; required
        /// for declarative connectors).
        #[arg(long)]
        block: Option<u32>,
        /// Namespace key of a declarative connector's events (default: its name).
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Print decoders: none are needed (Wazuh's stock json decoder decodes siemtap events).
    Decoders {
        /// Connector (accepted for symmetry with `rules`).
        connector: Option<String>,
    },
    /// Print Wazuh INI rule tests for a connector.
    Tests {
        /// Connector.
        connector: String,
        /// As for `rules`.
        #[arg(long)]
        block: Option<u32>,
        /// As for `rules`.
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Check rule and decoder files: exit 0 when Wazuh would load them as meant.
    Check {
        /// Files, in load order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run Wazuh INI rule tests on the offline evaluator.
    Test {
        /// INI test file (before or after the --rules list: a `.ini` path is never a rules file).
        file: Vec<PathBuf>,
        /// Rules files, in load order.
        #[arg(long, required = true, num_args = 1..)]
        rules: Vec<PathBuf>,
    },
    /// Evaluate events from stdin (one JSON line each, one session) and print the rule hit.
    Eval {
        /// Rules files, in load order.
        #[arg(long, required = true, num_args = 1..)]
        rules: Vec<PathBuf>,
    },
    /// Run Wazuh INI rule tests through a manager's logtest socket (optional: needs a running
    /// Wazuh 4.x analysisd with the rules installed).
    Logtest {
        /// INI test file.
        file: PathBuf,
        /// The logtest socket (AF_UNIX stream).
        #[arg(long, default_value = DEFAULT_LOGTEST_SOCKET)]
        socket: PathBuf,
        /// Event location (`wazuh-logtest` uses `stdin`).
        #[arg(long, default_value = ini::LOCATION)]
        location: String,
    },
    /// Print the ossec.conf command-wodle stanza for a connector.
    OssecConf {
        /// Connector.
        connector: String,
        /// Deliver through the analysisd socket (`<ignore_output>yes`), not stdout.
        #[arg(long)]
        socket: bool,
        /// `<interval>`.
        #[arg(long, default_value = "5m")]
        interval: String,
        /// `<timeout>` seconds; `--max-runtime` is set below it.
        #[arg(long, default_value_t = 280)]
        timeout: u64,
        /// Wazuh prefix.
        #[arg(long, default_value = DEFAULT_PREFIX)]
        prefix: String,
        /// Add `<verify_sha256>` with the hash of this file (the installed binary).
        #[arg(long)]
        sha256_of: Option<PathBuf>,
    },
    /// Print a connector's Wazuh 5.x bundle (integration, decoders, rules, kvdbs) as JSON.
    Bundle(crate::wazuh5_cmd::BundleArgs),
    /// Run the offline 5.x checks on a bundle file.
    Check5(crate::wazuh5_cmd::Check5Args),
    /// Install into a Wazuh 4.x manager: wodle directory, binary, sample config, secrets
    /// template, rules, systemd units (not enabled); prints or merges the ossec.conf stanzas.
    Install {
        /// Wazuh prefix.
        #[arg(long, default_value = DEFAULT_PREFIX)]
        prefix: PathBuf,
        /// Print the plan only.
        #[arg(long)]
        dry_run: bool,
        /// Leave owners alone (packaging, tests); modes are still set.
        #[arg(long)]
        skip_chown: bool,
        /// Install rules for these connectors only (default: all built-in).
        #[arg(long = "connector")]
        connectors: Vec<String>,
        /// Merge the wodle stanzas into PREFIX/etc/ossec.conf (idempotent, backup
        /// ossec.conf.siemtap.bak) instead of printing them.
        #[arg(long)]
        merge_ossec_conf: bool,
        /// Where the systemd service, timer and credential drop-ins go (default:
        /// ROOT/etc/systemd/system when the prefix is ROOT/var/ossec, else none).
        #[arg(long, conflicts_with = "no_systemd")]
        systemd_dir: Option<PathBuf>,
        /// Do not install the systemd units.
        #[arg(long)]
        no_systemd: bool,
    },
}

fn out(text: &str) -> Exit {
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|_| o.flush()) {
        Ok(()) => Exit::Ok,
        Err(_) => Exit::Delivery,
    }
}

/// Messages for a person: stderr (these commands are never run as a wodle).
fn say(text: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{text}");
    }
}

fn read_all(files: &[PathBuf]) -> Result<Vec<(String, String)>, Exit> {
    files
        .iter()
        .map(|f| match std::fs::read_to_string(f) {
            Ok(t) => Ok((f.display().to_string(), t)),
            Err(e) => {
                say(&format!("siemtap: cannot read {}: {e}", f.display()));
                Err(Exit::Usage)
            }
        })
        .collect()
}

/// Loads rules for `test`/`eval`; refuses files with checker errors.
fn load_engine(files: &[PathBuf]) -> Result<Engine, Exit> {
    let sources = read_all(files)?;
    let report = check_sources(&sources);
    if report.has_errors() {
        for d in report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            say(&d.to_string());
        }
        say("siemtap: fix the rules first (`siemtap wazuh check`)");
        return Err(Exit::Delivery);
    }
    let engine = Engine::new(report.rules());
    for p in &engine.problems {
        say(&format!("note: {p}"));
    }
    Ok(engine)
}

/// Runs a wazuh action.
pub fn run(args: WazuhArgs) -> Exit {
    match args.action {
        WazuhAction::Rules {
            connector,
            block,
            namespace,
        } => {
            let names: Vec<String> = match connector {
                Some(c) => vec![c],
                None if block.is_some() => {
                    say("siemtap: --block needs a CONNECTOR");
                    return Exit::Usage;
                }
                None => BUILTIN.iter().map(|b| b.name.to_string()).collect(),
            };
            let mut text = String::new();
            for n in names {
                match crate::wazuh_connector::rules(&n, block, namespace.as_deref()) {
                    Ok((f, note)) => {
                        note.inspect(|n| say(n));
                        text.push_str(&render_file(&f));
                    }
                    Err(e) => {
                        say(&format!("siemtap: {e}"));
                        return Exit::Usage;
                    }
                }
            }
            out(&text)
        }
        WazuhAction::Decoders { .. } => out(
            "<!-- siemtap needs no decoder: its events are one-line JSON objects starting {\", which\n     \
             Wazuh's stock `json` decoder decodes (a custom top-level JSON decoder would be shadowed\n     \
             by it). Rules start from <decoded_as>json</decoded_as> and route on `integration`. -->\n",
        ),
        WazuhAction::Tests {
            connector,
            block,
            namespace,
        } => match crate::wazuh_connector::tests(&connector, block, namespace.as_deref()) {
            Ok((t, note)) => {
                note.inspect(|n| say(n));
                out(&t)
            }
            Err(e) => {
                say(&format!("siemtap: {e}"));
                Exit::Usage
            }
        },
        WazuhAction::Check { files } => {
            let sources = match read_all(&files) {
                Ok(s) => s,
                Err(e) => return e,
            };
            let report = check_sources(&sources);
            for d in &report.diagnostics {
                say(&d.to_string());
            }
            if report.has_errors() {
                Exit::Delivery
            } else {
                let rules: usize = report.files.iter().map(|f| f.rules.len()).sum();
                let decoders: usize = report.files.iter().map(|f| f.decoders.len()).sum();
                say(&format!(
                    "ok: {} file(s), {rules} rule(s), {decoders} decoder(s)",
                    files.len()
                ));
                Exit::Ok
            }
        }
        WazuhAction::Test { file, rules } => match ini::split_test_args(file, rules) {
            Ok((file, rules)) => test(&file, &rules),
            Err(e) => {
                say(&format!("siemtap: {e}"));
                Exit::Usage
            }
        },
        WazuhAction::Eval { rules } => eval(&rules),
        WazuhAction::Bundle(a) => crate::wazuh5_cmd::bundle(a),
        WazuhAction::Check5(a) => crate::wazuh5_cmd::check5(a),
        WazuhAction::Logtest {
            file,
            socket,
            location,
        } => logtest(&file, socket, location),
        WazuhAction::OssecConf {
            connector,
            socket,
            interval,
            timeout,
            prefix,
            sha256_of,
        } => {
            let sha256 = match sha256_of
                .map(|p| sha256_file(&p).map_err(|e| (p, e)))
                .transpose()
            {
                Ok(h) => h,
                Err((p, e)) => {
                    say(&format!("siemtap: cannot hash {}: {e}", p.display()));
                    return Exit::Usage;
                }
            };
            let o = WodleOptions {
                connector,
                socket,
                interval,
                timeout,
                prefix,
                sha256,
                disabled: false,
            };
            match wodle_stanza(&o) {
                Ok(s) => out(&s),
                Err(e) => {
                    say(&format!("siemtap: {e}"));
                    Exit::Usage
                }
            }
        }
        WazuhAction::Install {
            prefix,
            dry_run,
            skip_chown,
            connectors,
            merge_ossec_conf,
            systemd_dir,
            no_systemd,
        } => {
            let systemd_dir = match (no_systemd, systemd_dir) {
                (true, _) => None,
                (false, Some(d)) => Some(d),
                (false, None) => default_systemd_dir(&prefix),
            };
            let binary = match std::env::current_exe() {
                Ok(b) => b,
                Err(e) => {
                    say(&format!("siemtap: cannot locate the running binary: {e}"));
                    return Exit::Usage;
                }
            };
            let opts = InstallOptions {
                prefix,
                binary,
                connectors,
                systemd_dir,
                merge_ossec_conf,
            };
            install_cmd(&opts, dry_run, skip_chown)
        }
    }
}

fn test(file: &PathBuf, rules: &[PathBuf]) -> Exit {
    let engine = match load_engine(rules) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let sections = match read_ini(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let results = ini::run(&engine, &sections);
    let failed = report_results(file, &results);
    let code = out(&format!(
        "{} passed, {failed} failed\n",
        results.len() - failed
    ));
    if failed == 0 { code } else { Exit::Delivery }
}

fn read_ini(file: &PathBuf) -> Result<Vec<ini::Section>, Exit> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        say(&format!("siemtap: cannot read {}: {e}", file.display()));
        Exit::Usage
    })?;
    ini::parse(&file.display().to_string(), &text).map_err(|e| {
        say(&format!("siemtap: {e}"));
        Exit::Usage
    })
}

fn report_results(file: &std::path::Path, results: &[ini::LineResult]) -> usize {
    let failed: Vec<_> = results.iter().filter(|r| !r.ok).collect();
    for r in &failed {
        say(&format!(
            "{}:{}: FAILED [{}] {}: expected {}{}, got {} ({})",
            file.display(),
            r.line,
            r.section,
            r.key,
            if r.key.ends_with("fail") { "not " } else { "" },
            r.expected,
            if r.got == "::" {
                "no decoder".to_string()
            } else {
                r.got.clone()
            },
            r.description
        ));
    }
    failed.len()
}

/// `siemtap wazuh logtest`: the INI tests over a real manager's logtest socket.
fn logtest(file: &PathBuf, socket: PathBuf, location: String) -> Exit {
    let sections = match read_ini(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let client = LogtestClient::new(socket).with_location(location);
    let (results, warnings) = match client.run_sections(&sections) {
        Ok(r) => r,
        Err(e) => {
            say(&format!("siemtap: {e}"));
            return Exit::Delivery;
        }
    };
    let failed = report_results(file, &results);
    for w in &warnings {
        say(&format!(
            "siemtap: analysisd warned while loading rules (fix the rules): {w}"
        ));
    }
    let code = out(&format!(
        "{} passed, {failed} failed, {} rule-loading warning(s)\n",
        results.len() - failed,
        warnings.len()
    ));
    if failed == 0 && warnings.is_empty() {
        code
    } else {
        Exit::Delivery
    }
}

fn eval(rules: &[PathBuf]) -> Exit {
    let engine = match load_engine(rules) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut session = engine.session();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for (i, line) in stdin.lock().lines().enumerate() {
        let Ok(line) = line else { return Exit::Usage };
        if line.trim().is_empty() {
            continue;
        }
        let o = session.process(&line, ini::LOCATION, i as i64);
        let v = match &o.rule {
            Some(f) => {
                serde_json::json!({"rule": f.id.to_string(), "level": f.level, "decoder": o.decoder, "description": f.description, "groups": f.groups})
            }
            None => serde_json::json!({"rule": null, "level": null, "decoder": o.decoder}),
        };
        if writeln!(stdout, "{v}").is_err() {
            return Exit::Delivery;
        }
    }
    Exit::Ok
}

/// What to do after the files are in place: ossec.conf (stanzas printed unless merged),
/// credentials, the timer (never enabled by the install), restart.
fn next_steps(o: &InstallOptions, stanza_text: &str, dry_run: bool) -> String {
    let p = o.prefix.display();
    let mut t = String::from("\nnext steps:\n");
    let stale = state_beside_the_binary(&o.prefix);
    if !stale.is_empty() {
        let names: Vec<String> = stale.iter().map(|s| s.display().to_string()).collect();
        t.push_str(&format!(
            "- state of an older version is beside the binary, which the wazuh user cannot write: {}. Move it where the stanza's --state-dir points, before the next run: mv {p}/wodles/siemtap/*.state.json {p}/var/wodles/siemtap/ && rm -f {p}/wodles/siemtap/*.state.json.lock && chown wazuh:wazuh {p}/var/wodles/siemtap/*.state.json\n",
            names.join(", ")
        ));
    }
    if o.merge_ossec_conf {
        t.push_str(&format!(
            "- {p}/etc/ossec.conf: the siemtap block is merged{} (socket sink, output ignored); restart the manager to apply it: systemctl restart wazuh-manager\n",
            if dry_run { " by a real install" } else { "" }
        ));
    } else {
        t.push_str(&format!(
            "- add to {p}/etc/ossec.conf (or install again with --merge-ossec-conf), then restart the manager (systemctl restart wazuh-manager):\n\n{stanza_text}\n"
        ));
    }
    t.push_str(&format!(
        "- credentials: fill in {p}/wodles/siemtap/.secrets (0640 root:wazuh, keys commented out), or use systemd credentials below\n\
         - rules only changed: PUT /manager/analysisd/reload (4.13+) instead of a restart\n"
    ));
    if let Some(sd) = &o.systemd_dir {
        t.push_str(&format!(
            "- systemd (instead of the ossec.conf wodle for a connector, never both): units are in {}, NOT enabled. Per connector:\n",
            sd.display()
        ));
        for c in selected_credentials(o) {
            t.push_str(&format!("    # {}\n", c.connector));
            for cmd in encrypt_commands(c) {
                t.push_str(&format!("    {cmd}\n"));
            }
            t.push_str(&format!(
                "    systemctl daemon-reload && systemctl enable --now siemtap@{}.timer\n",
                c.connector
            ));
        }
    } else {
        t.push_str("- systemd units not installed (prefix not ROOT/var/ossec, or --no-systemd): pass --systemd-dir to install them\n");
    }
    t
}

fn install_cmd(o: &InstallOptions, dry_run: bool, skip_chown: bool) -> Exit {
    let steps = match plan(o) {
        Ok(s) => s,
        Err(e) => {
            say(&format!("siemtap: {e}"));
            return Exit::Delivery;
        }
    };
    let stanza_text = match stanzas(o) {
        Ok(s) => s.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join("\n"),
        Err(e) => {
            say(&format!("siemtap: {e}"));
            return Exit::Delivery;
        }
    };
    let next = next_steps(o, &stanza_text, dry_run);
    if dry_run {
        return out(&format!(
            "plan (dry run, nothing written):\n{}{next}",
            render_plan(&steps)
        ));
    }
    match execute(&steps, skip_chown) {
        Ok(done) => {
            let backup = done
                .ossec_conf_backup
                .map(|b| {
                    format!(
                        "ossec.conf changed; the previous version is in {}\n",
                        b.display()
                    )
                })
                .unwrap_or_default();
            out(&format!(
                "installed: {} path(s) written, {} kept as they were\n{}{backup}{next}",
                done.changed.len(),
                done.kept.len(),
                render_plan(&steps)
            ))
        }
        Err(e) => {
            say(&format!("siemtap: {e}"));
            Exit::Delivery
        }
    }
}
