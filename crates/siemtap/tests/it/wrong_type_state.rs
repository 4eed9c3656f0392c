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
