//! SIEM windows sized by body bytes (`PP_WINDOW_TARGET_BYTES`) and the width remembered in
//! `siem_tuning` across runs: a dense tenant pays the split once, not on every run.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::*;

/// The minimum target: 256 KiB; a window body over 512 KiB is abandoned while it streams.
const TARGET: u64 = 256 * 1024;

/// 3,000 records per category over 24 h: ~500 records, ~800 KB an hour (~1.6 KB each).
fn dense_sim() -> Sim {
    sim(&["--seed", "11", "--events", "3000", "--people-users", "5"])
}

/// SIEM requests in order: (start, end, response bytes).
fn siem_log(sim: &Sim) -> Vec<(Timestamp, Timestamp, u64)> {
    let log = sim.requests();
    let bytes: Vec<u64> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == SIEM)
        .map(|r| r["bytes"].as_u64().unwrap())
        .collect();
    siem_requests(sim)
        .into_iter()
        .zip(bytes)
        .map(|((s, e, _), b)| (s, e, b))
        .collect()
}

fn minutes(s: Timestamp, e: Timestamp) -> i64 {
    e.duration_since(s).as_mins()
}

fn siem_only(ids: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([("siem".to_string(), ids["siem"].clone())])
}

fn dense_run(sim: &Sim, work: &Workdir, settle: &str) -> RunCmd {
    run(sim, work)
        .env("PP_SOURCE", "siem")
        .env("PP_WINDOW_TARGET_BYTES", TARGET.to_string())
        .env("PP_SETTLE_SECONDS", settle)
        .args(["--max-runtime", "0"])
        .into_file(&work.out())
}

fn no_errors(events: &[Value]) {
    let errors = pp_kind(events, "error");
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn dense_windows_are_sized_by_bytes_and_the_width_is_remembered() {
    let sim = dense_sim();
    let work = Workdir::new();
    // Run 1 stops an hour before now (settle 3600 s), so run 2 has 75 minutes to read.
    ok(&dense_run(&sim, &work, "3600").output(), &work);
    let run1 = siem_log(&sim);
    // The first hour window was far over the target: abandoned at 2 × target, read narrower.
    assert_eq!(minutes(run1[0].0, run1[0].1), 60);
    assert!(run1[0].2 > 2 * TARGET, "{:?}", run1[0]);
    assert_eq!(run1[1].0, run1[0].0, "the same start again, narrower");
    assert!(minutes(run1[1].0, run1[1].1) < 60);
    // From then on no window body is over the cap, and the width settled under one hour.
    let late = &run1[run1.len() / 2..];
    assert!(late.iter().all(|w| w.2 <= 2 * TARGET), "{late:?}");
    assert!(late.iter().all(|w| minutes(w.0, w.1) < 60), "{late:?}");
    let state = state_json(&work);
    let width = state["siem_tuning"]["window_minutes"]
        .as_u64()
        .expect("the narrowed width is remembered");
    assert!((1..60).contains(&width), "{state}");
    let end: Timestamp = state["siem_cursor"]
        .as_str()
        .expect("siem_cursor stays an ISO string (spec §3.6)")
        .parse()
        .unwrap();
    assert_eq!(Some(end), siem_cursor(&work));
    assert_eq!(
        end,
        run1.last().unwrap().1,
        "the cursor is the last window's end"
    );

    // Run 2 starts at the remembered width: no oversize request at all.
    ok(&dense_run(&sim, &work, "0").output(), &work);
    let run2 = &siem_log(&sim)[run1.len()..];
    assert!(run2.len() >= 2, "{run2:?}");
    assert_eq!(
        run2[0].0,
        end - SignedDuration::from_mins(15),
        "the overlap re-read"
    );
    assert_eq!(minutes(run2[0].0, run2[0].1), width as i64, "{run2:?}");
    assert!(run2.iter().all(|w| w.2 <= 2 * TARGET), "{run2:?}");
    for pair in run2.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "contiguous windows");
    }
    let events = lines(&work.read("events.jsonl"));
    no_errors(&events);
    assert_exact(&siem_only(&pp_ids(&events)), &siem_only(&sim.oracle(None)));
    // Still dense: the width is still remembered.
    assert!(state_json(&work)["siem_tuning"]["window_minutes"].is_u64());
    assert!(state_json(&work)["siem_cursor"].is_string());
}

#[test]
fn a_cursor_without_a_width_starts_at_one_hour_and_learns_the_width() {
    let sim = dense_sim();
    let work = Workdir::new();
    let old = Timestamp::now() - SignedDuration::from_hours(3);
    let old = old.strftime("%Y-%m-%dT%H:%M:00Z").to_string();
    std::fs::write(
        work.state(),
        json!({"siemtap": {"format": 1}, "siem_cursor": old}).to_string(),
    )
    .unwrap();
    ok(&dense_run(&sim, &work, "300").output(), &work);
    let log = siem_log(&sim);
    // The plain string is full width: the first window is an hour, split while it streamed.
    let start: Timestamp = old.parse::<Timestamp>().unwrap() - SignedDuration::from_mins(15);
    assert_eq!((log[0].0, minutes(log[0].0, log[0].1)), (start, 60));
    assert!(log[0].2 > 2 * TARGET);
    let events = lines(&work.read("events.jsonl"));
    no_errors(&events);
    let expected = oracle_at(&sim, &format!("?stream=siem&from={}", iso(start)));
    assert!(!expected["siem"].is_empty());
    assert_exact(&siem_only(&pp_ids(&events)), &siem_only(&expected));
    assert!(state_json(&work)["siem_tuning"]["window_minutes"].is_u64());

    // A light stretch widens the windows back to one hour, and the width is forgotten.
    let light = super::sim(&["--seed", "12", "--events", "20"]);
    let work = Workdir::new();
    let end = Timestamp::now() - SignedDuration::from_hours(2);
    let end = end.strftime("%Y-%m-%dT%H:%M:00Z").to_string();
    std::fs::write(
        work.state(),
        json!({"siemtap": {"format": 1}, "siem_cursor": end, "siem_tuning": {"window_minutes": 2}})
            .to_string(),
    )
    .unwrap();
    ok(&dense_run(&light, &work, "300").output(), &work);
    let log = siem_log(&light);
    let start: Timestamp = end.parse::<Timestamp>().unwrap() - SignedDuration::from_mins(15);
    assert_eq!(log[0].0, start, "the overlap re-read");
    assert_eq!(minutes(log[0].0, log[0].1), 2, "the remembered width");
    // Windows narrower than the overlap re-read all of it: contiguous from the first one.
    for pair in log.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "contiguous windows: {log:?}");
    }
    assert_eq!(
        minutes(log[1].0, log[1].1),
        4,
        "doubled after a light window"
    );
    let state = state_json(&work);
    assert!(state["siem_cursor"].is_string());
    assert!(
        state.get("siem_tuning").is_none(),
        "back to one hour: no width kept: {state}"
    );
}

#[test]
fn a_malformed_width_is_a_state_read_error() {
    let sim = super::sim(&["--seed", "13", "--events", "20"]);
    let work = Workdir::new();
    let bad = json!({"window_minutes": "narrow"});
    std::fs::write(
        work.state(),
        json!({"siemtap": {"format": 1}, "siem_cursor": "2026-04-01T10:00:00Z", "siem_tuning": bad}).to_string(),
    )
    .unwrap();
    // Corrupt state (issue 10 item 5): refused before any request, exit 4, file untouched.
    let out = run(&sim, &work).env("PP_SOURCE", "siem").output();
    assert_eq!(
        out.status.code(),
        Some(4),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    let errors = pp_kind(&events, "error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0]["pp"];
    assert_eq!(e["error_code"], "STATE_READ_ERROR");
    let message = e["error_message"].as_str().unwrap();
    assert!(
        message.contains("siem_tuning") && message.contains("window_minutes"),
        "{message}"
    );
    assert!(siem_requests(&sim).is_empty());
    assert_eq!(
        state_json(&work)["siem_tuning"],
        bad,
        "never silently reset"
    );
}

fn iso(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
