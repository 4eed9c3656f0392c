//! Fault matrix: each injected fault yields exactly one error event with the right code, the
//! cursor never moves past undelivered data, the other streams finish, and the next run
//! recovers everything with no duplicates.

use serde_json::{Value, json};

use crate::harness::*;

const SIGNIN: &str = "/api/v2/signinattempts";

/// Runs once with `fault` installed (file sink), checks the failure, clears the fault, runs
/// again and checks the union equals the oracle exactly.
fn fault_then_recover(
    fault: Value,
    expected_code: Option<&str>,
    extra_env: &[(&str, &str)],
) -> Vec<Value> {
    let sim = Sim::start(&["--seed", "3", "--events", "120"]);
    let work = Workdir::new();
    sim.faults(json!({ "faults": [fault] }));
    let mut run = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "20")
        .into_file(&work.out());
    for (k, v) in extra_env {
        run = run.env(k, v);
    }
    let first = run.output();
    assert_eq!(
        first.status.code(),
        Some(0),
        "vendor failures exit 0; log: {}",
        work.read("siemtap.log")
    );
    assert!(first.stderr.is_empty());
    let events = lines(&work.read("events.jsonl"));
    let errs = errors(&events);
    match expected_code {
        Some(code) => {
            assert_eq!(errs.len(), 1, "exactly one error event: {errs:?}");
            assert_eq!(errs[0]["op"]["error_code"], code, "{}", errs[0]);
            assert_eq!(errs[0]["op"]["source"], "signin");
            let detail = errs[0]["op"]["error_detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains("endpoint=/api/v2/signinattempts"),
                "{detail}"
            );
            let s = summaries(&events)[0]["op"].clone();
            assert_eq!(s["signin_success"], false);
            assert_eq!(s["audit_success"], true, "other streams are isolated");
            assert_eq!(s["itemusage_success"], true);
            // Delivered before the failure: whole pages only, never past undelivered data.
            let signin = ids_by_stream(&events)
                .get("signin")
                .cloned()
                .unwrap_or_default();
            let oracle = sim.oracle(None);
            assert_eq!(
                signin,
                oracle["signin"][..signin.len()].to_vec(),
                "delivered a prefix"
            );
        }
        None => assert!(
            errs.is_empty(),
            "transient fault must be absorbed: {errs:?}"
        ),
    }
    sim.clear_faults();
    let second = RunCmd::new(&sim, &work).into_file(&work.out()).output();
    assert_eq!(second.status.code(), Some(0));
    let all = lines(&work.read("events.jsonl"));
    assert_exact(&ids_by_stream(&all), &sim.oracle(None));
    all
}

fn nth(from: u64, count: u64) -> Value {
    json!((from..from + count).collect::<Vec<_>>())
}

#[test]
fn rate_limited_with_retry_after_seconds() {
    fault_then_recover(
        json!({"match": {"path": SIGNIN, "nth": nth(3, 5)}, "action": {"status": 429, "retry_after": {"form": "seconds", "value": 1}}}),
        Some("API_HTTP_429"),
        &[],
    );
}

#[test]
fn rate_limited_with_retry_after_http_date() {
    fault_then_recover(
        json!({"match": {"path": SIGNIN, "nth": nth(3, 5)}, "action": {"status": 429, "retry_after": {"form": "http-date", "offset_s": 2}}}),
        Some("API_HTTP_429"),
        &[],
    );
}

#[test]
fn server_error_burst() {
    fault_then_recover(
        json!({"match": {"path": SIGNIN, "nth": [3]}, "action": {"status": 500, "burst": 4}}),
        Some("API_HTTP_500"),
        &[],
    );
}

#[test]
fn transient_503_is_retried_without_an_error_event() {
    fault_then_recover(
        json!({"match": {"path": SIGNIN, "nth": [3]}, "action": {"status": 503}}),
        None,
        &[],
    );
}

#[test]
fn timeouts() {
    fault_then_recover(
        json!({"match": {"path": SIGNIN, "nth": nth(3, 5)}, "action": {"delay_ms": 1500}}),
        Some("API_TIMEOUT"),
        &[("SIEMTAP_REQUEST_TIMEOUT", "0.3")],
    );
}

#[test]
fn truncated_json() {
    fault_then_recover(
        json!({"match": {"path": SIGNIN, "nth": [3]}, "action": {"truncate_body_at": 0.5}}),
        Some("API_INVALID_RESPONSE"),
        &[],
    );
}

#[test]
fn unauthorized_mid_stream() {
    fault_then_recover(
        json!({"match": {"path": SIGNIN, "nth": [3]}, "action": {"status": 401}}),
        Some("API_HTTP_401"),
        &[],
    );
}

#[test]
fn bad_token_fails_every_stream_with_one_event() {
    let sim = Sim::start(&["--seed", "3", "--events", "10"]);
    let work = Workdir::new();
    let out = RunCmd::new(&sim, &work)
        .env("OP_BEARER_TOKEN", "wrong-token")
        .output();
    assert_eq!(out.status.code(), Some(0));
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    let errs = errors(&events);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["op"]["error_code"], "API_HTTP_401");
    assert_eq!(errs[0]["op"]["source"], "orchestrator");
    let s = &summaries(&events)[0]["op"];
    for stream in ["audit", "signin", "itemusage"] {
        assert_eq!(s[format!("{stream}_ran")], true);
        assert_eq!(s[format!("{stream}_success")], false);
    }
    assert!(ids_by_stream(&events).is_empty());
}

/// A stored cursor the API rejects: one error event saying where the stream restarts, a
/// restart from the high-water mark minus the overlap, no duplicates, no stuck stream.
#[test]
fn rejected_cursor_restarts_from_high_water_without_duplicates() {
    let sim = Sim::start(&["--seed", "9", "--events", "120"]);
    let work = Workdir::new();
    // First run: signin stops after two pages, so its stored cursor is mid-stream.
    sim.faults(json!({"faults": [{"match": {"path": SIGNIN, "nth": [3]}, "action": {"status": 500, "burst": 4}}]}));
    let first = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "20")
        .into_file(&work.out())
        .output();
    assert_eq!(first.status.code(), Some(0));
    sim.clear_faults();
    // Second run: the stored cursor is rejected once.
    sim.faults(
        json!({"faults": [{"match": {"path": SIGNIN, "nth": [1]}, "action": {"status": 400}}]}),
    );
    let before = lines(&work.read("events.jsonl")).len();
    let second = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "20")
        .into_file(&work.out())
        .output();
    assert_eq!(
        second.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let all = lines(&work.read("events.jsonl"));
    let new = &all[before..];
    let errs = errors(new);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["op"]["error_code"], "API_HTTP_400");
    let detail = errs[0]["op"]["error_detail"].as_str().unwrap();
    assert!(
        detail.contains("cursor rejected; restarting from"),
        "{detail}"
    );
    assert_eq!(
        summaries(new)[0]["op"]["signin_success"],
        true,
        "recovered within the run"
    );
    assert_exact(&ids_by_stream(&all), &sim.oracle(None));
}

/// Every cursor rejected: at most one reset per run, then the stream fails; the request count stays
/// bounded (the reference integration looped here forever).
#[test]
fn persistently_rejected_cursor_fails_once_without_looping() {
    let sim = Sim::start(&["--seed", "4", "--events", "100"]);
    let work = Workdir::new();
    sim.faults(json!({"faults": [{"match": {"path": SIGNIN}, "action": {"cursor_reject": true}}]}));
    let out = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "20")
        .args(["--source", "signin"])
        .into_file(&work.out())
        .output();
    assert_eq!(out.status.code(), Some(0));
    let events = lines(&work.read("events.jsonl"));
    let codes: Vec<_> = errors(&events)
        .iter()
        .map(|e| e["op"]["error_code"].clone())
        .collect();
    // One event for the rejection that triggered the reset, one for the rejection that ended
    // the stream; no loop.
    assert_eq!(codes, vec![json!("API_HTTP_400"), json!("API_HTTP_400")]);
    let details: Vec<_> = errors(&events)
        .iter()
        .map(|e| e["op"]["error_detail"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(details[0].contains("restarting from"), "{details:?}");
    assert!(details[1].contains("rejected again"), "{details:?}");
    let signin = ids_by_stream(&events)
        .get("signin")
        .cloned()
        .unwrap_or_default();
    let mut unique = signin.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), signin.len(), "no duplicates");
    let requests = sim.requests();
    let n = requests
        .as_array()
        .or_else(|| requests["requests"].as_array())
        .unwrap()
        .len();
    assert!(n <= 6, "bounded requests, got {n}");
}
