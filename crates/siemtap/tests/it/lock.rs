//! Two concurrent runs on one state file: the second exits 3 naming the holder's pid, and the
//! first finishes with the state intact.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::*;

#[test]
fn second_concurrent_run_exits_3_and_names_the_holder() {
    let sim = Sim::start(&["--seed", "2", "--events", "40"]);
    let work = Workdir::new();
    sim.faults(json!({"faults": [{"match": {"path": "/api/v2/auth/introspect"}, "action": {"delay_ms": 2500}}]}));
    let first = RunCmd::new(&sim, &work).into_file(&work.out()).spawn();
    let pid = first.id();
    let lock = work.path("state.json.lock");
    let started = Instant::now();
    while std::fs::read_to_string(&lock)
        .map(|s| !s.contains(&pid.to_string()))
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let other = Workdir::new();
    let second = RunCmd::new(&sim, &other)
        .env("OP_STATE_FILE", work.state())
        .output();
    assert_eq!(
        second.status.code(),
        Some(3),
        "log: {}",
        other.read("siemtap.log")
    );
    assert!(second.stdout.is_empty(), "a locked run emits no events");
    let log = other.read("siemtap.log");
    assert!(
        log.contains(&format!("pid {pid}")),
        "message names the holder: {log}"
    );
    let first = first.wait_with_output().expect("first run");
    assert_eq!(
        first.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let _ = state_json(&work);
    assert_exact(
        &ids_by_stream(&lines(&work.read("events.jsonl"))),
        &sim.oracle(None),
    );
}
