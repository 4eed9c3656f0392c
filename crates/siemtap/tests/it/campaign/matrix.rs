//! The fault matrix: every fault the simulators can inject × every connector, from the table
//! [`ROWS`]. Each cell runs once with the fault installed (file sink, canary credentials from a
//! rotating tier, a rotating `--debug` level) and checks: exit 0, exactly the expected error
//! events, no canary in any channel; then clears the fault and runs again: no error, and the
//! union of both runs equals the oracle — nothing lost (so the first run never moved a cursor
//! past undelivered data) and nothing repeated. A declared `COLLECTION_GAP` may only miss ids
//! inside the range it names.
//!
//! With `SIEMTAP_MATRIX_OUT=DIR` each connector writes its cells to `DIR/matrix-NAME.json`;
//! `python3 bench/campaign.py --matrix` turns them into the table in docs/reliability.md.

use std::collections::BTreeMap;

use serde_json::json;

use super::leak::{Planted, scan};
use super::*;

/// What a cell must show.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// One error event with this code on the faulted stream; the next run recovers exactly.
    Error(&'static str),
    /// One error event with this code per stream (1Password: one orchestrator event, from the
    /// token introspection that precedes the streams).
    EveryStream(&'static str),
    /// Absorbed (retried, re-paged, deduplicated): no error event; exact after the next run.
    Absorbed,
    /// One `COLLECTION_GAP` naming the skipped range; only ids inside it are missing.
    DeclaredGap,
    /// The vendor (and so its simulator) has no such behaviour.
    NotApplicable,
}

/// Which requests a row's fault hits.
pub enum Target {
    /// `{"path": P, "nth": N}` (a `None` nth: every request to P).
    Path(&'static str, Option<&'static [u64]>),
    /// A rule without match keys (credential expiry, late arrivals).
    Everything,
    NotApplicable,
}

/// One fault of the matrix.
pub struct Row {
    pub name: &'static str,
    /// The action JSON.
    pub action: &'static str,
    /// `None`: the connector's main path, 3rd request.
    pub path: Option<&'static str>,
    pub nth: Option<&'static [u64]>,
    /// A rule without match keys.
    pub everything: bool,
    /// Variables for the faulted run.
    pub env: &'static [(&'static str, &'static str)],
    /// Seconds the simulator's clock advances between the two runs.
    pub advance_s: u64,
    /// Expectations for 1Password, Proofpoint, Cortex XDR.
    pub expect: [Expect; 3],
}

const THIRD: Option<&[u64]> = Some(&[3]);
const SECOND: Option<&[u64]> = Some(&[2]);

const fn row(name: &'static str, action: &'static str, expect: [Expect; 3]) -> Row {
    Row {
        name,
        action,
        path: None,
        nth: THIRD,
        everything: false,
        env: &[],
        advance_s: 0,
        expect,
    }
}

const fn all(e: Expect) -> [Expect; 3] {
    [e, e, e]
}

use Expect::{Absorbed, DeclaredGap, Error, EveryStream, NotApplicable as NA};

const INCIDENTS: &str = "/public_api/v1/incidents/get_incidents";

/// The matrix. A burst of 8 after the 3rd request outlasts the client's retries.
pub const ROWS: &[Row] = &[
    row(
        "429 ×9, `Retry-After: 1`",
        r#"{"status":429,"retry_after":{"form":"seconds","value":1},"burst":8}"#,
        all(Error("API_HTTP_429")),
    ),
    row(
        "429 ×9, `Retry-After` HTTP-date",
        r#"{"status":429,"retry_after":{"form":"http-date","offset_s":2},"burst":8}"#,
        all(Error("API_HTTP_429")),
    ),
    row(
        "429 ×9, no `Retry-After`",
        r#"{"status":429,"retry_after":{"form":"absent"},"burst":8}"#,
        all(Error("API_HTTP_429")),
    ),
    row(
        "429 ×9, unparsable `Retry-After`",
        r#"{"status":429,"retry_after":{"form":"garbage"},"burst":8}"#,
        all(Error("API_HTTP_429")),
    ),
    row(
        "429 ×9, `Retry-After` 1 day",
        r#"{"status":429,"retry_after":{"form":"huge","value":86400},"burst":8}"#,
        all(Error("API_HTTP_429")),
    ),
    row(
        "429 once",
        r#"{"status":429,"retry_after":{"form":"seconds","value":1}}"#,
        all(Absorbed),
    ),
    row(
        "500 ×9",
        r#"{"status":500,"burst":8}"#,
        all(Error("API_HTTP_500")),
    ),
    row("500 once", r#"{"status":500}"#, all(Absorbed)),
    row("502 once", r#"{"status":502}"#, all(Absorbed)),
    row(
        "503 ×9",
        r#"{"status":503,"burst":8}"#,
        all(Error("API_HTTP_UNEXPECTED")),
    ),
    row(
        "504 ×9",
        r#"{"status":504,"burst":8}"#,
        all(Error("API_HTTP_UNEXPECTED")),
    ),
    row(
        "400",
        r#"{"status":400}"#,
        [Error("API_HTTP_400"), DeclaredGap, Error("API_HTTP_400")],
    ),
    row("401", r#"{"status":401}"#, all(Error("API_HTTP_401"))),
    row(
        "403",
        r#"{"status":403}"#,
        all(Error("API_HTTP_UNEXPECTED")),
    ),
    row(
        "404",
        r#"{"status":404}"#,
        all(Error("API_HTTP_UNEXPECTED")),
    ),
    Row {
        env: &[("SIEMTAP_REQUEST_TIMEOUT", "0.3")],
        ..row(
            "1.2 s delay ×9, 0.3 s request timeout",
            r#"{"delay_ms":1200,"burst":8}"#,
            all(Error("API_TIMEOUT")),
        )
    },
    row("0.2 s delay once", r#"{"delay_ms":200}"#, all(Absorbed)),
    row(
        "body truncated at 50 %",
        r#"{"truncate_body_at":0.5}"#,
        all(Error("API_INVALID_RESPONSE")),
    ),
    row(
        "body cut off mid-read once (`Content-Length` promises more)",
        r#"{"cut_body_at":0.5}"#,
        all(Absorbed),
    ),
    row(
        "body cut off mid-read ×9",
        r#"{"cut_body_at":0.5,"burst":8}"#,
        all(Error("API_CONNECTION_ERROR")),
    ),
    row(
        "invalid JSON",
        r#"{"invalid_json":true}"#,
        all(Error("API_INVALID_RESPONSE")),
    ),
    row(
        "HTML page, status 200",
        r#"{"html_body":true}"#,
        all(Error("API_INVALID_RESPONSE")),
    ),
    row(
        "HTML page, 502 ×9",
        r#"{"html_body":true,"status":502,"burst":8}"#,
        all(Error("API_HTTP_UNEXPECTED")),
    ),
    row(
        "JSON sent as text/plain",
        r#"{"wrong_content_type":true}"#,
        all(Absorbed),
    ),
    row(
        "empty 200",
        r#"{"empty_200":true}"#,
        all(Error("API_INVALID_RESPONSE")),
    ),
    row(
        "connection dropped ×9",
        r#"{"drop_connection":true,"burst":8}"#,
        all(Error("API_CONNECTION_ERROR")),
    ),
    row(
        "connection dropped once",
        r#"{"drop_connection":true}"#,
        all(Absorbed),
    ),
    Row {
        everything: true,
        nth: None,
        ..row(
            "credentials expired (`token_expiry`)",
            r#"{"token_expiry":{"at":"2000-01-01T00:00:00Z"}}"#,
            all(EveryStream("API_HTTP_401")),
        )
    },
    Row {
        everything: true,
        nth: None,
        advance_s: 700,
        ..row(
            "30 % of events 10 min late (`late_events`)",
            r#"{"late_events":{"fraction":0.3,"delay_s":600}}"#,
            all(Absorbed),
        )
    },
    Row {
        nth: SECOND,
        ..row(
            "continuing cursor rejected once (400)",
            r#"{"cursor_reject":true}"#,
            [Error("API_HTTP_400"), NA, NA],
        )
    },
    Row {
        nth: SECOND,
        ..row(
            "page without `cursor`",
            r#"{"missing_cursor":true}"#,
            [Error("API_INVALID_RESPONSE"), NA, NA],
        )
    },
    Row {
        nth: SECOND,
        ..row(
            "`\"cursor\": \"\"`",
            r#"{"empty_cursor":true}"#,
            [Error("API_INVALID_RESPONSE"), NA, NA],
        )
    },
    Row {
        nth: SECOND,
        ..row(
            "`has_more` stuck on the same cursor ×51",
            r#"{"has_more_stuck":true,"burst":50}"#,
            [Absorbed, NA, NA],
        )
    },
    row(
        "daily quota exhausted ×9",
        r#"{"quota_exhausted":true,"burst":8}"#,
        [NA, Error("API_HTTP_429"), NA],
    ),
    Row {
        nth: None,
        ..row(
            "12 h look-back enforced (`lookback_400`)",
            r#"{"lookback_400":true}"#,
            [NA, DeclaredGap, NA],
        )
    },
    Row {
        nth: None,
        ..row(
            "boundary minute in two windows",
            r#"{"duplicate_across_windows":true}"#,
            [NA, Absorbed, NA],
        )
    },
    Row {
        nth: SECOND,
        ..row(
            "`total_count` one too high",
            r#"{"total_count_drift":1}"#,
            [NA, NA, Absorbed],
        )
    },
    Row {
        nth: None,
        path: Some(INCIDENTS),
        ..row(
            "incidents modified while paging",
            r#"{"mutate_mid_pagination":{"after_page":1,"count":3}}"#,
            [NA, NA, Absorbed],
        )
    },
    Row {
        nth: None,
        ..row(
            "alerts inserted while paging",
            r#"{"insert_mid_pagination":{"after_page":1,"count":3}}"#,
            [NA, NA, Absorbed],
        )
    },
];

impl Row {
    /// This row's expectation for `conn`.
    pub fn expect(&self, conn: &Conn) -> Expect {
        let i = ALL.iter().position(|c| c.name == conn.name).unwrap();
        self.expect[i]
    }

    /// The requests the fault hits for `conn`.
    pub fn target(&self, conn: &Conn) -> Target {
        match self.expect(conn) {
            Expect::NotApplicable => Target::NotApplicable,
            _ if self.everything => Target::Everything,
            _ => Target::Path(self.path.unwrap_or(conn.main_path), self.nth),
        }
    }

    /// The fault plan for `conn`.
    pub fn plan(&self, conn: &Conn) -> Option<Value> {
        let action: Value = serde_json::from_str(self.action).expect("row action is JSON");
        let rule = match self.target(conn) {
            Target::NotApplicable => return None,
            Target::Everything => json!({"action": action}),
            Target::Path(p, None) => json!({"match": {"path": p}, "action": action}),
            Target::Path(p, Some(n)) => json!({"match": {"path": p, "nth": n}, "action": action}),
        };
        Some(json!({ "faults": [rule] }))
    }
}

fn tune(conn: &Conn, run: RunCmd) -> RunCmd {
    if conn.name == "1password" {
        run.env("OP_PAGE_LIMIT", "20")
    } else {
        run
    }
}

fn start(conn: &Conn, planted: &Planted) -> Sim {
    let mut args: Vec<String> = ["--seed", "3", "--events", "120"]
        .map(String::from)
        .to_vec();
    args.extend(planted.sim_args(conn));
    if conn.name == "cortex_xdr" {
        // Advanced keys sign the client's wall time; rows that advance the simulator's clock
        // must not turn into a clock-skew 401.
        args.extend(["--auth-skew".into(), "86400".into()]);
    }
    conn.sim(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// One cell's outcome (a row of the generated table).
#[derive(Debug, serde::Serialize)]
pub struct Cell {
    pub connector: &'static str,
    pub fault: &'static str,
    pub expected: String,
    /// `source:code` of every error event of the faulted run.
    pub observed: Vec<String>,
    /// Vendor events delivered by the faulted run.
    pub delivered_first: usize,
    pub recovery: String,
    pub ok: bool,
    pub failure: Option<String>,
}

fn run_cell(conn: &Conn, row: &Row, index: usize) -> Cell {
    let expect = row.expect(conn);
    let mut cell = Cell {
        connector: conn.name,
        fault: row.name,
        expected: match expect {
            Expect::Error(c) => format!("`{c}`"),
            Expect::EveryStream(c) => format!("`{c}` per stream"),
            Expect::Absorbed => "no error event".into(),
            Expect::DeclaredGap => "`COLLECTION_GAP`".into(),
            Expect::NotApplicable => "n/a".into(),
        },
        observed: Vec::new(),
        delivered_first: 0,
        recovery: String::new(),
        ok: true,
        failure: None,
    };
    if let Err(e) = check_cell(conn, row, index, &mut cell) {
        cell.ok = false;
        cell.failure = Some(e);
    }
    cell
}

fn check_cell(conn: &Conn, row: &Row, index: usize, cell: &mut Cell) -> Result<(), String> {
    let Some(plan) = row.plan(conn) else {
        return Ok(());
    };
    let planted = Planted {
        tier: index % 3,
        level: (index % 4) as u8,
    };
    let sim = start(conn, &planted);
    sim.faults(plan);
    let work = Workdir::new();
    let mut first = planted.apply(conn, &work, tune(conn, conn.run(&sim.base, &work)));
    for (k, v) in row.env {
        first = first.env(k, v);
    }
    let out = first.into_file(&work.out()).output();
    if out.status.code() != Some(0) {
        return Err(format!("faulted run exited {:?}", out.status.code()));
    }
    scan(conn, &work, &out, planted.level)?;
    let events = lines(&work.read("events.jsonl"));
    let codes = conn.error_codes(&events);
    cell.observed = codes.iter().map(|(s, c)| format!("{s}:{c}")).collect();
    cell.delivered_first = conn.ids(&events).values().map(Vec::len).sum();
    let main = match row.target(conn) {
        Target::Path(p, _) if p == INCIDENTS => "incidents",
        _ => conn.main_stream,
    };
    let want: Vec<(String, String)> = match row.expect(conn) {
        Expect::Error(c) => vec![(main.into(), c.into())],
        Expect::EveryStream(c) if conn.name == "1password" => {
            vec![("orchestrator".into(), c.into())]
        }
        Expect::EveryStream(c) => {
            let streams: &[&str] = if conn.name == "proofpoint" {
                &["siem", "people"]
            } else {
                &["alerts", "incidents"]
            };
            streams
                .iter()
                .map(|s| (s.to_string(), c.to_string()))
                .collect()
        }
        Expect::Absorbed => vec![],
        Expect::DeclaredGap => vec![(main.into(), "COLLECTION_GAP".into())],
        Expect::NotApplicable => return Ok(()),
    };
    if codes != want {
        return Err(format!("error events {codes:?}, expected {want:?}"));
    }
    // Recovery: the fault cleared, the next run must leave the union exact.
    sim.clear_faults();
    if row.advance_s > 0 {
        sim.clock(json!({ "advance_s": row.advance_s }));
    }
    let before = events.len();
    let second = planted.apply(conn, &work, tune(conn, conn.final_run(&sim.base, &work)));
    let out = second.into_file(&work.out()).output();
    if out.status.code() != Some(0) {
        return Err(format!("recovery run exited {:?}", out.status.code()));
    }
    scan(conn, &work, &out, planted.level)?;
    let all = lines(&work.read("events.jsonl"));
    let later = conn.error_codes(&all[before.min(all.len())..]);
    if !later.is_empty() {
        return Err(format!("the recovery run emitted errors {later:?}"));
    }
    let oracle = sim.oracle(None);
    let cmp = compare(&conn.ids(&all), &oracle);
    let mut recovery = format!("exact ({} ids)", cmp.ids);
    let mut gaps = cmp.gaps;
    if matches!(row.expect(conn), Expect::DeclaredGap) {
        let gap = conn
            .errors(&all)
            .first()
            .map(|e| conn.inner(e).clone())
            .unwrap_or_default();
        let (from, to) = (
            gap["gap_start"].as_str().unwrap_or(""),
            gap["gap_end"].as_str().unwrap_or(""),
        );
        let (_, body) = http(
            &sim.base,
            "GET",
            &format!("/_sim/oracle?stream={main}&from={from}&to={to}"),
            None,
        );
        let inside: Value = serde_json::from_str(&body).map_err(|e| format!("oracle: {e}"))?;
        let inside: BTreeMap<String, Vec<String>> =
            serde_json::from_value(inside["streams"].clone()).unwrap_or_default();
        let inside: std::collections::HashSet<&String> = inside.values().flatten().collect();
        let delivered: std::collections::HashSet<String> =
            conn.ids(&all).into_values().flatten().collect();
        let outside = oracle
            .values()
            .flatten()
            .filter(|id| !delivered.contains(*id) && !inside.contains(id))
            .count();
        if outside > 0 {
            return Err(format!(
                "{outside} ids missing outside the declared gap {from}..{to}"
            ));
        }
        gaps = 0;
        recovery = format!(
            "exact outside the declared gap ({} of {} ids inside it, skipped)",
            cmp.gaps, cmp.ids
        );
    }
    if (gaps, cmp.duplicates, cmp.extra) != (0, 0, 0) {
        return Err(format!("after recovery: {cmp:?}"));
    }
    cell.recovery = recovery;
    Ok(())
}

/// Runs `row` once for `conn` with `planted` canaries and scans every channel (the leak
/// campaign's full product).
pub fn leak_only(conn: &Conn, row: &Row, planted: &Planted) {
    let Some(plan) = row.plan(conn) else { return };
    let sim = start(conn, planted);
    sim.faults(plan);
    let work = Workdir::new();
    let mut run = planted.apply(conn, &work, tune(conn, conn.run(&sim.base, &work)));
    for (k, v) in row.env {
        run = run.env(k, v);
    }
    let out = run.into_file(&work.out()).output();
    scan(conn, &work, &out, planted.level).unwrap_or_else(|e| {
        panic!(
            "{} {} tier {} level {}: {e}",
            conn.name, row.name, planted.tier, planted.level
        )
    });
}

/// Runs every row for `conn` on `workers` threads, writes the cells when asked, then asserts.
fn matrix(conn: &Conn, workers: usize) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let cells = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(row) = ROWS.get(i) else { break };
                    let cell = run_cell(conn, row, i);
                    cells.lock().unwrap().push((i, cell));
                }
            });
        }
    });
    let mut cells = cells.into_inner().unwrap();
    cells.sort_by_key(|(i, _)| *i);
    let cells: Vec<Cell> = cells.into_iter().map(|(_, c)| c).collect();
    if let Some(dir) = results_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("matrix-{}.json", conn.name));
        std::fs::write(&path, serde_json::to_string_pretty(&cells).unwrap()).unwrap();
    }
    let failed: Vec<&Cell> = cells.iter().filter(|c| !c.ok).collect();
    let applicable = cells.iter().filter(|c| c.expected != "n/a").count();
    eprintln!(
        "fault matrix {}: {applicable} faults, {} failed",
        conn.name,
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{}: failed cells: {failed:#?}",
        conn.name
    );
}

#[test]
fn onepassword_fault_matrix() {
    matrix(&ONEPASSWORD, 2);
}

#[test]
fn proofpoint_fault_matrix() {
    matrix(&PROOFPOINT, 2);
}

#[test]
fn cortex_xdr_fault_matrix() {
    matrix(&CORTEX_XDR, 3);
}
