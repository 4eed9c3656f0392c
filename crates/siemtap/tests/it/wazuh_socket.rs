//! `--output wazuh-socket:PATH` end to end: the binary against the 1Password simulator sends
//! one datagram per event to a real `UnixDatagram` listener, in analysisd's format; with no
//! listener the run fails without advancing any cursor, and the next run delivers everything.
//! `connectors`: the same for every connector, with the listener killed mid-run (and
//! restarted); `install`: `siemtap wazuh install` into a temporary root.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use crate::harness::*;

mod connectors;
mod install;

/// A datagram listener standing in for analysisd.
pub(crate) struct Listener {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<Vec<u8>>>,
}

impl Listener {
    pub(crate) fn bind(path: &Path) -> Listener {
        let socket = UnixDatagram::bind(path).expect("bind listener");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = vec![0u8; 70_000];
            loop {
                match socket.recv(&mut buf) {
                    Ok(n) => got.push(buf[..n].to_vec()),
                    // Empty queue: once the sender is gone, everything it sent was read.
                    Err(_) if flag.load(Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
            got
        });
        Listener { stop, handle }
    }

    /// Everything received (call after the sender exited).
    pub(crate) fn finish(self) -> Vec<Vec<u8>> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("listener thread")
    }
}

/// Splits a datagram as analysisd's `OS_CleanMSG` does: queue id, unescaped location, event.
pub(crate) fn split(d: &[u8]) -> (String, String, Value) {
    let text = std::str::from_utf8(d).expect("utf-8");
    let (queue, rest) = text.split_once(':').expect("queue id");
    let mut location = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '|' => location.push(chars.next().expect("escaped char").1),
            ':' => {
                let event = serde_json::from_str(&rest[i + 1..])
                    .unwrap_or_else(|e| panic!("event is not JSON ({e}): {text:?}"));
                return (queue.to_string(), location, event);
            }
            c => location.push(c),
        }
    }
    panic!("no event in {text:?}");
}

fn socket_run(sim: &Sim, work: &Workdir, socket: &Path) -> RunCmd {
    RunCmd::new(sim, work)
        .env("OP_PAGE_LIMIT", "50")
        .arg("--output")
        .arg(format!("wazuh-socket:{}", socket.display()))
}

fn no_floats_or_nulls(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Number(n) => n.is_i64() && n.as_i64().unwrap().unsigned_abs() < 1_000_000_000,
        Value::Array(a) => a.iter().all(no_floats_or_nulls),
        Value::Object(m) => m.values().all(no_floats_or_nulls),
        _ => true,
    }
}

#[test]
fn every_oracle_id_arrives_as_one_datagram() {
    let sim = Sim::start(&["--seed", "21", "--events", "120"]);
    let work = Workdir::new();
    let socket = work.path("queue");
    let listener = Listener::bind(&socket);
    let out = socket_run(&sim, &work, &socket).output();
    let datagrams = listener.finish();
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "socket run printed something"
    );
    let mut events = Vec::new();
    for d in &datagrams {
        assert!(d.len() <= 65_535);
        assert!(
            d.starts_with(b"1:siemtap-1password:{\""),
            "{:?}",
            String::from_utf8_lossy(d)
        );
        assert!(!d.contains(&b'\n'), "one event per datagram");
        let (queue, location, event) = split(d);
        assert_eq!(
            (queue.as_str(), location.as_str()),
            ("1", "siemtap-1password")
        );
        assert_eq!(
            event.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["integration", "op"],
            "no other top-level key"
        );
        assert!(no_floats_or_nulls(&event), "Wazuh-safe: {event}");
        events.push(event);
    }
    let oracle = sim.oracle(None);
    assert_eq!(oracle.values().map(Vec::len).sum::<usize>(), 360);
    assert_exact(&ids_by_stream(&events), &oracle);
    assert!(errors(&events).is_empty(), "{:?}", errors(&events));
    assert_eq!(summaries(&events).len(), 1);
    assert_eq!(
        datagrams.len(),
        361,
        "one datagram per event plus the summary"
    );
    // Item usages carry latitude/longitude floats: sent as strings.
    let usage = events
        .iter()
        .find(|e| e["op"]["event_type"] == "item_usage" && e["op"]["location"].is_object())
        .expect("an item usage with a location");
    assert!(usage["op"]["location"]["latitude"].is_string(), "{usage}");
    // The cursor advanced: a second run sends only its summary.
    let listener = Listener::bind_again(&socket);
    let second = socket_run(&sim, &work, &socket).output();
    assert_eq!(second.status.code(), Some(0));
    let again = listener.finish();
    assert_eq!(again.len(), 1, "only the run summary");
    assert_eq!(split(&again[0]).2["op"]["event_type"], "run_summary");
}

#[test]
fn absent_socket_refuses_pages_without_advancing_then_delivers_everything() {
    let sim = Sim::start(&["--seed", "22", "--events", "60"]);
    let work = Workdir::new();
    let socket = work.path("queue");
    let first = socket_run(&sim, &work, &socket)
        .env("SIEMTAP_WAZUH_RETRY_SECS", "0.5")
        .output();
    assert_eq!(
        first.status.code(),
        Some(1),
        "delivery failure exit code; log: {}",
        work.read("siemtap.log")
    );
    let log = work.read("siemtap.log");
    assert!(log.contains("no socket file"), "{log}");
    // No page was accepted, so no cursor exists (the state file may not even exist). The
    // second run below proves it too: it must deliver every oracle id.
    let state: Value = serde_json::from_str(&work.read("state.json")).unwrap_or(Value::Null);
    for s in ["audit", "signin", "itemusage"] {
        assert!(
            state[format!("{s}_cursor")].is_null(),
            "{s} cursor must not advance: {state}"
        );
    }

    let listener = Listener::bind(&socket);
    let second = socket_run(&sim, &work, &socket)
        .env("SIEMTAP_WAZUH_LOCATION", "op:prod|eu")
        .output();
    let datagrams = listener.finish();
    assert_eq!(
        second.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(datagrams[0].starts_with(b"1:op|:prod||eu:{"));
    let events: Vec<Value> = datagrams
        .iter()
        .map(|d| {
            let (_, location, event) = split(d);
            assert_eq!(location, "op:prod|eu");
            event
        })
        .collect();
    assert_exact(&ids_by_stream(&events), &sim.oracle(None));
}

impl Listener {
    /// Binds a path a previous listener left behind (as analysisd does on restart).
    fn bind_again(path: &Path) -> Listener {
        let _ = std::fs::remove_file(path);
        Listener::bind(path)
    }
}
