//! `siemtap run --config F` and `siemtap validate`: sources from a configuration file, errors
//! naming file, line and key.

use crate::harness::*;

fn write(work: &Workdir, name: &str, text: &str) -> std::path::PathBuf {
    let p = work.path(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn siemtap(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    siemtap_clean(args, env)
}

#[test]
fn config_runs_a_builtin_source_with_settings() {
    let sim = Sim::start(&["--seed", "31", "--events", "70"]);
    let work = Workdir::new();
    let config = write(
        &work,
        "siemtap.toml",
        &format!(
            r#"
log_file = "siemtap.log"
state_dir = "state"
output = "file:events.jsonl"
max_runtime = "60s"

[[source]]
name = "corp-1password"
connector = "1password"
[source.settings]
base_url = "{}"
page_limit = 25
requests_per_second = 100
"#,
            sim.base
        ),
    );
    let cfg = config.to_str().unwrap();
    let out = siemtap(&["run", "--config", cfg], &[("OP_BEARER_TOKEN", TOKEN)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let events = lines(&work.read("events.jsonl"));
    assert_exact(&ids_by_stream(&events), &sim.oracle(None));
    assert!(
        work.path("state/corp-1password.json").exists(),
        "state file named after the source"
    );
    // The page limit from the settings reached the requests.
    let requests = sim.requests();
    let limits: Vec<_> = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["limit"].as_u64())
        .collect();
    assert!(limits.contains(&25), "{limits:?}");
    // Second run: nothing new.
    let again = siemtap(&["run", "--config", cfg], &[("OP_BEARER_TOKEN", TOKEN)]);
    assert_eq!(again.status.code(), Some(0));
    let all = lines(&work.read("events.jsonl"));
    assert_eq!(all.len(), events.len() + 1);

    assert_eq!(siemtap(&["validate", cfg], &[]).status.code(), Some(0));
}

#[test]
fn validate_names_file_line_and_key() {
    let work = Workdir::new();
    let bad_key = write(
        &work,
        "bad_key.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\npage_limit = 5\n",
    );
    let bad_setting = write(
        &work,
        "bad_setting.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\n[source.settings]\npage_limt = 5\n",
    );
    let bad_value = write(
        &work,
        "bad_value.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\n[source.settings]\npage_limit = 5000\n",
    );
    let unknown = write(
        &work,
        "unknown.toml",
        "[[source]]\nname = \"a\"\nconnector = \"nosuch\"\n",
    );
    for (file, line, needle) in [
        (&bad_key, 4, "page_limit"),
        (&bad_setting, 3, "page_limt"),
        (&bad_value, 3, "OP_PAGE_LIMIT"),
        (&unknown, 3, "nosuch"),
    ] {
        let out = siemtap(&["validate", file.to_str().unwrap()], &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let prefix = format!("{}:{line}:", file.display());
        assert!(text.contains(&prefix), "expected {prefix} in {text}");
        assert!(text.contains(needle), "expected {needle} in {text}");
    }
}

#[test]
fn config_errors_exit_2_before_anything_runs() {
    let work = Workdir::new();
    let config = write(
        &work,
        "siemtap.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\nbogus = true\n",
    );
    let out = siemtap(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--log-file",
            work.log().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    // Wodle mode (stdout is not a terminal): one CONFIG_INVALID event, nothing else.
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["siemtap"]["error_code"], "CONFIG_INVALID");
    assert!(String::from_utf8_lossy(&out.stderr).contains("siemtap.toml:4:1"));
    assert!(
        work.read("siemtap.log").contains("siemtap.toml:4:1"),
        "{}",
        work.read("siemtap.log")
    );
}

#[test]
fn validate_checks_declarative_settings_and_files() {
    let work = Workdir::new();
    work.install_shipped_connector("okta_system_log");
    let wrong = write(
        &work,
        "wrong.toml",
        "[[source]]\nname = \"a\"\nconnector = \"okta_system_log\"\n[source.settings]\ndomain = \"x\"\n",
    );
    let out = siemtap(&["validate", wrong.to_str().unwrap()], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("wrong.toml:3:") && text.contains("domain") && text.contains("base_url"),
        "{text}"
    );

    let broken = write(
        &work,
        "broken_connector.toml",
        "name = \"x\"\nintegration = 5\n",
    );
    let out = siemtap(&["validate", broken.to_str().unwrap()], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("broken_connector.toml:2:"), "{text}");
    let shipped = work.path("connectors/okta_system_log.toml");
    assert_eq!(
        siemtap(&["validate", shipped.to_str().unwrap()], &[])
            .status
            .code(),
        Some(0)
    );
}

/// A declarative connector runs through `siemtap run --config` like a built-in one: full drain
/// equals the oracle, the second run adds nothing, the secret comes from the credential chain.
#[test]
fn declarative_source_runs_from_the_config() {
    let sim = Sim::vendor(
        "rest",
        &[
            "--seed",
            "4",
            "--events",
            "150",
            "--okta-token",
            "tok-okta-1",
        ],
    );
    let work = Workdir::new();
    work.install_shipped_connector("okta_system_log");
    let config = write(
        &work,
        "siemtap.toml",
        &format!(
            "log_file = \"siemtap.log\"\noutput = \"file:events.jsonl\"\n[[source]]\nname = \"acme-okta\"\nconnector = \"okta_system_log\"\n[source.settings]\nbase_url = \"{}\"\n",
            sim.base
        ),
    );
    let cfg = config.to_str().unwrap();
    for _ in 0..2 {
        let out = siemtap(
            &["run", "--config", cfg],
            &[("OKTA_API_TOKEN", "tok-okta-1")],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "log: {}",
            work.read("siemtap.log")
        );
    }
    let events = lines(&work.read("events.jsonl"));
    let mut ids: Vec<String> = events
        .iter()
        .filter(|e| e["okta"]["event_type"] == "system_log")
        .map(|e| e["okta"]["uuid"].as_str().unwrap().to_string())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "no duplicates across two runs");
    let mut want = sim.oracle(None)["system_log"].clone();
    want.sort();
    assert_eq!(ids, want, "the drain equals the oracle");
    assert!(
        work.path("acme-okta.json").exists(),
        "state beside the config, named after the source"
    );
    assert!(!work.read("siemtap.log").contains("tok-okta-1"));
    assert!(!work.read("acme-okta.json").contains("tok-okta-1"));
}

#[test]
fn validate_warns_when_a_proofpoint_schedule_exceeds_the_quota() {
    let work = Workdir::new();
    let busy = write(
        &work,
        "busy.toml",
        "[[source]]\nname = \"pp\"\nconnector = \"proofpoint\"\n[source.settings]\nrun_interval = 30\n",
    );
    let out = siemtap(&["validate", busy.to_str().unwrap()], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning is not an error: {text}"
    );
    assert!(
        text.contains("warning:") && text.contains("exceeds") && text.contains("1800"),
        "{text}"
    );
    let calm = write(
        &work,
        "calm.toml",
        "[[source]]\nname = \"pp\"\nconnector = \"proofpoint\"\n[source.settings]\nrun_interval = 300\n",
    );
    let out = siemtap(&["validate", calm.to_str().unwrap()], &[]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("warning"));
}

/// A declarative connector resumes after SIGKILL like a built-in one: with the file sink the
/// union of all runs equals the oracle, no gap and no duplicate.
#[test]
fn declarative_source_resumes_after_kills() {
    let sim = Sim::start(&["--seed", "41", "--events", "1200", "--rate", "10"]);
    let work = Workdir::new();
    work.install_shipped_connector("onepassword_audit");
    let config = write(
        &work,
        "siemtap.toml",
        &format!(
            "log_file = \"siemtap.log\"\noutput = \"file:events.jsonl\"\nmax_runtime = \"0s\"\n[[source]]\nname = \"audit\"\nconnector = \"onepassword_audit\"\n[source.settings]\nbase_url = \"{}\"\n",
            sim.base
        ),
    );
    let run = || {
        let mut cmd = crate::harness::siemtap_cmd_clean();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("OP_BEARER_TOKEN", TOKEN)
            .args(["run", "--config", config.to_str().unwrap()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd
    };
    let mut interrupted = 0;
    for delay_ms in [150u64, 400, 250, 650, 320] {
        let mut child = run().spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        interrupted += usize::from(child.try_wait().unwrap().is_none());
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} kills hit a running process"
    );
    sim.clock(serde_json::json!({"mode": "frozen"}));
    assert_eq!(
        run().status().unwrap().code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&work.read("events.jsonl"));
    let audit = ids_by_stream(&events).remove("audit").unwrap_or_default();
    let mut unique = audit.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        audit.len(),
        "no duplicates with the file sink"
    );
    let mut want = sim.oracle(None)["audit"].clone();
    want.sort();
    assert_eq!(unique, want, "no gaps");
}
