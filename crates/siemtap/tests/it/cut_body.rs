//! A body cut off mid-read (`Content-Length` promises more than the server sends before it
//! closes the connection) is a transport error: retried within the attempt budget, so the
//! stream still delivers everything in the same run (issue 10, item 8). The fault matrix runs
//! the same fault against every connector (`body cut off mid-read` rows).

use serde_json::json;

use crate::harness::*;

const SIGNIN: &str = "/api/v2/signinattempts";

#[test]
fn a_body_cut_off_mid_read_is_retried_and_the_run_delivers_everything() {
    let sim = Sim::start(&["--seed", "8", "--events", "500"]);
    let work = Workdir::new();
    // The 2nd signin response is cut in half; the retry gets it whole.
    sim.faults(json!({"faults": [
        {"match": {"path": SIGNIN, "nth": [2]}, "action": {"cut_body_at": 0.5}}
    ]}));
    let out = RunCmd::new(&sim, &work)
        .env("SIEMTAP_USER", "root")
        .env("OP_PAGE_LIMIT", "50")
        .into_file(&work.out())
        .output();
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&work.read("events.jsonl"));
    assert!(
        errors(&events).is_empty(),
        "no error event: {:?}",
        errors(&events)
    );
    assert_exact(&ids_by_stream(&events), &sim.oracle(None));
    let s = &summaries(&events)[0]["op"];
    assert_eq!(s["signin_success"], true, "{s}");
}
