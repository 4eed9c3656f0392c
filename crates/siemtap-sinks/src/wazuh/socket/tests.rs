//! The socket sink against a real `UnixDatagram` listener in a temp dir.

use std::os::unix::net::UnixDatagram as StdDatagram;
use std::sync::mpsc;
use std::thread;

use serde_json::Value;

use super::*;
use crate::wazuh::size::sha256_hex;

/// Splits a datagram the way analysisd's `OS_CleanMSG` does: queue id, unescaped location,
/// message after the first unescaped `:`.
fn parse_like_analysisd(d: &[u8]) -> (String, String, String) {
    let text = std::str::from_utf8(d).expect("utf-8 datagram");
    let (queue, rest) = text.split_once(':').expect("queue id");
    let mut location = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '|' => match chars.next() {
                Some((_, n @ ('|' | ':'))) => location.push(n),
                other => panic!("bad escape at {i}: {other:?}"),
            },
            ':' => return (queue.into(), location, rest[i + 1..].to_string()),
            c => location.push(c),
        }
    }
    panic!("no message separator in {text:?}");
}

/// A listener thread: binds `path` (after `delay`), receives until `count` datagrams arrived.
fn listen(path: PathBuf, delay: Duration, count: usize) -> mpsc::Receiver<Vec<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        thread::sleep(delay);
        let _ = std::fs::remove_file(&path);
        let socket = StdDatagram::bind(&path).expect("bind listener");
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 200_000];
        while got.len() < count {
            match socket.recv(&mut buf) {
                Ok(n) => got.push(buf[..n].to_vec()),
                Err(_) => break,
            }
        }
        // Closed before reporting, so a later send cannot reach this listener.
        drop(socket);
        let _ = tx.send(got);
    });
    rx
}

fn batch(lines: &[String]) -> Batch {
    let mut b = Batch::new();
    for l in lines {
        b.push_with(|out| out.extend_from_slice(l.as_bytes()));
    }
    b
}

fn events(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!(r#"{{"integration": "acme", "acme": {{"seq": {i}, "ts": 1700000000123, "gone": null, "event_type": "login"}}}}"#))
        .collect()
}

fn config(path: &Path, location: &str) -> WazuhSocketConfig {
    WazuhSocketConfig::new(path, Location::plain(location))
}

fn wait(rx: &mpsc::Receiver<Vec<Vec<u8>>>) -> Vec<Vec<u8>> {
    rx.recv_timeout(Duration::from_secs(60))
        .expect("listener finished")
}

#[tokio::test]
async fn one_datagram_per_event_in_order_with_escaped_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let rx = listen(path.clone(), Duration::ZERO, 25);
    // Wait for the bind: the sink would retry anyway, but keep this test about the format.
    while !path.exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut sink = WazuhSocketSink::new(config(&path, "siemtap|acme:prod")).unwrap();
    let lines = events(25);
    sink.send(&batch(&lines)).await.unwrap();
    let got = wait(&rx);
    assert_eq!(got.len(), 25, "one datagram per event");
    for (i, d) in got.iter().enumerate() {
        assert!(
            d.starts_with(b"1:siemtap||acme|:prod:{\""),
            "{:?}",
            String::from_utf8_lossy(d)
        );
        let (queue, location, message) = parse_like_analysisd(d);
        assert_eq!(queue, "1");
        assert_eq!(location, "siemtap|acme:prod");
        assert!(!message.contains('\n'));
        let v: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(v["acme"]["seq"], i, "order kept");
        assert_eq!(v["acme"]["ts"], "1700000000123", "shaped");
        assert!(v["acme"].get("gone").is_none(), "nulls dropped");
        assert_eq!(
            message,
            format!(
                r#"{{"integration":"acme","acme":{{"seq":{i},"ts":"1700000000123","event_type":"login"}}}}"#
            )
        );
    }
    assert_eq!(sink.socket_stats().datagrams_sent, 25);
    assert_eq!(sink.socket_stats().connects, 1);
}

#[tokio::test]
async fn agent_attributed_location_is_escaped_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let rx = listen(path.clone(), Duration::ZERO, 1);
    let agent = AgentAttribution {
        id: "001".into(),
        name: "web|01".into(),
        ip: Some("2001:db8::7".into()),
    };
    let location = Location::agent(&agent, "siemtap-acme");
    assert_eq!(location.raw(), "[001] (web|01) 2001:db8::7->siemtap-acme");
    let mut sink = WazuhSocketSink::new(WazuhSocketConfig::new(&path, location)).unwrap();
    sink.send(&batch(&events(1))).await.unwrap();
    let got = wait(&rx);
    assert!(got[0].starts_with(b"1:[001] (web||01) 2001|:db8|:|:7->siemtap-acme:{"));
    let (_, loc, _) = parse_like_analysisd(&got[0]);
    assert_eq!(loc, "[001] (web|01) 2001:db8::7->siemtap-acme");
    let any = Location::agent(
        &AgentAttribution {
            id: "002".into(),
            name: "db".into(),
            ip: None,
        },
        "x",
    );
    assert_eq!(any.escaped(), "[002] (db) any->x");
}

#[tokio::test]
async fn absent_listener_refuses_the_batch_then_delivers_once_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let mut cfg = config(&path, "siemtap-acme");
    cfg.retry_budget = Duration::from_millis(400);
    let mut sink = WazuhSocketSink::new(cfg).unwrap();
    let b = batch(&events(3));
    let err = sink.send(&b).await.expect_err("no listener: refused");
    assert!(err.message.contains("no socket file"), "{err}");
    assert!(err.message.contains("not committed"), "{err}");
    assert!(err.sink.contains("queue"), "{err}");
    assert!(sink.socket_stats().retries >= 1);

    // The runner re-sends the page (the cursor did not move); now the listener is there.
    let rx = listen(path.clone(), Duration::ZERO, 3);
    while !path.exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sink.send(&b).await.unwrap();
    assert_eq!(wait(&rx).len(), 3);
}

#[tokio::test]
async fn listener_bound_mid_retry_gets_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let mut cfg = config(&path, "siemtap-acme");
    cfg.retry_budget = Duration::from_secs(60);
    let mut sink = WazuhSocketSink::new(cfg).unwrap();
    let rx = listen(path.clone(), Duration::from_millis(300), 4);
    sink.send(&batch(&events(4))).await.unwrap();
    let got = wait(&rx);
    let seqs: Vec<_> = got
        .iter()
        .map(|d| {
            let (_, _, m) = parse_like_analysisd(d);
            serde_json::from_str::<Value>(&m).unwrap()["acme"]["seq"].clone()
        })
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    assert!(sink.socket_stats().retries >= 1, "it had to retry");
}

#[tokio::test]
async fn restarted_listener_refused_then_reconnected_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let rx = listen(path.clone(), Duration::ZERO, 2);
    while !path.exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut sink = WazuhSocketSink::new(config(&path, "siemtap-acme")).unwrap();
    sink.send(&batch(&events(2))).await.unwrap();
    assert_eq!(wait(&rx).len(), 2);
    // The listener thread has exited: its socket file remains (ECONNREFUSED) until a new
    // listener replaces it.
    let rx = listen(path.clone(), Duration::from_millis(300), 3);
    sink.send(&batch(&events(3))).await.unwrap();
    assert_eq!(wait(&rx).len(), 3);
    assert!(
        sink.socket_stats().connects >= 2,
        "{:?}",
        sink.socket_stats()
    );
}

#[tokio::test]
async fn stream_socket_at_the_path_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let _stream = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let mut sink = WazuhSocketSink::new(config(&path, "siemtap-acme")).unwrap();
    let err = sink.send(&batch(&events(1))).await.unwrap_err();
    assert!(err.message.contains("not a datagram socket"), "{err}");
    assert_eq!(sink.socket_stats().retries, 0);
}

#[tokio::test]
async fn oversize_event_arrives_shrunk_with_markers_and_a_health_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let rx = listen(path.clone(), Duration::ZERO, 3);
    let blob = "x".repeat(200_000);
    let line = format!(
        r#"{{"integration": "acme", "acme": {{"id": "a1", "blob": "{blob}", "parts": [1, 2], "event_type": "alert"}}}}"#
    );
    let small = events(1).remove(0);
    let mut sink = WazuhSocketSink::new(config(&path, "siemtap-acme")).unwrap();
    sink.send(&batch(&[line.clone(), small])).await.unwrap();
    let got = wait(&rx);
    assert_eq!(got.len(), 3, "event, its health event, the next event");
    assert!(got[0].len() <= 65_535, "{}", got[0].len());
    assert!(got[0].len() > 60_000, "only what is needed is cut");
    let (_, _, m) = parse_like_analysisd(&got[0]);
    let v: Value = serde_json::from_str(&m).expect("the shrunk event is valid JSON");
    let acme = &v["acme"];
    assert_eq!(acme["truncated"], true);
    assert_eq!(acme["original_size"], line.len().to_string());
    assert_eq!(acme["original_sha256"], sha256_hex(line.as_bytes()));
    assert_eq!(acme["truncated_fields"], serde_json::json!(["acme.blob"]));
    assert_eq!(acme["id"], "a1");
    assert_eq!(acme["event_type"], "alert");
    let (_, _, h) = parse_like_analysisd(&got[1]);
    let h: Value = serde_json::from_str(&h).unwrap();
    assert_eq!(h["siemtap"]["check"], "event_truncated");
    assert_eq!(h["siemtap"]["original_sha256"], sha256_hex(line.as_bytes()));
    assert_eq!(sink.prep_stats().truncated, 1);
    let (_, _, last) = parse_like_analysisd(&got[2]);
    assert!(last.contains(r#""seq":0"#));
}

#[tokio::test]
async fn datagram_budget_accounts_for_a_long_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let rx = listen(path.clone(), Duration::ZERO, 1);
    let location = "l:".repeat(300); // escapes to 900 bytes
    let line = format!(
        r#"{{"integration":"acme","acme":{{"blob":"{}"}}}}"#,
        "y".repeat(65_500)
    );
    let mut cfg = config(&path, &location);
    cfg.health_events = false;
    let mut sink = WazuhSocketSink::new(cfg).unwrap();
    assert_eq!(sink.max_event_bytes(), 65_535 - 2 - 900 - 1);
    sink.send(&batch(&[line])).await.unwrap();
    let got = wait(&rx);
    assert!(
        got[0].len() <= 65_535 && got[0].len() > 64_000,
        "{}",
        got[0].len()
    );
}

#[tokio::test]
async fn pacing_spaces_datagrams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let rx = listen(path.clone(), Duration::ZERO, 6);
    while !path.exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut cfg = config(&path, "siemtap-acme");
    cfg.max_eps = Some(20.0);
    let mut sink = WazuhSocketSink::new(cfg).unwrap();
    let start = std::time::Instant::now();
    sink.send(&batch(&events(6))).await.unwrap();
    // A lower bound only: 6 datagrams at 20/s need at least 5 intervals of 50 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(wait(&rx).len(), 6);
}

#[test]
fn invalid_settings_are_refused() {
    let long = "a".repeat(MAX_LOCATION_BYTES + 1);
    assert!(WazuhSocketSink::new(config(Path::new("/tmp/q"), &long)).is_err());
    assert!(WazuhSocketSink::new(config(Path::new("/tmp/q"), "")).is_err());
    let mut cfg = config(Path::new("/tmp/q"), "x");
    cfg.max_eps = Some(0.0);
    let err = WazuhSocketSink::new(cfg).unwrap_err();
    assert!(err.message.contains("positive"), "{err}");
}

#[test]
fn escaping_pipes_before_colons() {
    assert_eq!(escape_location("a|:b"), "a|||:b");
    assert_eq!(escape_location("plain-loc"), "plain-loc");
    assert_eq!(escape_location("::"), "|:|:");
}

#[tokio::test]
async fn health_probe_says_down_without_a_listener_and_up_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let mut sink = WazuhSocketSink::new(config(&path, "siemtap")).unwrap();
    match sink.health().await {
        siemtap_core::Health::Down(m) => assert!(m.contains("no socket file"), "{m}"),
        other => panic!("{other:?}"),
    }
    let _listener = StdDatagram::bind(&path).unwrap();
    assert_eq!(sink.health().await, siemtap_core::Health::Up);
    assert_eq!(
        sink.socket_stats().datagrams_sent,
        0,
        "the probe sends nothing"
    );
}

/// A listener that does not read until its queue is full, then drains: the sink waits for
/// writability on the full socket (no error, no retry, no reconnect) and resumes at the
/// datagram that did not fit, so every datagram arrives exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_socket_waits_for_writability_then_delivers_every_datagram_once_in_order() {
    const N: usize = 5000; // far more than a default send buffer or receive queue holds
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue");
    let listener = StdDatagram::bind(&path).expect("bind listener");
    let mut sink = WazuhSocketSink::new(config(&path, "siemtap")).unwrap();
    let page = batch(&events(N));
    let sending = tokio::spawn(async move {
        let result = sink.send(&page).await;
        (sink, result)
    });
    // Full: a probe sender of our own gets EAGAIN (the listener's queue holds no more).
    let probe = StdDatagram::unbound().unwrap();
    probe.connect(&path).unwrap();
    probe.set_nonblocking(true).unwrap();
    let mut probes = 0usize;
    loop {
        match probe.send(b"probe") {
            Ok(_) => probes += 1,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("probe: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        !sending.is_finished(),
        "the sink waits while the socket is full"
    );
    // Drain everything; the sink resumes as room appears.
    let drain = thread::spawn(move || {
        listener
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut buf = vec![0u8; 200_000];
        let (mut got, mut probes_seen) = (Vec::new(), 0usize);
        while got.len() < N {
            let n = listener
                .recv(&mut buf)
                .expect("datagram before the read timeout");
            if &buf[..n] == b"probe" {
                probes_seen += 1;
            } else {
                got.push(buf[..n].to_vec());
            }
        }
        (got, probes_seen)
    });
    let (sink, result) = sending.await.unwrap();
    result.expect("the page is accepted once the listener drains");
    let (got, probes_seen) = drain.join().unwrap();
    assert_eq!(probes_seen, probes);
    assert_eq!(got.len(), N);
    for (i, d) in got.iter().enumerate() {
        let (_, location, message) = parse_like_analysisd(d);
        assert_eq!(location, "siemtap");
        let v: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(v["acme"]["seq"], i, "every datagram once, in order");
    }
    let stats = sink.socket_stats();
    assert_eq!(stats.datagrams_sent, N as u64);
    assert_eq!((stats.retries, stats.connects), (0, 1));
    assert!(stats.full_waits >= 1, "it did wait for writability");
}
