//! Proofpoint failure scenarios: each fault is one error event with the right code, the
//! cursor stays at the last delivered window, and the next run recovers exactly.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use serde_json::{Value, json};

use super::*;

/// A fault on the 3rd SIEM request (and its retries): one error event, the cursor at the end
/// of window 2, then recovery with nothing lost or repeated.
fn fault_then_recover(name: &str, action: Value, code: &str, status: Option<u64>) {
    let sim = sim(&["--seed", "4", "--events", "80"]);
    let work = Workdir::new();
    sim.faults(json!({"faults": [{"match": {"path": SIEM, "nth": [3]}, "action": action}]}));
    let first = ok(
        &run(&sim, &work)
            .env("PP_SOURCE", "siem")
            .into_file(&work.out())
            .output(),
        &work,
    );
    assert!(first.is_empty(), "{name}: events go to the file only");
    let events = lines(&work.read("events.jsonl"));
    let errors = pp_kind(&events, "error");
    assert_eq!(errors.len(), 1, "{name}: {errors:?}");
    let e = &errors[0]["pp"];
    assert_eq!(e["error_code"], code, "{name}: {e}");
    assert_eq!(e["error_source"], "siem");
    assert_eq!(e["http_status"].as_u64(), status, "{name}: {e}");
    let summary = pp_kind(&events, "run_summary");
    assert_eq!(summary[0]["pp"]["siem_success"], false);
    let windows = siem_requests(&sim);
    let failed = windows[2];
    assert!(
        windows[2..]
            .iter()
            .all(|w| (w.0, w.1) == (failed.0, failed.1)),
        "{name}: stopped at the failed window, none skipped"
    );
    assert_eq!(
        siem_cursor(&work),
        Some(windows[1].1),
        "{name}: cursor = end of window 2"
    );
    sim.clear_faults();
    ok(
        &run(&sim, &work)
            .env("PP_SOURCE", "siem")
            .into_file(&work.out())
            .output(),
        &work,
    );
    let all = lines(&work.read("events.jsonl"));
    let oracle = sim.oracle(None);
    assert_exact(
        &pp_ids(&all),
        &BTreeMap::from([("siem".to_string(), oracle["siem"].clone())]),
    );
}

#[test]
fn quota_429_stops_without_skipping_then_recovers() {
    fault_then_recover(
        "quota",
        json!({"quota_exhausted": true, "burst": 4}),
        "API_HTTP_429",
        Some(429),
    );
}

#[test]
fn server_errors_and_broken_bodies_do_not_advance_the_cursor() {
    fault_then_recover(
        "503",
        json!({"status": 503, "burst": 4}),
        "API_HTTP_UNEXPECTED",
        Some(503),
    );
    fault_then_recover(
        "truncated",
        json!({"truncate_body_at": 0.5}),
        "API_INVALID_RESPONSE",
        None,
    );
}

#[test]
fn auth_failure_is_one_error_event_per_stream() {
    let sim = sim(&["--seed", "5", "--events", "20"]);
    let work = Workdir::new();
    let events = ok(
        &run(&sim, &work).env("PP_SECRET", "wrong-secret").output(),
        &work,
    );
    let errors = pp_kind(&events, "error");
    let sources: Vec<_> = errors
        .iter()
        .map(|e| {
            (
                e["pp"]["error_source"].as_str().unwrap(),
                e["pp"]["error_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [("siem", "API_HTTP_401"), ("people", "API_HTTP_401")]
    );
    assert!(
        errors[0]["pp"]["error_message"]
            .as_str()
            .unwrap()
            .contains("PP_PRINCIPAL")
    );
    assert_eq!(siem_cursor(&work), None);
    let s = &pp_kind(&events, "run_summary")[0]["pp"];
    assert_eq!(
        (s["siem_success"].clone(), s["people_success"].clone()),
        (json!(false), json!(false))
    );
}

#[test]
fn lookback_400_becomes_a_collection_gap_and_collection_goes_on() {
    let sim = sim(&["--seed", "6", "--events", "100"]);
    sim.faults(json!({"faults": [{"match": {"path": SIEM}, "action": {"lookback_400": true}}]}));
    let work = Workdir::new();
    let events = ok(&run(&sim, &work).env("PP_SOURCE", "siem").output(), &work);
    let errors = pp_kind(&events, "error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let gap = &errors[0]["pp"];
    assert_eq!(gap["error_code"], "COLLECTION_GAP");
    let gap_end = gap["gap_end"].as_str().unwrap();
    let (start, end): (jiff::Timestamp, jiff::Timestamp) = (
        gap["gap_start"].as_str().unwrap().parse().unwrap(),
        gap_end.parse().unwrap(),
    );
    let skipped = end.duration_since(start).as_secs();
    assert!(
        (12 * 3600..=12 * 3600 + 600).contains(&skipped),
        "skipped {skipped} s"
    );
    let expected = oracle_at(&sim, &format!("?stream=siem&from={gap_end}"));
    assert!(!expected["siem"].is_empty() && expected["siem"].len() < 400);
    assert_exact(
        &pp_ids(&events),
        &BTreeMap::from([("siem".to_string(), expected["siem"].clone())]),
    );
    assert_eq!(
        pp_kind(&events, "run_summary")[0]["pp"]["siem_success"],
        true
    );
}

#[test]
fn cursor_older_than_the_max_lookback_is_a_gap_never_silent() {
    let sim = sim(&["--seed", "7", "--events", "50"]);
    let work = Workdir::new();
    let old = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(240))
        .strftime("%Y-%m-%dT%H:%M:00Z")
        .to_string();
    std::fs::write(
        work.state(),
        json!({"siemtap": {"format": 1}, "siem_cursor": old}).to_string(),
    )
    .unwrap();
    let events = ok(&run(&sim, &work).env("PP_SOURCE", "siem").output(), &work);
    let errors = pp_kind(&events, "error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let gap = &errors[0]["pp"];
    assert_eq!(gap["error_code"], "COLLECTION_GAP");
    assert_eq!(gap["gap_start"].as_str().unwrap(), old);
    let end: jiff::Timestamp = gap["gap_end"].as_str().unwrap().parse().unwrap();
    let behind = jiff::Timestamp::now().duration_since(end).as_secs();
    assert!(
        (167 * 3600..168 * 3600).contains(&behind),
        "gap end {behind} s ago"
    );
    assert_exact(
        &pp_ids(&events),
        &BTreeMap::from([("siem".to_string(), sim.oracle(None)["siem"].clone())]),
    );
    assert!(
        siem_requests(&sim).len() >= 160,
        "caught up from the oldest allowed start"
    );
}

#[test]
fn canary_credentials_appear_in_no_output_channel() {
    const P: &str = "CANARY-pp-principal-zq9x";
    const S: &str = "CANARY-pp-secret-zq9x";
    let sim = sim(&[
        "--seed",
        "8",
        "--events",
        "30",
        "--principal",
        P,
        "--secret",
        S,
    ]);
    let check = |work: &Workdir, out: &Output, scenario: &str| {
        for (name, text) in [
            ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
            ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
            ("log", work.read("siemtap.log")),
            ("state", work.read("state.json")),
            ("file", work.read("events.jsonl")),
        ] {
            assert!(
                !text.contains("zq9x"),
                "{scenario}: a canary leaked into {name}"
            );
            assert!(
                !text.contains("Q0FOQVJZLXBwLXByaW5jaXBhbC16cTl4"),
                "{scenario}: Basic value in {name}"
            );
        }
        assert!(
            !work.read("siemtap.log").is_empty(),
            "{scenario}: the debug log was written"
        );
    };
    // Credentials from a 0600 secrets file, debug logging on.
    let work = Workdir::new();
    let secrets = work.path("pp.secrets");
    std::fs::write(&secrets, format!("PP_PRINCIPAL={P}\nPP_SECRET='{S}'\n")).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&sim, &work)
        .env_remove("PP_PRINCIPAL")
        .env_remove("PP_SECRET")
        .env("PP_SECRETS_FILE", &secrets)
        .args(["--debug", "3"])
        .output();
    let events = ok(&out, &work);
    assert!(
        pp_ids(&events)["siem"].len() == 120,
        "the run succeeded with the file's credentials"
    );
    check(&work, &out, "success");
    // Wrong secret (401), and a server error whose excerpt is logged.
    for (scenario, secret, fault) in [
        ("401", "CANARY-wrong-zq9x", None),
        (
            "500",
            S,
            Some(json!({"faults": [{"match": {"path": SIEM}, "action": {"status": 500}}]})),
        ),
    ] {
        if let Some(plan) = fault {
            sim.faults(plan);
        }
        let work = Workdir::new();
        let out = run(&sim, &work)
            .env("PP_PRINCIPAL", P)
            .env("PP_SECRET", secret)
            .args(["--debug", "3"])
            .into_file(&work.out())
            .output();
        ok(&out, &work);
        assert!(
            !pp_kind(&lines(&work.read("events.jsonl")), "error").is_empty(),
            "{scenario}: an error event"
        );
        check(&work, &out, scenario);
        sim.clear_faults();
    }
}

#[test]
fn bad_settings_and_missing_credentials_are_error_events_with_exit_2() {
    let sim = sim(&["--seed", "9", "--events", "5"]);
    for (var, value, code) in [
        ("PP_OVERLAP_SECONDS", "lots", "CONFIG_INVALID"),
        ("PP_PEOPLE_WINDOW", "7", "CONFIG_INVALID"),
        ("PP_SECRET", "", "CONFIG_MISSING_CREDENTIAL"),
    ] {
        let work = Workdir::new();
        let out = run(&sim, &work).env(var, value).output();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let events = lines(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0]["pp"];
        assert_eq!(
            (e["event_type"].as_str(), e["error_code"].as_str()),
            (Some("error"), Some(code))
        );
        assert_eq!(e["error_source"], "orchestrator");
        assert!(e["error_message"].as_str().unwrap().contains(var), "{e}");
    }
}
