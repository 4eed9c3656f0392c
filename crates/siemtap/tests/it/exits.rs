//! Items 10, 11 and 6 (second half) of issue 10: every non-zero exit says why, where the
//! operator looks (one stderr line naming the fix and, in wodle mode, one `CONFIG_INVALID`
//! event on stdout), and messages that used to mislead.

use serde_json::Value;

use crate::harness::*;

/// The `CONFIG_INVALID` events on stdout, in siemtap's envelope.
fn config_invalid(stdout: &[u8]) -> Vec<Value> {
    lines(&String::from_utf8_lossy(stdout))
        .into_iter()
        .filter(|e| e["siemtap"]["error_code"] == "CONFIG_INVALID")
        .collect()
}

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_unknown_connector_says_why_on_stderr_and_as_an_event() {
    let out = siemtap_clean(&["run", "onepassword"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_lines(&out);
    assert_eq!(err.len(), 1, "one line: {err:?}");
    assert!(
        err[0].contains("onepassword") && err[0].contains("1password"),
        "names the connector and the fix: {err:?}"
    );
    let events = config_invalid(&out.stdout);
    assert_eq!(events.len(), 1, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(events[0]["integration"], "siemtap");
    assert_eq!(events[0]["siemtap"]["event_type"], "error");
    assert!(
        events[0]["siemtap"]["error_message"]
            .as_str()
            .unwrap()
            .contains("onepassword")
    );
}

#[test]
fn an_unwritable_log_file_says_why() {
    let sim = Sim::start(&["--seed", "81", "--events", "5"]);
    let work = Workdir::new();
    let bad = work.path("no-such-dir/siemtap.log");
    let out = siemtap_cmd_clean()
        .env("OP_BASE_URL", &sim.base)
        .env("OP_BEARER_TOKEN", TOKEN)
        .env("OP_STATE_FILE", work.state())
        .args(["run", "1password", "--log-file"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_lines(&out);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].contains(&bad.display().to_string()), "{err:?}");
    assert!(err[0].contains("--log-file"), "names the fix: {err:?}");
    assert_eq!(config_invalid(&out.stdout).len(), 1);
    assert!(sim.requests()["requests"].as_array().unwrap().is_empty());
}

#[test]
fn state_show_of_a_missing_file_says_why() {
    let work = Workdir::new();
    let out = siemtap_clean(
        &[
            "state",
            "show",
            "--state-file",
            work.state().to_str().unwrap(),
        ],
        &[],
    );
    assert_ne!(out.status.code(), Some(0));
    let err = stderr_lines(&out);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].contains(&work.state().display().to_string()) && err[0].contains("--state-file"),
        "{err:?}"
    );
}

#[test]
fn a_bad_config_file_says_why_in_wodle_mode() {
    let work = Workdir::new();
    let cfg = work.path("siemtap.toml");
    std::fs::write(
        &cfg,
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\nbogus = 1\n",
    )
    .unwrap();
    let out = siemtap_clean(&["run", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_lines(&out);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].contains("bogus"), "{err:?}");
    assert_eq!(config_invalid(&out.stdout).len(), 1);
}

#[test]
fn a_command_line_error_of_run_is_an_event_in_wodle_mode() {
    let out = siemtap_clean(&["run", "1password", "--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"),
        "clap's message on stderr"
    );
    let events = config_invalid(&out.stdout);
    assert_eq!(events.len(), 1);
    assert!(
        events[0]["siemtap"]["error_message"]
            .as_str()
            .unwrap()
            .contains("--no-such-flag")
    );
}

#[test]
fn a_config_source_with_an_unknown_connector_is_an_event_while_the_others_run() {
    let sim = Sim::start(&["--seed", "82", "--events", "30"]);
    let work = Workdir::new();
    let cfg = work.path("siemtap.toml");
    std::fs::write(
        &cfg,
        format!(
            "log_file = \"siemtap.log\"\noutput = \"file:events.jsonl\"\n\n[[source]]\nname = \"typo\"\nconnector = \"onepasword\"\n\n[[source]]\nname = \"good\"\nconnector = \"1password\"\n[source.settings]\nbase_url = \"{}\"\nrequests_per_second = 100\n",
            sim.base
        ),
    )
    .unwrap();
    let out = siemtap_clean(
        &["run", "--config", cfg.to_str().unwrap()],
        &[("OP_BEARER_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", work.read("siemtap.log"));
    let events = lines(&work.read("events.jsonl"));
    assert_exact(&ids_by_stream(&events), &sim.oracle(None));
    let bad: Vec<_> = events
        .iter()
        .filter(|e| e["siemtap"]["error_code"] == "CONFIG_INVALID")
        .collect();
    assert_eq!(bad.len(), 1, "{events:?}");
    assert!(
        bad[0]["siemtap"]["error_message"]
            .as_str()
            .unwrap()
            .contains("onepasword")
    );
}

#[test]
fn an_absurd_max_runtime_is_a_config_error_naming_the_key_and_range() {
    let work = Workdir::new();
    let cfg = work.path("siemtap.toml");
    std::fs::write(
        &cfg,
        "max_runtime = \"99999999999999d\"\n[[source]]\nname = \"a\"\nconnector = \"1password\"\n",
    )
    .unwrap();
    let out = siemtap_clean(&["run", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_runtime") && err.contains("7d"), "{err}");
    let validate = siemtap_clean(&["validate", cfg.to_str().unwrap()], &[]);
    assert_eq!(validate.status.code(), Some(2), "{validate:?}");
    // The flag has the same bound.
    let sim = Sim::start(&["--seed", "83", "--events", "5"]);
    let flag = RunCmd::new(&sim, &work)
        .args(["--max-runtime", "99999999999999"])
        .output();
    assert_eq!(flag.status.code(), Some(2), "{flag:?}");
    assert!(String::from_utf8_lossy(&flag.stderr).contains("604800"));
}

#[test]
fn a_regular_file_at_the_socket_path_is_not_called_analysisd_down() {
    let sim = Sim::start(&["--seed", "84", "--events", "5"]);
    let work = Workdir::new();
    let socket = work.path("queue");
    std::fs::write(&socket, "").unwrap();
    let out = RunCmd::new(&sim, &work)
        .env("SIEMTAP_WAZUH_RETRY_SECS", "0.5")
        .arg("--output")
        .arg(format!("wazuh-socket:{}", socket.display()))
        .output();
    assert_eq!(out.status.code(), Some(1));
    let log = work.read("siemtap.log");
    assert!(log.contains("not a socket but a regular file"), "{log}");
    assert!(!log.contains("analysisd is not running"), "{log}");
}

#[test]
fn the_onepassword_connection_error_names_the_configured_base_url() {
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sim = Sim::start(&["--seed", "85", "--events", "5"]);
    let work = Workdir::new();
    let base = format!("http://127.0.0.1:{port}");
    let out = RunCmd::new(&sim, &work)
        .env("OP_BASE_URL", &base)
        .args(["--source", "signin"])
        .output();
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    let errs = errors(&events);
    let conn = errs
        .iter()
        .find(|e| e["op"]["error_code"] == "API_CONNECTION_ERROR")
        .unwrap_or_else(|| panic!("{events:?}"));
    let message = conn["op"]["error_message"].as_str().unwrap();
    assert!(message.contains(&base), "{message}");
    assert!(!message.contains("events.1password.com"), "{message}");
}

#[test]
fn plan_with_a_missing_secret_says_it_is_missing_and_exits_2() {
    let work = Workdir::new();
    work.install_shipped_connector("okta_system_log");
    let cfg = work.path("siemtap.toml");
    std::fs::write(
        &cfg,
        "[[source]]\nname = \"acme-okta\"\nconnector = \"okta_system_log\"\n[source.settings]\nbase_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let out = siemtap_clean(&["plan", "--config", cfg.to_str().unwrap()], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("missing"), "{stdout}");
    assert!(!stdout.contains("REDACTED"), "{stdout}");
    // With the secret, the plan shows it redacted and exits 0.
    let ok = siemtap_clean(
        &["plan", "--config", cfg.to_str().unwrap()],
        &[("OKTA_API_TOKEN", "tok")],
    );
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("REDACTED"));
}

#[test]
fn state_reset_moves_a_corrupt_file_to_json_corrupt_as_documented() {
    let work = Workdir::new();
    std::fs::write(work.state(), "{ not json").unwrap();
    let out = siemtap_clean(
        &[
            "state",
            "reset",
            "--state-file",
            work.state().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(work.path("state.json.corrupt").exists());
    assert!(!work.path("state.corrupt").exists());
    assert!(!work.state().exists());
}

#[test]
fn a_fatal_error_is_printed_once_on_a_terminal() {
    // `script` gives the run a pseudo-terminal for stdin, stdout and stderr.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("note: `script` (util-linux) is not installed; the terminal case is not checked");
        return;
    }
    // An error found after logging is set up (the log goes to the terminal's stderr).
    let command = format!("SIEMTAP_USER=root {} run 1password --output bogus", bin());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let count = text.matches("unknown --output").count();
    assert_eq!(count, 1, "printed {count} times: {text:?}");
}
