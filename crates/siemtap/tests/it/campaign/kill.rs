//! SIGKILL at seeded random moments while new events keep arriving, for every connector and
//! both sinks; then the clock is frozen and one final run drains everything. The union of all
//! output must hold every oracle id (no gap); the file sink repeats nothing; stdout repeats at
//! most one page per kill (the page written but not yet committed when the kill landed).

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use super::*;

/// Starts `run` with stdout into a file (a pipe nobody reads while the run lasts would fill
/// and block the run mid-write), SIGKILLs it after `ms`, and returns what it wrote to stdout
/// and whether it was still running (a real interruption).
pub fn run_and_kill(run: RunCmd, stdout: &Path, ms: u64) -> (String, bool) {
    let mut cmd = run.cmd;
    let file = std::fs::File::create(stdout).expect("stdout file");
    let mut child = cmd
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn siemtap");
    std::thread::sleep(Duration::from_millis(ms));
    let running = child.try_wait().expect("poll run").is_none();
    let _ = child.kill();
    let _ = child.wait();
    (std::fs::read_to_string(stdout).unwrap_or_default(), running)
}

/// The sinks of the campaign.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sink {
    Stdout,
    File,
}

/// What one connector × sink campaign measured.
#[derive(Debug, serde::Serialize)]
pub struct KillReport {
    pub kills: usize,
    pub mid_run: usize,
    pub cmp: Comparison,
    /// File sink: repeats of events written before the run's first state commit (the known
    /// defect); included in `cmp.duplicates`.
    pub first_commit_repeats: usize,
    /// Error events of all runs (`source code: message`): none expected.
    pub errors: Vec<String>,
    /// Most events one kill caused to be repeated (stdout), and the largest page served.
    pub max_repeat_per_kill: usize,
    pub max_page: u64,
}

/// Simulator arguments: a populated dataset plus live arrivals.
fn sim_args(conn: &Conn, seed: u64) -> Vec<String> {
    let (events, rate) = match conn.name {
        "1password" => ("1200", "20"),
        "proofpoint" => ("240", "0.5"),
        _ => ("1500", "2"),
    };
    let mut a = vec![
        "--seed".to_string(),
        seed.to_string(),
        "--events".into(),
        events.into(),
        "--rate".into(),
        rate.into(),
    ];
    if conn.name == "proofpoint" {
        a.extend(["--people-users".into(), "30".into()]);
    }
    if conn.name == "cortex_xdr" {
        // The client keeps to 10 requests/s per process, but a killed run and its immediate
        // restart together exceed the simulator's per-key limit (429s are the matrix's subject).
        a.push("--no-rate-limit".into());
    }
    a
}

/// Runs `kills` trials then the final drain; asserts the targets and returns the figures.
pub fn campaign(conn: &Conn, sink: Sink, kills: usize, seed: u64) -> KillReport {
    let args = sim_args(conn, seed);
    let sim = conn.sim(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let work = Workdir::new();
    let mut rng = Lcg(seed ^ 0x5eed);
    let page_env = |run: RunCmd| match conn.name {
        "1password" => run.env("OP_PAGE_LIMIT", "25"),
        // Small People pages, so kills land between pages of one report too.
        "proofpoint" => run.env("PP_PEOPLE_PAGE_SIZE", "10"),
        _ => run,
    };
    let with_sink = |run: RunCmd| match sink {
        Sink::File => run.into_file(&work.out()),
        Sink::Stdout => run,
    };
    let output_key = format!("file:{}", work.out().display());
    let mut per_run: Vec<Vec<Value>> = Vec::new();
    let mut mid_run = 0;
    let mut committed_len = 0u64;
    // Known defect (docs/reliability.md): events a run wrote to the output file before its
    // first state commit are not cut by the next run (it finds no committed length), so they
    // repeat. Those ids are tracked and reported apart; any other repeat fails the test.
    let mut before_first_commit: HashSet<String> = HashSet::new();
    // Once the backlog is drained a run only fetches the live arrivals and can end before the
    // window's first moment (and a loaded machine oversleeps the delay). Such a trial still
    // counts; more trials follow, with delays from a quarter of `lo` up to `lo`, until a
    // third of the planned kills hit a running process (at most `2 * kills` extra).
    let mut trials = 0;
    while trials < kills || (mid_run < kills / 3 && trials < 3 * kills) {
        let run = with_sink(page_env(conn.run(&sim.base, &work)));
        let (lo, hi) = if trials < kills {
            conn.kill_ms
        } else {
            (conn.kill_ms.0 / 4, conn.kill_ms.0)
        };
        trials += 1;
        let (out, running) = run_and_kill(run, &work.path("stdout.txt"), lo + rng.below(hi - lo));
        mid_run += usize::from(running);
        per_run.push(lines_lenient(&out));
        // The state is old or new, never torn; the committed output length only grows and
        // ends on a whole line.
        if work.state().exists() {
            let state = state_json(&work);
            if sink == Sink::File {
                let len = state["siemtap"]["outputs"][&output_key]
                    .as_u64()
                    .unwrap_or(0);
                assert!(len >= committed_len, "committed length went back");
                let bytes = std::fs::read(work.out()).unwrap_or_default();
                assert!(len as usize <= bytes.len(), "committed past the file end");
                assert!(
                    len == 0 || bytes[len as usize - 1] == b'\n',
                    "committed length splits a line"
                );
                committed_len = len;
            }
        } else if sink == Sink::File {
            let written = lines_lenient(&work.read("events.jsonl"));
            before_first_commit.extend(conn.ids(&written).into_values().flatten());
        }
    }
    assert!(
        mid_run >= kills / 3,
        "{}: only {mid_run} of {trials} kills hit a running process",
        conn.name
    );
    freeze(conn, &sim);
    let last = with_sink(page_env(conn.final_run(&sim.base, &work))).output();
    assert_eq!(
        last.status.code(),
        Some(0),
        "{}: final drain; log: {}",
        conn.name,
        work.read("siemtap.log")
    );
    per_run.push(lines(&String::from_utf8_lossy(&last.stdout)));
    let errors: Vec<String> = match sink {
        Sink::File => conn.error_details(&lines(&work.read("events.jsonl"))),
        Sink::Stdout => per_run.iter().flat_map(|r| conn.error_details(r)).collect(),
    };
    let emitted: Vec<Value> = match sink {
        // Recovery cut every torn tail: every line in the file is whole.
        Sink::File => lines(&work.read("events.jsonl")),
        Sink::Stdout => per_run.iter().flatten().cloned().collect(),
    };
    let oracle = sim.oracle(None);
    let ids = conn.ids(&emitted);
    let cmp = compare(&ids, &oracle);
    let mut seen = HashSet::new();
    let first_commit_repeats = ids
        .values()
        .flatten()
        .filter(|id| !seen.insert(id.as_str()) && before_first_commit.contains(id.as_str()))
        .count();
    // Repeats caused by kill k: ids of run k that a later run delivered again.
    let mut max_repeat_per_kill = 0;
    if sink == Sink::Stdout {
        for k in 0..per_run.len() - 1 {
            let later: HashSet<String> = per_run[k + 1..]
                .iter()
                .flat_map(|r| conn.ids(r).into_values().flatten())
                .collect();
            let repeated = conn
                .ids(&per_run[k])
                .into_values()
                .flatten()
                .filter(|id| later.contains(id))
                .count();
            max_repeat_per_kill = max_repeat_per_kill.max(repeated);
        }
    }
    let report = KillReport {
        kills: trials,
        mid_run,
        cmp: cmp.clone(),
        first_commit_repeats,
        errors,
        max_repeat_per_kill,
        max_page: max_page(&sim),
    };
    eprintln!("kill campaign {} {sink:?}: {report:?}", conn.name);
    if let Some(dir) = results_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("kill-{}-{sink:?}.json", conn.name));
        std::fs::write(path, serde_json::to_string(&report).unwrap()).unwrap();
    }
    assert!(
        report.errors.is_empty(),
        "{}: error events: {report:?}",
        conn.name
    );
    assert_eq!(cmp.gaps, 0, "{}: gaps after kills: {report:?}", conn.name);
    assert_eq!(
        cmp.extra, 0,
        "{}: ids not in the oracle: {report:?}",
        conn.name
    );
    match sink {
        Sink::File => assert_eq!(
            cmp.duplicates - first_commit_repeats,
            0,
            "{}: file sink repeated: {report:?}",
            conn.name
        ),
        Sink::Stdout => assert!(
            report.max_repeat_per_kill as u64 <= report.max_page,
            "{}: a kill repeated more than one page: {report:?}",
            conn.name
        ),
    }
    report
}

const KILLS: usize = 6;

#[test]
fn onepassword_file_sink_no_gap_no_duplicate() {
    campaign(&ONEPASSWORD, Sink::File, KILLS, 21);
}

#[test]
fn onepassword_stdout_no_gap_at_most_a_page_per_kill() {
    campaign(&ONEPASSWORD, Sink::Stdout, KILLS, 22);
}

#[test]
fn proofpoint_file_sink_no_gap_no_duplicate() {
    campaign(&PROOFPOINT, Sink::File, KILLS, 23);
}

#[test]
fn proofpoint_stdout_no_gap_at_most_a_page_per_kill() {
    campaign(&PROOFPOINT, Sink::Stdout, KILLS, 24);
}

#[test]
fn cortex_xdr_file_sink_no_gap_no_duplicate() {
    campaign(&CORTEX_XDR, Sink::File, KILLS, 25);
}

#[test]
fn cortex_xdr_stdout_no_gap_at_most_a_page_per_kill() {
    campaign(&CORTEX_XDR, Sink::Stdout, KILLS, 26);
}
