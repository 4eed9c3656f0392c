//! The run budget and SIGTERM: a run stops at a page boundary, checkpointed, emits its
//! summary and exits 0; the next run continues where it stopped, with nothing lost or repeated.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::*;

/// Every vendor request is slow, so a full drain (45 pages of 20) takes about 13 s, far
/// longer than the budget. The margins are wide because CI machines are shared and loaded:
/// process start-up and client set-up come out of the same wall-clock budget.
fn slow_sim() -> Sim {
    let sim = Sim::start(&["--seed", "13", "--events", "300"]);
    sim.faults(
        json!({"faults": [{"match": {"path_prefix": "/api/v2/"}, "action": {"delay_ms": 300}}]}),
    );
    sim
}

fn finish_and_check(sim: &Sim, work: &Workdir) {
    sim.clear_faults();
    let out = RunCmd::new(sim, work)
        .env("OP_PAGE_LIMIT", "20")
        .args(["--max-runtime", "0"])
        .into_file(&work.out())
        .output();
    assert_eq!(out.status.code(), Some(0));
    assert_exact(
        &ids_by_stream(&lines(&work.read("events.jsonl"))),
        &sim.oracle(None),
    );
}

#[test]
fn max_runtime_stops_cleanly_at_a_checkpoint() {
    let sim = slow_sim();
    let work = Workdir::new();
    let started = Instant::now();
    let out = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "20")
        .args(["--max-runtime", "5"])
        .into_file(&work.out())
        .output();
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    // Generous bound: the point is that the run ends on its own budget, not after the
    // ~13 s a full drain at this speed would take.
    assert!(
        took < Duration::from_secs(10),
        "run took {took:?} with a 5 s budget"
    );
    let events = lines(&work.read("events.jsonl"));
    let delivered: usize = ids_by_stream(&events).values().map(Vec::len).sum();
    assert!(
        delivered > 0 && delivered < 900,
        "partial drain expected, got {delivered}"
    );
    assert_eq!(summaries(&events).len(), 1, "the summary is still emitted");
    assert!(
        errors(&events).is_empty(),
        "a budget stop is not an error: {:?}",
        errors(&events)
    );
    // Fair shares: every stream got a turn within the budget.
    let by = ids_by_stream(&events);
    for s in ["audit", "signin", "itemusage"] {
        assert!(
            by.get(s).is_some_and(|v| !v.is_empty()),
            "{s} starved: {by:?}"
        );
    }
    finish_and_check(&sim, &work);
}

#[test]
fn sigterm_finishes_the_page_commits_and_exits_0() {
    let sim = slow_sim();
    let work = Workdir::new();
    let child = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "20")
        .args(["--max-runtime", "0"])
        .into_file(&work.out())
        .spawn();
    // Signal once the run is demonstrably under way (its first page is out), not after a
    // fixed sleep that a loaded machine may not honour.
    let started = Instant::now();
    while !work.read("events.jsonl").contains('\n') {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no page within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "SIGTERM is a clean stop; log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&work.read("events.jsonl"));
    let last = events.last().expect("some output");
    assert_eq!(
        last["op"]["event_type"], "run_summary",
        "the summary is the last line"
    );
    assert!(work.read("siemtap.log").contains("SIGTERM"));
    finish_and_check(&sim, &work);
}
