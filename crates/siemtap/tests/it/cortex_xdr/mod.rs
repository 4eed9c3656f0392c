//! Cortex XDR end to end: `siemtap run cortex_xdr` (drop-in variables only) against
//! `siemtap sim cortex_xdr` — drain equals the oracle, late alerts, incidents mutated while
//! paging, kills with the file sink, 429/401 error events with no cursor advance, canaries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

const ALERTS: &str = "/public_api/v1/alerts/get_alerts";
const INCIDENTS: &str = "/public_api/v1/incidents/get_incidents";
const PREFIX: &str = r#"{"integration":"cortex_xdr","xdr":{"type":""#;

fn xdr_sim(args: &[&str]) -> Sim {
    Sim::vendor("cortex_xdr", args)
}

/// `siemtap run cortex_xdr` against `sim` with the simulator's default key, a clean
/// environment, no real retry sleeps and the vendor's full 10 requests/s.
fn xdr_run(sim: &Sim, work: &Workdir) -> RunCmd {
    let mut cmd = crate::harness::siemtap_cmd_clean();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("XDR_BASE_URL", &sim.base)
        .env("XDR_API_KEY", "sim-api-key")
        .env("XDR_API_KEY_ID", "1")
        .env("XDR_STATE_FILE", work.state())
        .env("XDR_SECRETS_FILE", work.path("absent.secrets"))
        .env("XDR_REQUESTS_PER_SECOND", "10")
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args(["run", "cortex_xdr", "--log-file"])
        .arg(work.log())
        .stdin(Stdio::null());
    RunCmd { cmd }
}

fn ms(iso: &str) -> i64 {
    iso.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{iso:?} is not ISO ({e})"))
        .as_millisecond()
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

fn kind(e: &Value) -> &str {
    e["xdr"]["type"].as_str().unwrap_or_default()
}

/// Oracle-form ids per stream: `alert_id`, and `"<incident_id>@<modification_time ms>"`.
fn xdr_ids(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let x = &e["xdr"];
        match kind(e) {
            "alert" => out
                .entry("alerts".into())
                .or_default()
                .push(x["alert_id"].as_str().unwrap().to_string()),
            "incident" => out.entry("incidents".into()).or_default().push(format!(
                "{}@{}",
                x["incident_id"].as_str().unwrap(),
                ms(x["modification_time"].as_str().unwrap())
            )),
            _ => {}
        }
    }
    out
}

fn of_kind<'a>(events: &'a [Value], k: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| kind(e) == k).collect()
}

fn oracle_query(sim: &Sim, query: &str) -> BTreeMap<String, Vec<String>> {
    let (status, body) = http(&sim.base, "GET", &format!("/_sim/oracle?{query}"), None);
    assert_eq!(status, 200, "oracle: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    serde_json::from_value(v["streams"].clone()).unwrap()
}

fn ok(out: &std::process::Output, work: &Workdir) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {} log: {}",
        String::from_utf8_lossy(&out.stderr),
        work.read("siemtap.log")
    );
}

#[test]
fn full_drain_equals_the_oracle_and_a_second_run_adds_nothing() {
    let sim = xdr_sim(&["--seed", "4", "--events", "400"]);
    let work = Workdir::new();
    let first = xdr_run(&sim, &work).into_file(&work.out()).output();
    ok(&first, &work);
    assert!(first.stdout.is_empty(), "events go to the file only");
    let text = work.read("events.jsonl");
    let events = lines(&text);
    let oracle = sim.oracle(None);
    assert_eq!(oracle["alerts"].len(), 400);
    assert_exact(&xdr_ids(&events), &oracle);
    assert!(of_kind(&events, "error").is_empty(), "{text}");
    for line in text.lines() {
        assert!(line.starts_with(PREFIX), "{line}");
    }
    // §4.7: epoch-ms fields are ISO strings with exactly three fraction digits.
    let mut converted = 0;
    for e in of_kind(&events, "alert")
        .into_iter()
        .chain(of_kind(&events, "incident"))
    {
        for field in ["creation_time", "modification_time", "local_insert_ts"] {
            if let Some(v) = e["xdr"].get(field) {
                let s = v
                    .as_str()
                    .unwrap_or_else(|| panic!("{field} not a string: {e}"));
                assert!(
                    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[19] == b'.',
                    "{s}"
                );
                converted += 1;
            }
        }
    }
    assert!(converted > 800);
    let summaries = of_kind(&events, "run_summary");
    assert_eq!(summaries.len(), 1);
    let s = &summaries[0]["xdr"];
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "type",
            "source",
            "timestamp",
            "alerts_ran",
            "alerts_success",
            "incidents_ran",
            "incidents_success"
        ]
    );
    assert_eq!(s["alerts_success"], true);
    assert_eq!(s["incidents_success"], true);
    // Reference state keys: integer epoch-ms cursors once drained, with ledgers beside.
    let state = state_json(&work);
    assert!(state["alerts_cursor"].is_i64(), "{state}");
    assert!(state["incidents_cursor"].is_i64(), "{state}");
    assert!(state["incidents_ledger"].is_object());

    let second = xdr_run(&sim, &work).into_file(&work.out()).output();
    ok(&second, &work);
    let all = lines(&work.read("events.jsonl"));
    let added: Vec<&str> = all[events.len()..].iter().map(kind).collect();
    assert_eq!(
        added,
        ["run_summary"],
        "the second run re-read the overlap and added nothing"
    );
    assert_exact(&xdr_ids(&all), &sim.oracle(None));
}

#[test]
fn standard_keys_send_the_raw_key_to_stdout() {
    let sim = xdr_sim(&[
        "--seed",
        "8",
        "--events",
        "60",
        "--security-level",
        "standard",
        "--api-key-id",
        "17",
    ]);
    let work = Workdir::new();
    let out = xdr_run(&sim, &work)
        .env("XDR_SECURITY_LEVEL", "Standard")
        .env("XDR_API_KEY_ID", "17")
        .args(["--source", "incidents"])
        .output();
    ok(&out, &work);
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    let oracle = sim.oracle(None);
    let got = xdr_ids(&events);
    assert!(!got.contains_key("alerts"), "--source incidents");
    assert_exact(
        &got,
        &BTreeMap::from([("incidents".to_string(), oracle["incidents"].clone())]),
    );
    let s = &of_kind(&events, "run_summary")[0]["xdr"];
    assert_eq!(s["alerts_ran"], false);
    assert!(s.get("alerts_success").is_none());
}

#[test]
fn late_alerts_inserted_after_a_run_are_not_lost() {
    // Live alerts, 90% of them detected 1-6 h before the server inserted them.
    let sim = xdr_sim(&[
        "--seed",
        "5",
        "--events",
        "100",
        "--rate",
        "5",
        "--late-fraction",
        "0.9",
    ]);
    let work = Workdir::new();
    let run = || {
        xdr_run(&sim, &work)
            .env("XDR_SETTLE_SECONDS", "1")
            .args(["--source", "alerts"])
            .into_file(&work.out())
            .output()
    };
    let t1 = jiff::Timestamp::now();
    ok(&run(), &work);
    let after_first = lines(&work.read("events.jsonl")).len();
    std::thread::sleep(Duration::from_secs(3));
    let t2 = jiff::Timestamp::now();
    ok(&run(), &work);
    let events = lines(&work.read("events.jsonl"));
    let emitted = xdr_ids(&events).remove("alerts").unwrap_or_default();
    let unique: HashSet<&String> = emitted.iter().collect();
    assert_eq!(unique.len(), emitted.len(), "duplicates across runs");
    // Everything the server inserted before the second run's window end was delivered.
    let settled = t2 - jiff::SignedDuration::from_secs(2);
    let due = oracle_query(&sim, &format!("stream=alerts&to={settled}"));
    let missing: Vec<_> = due["alerts"]
        .iter()
        .filter(|id| !unique.contains(id))
        .collect();
    assert!(missing.is_empty(), "late alerts lost: {missing:?}");
    let visible: HashSet<String> = sim.oracle(None)["alerts"].iter().cloned().collect();
    assert!(unique.iter().all(|id| visible.contains(*id)));
    // The second run delivered alerts detected before the first run even started: a client
    // filtering on creation_time past its last cursor would never have fetched them.
    let late = of_kind(&events[after_first..], "alert")
        .into_iter()
        .filter(|e| {
            e["xdr"]["creation_time"]
                .as_str()
                .is_some_and(|c| ms(c) < t1.as_millisecond())
        })
        .count();
    assert!(
        late > 0,
        "the second run saw no late alert; the test proves nothing"
    );
}

#[test]
fn incidents_mutated_mid_pagination_deliver_every_version_once() {
    let sim = xdr_sim(&["--seed", "6", "--events", "600"]);
    // After every page of every request window, the first 3 incidents it served get a new
    // version (modification_time = now): plain offset paging would skip records.
    sim.faults(json!({"faults": [{"match": {"path": INCIDENTS},
        "action": {"mutate_mid_pagination": {"after_page": 1, "count": 3}}}]}));
    let work = Workdir::new();
    let run = || {
        xdr_run(&sim, &work)
            .env("XDR_SETTLE_SECONDS", "1")
            .args(["--source", "incidents"])
            .into_file(&work.out())
            .output()
    };
    ok(&run(), &work);
    sim.clear_faults();
    // The new versions are newer than the first run's window end; the next run reads them.
    std::thread::sleep(Duration::from_secs(2));
    ok(&run(), &work);
    let events = lines(&work.read("events.jsonl"));
    let oracle = sim.oracle(None);
    let distinct: HashSet<&str> = oracle["incidents"]
        .iter()
        .map(|v| v.split('@').next().unwrap())
        .collect();
    assert!(
        oracle["incidents"].len() >= distinct.len() + 3,
        "mutations happened: {} versions of {} incidents",
        oracle["incidents"].len(),
        distinct.len()
    );
    let got = xdr_ids(&events);
    assert_exact(
        &got,
        &BTreeMap::from([("incidents".to_string(), oracle["incidents"].clone())]),
    );
    assert!(of_kind(&events, "error").is_empty());
}

/// Kills `child` after `ms`; says whether it was still running.
fn kill_after(mut child: std::process::Child, ms: u64) -> bool {
    std::thread::sleep(Duration::from_millis(ms));
    let running = child.try_wait().expect("poll run").is_none();
    let _ = child.kill();
    let _ = child.wait();
    running
}

#[test]
fn sigkill_mid_run_then_rerun_is_exact_with_the_file_sink() {
    let sim = xdr_sim(&["--seed", "9", "--events", "2500"]);
    let work = Workdir::new();
    let delays = [350u64, 900, 150, 1300, 600, 2000];
    let mut interrupted = 0;
    for ms in delays {
        let child = xdr_run(&sim, &work).into_file(&work.out()).spawn();
        interrupted += usize::from(kill_after(child, ms));
        if work.state().exists() {
            let _ = state_json(&work);
        }
    }
    assert!(
        interrupted >= delays.len() / 2,
        "only {interrupted} kills hit a running run"
    );
    let last = xdr_run(&sim, &work)
        .args(["--max-runtime", "0"])
        .into_file(&work.out())
        .output();
    ok(&last, &work);
    let events = lines(&work.read("events.jsonl"));
    assert_exact(&xdr_ids(&events), &sim.oracle(None));
}

/// One fault on `path`: exactly one error event with `code`, the other stream unharmed, the
/// stored cursor not past undelivered data; then a clean run recovers everything exactly.
#[test]
fn total_count_drift_is_repaged_without_loss_or_duplicates() {
    let sim = xdr_sim(&["--seed", "10", "--events", "300"]);
    // Two pages report a total_count one too high: those windows look incomplete and are
    // paged again; the ledger drops what the second pass repeats.
    sim.faults(json!({"faults": [{"match": {"path": ALERTS, "nth": [2, 5]},
        "action": {"total_count_drift": 1}}]}));
    let work = Workdir::new();
    let out = xdr_run(&sim, &work)
        .args(["--source", "alerts"])
        .into_file(&work.out())
        .output();
    ok(&out, &work);
    let events = lines(&work.read("events.jsonl"));
    assert!(
        of_kind(&events, "error").is_empty(),
        "a re-page is not an error"
    );
    let oracle = sim.oracle(None);
    assert_exact(
        &xdr_ids(&events),
        &BTreeMap::from([("alerts".to_string(), oracle["alerts"].clone())]),
    );
    let (_, body) = http(&sim.base, "GET", "/_sim/oracle?stream=alerts", None);
    let served: Value = serde_json::from_str(&body).unwrap();
    let repeated = served["served"]["alerts"]
        .as_object()
        .unwrap()
        .values()
        .filter(|n| n.as_u64() > Some(1))
        .count();
    assert!(
        repeated > 0,
        "the drifting windows were paged again: {body}"
    );
}

#[test]
fn reference_state_file_is_imported_as_is() {
    let sim = xdr_sim(&["--seed", "11", "--events", "300"]);
    let work = Workdir::new();
    // The reference integration's state: integer epoch-ms cursors, nothing else.
    let cursor = jiff::Timestamp::now().as_millisecond() - 3 * 3_600_000;
    std::fs::write(
        work.state(),
        json!({"alerts_cursor": cursor, "incidents_cursor": cursor + 1}).to_string(),
    )
    .unwrap();
    let out = xdr_run(&sim, &work).into_file(&work.out()).output();
    ok(&out, &work);
    let events = lines(&work.read("events.jsonl"));
    // Each stream restarts at its cursor minus the overlap (600 s), not at the lookback.
    let alerts = oracle_query(
        &sim,
        &format!("stream=alerts&from={}", iso(cursor - 600_000)),
    );
    let incidents = oracle_query(
        &sim,
        &format!("stream=incidents&from={}", iso(cursor + 1 - 600_000)),
    );
    assert!(!alerts["alerts"].is_empty() && alerts["alerts"].len() < 100);
    assert_exact(
        &xdr_ids(&events),
        &BTreeMap::from([
            ("alerts".to_string(), alerts["alerts"].clone()),
            ("incidents".to_string(), incidents["incidents"].clone()),
        ]),
    );
    let state = state_json(&work);
    assert!(state["alerts_cursor"].as_i64().unwrap() > cursor);
}

mod faults;
