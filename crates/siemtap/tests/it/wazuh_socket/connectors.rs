//! Acceptance for every connector: events from the 1Password, Proofpoint and Cortex XDR
//! simulators go through `--output wazuh-socket:PATH` into a `UnixDatagram` listener, parse as
//! analysisd parses them, and killing the listener mid-run loses nothing — a run whose
//! listener stays dead fails (exit 1) without committing the held page, a run whose listener
//! comes back reconnects and finishes, and the union of what arrived equals the oracle.
//!
//! The kill is deterministic: the listener stops reading after K datagrams, so the sender
//! blocks on the full datagram queue (it is still mid-run, holding a page); the run is then
//! stopped (SIGSTOP), the datagrams the kernel had already queued are read, the socket is
//! closed and its file removed, and the run continued (SIGCONT). A real analysisd crash
//! would also lose what sat in its queue — no sender can see that (no acknowledgement,
//! spec/wazuh.md §3.5) — so those are read first: the test is about what siemtap does.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{Listener, split};
use crate::harness::*;

/// One connector under test: how to run it and how to read its oracle ids.
struct Case {
    connector: &'static str,
    namespace: &'static str,
    sim_args: &'static [&'static str],
    run: fn(&Sim, &Workdir) -> RunCmd,
    ids: fn(&[Value]) -> BTreeMap<String, Vec<String>>,
}

fn env_run(sim: &Sim, work: &Workdir, connector: &str, env: &[(&str, &str)]) -> RunCmd {
    let mut cmd = crate::harness::siemtap_cmd_clean();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args(["run", connector, "--log-file"])
        .arg(work.log())
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let prefix = match connector {
        "1password" => "OP",
        "proofpoint" => "PP",
        _ => "XDR",
    };
    cmd.env(format!("{prefix}_BASE_URL"), &sim.base)
        .env(format!("{prefix}_STATE_FILE"), work.state())
        .env(
            format!("{prefix}_SECRETS_FILE"),
            work.path("absent.secrets"),
        );
    RunCmd { cmd }
}

fn op_run(sim: &Sim, work: &Workdir) -> RunCmd {
    RunCmd::new(sim, work).env("OP_PAGE_LIMIT", "50")
}

fn pp_run(sim: &Sim, work: &Workdir) -> RunCmd {
    env_run(
        sim,
        work,
        "proofpoint",
        &[
            ("PP_PRINCIPAL", "sim-principal"),
            ("PP_SECRET", "sim-secret"),
            ("PP_REQUESTS_PER_SECOND", "500"),
            ("PP_PEOPLE_PAGE_SIZE", "20"),
        ],
    )
}

fn xdr_run(sim: &Sim, work: &Workdir) -> RunCmd {
    env_run(
        sim,
        work,
        "cortex_xdr",
        &[
            ("XDR_API_KEY", "sim-api-key"),
            ("XDR_API_KEY_ID", "1"),
            ("XDR_REQUESTS_PER_SECOND", "10"),
        ],
    )
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Proofpoint oracle ids (as `tests/it/proofpoint`): SIEM by GUID/id, People by identity@interval.
fn pp_ids(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let pp = &e["pp"];
        let kind = pp["event_type"].as_str().unwrap_or("");
        let (stream, id) = match kind {
            "messagesBlocked" | "messagesDelivered" => {
                ("siem", format!("{kind}:{}", text(&pp["GUID"])))
            }
            "clicksBlocked" | "clicksPermitted" => ("siem", format!("{kind}:{}", text(&pp["id"]))),
            "vap" | "top_clickers" => (
                "people",
                format!(
                    "{kind}:{}@{}",
                    text(&pp["identity"]["guid"]),
                    text(&pp["report"]["interval"])
                ),
            ),
            _ => continue,
        };
        out.entry(stream.into()).or_default().push(id);
    }
    out
}

/// Cortex XDR oracle ids (as `tests/it/cortex_xdr`): alert_id; incident_id@modification ms.
fn xdr_ids(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let x = &e["xdr"];
        match x["type"].as_str().unwrap_or("") {
            "alert" => out
                .entry("alerts".into())
                .or_default()
                .push(text(&x["alert_id"])),
            "incident" => {
                let modified: jiff::Timestamp = x["modification_time"]
                    .as_str()
                    .expect("ISO modification_time")
                    .parse()
                    .expect("ISO");
                out.entry("incidents".into()).or_default().push(format!(
                    "{}@{}",
                    text(&x["incident_id"]),
                    modified.as_millisecond()
                ));
            }
            _ => {}
        }
    }
    out
}

const CASES: [Case; 3] = [
    Case {
        connector: "1password",
        namespace: "op",
        sim_args: &["--seed", "31", "--events", "200"],
        run: op_run,
        ids: ids_by_stream,
    },
    Case {
        connector: "proofpoint",
        namespace: "pp",
        sim_args: &["--seed", "32", "--events", "150", "--people-users", "45"],
        run: pp_run,
        ids: pp_ids,
    },
    Case {
        connector: "cortex_xdr",
        namespace: "xdr",
        sim_args: &["--seed", "33", "--events", "500"],
        run: xdr_run,
        ids: xdr_ids,
    },
];

/// Parses every datagram as analysisd does and checks the envelope; returns the events.
fn events_of(case: &Case, datagrams: &[Vec<u8>]) -> Vec<Value> {
    let location = format!("siemtap-{}", case.connector);
    datagrams
        .iter()
        .map(|d| {
            assert!(d.len() <= 65_535, "datagram of {} bytes", d.len());
            assert!(!d.contains(&b'\n'), "one line per datagram");
            let (queue, loc, event) = split(d);
            assert_eq!((queue.as_str(), loc.as_str()), ("1", location.as_str()));
            let keys: Vec<&str> = event
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let ns = if event["integration"] == "siemtap" {
                "siemtap"
            } else {
                case.namespace
            };
            assert_eq!(keys, ["integration", ns], "{event}");
            if ns != "siemtap" {
                assert_eq!(event["integration"], case.connector);
            }
            event
        })
        .collect()
}

/// Scheduler states of all of the process's threads (`/proc/PID/task/*/stat`).
fn thread_states(pid: u32) -> Vec<char> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
        .filter_map(|stat| stat.rsplit_once(')')?.1.trim_start().chars().next())
        .collect()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill(1)")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// Lines of the run log reporting an unusable socket (ENOENT / ECONNREFUSED).
fn outage_lines(work: &Workdir) -> usize {
    let log = std::fs::read_to_string(work.log()).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("no socket file") || l.contains("connection refused"))
        .count()
}

/// Runs `cmd` against a listener at `socket` that is killed after `kill_after` datagrams;
/// with `restart` a new listener is bound once the run has noticed the outage. Returns the
/// run's output and every datagram either listener received.
fn run_with_listener_kill(
    cmd: RunCmd,
    work: &Workdir,
    socket: &Path,
    kill_after: usize,
    restart: bool,
) -> (Output, Vec<Vec<u8>>) {
    let listener = UnixDatagram::bind(socket).expect("bind listener");
    listener
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut child = cmd.spawn();
    let pid = child.id();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 70_000];
    while got.len() < kill_after {
        match listener.recv(&mut buf) {
            Ok(n) => got.push(buf[..n].to_vec()),
            Err(_) => {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!(
                        "the run ended ({status}) after {} datagrams, before the kill: raise the \
                         simulator's event count; log: {}",
                        got.len(),
                        work.read("siemtap.log")
                    );
                }
            }
        }
    }
    // Stop reading: the sender fills the queue and blocks mid-page. Then stop it, and wait
    // until every thread really is stopped before reading what the kernel queued.
    signal(pid, "-STOP");
    loop {
        let states = thread_states(pid);
        assert!(
            !states.is_empty() && !states.contains(&'Z'),
            "the run ended before the kill: raise the simulator's event count"
        );
        if states.iter().all(|s| matches!(s, 'T' | 't')) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    listener.set_nonblocking(true).unwrap();
    loop {
        match listener.recv(&mut buf) {
            Ok(n) => got.push(buf[..n].to_vec()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("drain: {e}"),
        }
    }
    let before = outage_lines(work);
    drop(listener);
    std::fs::remove_file(socket).unwrap();
    signal(pid, "-CONT");
    if !restart {
        let out = child.wait_with_output().unwrap();
        return (out, got);
    }
    // Wait until the run has met the dead socket, then bring the listener back.
    while outage_lines(work) == before {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended without reporting the dead socket; log: {}",
            work.read("siemtap.log")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = Listener::bind(socket);
    let out = child.wait_with_output().unwrap();
    got.extend(second.finish());
    (out, got)
}

fn as_sets(ids: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, BTreeSet<String>> {
    ids.iter()
        .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
        .collect()
}

fn survives_listener_kills(case: &Case) {
    let sim = Sim::vendor(case.connector, case.sim_args);
    let work = Workdir::new();
    let socket = work.path("queue");
    let output = format!("wazuh-socket:{}", socket.display());
    let total: usize = sim.oracle(None).values().map(Vec::len).sum();
    assert!(
        total >= 400,
        "{}: oracle of {total} ids is too small",
        case.connector
    );
    let log = |w: &Workdir| w.read("siemtap.log");

    // Run 1: the listener dies after 60 datagrams and stays dead: the run gives up on the
    // held page (exit 1) and commits nothing more.
    let cmd = (case.run)(&sim, &work)
        .env("SIEMTAP_WAZUH_RETRY_SECS", "1")
        .args(["--output", output.as_str()]);
    let (first, d1) = run_with_listener_kill(cmd, &work, &socket, 60, false);
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}: log: {}",
        case.connector,
        log(&work)
    );
    assert!(
        log(&work).contains("the page is not committed"),
        "{}",
        log(&work)
    );
    let e1 = events_of(case, &d1);
    let got1 = as_sets(&(case.ids)(&e1));
    let n1: usize = got1.values().map(BTreeSet::len).sum();
    assert!(
        n1 >= 50 && n1 < total,
        "{}: run 1 delivered {n1} of {total}",
        case.connector
    );

    // Run 2: the listener dies after 60 more datagrams and comes back while the run waits:
    // the run reconnects, finishes (exit 0) and delivers the rest.
    // (`--debug 1`: the reconnect is logged at info level.)
    let cmd = (case.run)(&sim, &work).args(["--output", output.as_str(), "--debug", "1"]);
    let (second, d2) = run_with_listener_kill(cmd, &work, &socket, 60, true);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}: log: {}",
        case.connector,
        log(&work)
    );
    assert!(
        log(&work).contains("reconnected to the Wazuh queue socket"),
        "{}",
        log(&work)
    );
    let e2 = events_of(case, &d2);

    // Union of both runs = the oracle: nothing lost, nothing invented. (Asked now: the
    // Proofpoint oracle lists the People reports the runs opened.)
    let oracle = sim.oracle(None);
    let total: usize = oracle.values().map(Vec::len).sum();
    let mut all = e1;
    all.extend(e2);
    let union = as_sets(&(case.ids)(&all));
    let want = as_sets(&oracle);
    assert_eq!(
        want.values().map(BTreeSet::len).sum::<usize>(),
        total,
        "oracle ids are unique"
    );
    for (stream, ids) in &want {
        let got = union.get(stream).cloned().unwrap_or_default();
        let missing: Vec<_> = ids.difference(&got).collect();
        let extra: Vec<_> = got.difference(ids).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{} {stream}: {} missing (e.g. {:?}), {} not in the oracle (e.g. {:?})",
            case.connector,
            missing.len(),
            missing.first(),
            extra.len(),
            extra.first()
        );
    }
    assert_eq!(
        union.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );

    // Run 3, nothing killed: every cursor was committed, so no vendor event is sent again.
    let listener = Listener::bind_again(&socket);
    let third = (case.run)(&sim, &work)
        .args(["--output", output.as_str()])
        .output();
    let d3 = listener.finish();
    assert_eq!(
        third.status.code(),
        Some(0),
        "{}: log: {}",
        case.connector,
        log(&work)
    );
    let e3 = events_of(case, &d3);
    assert!(
        (case.ids)(&e3).values().all(Vec::is_empty),
        "{}: run 3 re-sent vendor events",
        case.connector
    );
    assert!(!e3.is_empty(), "run 3 sends at least its summary");
}

#[test]
fn onepassword_through_the_socket_survives_listener_kills() {
    survives_listener_kills(&CASES[0]);
}

#[test]
fn proofpoint_through_the_socket_survives_listener_kills() {
    survives_listener_kills(&CASES[1]);
}

#[test]
fn cortex_xdr_through_the_socket_survives_listener_kills() {
    survives_listener_kills(&CASES[2]);
}
