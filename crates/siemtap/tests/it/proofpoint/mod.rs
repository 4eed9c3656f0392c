//! Proofpoint TAP end to end: `siemtap run proofpoint` (drop-in env) against
//! `siemtap sim proofpoint` — drains equal to the oracle, late events and boundary duplicates,
//! a 7-day catch-up window by window under SIGKILL, faults (429/quota, 5xx, broken bodies,
//! 401), look-back gaps, People cadence and paging, canary credentials (`faults.rs`: the
//! failure scenarios).

use std::collections::{BTreeMap, HashMap};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

pub(super) const PRINCIPAL: &str = "sim-principal";
pub(super) const SECRET: &str = "sim-secret";
pub(super) const SIEM: &str = "/v2/siem/all";

pub(super) fn sim(args: &[&str]) -> Sim {
    Sim::vendor("proofpoint", args)
}

/// `siemtap run proofpoint` against `sim` with a clean environment (PATH only).
pub(super) fn run(sim: &Sim, work: &Workdir) -> RunCmd {
    let mut cmd = crate::harness::siemtap_cmd_clean();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PP_BASE_URL", &sim.base)
        .env("PP_PRINCIPAL", PRINCIPAL)
        .env("PP_SECRET", SECRET)
        .env("PP_STATE_FILE", work.state())
        .env("PP_SECRETS_FILE", work.path("absent.secrets"))
        .env("PP_REQUESTS_PER_SECOND", "500")
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args(["run", "proofpoint", "--log-file"])
        .arg(work.log())
        .stdin(Stdio::null());
    RunCmd { cmd }
}

pub(super) fn ok(out: &Output, work: &Workdir) -> Vec<Value> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}\nlog: {}",
        String::from_utf8_lossy(&out.stderr),
        work.read("siemtap.log")
    );
    lines(&String::from_utf8_lossy(&out.stdout))
}

/// Oracle ids of the emitted vendor events, per stream (`siem`, `people`), duplicates kept.
pub(super) fn pp_ids(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let pp = &e["pp"];
        let kind = pp["event_type"].as_str().unwrap_or("");
        let (stream, id) = match kind {
            "messagesBlocked" | "messagesDelivered" => {
                ("siem", format!("{kind}:{}", pp["GUID"].as_str().unwrap()))
            }
            "clicksBlocked" | "clicksPermitted" => {
                ("siem", format!("{kind}:{}", pp["id"].as_str().unwrap()))
            }
            "vap" | "top_clickers" => (
                "people",
                format!(
                    "{kind}:{}@{}",
                    pp["identity"]["guid"].as_str().unwrap(),
                    pp["report"]["interval"].as_str().unwrap()
                ),
            ),
            _ => continue,
        };
        out.entry(stream.into()).or_default().push(id);
    }
    out
}

pub(super) fn pp_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["pp"]["event_type"] == kind)
        .collect()
}

pub(super) fn oracle_at(sim: &Sim, query: &str) -> BTreeMap<String, Vec<String>> {
    let (status, body) = http(&sim.base, "GET", &format!("/_sim/oracle{query}"), None);
    assert_eq!(status, 200, "oracle: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    serde_json::from_value(v["streams"].clone()).unwrap()
}

/// SIEM requests in order: (interval start, end, status).
pub(super) fn siem_requests(sim: &Sim) -> Vec<(jiff::Timestamp, jiff::Timestamp, u64)> {
    let log = sim.requests();
    log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == SIEM)
        .map(|r| {
            let q = r["query"]
                .as_str()
                .unwrap()
                .replace("%3A", ":")
                .replace("%2F", "/");
            let interval = q
                .split('&')
                .find_map(|p| p.strip_prefix("interval="))
                .unwrap()
                .to_string();
            let (s, e) = interval.split_once('/').unwrap();
            (
                s.parse().unwrap(),
                e.parse().unwrap(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub(super) fn siem_cursor(work: &Workdir) -> Option<jiff::Timestamp> {
    if !work.state().exists() || work.read("state.json").is_empty() {
        return None;
    }
    // Always the plain ISO string (spec §3.6); a narrowed width lives in `siem_tuning`.
    state_json(work)["siem_cursor"]
        .as_str()
        .map(|s| s.parse().unwrap())
}

pub(super) fn people_requests(sim: &Sim) -> usize {
    sim.requests()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/v2/people/"))
        .count()
}

#[test]
fn full_drain_equals_the_oracle_and_a_second_run_adds_nothing() {
    let sim = sim(&["--seed", "1", "--events", "120", "--people-users", "45"]);
    let work = Workdir::new();
    let events = ok(
        &run(&sim, &work).env("PP_PEOPLE_PAGE_SIZE", "20").output(),
        &work,
    );
    let oracle = sim.oracle(None);
    assert_eq!(oracle["siem"].len(), 480);
    assert_eq!(oracle["people"].len(), 90, "both reports opened, all pages");
    assert_exact(&pp_ids(&events), &oracle);
    assert!(
        pp_kind(&events, "error").is_empty(),
        "{:?}",
        pp_kind(&events, "error")
    );
    for e in &events {
        let line = e.to_string();
        assert!(
            line.starts_with(r#"{"integration":"proofpoint","pp":{"event_type":""#),
            "{line}"
        );
    }
    let last = events.last().unwrap();
    assert_eq!(
        last["pp"],
        json!({"event_type": "run_summary", "source": "orchestrator", "timestamp": last["pp"]["timestamp"],
               "siem_ran": true, "siem_success": true, "people_ran": true, "people_success": true})
    );
    // Every window is at most one hour and the windows tile the range without holes.
    let windows = siem_requests(&sim);
    assert!(windows.len() >= 24, "{} windows", windows.len());
    for pair in windows.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "contiguous windows");
    }
    for (s, e, status) in &windows {
        assert!(e > s && e.duration_since(*s) <= jiff::SignedDuration::from_hours(1));
        assert!(matches!(status, 200 | 204));
    }
    // 45 users at 20 per page: 3 pages per report.
    assert_eq!(people_requests(&sim), 6);
    let state = state_json(&work);
    assert_eq!(
        state["siem_cursor"].as_str().unwrap(),
        windows
            .last()
            .unwrap()
            .1
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    );
    assert!(
        state["people_cursor"]["last_fetch"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );

    // Second run: nothing new, People not due.
    let again = ok(
        &run(&sim, &work).env("PP_PEOPLE_PAGE_SIZE", "20").output(),
        &work,
    );
    assert_eq!(again.len(), 1, "only the summary: {again:?}");
    assert_eq!(people_requests(&sim), 6, "People runs once per interval");

    // Due again (interval 1 s): the same day's report is fetched, and its users were delivered.
    std::thread::sleep(Duration::from_millis(1100));
    let third = ok(
        &run(&sim, &work)
            .env("PP_PEOPLE_PAGE_SIZE", "20")
            .env("PP_PEOPLE_INTERVAL", "1")
            .output(),
        &work,
    );
    assert_eq!(people_requests(&sim), 12);
    assert_eq!(third.len(), 1, "same report, no duplicates: {third:?}");
}

#[test]
fn late_events_and_boundary_duplicates_are_delivered_once() {
    let work = Workdir::new();
    let faults = work.path("faults.json");
    std::fs::write(
        &faults,
        json!({"faults": [
            {"match": {"stream": "siem"}, "action": {"late_events": {"fraction": 0.3, "delay_s": 1500}}},
            {"match": {"path": SIEM}, "action": {"duplicate_across_windows": true}}
        ]})
        .to_string(),
    )
    .unwrap();
    let sim = sim(&[
        "--seed",
        "2",
        "--events",
        "1000",
        "--inclusive-end",
        "--faults",
        faults.to_str().unwrap(),
    ]);
    // Run 1 settles 15 min; records late by 25 min are still invisible in its last windows.
    let base = |settle: &str| {
        run(&sim, &work)
            .env("PP_SOURCE", "siem")
            .env("PP_OVERLAP_SECONDS", "1800")
            .env("PP_SETTLE_SECONDS", settle)
            .into_file(&work.out())
    };
    let first = ok(&base("900").output(), &work);
    assert!(first.is_empty());
    let cursor = siem_cursor(&work).unwrap();
    // Late records (visible_at > event_time) with an event time before run 1's cursor that
    // were invisible during run 1: only the overlap re-read can deliver them.
    let run1_end = jiff::Timestamp::now();
    let (_, body) = http(&sim.base, "GET", "/_sim/oracle?generated=true", None);
    let generated = serde_json::from_str::<Value>(&body).unwrap()["generated"]["siem"].clone();
    let late_before_cursor: Vec<String> = generated
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            let t = |k: &str| g[k].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
            t("event_time") < cursor && t("visible_at") > run1_end
        })
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !late_before_cursor.is_empty(),
        "the scenario has late records behind the cursor"
    );
    let early = pp_ids(&lines(&work.read("events.jsonl")));
    assert!(
        late_before_cursor
            .iter()
            .all(|id| !early["siem"].contains(id))
    );
    // 30 min later (the simulator's clock) the next run re-reads the overlap.
    sim.clock(json!({"advance_s": 1800}));
    ok(&base("0").output(), &work);
    let events = lines(&work.read("events.jsonl"));
    let ids = pp_ids(&events);
    assert!(
        late_before_cursor.iter().all(|id| ids["siem"].contains(id)),
        "the overlap re-read caught every late record"
    );
    let oracle = sim.oracle(None);
    assert_eq!(oracle["siem"].len(), 4000);
    assert_exact(
        &ids,
        &BTreeMap::from([("siem".to_string(), oracle["siem"].clone())]),
    );
    // Duplicates were really served (boundary records, duplicated minutes, overlap re-reads)
    // and suppressed by the ledger.
    let (_, body) = http(&sim.base, "GET", "/_sim/oracle", None);
    let served: HashMap<String, u64> = serde_json::from_value(
        serde_json::from_str::<Value>(&body).unwrap()["served"]["siem"].clone(),
    )
    .unwrap();
    assert!(
        served.values().any(|n| *n > 1),
        "no record was served twice"
    );
}

#[test]
fn seven_day_catch_up_checkpoints_each_window_and_survives_kills() {
    let sim = sim(&["--seed", "3", "--events", "100", "--people-users", "10"]);
    let work = Workdir::new();
    let campaign = || {
        run(&sim, &work)
            .env("PP_LOOKBACK_HOURS", "168")
            .env("PP_REQUESTS_PER_SECOND", "30")
            .into_file(&work.out())
    };
    let mut mid_run = 0;
    let mut cursors = Vec::new();
    for delay_ms in [1200, 2500, 1800] {
        let mut child = campaign().spawn();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let running = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        if work.state().exists() {
            let c = siem_cursor(&work);
            if running && c.is_some() {
                mid_run += 1;
            }
            cursors.push(c);
        }
    }
    assert!(
        mid_run >= 1,
        "no kill landed mid-run after a checkpoint: {cursors:?}"
    );
    let out = campaign().output();
    ok(&out, &work);
    let windows = siem_requests(&sim);
    assert!(windows.len() >= 168, "{} windows", windows.len());
    assert!(
        windows
            .iter()
            .all(|(s, e, _)| e.duration_since(*s) <= jiff::SignedDuration::from_hours(1))
    );
    // The cursor only moved forward across kills.
    let seen: Vec<_> = cursors.iter().flatten().collect();
    assert!(seen.windows(2).all(|p| p[0] <= p[1]), "{seen:?}");
    let events = lines(&work.read("events.jsonl"));
    assert_exact(&pp_ids(&events), &sim.oracle(None));
}

mod faults;
mod people;
mod width;

/// A window whose response exceeds the response cap is read again in narrower windows: the
/// stream never sticks on a dense hour, and nothing is lost or repeated.
#[test]
fn a_window_over_the_response_cap_is_split_not_stuck() {
    let sim = sim(&["--seed", "5", "--events", "1500", "--people-users", "5"]);
    let work = Workdir::new();
    // ~60 records per category per hour, about 100 KB per hour window: a 60 KB cap forces
    // narrower windows.
    let events = ok(
        &run(&sim, &work)
            .env("SIEMTAP_MAX_RESPONSE_BYTES", "60000")
            .args(["--source", "siem", "--max-runtime", "0"])
            .output(),
        &work,
    );
    assert!(
        pp_kind(&events, "error").is_empty(),
        "{:?}",
        pp_kind(&events, "error")
    );
    let oracle = sim.oracle(None);
    let got = pp_ids(&events);
    assert_exact(
        &BTreeMap::from([("siem".to_string(), got["siem"].clone())]),
        &BTreeMap::from([("siem".to_string(), oracle["siem"].clone())]),
    );
    let windows = siem_requests(&sim);
    let narrow = windows
        .iter()
        .filter(|(s, e, _)| e.duration_since(*s) < jiff::SignedDuration::from_hours(1))
        .count();
    assert!(narrow > 0, "some windows were split");
    assert!(work.read("siemtap.log").contains("narrower windows"));
}
