//! The logtest client against a fake logtest server: a Unix stream socket at a temp path
//! speaking the framing of wazuh.md §6.2 (4-byte little-endian length + JSON), answering from
//! the offline evaluator with per-token sessions. No real analysisd can run in CI.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use siemtap_wazuh::check::check_sources;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::rules_for;
use siemtap_wazuh::ini;
use siemtap_wazuh::logtest::{LogtestClient, LogtestError, frame, read_frame};
use siemtap_wazuh::render::render_file;
use siemtap_wazuh::testgen::render_tests;

/// What the fake saw.
#[derive(Default)]
struct Seen {
    requests: Vec<Value>,
    open_sessions: usize,
}

/// Serves until the process ends. `warning` is added to the messages of each new session.
fn fake_logtest(path: &Path, engine: Engine, warning: Option<&'static str>) -> Arc<Mutex<Seen>> {
    let listener = UnixListener::bind(path).unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    std::thread::spawn(move || {
        let mut sessions = HashMap::new();
        let mut next = 0u32;
        let mut clock = 0i64;
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let Ok(raw) = read_frame(&mut conn, 65_535) else {
                continue;
            };
            let reply = match serde_json::from_slice::<Value>(&raw) {
                Err(_) => json!({"error": 1, "message": "not JSON", "data": {}}),
                Ok(req) => {
                    s.lock().unwrap().requests.push(req.clone());
                    let p = &req["parameters"];
                    match (req["version"].as_i64(), req["command"].as_str()) {
                        (Some(1), Some("log_processing")) => {
                            let mut messages = Vec::new();
                            let token = match p["token"].as_str() {
                                Some(t) => t.to_string(),
                                None => {
                                    next += 1;
                                    let t = format!("{next:08x}");
                                    sessions.insert(t.clone(), engine.session());
                                    messages.push(format!(
                                        "INFO: (7202): Session initialized with token '{t}'"
                                    ));
                                    messages.extend(warning.map(str::to_string));
                                    t
                                }
                            };
                            match sessions.get_mut(&token) {
                                None => json!({"error": 4, "message": "invalid token", "data": {}}),
                                Some(session) => {
                                    clock += 1;
                                    let o = session.process(
                                        p["event"].as_str().unwrap_or_default(),
                                        p["location"].as_str().unwrap_or_default(),
                                        clock,
                                    );
                                    let mut output = json!({"decoder": {"name": o.decoder}});
                                    if let Some(f) = &o.rule {
                                        output["rule"] = json!({"id": f.id.to_string(), "level": f.level, "description": f.description});
                                    }
                                    let level = o.rule.as_ref().map_or(0, |f| f.level);
                                    json!({"error": 0, "data": {"codemsg": i32::from(warning.is_some()), "token": token, "messages": messages, "output": output, "alert": level > 0}})
                                }
                            }
                        }
                        (Some(1), Some("remove_session")) => {
                            match sessions.remove(p["token"].as_str().unwrap_or_default()) {
                                Some(_) => {
                                    json!({"error": 0, "data": {"codemsg": 0, "messages": ["INFO: (7206): The session was closed successfully"]}})
                                }
                                None => json!({"error": 4, "message": "invalid token", "data": {}}),
                            }
                        }
                        _ => json!({"error": 3, "message": "command not allowed", "data": {}}),
                    }
                }
            };
            s.lock().unwrap().open_sessions = sessions.len();
            let _ = conn.write_all(&frame(reply.to_string().as_bytes()));
        }
    });
    seen
}

fn engine_for(connector: &str) -> Engine {
    let xml = render_file(&rules_for(connector, None, None).unwrap());
    Engine::new(check_sources(&[("r.xml".into(), xml)]).rules())
}

#[test]
fn generated_tests_pass_over_the_socket_with_sessions_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("logtest");
    let seen = fake_logtest(&sock, engine_for("1password"), None);
    let sections = ini::parse("t.ini", &render_tests("1password", None, None).unwrap()).unwrap();
    let client = LogtestClient::new(&sock);
    let (results, warnings) = client.run_sections(&sections).unwrap();
    assert!(warnings.is_empty());
    let failed: Vec<_> = results.iter().filter(|r| !r.ok).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(
        results.len(),
        sections.iter().map(|s| s.logs.len()).sum::<usize>()
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.open_sessions, 0, "every session removed");
    let first = &seen.requests[0];
    assert_eq!(first["origin"]["name"], "siemtap");
    assert_eq!(first["parameters"]["location"], "stdin");
    assert_eq!(first["parameters"]["log_format"], "syslog");
    assert!(
        first["parameters"].get("token").is_none(),
        "opens a session"
    );
    // Shared sections (frequency rules) reuse their session for every log after the first;
    // every other log opens a fresh one.
    let reused = seen
        .requests
        .iter()
        .filter(|r| r["command"] == "log_processing" && r["parameters"]["token"].is_string())
        .count();
    let want: usize = sections
        .iter()
        .filter(|s| s.shared)
        .map(|s| s.logs.len() - 1)
        .sum();
    assert!(want > 0);
    assert_eq!(reused, want);
}

#[test]
fn a_wrong_expectation_fails_and_warnings_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("logtest");
    let _seen = fake_logtest(
        &sock,
        engine_for("siemtap"),
        Some(
            "WARNING: (7617): Signature ID '100999' was not found and will be ignored in the 'if_sid' option of rule '100801'",
        ),
    );
    let text = "[wrong]\nlog 1 pass = {\"integration\":\"siemtap\",\"siemtap\":{\"kind\":\"health\",\"check\":\"event_truncated\"}}\nrule = 100801\nalert = 8\ndecoder = json\n";
    let sections = ini::parse("t.ini", text).unwrap();
    let (results, warnings) = LogtestClient::new(&sock).run_sections(&sections).unwrap();
    assert!(!results[0].ok);
    assert_eq!(results[0].got, "100802:8:json");
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("7617"));
}

#[test]
fn server_errors_and_a_missing_socket_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("logtest");
    let _seen = fake_logtest(&sock, engine_for("siemtap"), None);
    let c = LogtestClient::new(&sock);
    let e = c.process("{}", Some("deadbeef")).unwrap_err();
    assert!(matches!(e, LogtestError::Server { code: 4, .. }), "{e}");
    let e = c.request("bogus", json!({})).unwrap_err();
    assert!(matches!(e, LogtestError::Server { code: 3, .. }), "{e}");
    let e = LogtestClient::new(dir.path().join("absent"))
        .process("{}", None)
        .unwrap_err();
    assert!(
        matches!(
            e,
            LogtestError::Io {
                what: "connect",
                ..
            }
        ),
        "{e}"
    );
}
