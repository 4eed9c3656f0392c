//! Full drain against the simulator: the output equals the oracle, a second run adds nothing,
//! and the lines have the reference integration's exact shape.

use crate::harness::*;

#[test]
fn full_drain_equals_oracle_and_second_run_adds_nothing() {
    let sim = Sim::start(&["--seed", "11", "--events", "240"]);
    let work = Workdir::new();
    let first = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "50")
        .into_file(&work.out())
        .output();
    assert_eq!(
        first.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(
        first.stdout.is_empty() && first.stderr.is_empty(),
        "file sink run printed something"
    );
    let after_first = lines(&work.read("events.jsonl"));
    let oracle = sim.oracle(None);
    assert_eq!(
        oracle.values().map(Vec::len).sum::<usize>(),
        720,
        "simulator made 240 per stream"
    );
    assert_exact(&ids_by_stream(&after_first), &oracle);
    assert!(
        errors(&after_first).is_empty(),
        "{:?}",
        errors(&after_first)
    );
    let summary = summaries(&after_first);
    assert_eq!(summary.len(), 1);
    for s in ["audit", "signin", "itemusage"] {
        assert_eq!(summary[0]["op"][format!("{s}_ran")], true);
        assert_eq!(summary[0]["op"][format!("{s}_success")], true);
    }
    // The state holds each stream's cursor, last poll and high-water mark.
    let state = state_json(&work);
    for s in ["audit", "signin", "itemusage"] {
        assert!(state[format!("{s}_cursor")].is_string(), "{state}");
        assert!(state[format!("{s}_last_poll")].is_string(), "{state}");
        assert!(state[format!("{s}_high_water")].is_string(), "{state}");
    }

    let second = RunCmd::new(&sim, &work).into_file(&work.out()).output();
    assert_eq!(second.status.code(), Some(0));
    let all = lines(&work.read("events.jsonl"));
    assert_eq!(
        all.len(),
        after_first.len() + 1,
        "second run adds only its run summary"
    );
    assert_exact(&ids_by_stream(&all), &sim.oracle(None));
    // Resumed with cursors: the simulator saw no new first-page body after the first run.
    let requests = sim.requests();
    let flat = requests
        .as_array()
        .or_else(|| requests["requests"].as_array())
        .expect("request log array")
        .iter()
        .filter(|r| r["body_form"] == "flat")
        .count();
    assert_eq!(flat, 3, "one flat first-page body per stream, ever");
}

#[test]
fn stdout_lines_have_the_reference_shape() {
    let sim = Sim::start(&["--seed", "5", "--events", "30"]);
    let work = Workdir::new();
    let out = RunCmd::new(&sim, &work)
        .args(["--source", "signin"])
        .output();
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(
        out.stderr.is_empty(),
        "stderr must stay empty: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("stdout is UTF-8 (ASCII, in fact)");
    assert!(text.is_ascii(), "non-ASCII must be \\u-escaped");
    let events = lines(&text);
    assert_eq!(ids_by_stream(&events)["signin"].len(), 30);
    for line in text.lines() {
        assert!(
            line.starts_with(r#"{"integration": "1password", "op": {"#),
            "{line}"
        );
        assert!(!line.contains(": null"), "nulls are dropped: {line}");
    }
    for e in events.iter().filter(|e| stream_of(e).is_some()) {
        let op = e["op"].as_object().unwrap();
        assert_eq!(
            op.keys().next_back().map(String::as_str),
            Some("event_type"),
            "discriminator is last"
        );
        assert!(op.contains_key("uuid"));
        assert!(
            !op.contains_key("tenant"),
            "single-tenant output has no tenant"
        );
    }
    let summary = summaries(&events);
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["op"]["audit_ran"], false);
    assert!(summary[0]["op"].get("audit_success").is_none());
    assert_eq!(summary[0]["op"]["signin_success"], true);
    let last = text.lines().last().unwrap();
    assert!(
        last.ends_with(r#""event_type": "run_summary"}}"#),
        "the summary is the last line: {last}"
    );
}
