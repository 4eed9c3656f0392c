//! SIGKILL at seeded random moments while new events keep arriving, then a final run: no gaps
//! anywhere; no duplicates with the file sink; at most one page repeated per kill on stdout.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::harness::*;

/// A small deterministic generator for kill delays (no rand dependency in tests).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const PAGE: usize = 25;
const KILLS: usize = 8;

/// Kills `child` after `ms`; the flag says whether it was still running (a real interruption).
fn kill_after(mut child: std::process::Child, ms: u64) -> (std::process::Output, bool) {
    std::thread::sleep(Duration::from_millis(ms));
    let running = child.try_wait().expect("poll run").is_none();
    let _ = child.kill();
    (child.wait_with_output().expect("reap killed run"), running)
}

#[test]
fn sigkill_with_file_sink_loses_nothing_and_repeats_nothing() {
    let sim = Sim::start(&["--seed", "21", "--events", "1200", "--rate", "20"]);
    let work = Workdir::new();
    let mut rng = Lcg(0x5eed);
    let mut interrupted = 0;
    for _ in 0..KILLS {
        let child = RunCmd::new(&sim, &work)
            .env("OP_PAGE_LIMIT", PAGE.to_string())
            .into_file(&work.out())
            .spawn();
        interrupted += usize::from(kill_after(child, 30 + rng.below(400)).1);
        // The state is old or new, never torn.
        if work.state().exists() {
            let _ = state_json(&work);
        }
    }
    assert!(
        interrupted >= KILLS / 2,
        "only {interrupted} kills hit a running process"
    );
    sim.clock(json!({"mode": "frozen"}));
    let last = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", PAGE.to_string())
        .arg("--max-runtime")
        .arg("0")
        .into_file(&work.out())
        .output();
    assert_eq!(
        last.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    // Every line in the file is whole: recovery cut torn tails.
    let events = lines(&work.read("events.jsonl"));
    let oracle = sim.oracle(None);
    assert_exact(&ids_by_stream(&events), &oracle);
    eprintln!(
        "kill campaign (file sink): {KILLS} kills, {interrupted} mid-run, {} ids, 0 gaps, 0 duplicates",
        oracle.values().map(Vec::len).sum::<usize>()
    );
}

#[test]
fn sigkill_with_stdout_repeats_at_most_one_page_per_kill() {
    let sim = Sim::start(&["--seed", "22", "--events", "1200", "--rate", "20"]);
    let work = Workdir::new();
    let mut rng = Lcg(0xfeed);
    let mut emitted = Vec::new();
    let mut interrupted = 0;
    for _ in 0..KILLS {
        let child = RunCmd::new(&sim, &work)
            .env("OP_PAGE_LIMIT", PAGE.to_string())
            .spawn();
        let (out, running) = kill_after(child, 30 + rng.below(400));
        interrupted += usize::from(running);
        emitted.extend(lines_lenient(&String::from_utf8_lossy(&out.stdout)));
    }
    assert!(
        interrupted >= KILLS / 2,
        "only {interrupted} kills hit a running process"
    );
    sim.clock(json!({"mode": "frozen"}));
    let last = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", PAGE.to_string())
        .arg("--max-runtime")
        .arg("0")
        .output();
    assert_eq!(
        last.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    emitted.extend(lines(&String::from_utf8_lossy(&last.stdout)));
    let oracle = sim.oracle(None);
    let got = ids_by_stream(&emitted);
    let mut repeats = 0;
    for (stream, want) in &oracle {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in got.get(stream).into_iter().flatten() {
            *counts.entry(id).or_default() += 1;
        }
        let missing = want
            .iter()
            .filter(|id| !counts.contains_key(id.as_str()))
            .count();
        assert_eq!(missing, 0, "{stream}: gaps after kills");
        repeats += counts.values().map(|n| n - 1).sum::<usize>();
    }
    assert!(
        repeats <= KILLS * PAGE,
        "{repeats} repeated events for {KILLS} kills of {PAGE}-event pages"
    );
    eprintln!(
        "kill campaign (stdout): {KILLS} kills, {interrupted} mid-run, {} ids, 0 gaps, {repeats} repeated events (bound {})",
        oracle.values().map(Vec::len).sum::<usize>(),
        KILLS * PAGE
    );
}
