//! Checklist N5: no hard-coded proxy, and the system proxy settings (`HTTP_PROXY`,
//! `HTTPS_PROXY`, `NO_PROXY`) are honoured. A recording proxy on loopback answers every
//! request with a 503, so a run that used it shows both in the proxy's log and as an error
//! event; with `NO_PROXY` naming the simulator's host the proxy is never contacted.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::harness::*;

/// Accepts connections, records each request line, answers 503 and closes.
struct RecordingProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    fn start() -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
                    match conn.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let first = text.lines().next().unwrap_or_default().to_string();
                log.lock().unwrap().push(first);
                let _ = conn.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        RecordingProxy { url, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// One drain of a 20-event simulator with `HTTP_PROXY` pointing at a recording proxy, and
/// `NO_PROXY` when given; returns the run, its events and the proxy's request lines.
fn run_with_proxy(
    no_proxy: Option<&str>,
) -> (
    std::process::Output,
    Vec<serde_json::Value>,
    Vec<String>,
    Sim,
    Workdir,
) {
    let sim = Sim::start(&["--events", "20"]);
    let proxy = RecordingProxy::start();
    let work = Workdir::new();
    let mut cmd = RunCmd::new(&sim, &work)
        .env("SIEMTAP_USER", "root")
        .env("HTTP_PROXY", &proxy.url)
        .env("http_proxy", &proxy.url);
    if let Some(hosts) = no_proxy {
        cmd = cmd.env("NO_PROXY", hosts).env("no_proxy", hosts);
    }
    let out = cmd.output();
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    (out, events, proxy.requests(), sim, work)
}

#[test]
fn http_proxy_from_the_environment_is_used() {
    let (_, events, seen, _sim, work) = run_with_proxy(None);
    assert!(
        seen.iter()
            .any(|l| l.starts_with("POST http://127.0.0.1:")
                || l.starts_with("GET http://127.0.0.1:")),
        "the proxy saw no absolute-form request: {seen:?}; log: {}",
        work.read("siemtap.log")
    );
    // The proxy's 503 is a visible failure, not a silent empty run.
    assert!(!errors(&events).is_empty(), "no error event: {events:?}");
}

#[test]
fn no_proxy_bypasses_the_proxy_for_the_named_host() {
    let (out, events, seen, sim, _work) = run_with_proxy(Some("127.0.0.1"));
    assert_eq!(out.status.code(), Some(0));
    assert!(seen.is_empty(), "{seen:?}");
    assert!(errors(&events).is_empty(), "{events:?}");
    assert_exact(&ids_by_stream(&events), &sim.oracle(None));
}
