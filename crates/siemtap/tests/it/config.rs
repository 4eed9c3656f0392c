//! Configuration and state problems: an error event in the SIEM, the documented exit code, a
//! message naming what to fix, and that message once on stderr (issue 10 item 10: every
//! non-zero exit says why where the operator looks).

use std::os::unix::fs::PermissionsExt;

use crate::harness::*;

fn only_error(out: &std::process::Output) -> serde_json::Value {
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(events.len(), 1, "{events:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = events[0]["op"]["error_code"].as_str().unwrap_or_default();
    assert!(
        stderr.lines().count() == 1 && stderr.contains(code),
        "one stderr line naming {code}: {stderr}"
    );
    events[0]["op"].clone()
}

#[test]
fn invalid_setting_is_config_invalid_exit_2() {
    let sim = Sim::start(&["--events", "1"]);
    let work = Workdir::new();
    let out = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "5000")
        .output();
    assert_eq!(out.status.code(), Some(2));
    let op = only_error(&out);
    assert_eq!(op["error_code"], "CONFIG_INVALID");
    assert!(
        op["error_message"]
            .as_str()
            .unwrap()
            .contains("OP_PAGE_LIMIT"),
        "{op}"
    );
    assert!(
        op["error_message"].as_str().unwrap().contains("1 to 1000"),
        "{op}"
    );
}

#[test]
fn missing_token_names_the_three_places() {
    let sim = Sim::start(&["--events", "1"]);
    let work = Workdir::new();
    let out = RunCmd::new(&sim, &work)
        .env_remove("OP_BEARER_TOKEN")
        .output();
    assert_eq!(out.status.code(), Some(2));
    let op = only_error(&out);
    assert_eq!(op["error_code"], "CONFIG_MISSING_CREDENTIAL");
    let msg = op["error_message"].as_str().unwrap();
    for place in ["CREDENTIALS_DIRECTORY", "absent.secrets", "OP_BEARER_TOKEN"] {
        assert!(msg.contains(place), "{place} not in {msg}");
    }
}

#[test]
fn empty_systemd_credential_does_not_mask_the_environment() {
    let sim = Sim::start(&["--events", "5"]);
    let work = Workdir::new();
    let creds = work.path("creds");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("op_bearer_token"), "  \n").unwrap();
    let out = RunCmd::new(&sim, &work)
        .env("CREDENTIALS_DIRECTORY", &creds)
        .output();
    assert_eq!(out.status.code(), Some(0));
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert!(errors(&events).is_empty(), "{:?}", errors(&events));
    assert_eq!(
        ids_by_stream(&events).values().map(Vec::len).sum::<usize>(),
        15
    );
}

#[test]
fn secrets_file_tier_works_alone() {
    let sim = Sim::start(&["--events", "5"]);
    let work = Workdir::new();
    let secrets = work.path("secrets");
    std::fs::write(&secrets, format!("OP_BEARER_TOKEN='{TOKEN}'\n")).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = RunCmd::new(&sim, &work)
        .env_remove("OP_BEARER_TOKEN")
        .env("OP_SECRETS_FILE", &secrets)
        .output();
    assert_eq!(out.status.code(), Some(0));
    assert!(errors(&lines(&String::from_utf8_lossy(&out.stdout))).is_empty());
}

#[test]
fn corrupt_state_is_an_event_and_exit_4_never_a_reset() {
    let sim = Sim::start(&["--events", "5"]);
    let work = Workdir::new();
    std::fs::write(work.state(), "{\"signin_cursor\": ").unwrap();
    let out = RunCmd::new(&sim, &work).output();
    assert_eq!(out.status.code(), Some(4));
    let op = only_error(&out);
    assert_eq!(op["error_code"], "STATE_READ_ERROR");
    let msg = op["error_message"].as_str().unwrap();
    assert!(
        msg.contains("state.json") && msg.contains("siemtap state reset"),
        "{msg}"
    );
    assert_eq!(
        work.read("state.json"),
        "{\"signin_cursor\": ",
        "the corrupt file is left for inspection"
    );

    // The documented fix works.
    let reset = crate::harness::siemtap_cmd()
        .args(["state", "reset", "--state-file"])
        .arg(work.state())
        .output()
        .unwrap();
    assert_eq!(reset.status.code(), Some(0));
    let out = RunCmd::new(&sim, &work).output();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn unknown_output_and_connector_are_usage_errors() {
    let sim = Sim::start(&["--events", "1"]);
    let work = Workdir::new();
    let out = RunCmd::new(&sim, &work)
        .args(["--output", "kafka:x"])
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = crate::harness::siemtap_cmd()
        .args(["run", "nosuchvendor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn state_show_and_rewind() {
    let sim = Sim::start(&["--seed", "6", "--events", "30"]);
    let work = Workdir::new();
    assert_eq!(
        RunCmd::new(&sim, &work)
            .into_file(&work.out())
            .output()
            .status
            .code(),
        Some(0)
    );
    let show = crate::harness::siemtap_cmd()
        .args(["state", "show", "--state-file"])
        .arg(work.state())
        .output()
        .unwrap();
    assert_eq!(show.status.code(), Some(0));
    let shown: serde_json::Value =
        serde_json::from_slice(&show.stdout).expect("state show prints JSON");
    assert!(shown["signin_cursor"].is_string());
    // Rewind signin to before every event: the next run re-reads them all (that is what a
    // rewind is for), and no other stream moves.
    let rewind = crate::harness::siemtap_cmd()
        .args([
            "state",
            "rewind",
            "--stream",
            "signin",
            "--to",
            "2000-01-01T00:00:00Z",
            "--state-file",
        ])
        .arg(work.state())
        .output()
        .unwrap();
    assert_eq!(
        rewind.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rewind.stderr)
    );
    let before = lines(&work.read("events.jsonl")).len();
    assert_eq!(
        RunCmd::new(&sim, &work)
            .into_file(&work.out())
            .output()
            .status
            .code(),
        Some(0)
    );
    let new = lines(&work.read("events.jsonl"))[before..].to_vec();
    let by = ids_by_stream(&new);
    assert_eq!(by.get("signin").map(Vec::len), Some(30), "{by:?}");
    assert!(!by.contains_key("audit"));
}

#[test]
fn all_flag_ignores_and_keeps_the_state() {
    let sim = Sim::start(&["--seed", "12", "--events", "20"]);
    let work = Workdir::new();
    assert_eq!(RunCmd::new(&sim, &work).output().status.code(), Some(0));
    let before = work.read("state.json");
    let out = RunCmd::new(&sim, &work).arg("--all").output();
    assert_eq!(out.status.code(), Some(0));
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        ids_by_stream(&events).values().map(Vec::len).sum::<usize>(),
        60,
        "--all re-reads the lookback window"
    );
    assert_eq!(
        work.read("state.json"),
        before,
        "--all does not update the state"
    );
}
