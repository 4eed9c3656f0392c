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
use siemtap_wazuh::generate::{BUILTIN, rules_for};
use siemtap_wazuh::ini;
use siemtap_wazuh::install::{InstallOptions, execute, plan, render_plan};
use siemtap_wazuh::logtest::{DEFAULT_LOGTEST_SOCKET, LogtestClient};
use siemtap_wazuh::ossec_conf::{DEFAULT_PREFIX, WodleOptions, sha256_file, wodle_stanza};
use siemtap_wazuh::parse::Severity;
use siemtap_wazuh::render::render_file;
use siemtap_wazuh::testgen::render_tests;

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
        /// INI test file.
        file: PathBuf,
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
    /// Install the binary and rules into a Wazuh 4.x manager.
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
                match rules_for(&n, block, namespace.as_deref()) {
                    Ok(f) => text.push_str(&render_file(&f)),
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
        } => match render_tests(&connector, block, namespace.as_deref()) {
            Ok(t) => out(&t),
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
        WazuhAction::Test { file, rules } => test(&file, &rules),
        WazuhAction::Eval { rules } => eval(&rules),
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
        } => install_cmd(prefix, dry_run, skip_chown, connectors),
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

fn install_cmd(prefix: PathBuf, dry_run: bool, skip_chown: bool, connectors: Vec<String>) -> Exit {
    let binary = match std::env::current_exe() {
        Ok(b) => b,
        Err(e) => {
            say(&format!("siemtap: cannot locate the running binary: {e}"));
            return Exit::Usage;
        }
    };
    let opts = InstallOptions {
        prefix: prefix.clone(),
        binary,
        connectors,
    };
    let steps = match plan(&opts) {
        Ok(s) => s,
        Err(e) => {
            say(&format!("siemtap: {e}"));
            return Exit::Delivery;
        }
    };
    let prefix_s = prefix.display().to_string();
    let next = format!(
        "next: add a stanza to {prefix_s}/etc/ossec.conf (`siemtap wazuh ossec-conf CONNECTOR --socket --prefix {prefix_s} --sha256-of {prefix_s}/wodles/siemtap/siemtap`), put credentials in {prefix_s}/wodles/siemtap/.secrets, then restart the manager (rules alone: PUT /manager/analysisd/reload on 4.13+).\n"
    );
    if dry_run {
        return out(&format!(
            "plan (dry run, nothing written):\n{}{next}",
            render_plan(&steps)
        ));
    }
    match execute(&steps, skip_chown) {
        Ok(done) => out(&format!(
            "installed: {} path(s) written, {} kept as they were\n{}{next}",
            done.changed.len(),
            done.kept.len(),
            render_plan(&steps)
        )),
        Err(e) => {
            say(&format!("siemtap: {e}"));
            Exit::Delivery
        }
    }
}
