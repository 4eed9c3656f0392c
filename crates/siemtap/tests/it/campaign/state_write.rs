//! Kills during the state write, with real parts only: one-hour windows over a 7-day catch-up
//! (Proofpoint) make the runner commit constantly, each commit rewriting a ledger of a
//! thousand ids, so seeded random SIGKILLs land inside the atomic write (a temp file
//! `.state.json.<pid>.<n>.tmp` left behind proves it). After every kill the state file parses
//! and is the old or a new committed version — never torn: its committed output length only
//! grows and ends on a whole line; a complete temp file beside it is a version that was never
//! renamed into place. The next run removes the temp files, and the final union is exact.
//! `bench/campaign.py` adds kills injected exactly at the rename with `strace -e inject`.

use super::kill::run_and_kill;
use super::*;

/// Temp files beside the state file.
fn temps(work: &Workdir) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(work.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.starts_with(".state.json.") && n.ends_with(".tmp")
        })
        .collect()
}

/// Figures of one connector's state-write campaign.
#[derive(Debug, Default, serde::Serialize)]
pub struct StateWriteReport {
    pub kills: usize,
    pub mid_run: usize,
    /// Kills that left a temp file: they landed inside a state write.
    pub in_write: usize,
    /// Of those, a complete new version written but not renamed into place.
    pub before_rename: usize,
    pub cmp: Comparison,
}

/// Kills `conn`'s runs at least `kills` times, then drains and compares.
pub fn campaign(conn: &Conn, kills: usize, seed: u64) -> StateWriteReport {
    let sim = match conn.name {
        // One-event pages: far more requests than the vendor's 600/min allows.
        "1password" => conn.sim(&[
            "--seed",
            "5",
            "--events",
            "400",
            "--rate",
            "5",
            "--no-rate-limit",
        ]),
        _ => conn.sim(&["--seed", "5", "--events", "300", "--rate", "0.2"]),
    };
    let work = Workdir::new();
    let tune = |run: RunCmd| match conn.name {
        "1password" => run.env("OP_PAGE_LIMIT", "1"),
        "proofpoint" => run
            .env("PP_LOOKBACK_HOURS", "168")
            .env("PP_REQUESTS_PER_SECOND", "1000"),
        _ => run,
    };
    let output_key = format!("file:{}", work.out().display());
    let mut rng = Lcg(seed);
    let mut r = StateWriteReport::default();
    let mut committed_len = 0;
    // At least `kills` kills, and more (up to 4×) until one landed inside a state write. The
    // kills must land while the catch-up is still running, so the delay range shrinks each
    // time a kill finds the run already finished (a fast, idle machine drains sooner).
    let mut max_delay = 150;
    while r.kills < kills || (r.in_write == 0 && r.kills < 4 * kills) {
        r.kills += 1;
        let run = tune(conn.run(&sim.base, &work)).into_file(&work.out());
        let (_, running) = run_and_kill(run, &work.path("stdout.txt"), 5 + rng.below(max_delay));
        r.mid_run += usize::from(running);
        if !running {
            max_delay = (max_delay / 2).max(10);
        }
        let left = temps(&work);
        if !left.is_empty() {
            r.in_write += 1;
            let state = std::fs::read_to_string(work.state()).unwrap_or_default();
            for t in &left {
                let text = std::fs::read_to_string(t).unwrap();
                if serde_json::from_str::<Value>(&text).is_ok() && text != state {
                    r.before_rename += 1;
                }
            }
        }
        if work.state().exists() {
            let state = state_json(&work);
            let len = state["siemtap"]["outputs"][&output_key]
                .as_u64()
                .unwrap_or(0);
            let bytes = std::fs::read(work.out()).unwrap_or_default();
            assert!(len >= committed_len, "committed length went back");
            assert!(len as usize <= bytes.len() && (len == 0 || bytes[len as usize - 1] == b'\n'));
            committed_len = len;
        }
    }
    freeze(conn, &sim);
    let last = conn
        .final_run(&sim.base, &work)
        .into_file(&work.out())
        .output();
    assert_eq!(
        last.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(
        temps(&work).is_empty(),
        "the next run removed the stale temp files"
    );
    r.cmp = compare(
        &conn.ids(&lines(&work.read("events.jsonl"))),
        &sim.oracle(None),
    );
    eprintln!("state-write kills {}: {r:?}", conn.name);
    if let Some(dir) = results_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("state-write-{}.json", conn.name));
        std::fs::write(path, serde_json::to_string(&r).unwrap()).unwrap();
    }
    assert!(
        r.in_write >= 1,
        "no kill landed inside a state write; the campaign proved nothing: {r:?}"
    );
    assert_eq!(
        (r.cmp.gaps, r.cmp.duplicates, r.cmp.extra),
        (0, 0, 0),
        "{r:?}"
    );
    r
}

#[test]
fn proofpoint_kills_inside_the_state_write_leave_old_or_new() {
    campaign(&PROOFPOINT, 10, 32);
}
