//! SIGKILL campaign with fan-out: the 1Password connector into two files at once, killed at
//! seeded random moments under live arrivals, then one final drain. Each file keeps its own
//! committed length in state and is recovered to it on its own, so each ends with every oracle
//! id exactly once: the exactly-once guarantee holds per file when fanned out.

use super::kill::run_and_kill;
use super::*;

#[test]
fn fan_out_two_files_each_no_gap_no_duplicate_after_kills() {
    let conn = ONEPASSWORD;
    let sim = conn.sim(&["--seed", "51", "--events", "900", "--rate", "20"]);
    let work = Workdir::new();
    let (a, b) = (work.path("a.jsonl"), work.path("b.jsonl"));
    let with_outputs = |run: RunCmd| {
        run.env("OP_PAGE_LIMIT", "25")
            .arg("--output")
            .arg(format!("file:{}", a.display()))
            .arg("--output")
            .arg(format!("file:{}", b.display()))
    };
    let mut rng = Lcg(51 ^ 0x5eed);
    let (lo, hi) = conn.kill_ms;
    let mut mid_run = 0;
    let mut trials = 0;
    while trials < 6 || (mid_run < 2 && trials < 18) {
        trials += 1;
        let run = with_outputs(conn.run(&sim.base, &work));
        let (_, running) = run_and_kill(run, &work.path("stdout.txt"), lo + rng.below(hi - lo));
        mid_run += usize::from(running);
        // Each committed length ends on a whole line of its own file.
        if work.state().exists() {
            let state = state_json(&work);
            for path in [&a, &b] {
                let key = format!("file:{}", path.display());
                let len = state["siemtap"]["outputs"][&key].as_u64().unwrap_or(0) as usize;
                let bytes = std::fs::read(path).unwrap_or_default();
                assert!(len <= bytes.len(), "{key}: committed past the file end");
                assert!(len == 0 || bytes[len - 1] == b'\n', "{key}: splits a line");
            }
        }
    }
    assert!(
        mid_run >= 2,
        "only {mid_run} of {trials} kills hit a running process"
    );
    freeze(&conn, &sim);
    let last = with_outputs(conn.final_run(&sim.base, &work)).output();
    assert_eq!(
        last.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let oracle = sim.oracle(None);
    for f in ["a.jsonl", "b.jsonl"] {
        let emitted = lines(&work.read(f));
        let cmp = compare(&conn.ids(&emitted), &oracle);
        eprintln!("fan-out kill campaign {f}: {trials} kills ({mid_run} mid-run): {cmp:?}");
        assert_eq!(cmp.gaps, 0, "{f}: {cmp:?}");
        assert_eq!(cmp.duplicates, 0, "{f}: {cmp:?}");
        assert_eq!(cmp.extra, 0, "{f}: {cmp:?}");
    }
}
