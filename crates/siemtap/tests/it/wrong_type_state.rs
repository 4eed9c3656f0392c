//! A state value of the wrong type is corrupt state, never a silent reset (issue 10 item 5):
//! the same path as an unparsable file — one `STATE_READ_ERROR` event, exit 4, no request,
//! the file byte for byte as it was.

use crate::harness::{RunCmd, Sim, Workdir, lines};

fn assert_refused(out: &std::process::Output, work: &Workdir, planted: &str, key: &str) {
    assert_eq!(
        out.status.code(),
        Some(4),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        events.len(),
        1,
        "one error event and nothing else: {events:?}"
    );
    let op = &events[0]["op"];
    assert_eq!(op["error_code"], "STATE_READ_ERROR");
    let msg = op["error_message"].as_str().unwrap();
    assert!(
        msg.contains("state.json") && msg.contains(key) && msg.contains("siemtap state reset"),
        "{msg}"
    );
    assert_eq!(work.read("state.json"), planted, "the file is untouched");
}

#[test]
fn a_number_cursor_is_corrupt_state_not_a_lookback_reread() {
    let sim = Sim::start(&["--events", "5"]);
    let work = Workdir::new();
    let planted = "{\"audit_cursor\": 123}";
    std::fs::write(work.state(), planted).unwrap();
    let out = RunCmd::new(&sim, &work)
        .env("SIEMTAP_USER", "root")
        .output();
    assert_refused(&out, &work, planted, "audit_cursor");
    let requests = sim.requests();
    let logged = requests
        .as_array()
        .or_else(|| requests["requests"].as_array())
        .expect("request log array");
    assert!(logged.is_empty(), "nothing was requested: {requests}");
}

#[test]
fn wrong_types_of_every_kind_are_refused() {
    let sim = Sim::start(&["--events", "2"]);
    for (planted, key) in [
        ("{\"signin_cursor\": {\"c\": 1}}", "signin_cursor"),
        ("{\"itemusage_cursor\": [\"c:1\"]}", "itemusage_cursor"),
        ("{\"audit_cursor\": true}", "audit_cursor"),
    ] {
        let work = Workdir::new();
        std::fs::write(work.state(), planted).unwrap();
        let out = RunCmd::new(&sim, &work)
            .env("SIEMTAP_USER", "root")
            .output();
        assert_refused(&out, &work, planted, key);
    }
}

#[test]
fn a_wrong_type_cursor_of_cortex_xdr_is_refused_before_any_request() {
    let sim = Sim::vendor("cortex_xdr", &["--seed", "3", "--events", "5"]);
    let work = Workdir::new();
    let planted = "{\"alerts_cursor\": [1700000000000]}";
    std::fs::write(work.state(), planted).unwrap();
    let out = std::process::Command::new(crate::harness::bin())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("XDR_BASE_URL", &sim.base)
        .env("XDR_API_KEY", "sim-api-key")
        .env("XDR_API_KEY_ID", "1")
        .env("XDR_STATE_FILE", work.state())
        .env("XDR_SECRETS_FILE", work.path("absent.secrets"))
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .env("SIEMTAP_USER", "root")
        .args(["run", "cortex_xdr", "--log-file"])
        .arg(work.log())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(events.len(), 1, "{events:?}");
    let text = events[0].to_string();
    assert!(
        text.contains("STATE_READ_ERROR") && text.contains("alerts_cursor"),
        "{text}"
    );
    assert_eq!(work.read("state.json"), planted, "the file is untouched");
}

#[test]
fn a_wrong_type_cursor_in_config_mode_is_refused_and_the_file_untouched() {
    let sim = Sim::vendor(
        "rest",
        &["--seed", "4", "--events", "10", "--okta-token", "tok-1"],
    );
    let work = Workdir::new();
    work.install_shipped_connector("okta_system_log");
    let config = work.path("siemtap.toml");
    std::fs::write(
        &config,
        format!(
            "log_file = \"siemtap.log\"\noutput = \"file:events.jsonl\"\n[[source]]\nname = \"acme-okta\"\nconnector = \"okta_system_log\"\n[source.settings]\nbase_url = \"{}\"\n",
            sim.base
        ),
    )
    .unwrap();
    // max_timestamp cursors are objects with a `position`.
    let planted = "{\"system_log_cursor\": \"2026-01-01T00:00:00Z\"}";
    std::fs::write(work.path("acme-okta.json"), planted).unwrap();
    let out = std::process::Command::new(crate::harness::bin())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .env("SIEMTAP_USER", "root")
        .env("OKTA_API_TOKEN", "tok-1")
        .args(["run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&work.read("events.jsonl"));
    assert_eq!(events.len(), 1, "{events:?}");
    let text = events[0].to_string();
    assert!(
        text.contains("STATE_READ_ERROR")
            && text.contains("system_log_cursor")
            && text.contains("acme-okta"),
        "{text}"
    );
    assert_eq!(
        work.read("acme-okta.json"),
        planted,
        "the file is untouched"
    );
}
