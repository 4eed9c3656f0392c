//! Wazuh delivery details: the stdout size guard under the command wodle (an oversize event from
//! a test-local fake 1Password API arrives shrunk, marked and followed by a health event that
//! the shipped `siemtap` rules alert on; normal lines stay byte-identical), `siemtap wazuh
//! logtest` against a fake logtest socket, the shipped systemd units, and the `ossec-conf`
//! stanza and docs/wazuh.md describing both modes alike.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::{Value, json};
use siemtap_sinks::STDOUT_LINE_BUDGET;
use siemtap_wazuh::check::check_sources;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::rules_for;
use siemtap_wazuh::logtest::{frame, read_frame};
use siemtap_wazuh::render::render_file;

use crate::harness::*;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn wazuh(args: &[&str]) -> Output {
    crate::harness::siemtap_cmd()
        .arg("wazuh")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A one-shot fake of the 1Password audit endpoint: every POST /api/v2/auditevents returns
/// `items` and `has_more: false`; anything else is 404. Returns the base URL.
fn fake_onepassword(items: Vec<Value>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let body = json!({"cursor": "c1", "has_more": false, "items": items}).to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let mut reader = BufReader::new(conn);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut req_body = vec![0u8; length];
            let _ = reader.read_exact(&mut req_body);
            let (status, reply) = if request_line.starts_with("POST /api/v2/auditevents") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "{}")
            };
            let mut conn = reader.into_inner();
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    base
}

fn audit_event(uuid: &str, extra: Option<String>) -> Value {
    let mut e = json!({
        "uuid": uuid, "timestamp": "2026-04-01T10:00:00Z",
        "actor_uuid": "ACTOR1", "action": "update", "object_type": "item", "object_uuid": "OBJ1",
    });
    if let Some(x) = extra {
        e["aux_info"] = Value::String(x);
    }
    e
}

fn run_stdout(base: &str, work: &Workdir) -> Vec<String> {
    let mut cmd = crate::harness::siemtap_cmd_clean();
    let out = cmd
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("OP_BASE_URL", base)
        .env("OP_BEARER_TOKEN", "test-token")
        .env("OP_STATE_FILE", work.state())
        .env("OP_SECRETS_FILE", work.path("absent.secrets"))
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args([
            "run",
            "1password",
            "--source",
            "audit",
            "--all",
            "--output",
            "stdout",
        ])
        .arg("--log-file")
        .arg(work.log())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", work.read("siemtap.log"));
    assert!(out.stderr.is_empty(), "nothing on stderr under the wodle");
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn oversize_stdout_line_is_shrunk_and_alerts_while_normal_lines_stay_identical() {
    let work = Workdir::new();
    let small = audit_event("SMALL1", None);
    let big = audit_event("BIG1", Some("x".repeat(200_000)));
    let plain = run_stdout(&fake_onepassword(vec![small.clone()]), &work);
    let lines = run_stdout(&fake_onepassword(vec![small, big]), &work);

    // The wodle cuts `1:command_<tag>:<line>` at 65,535 bytes: no line may come close.
    let tag_prefix = "1:command_siemtap-1password:".len();
    for l in &lines {
        assert!(l.len() <= STDOUT_LINE_BUDGET && l.len() + tag_prefix <= 65_535);
    }
    // The normal event is byte-identical to a run without the oversize one (reference style).
    assert_eq!(lines[0], plain[0]);
    assert!(
        lines[0].starts_with(r#"{"integration": "1password", "op": {"#),
        "{}",
        lines[0]
    );
    let events = crate::harness::lines(&lines.join("\n"));
    let shrunk = events
        .iter()
        .find(|e| e["op"]["uuid"] == "BIG1")
        .expect("the oversize event is delivered, not dropped");
    assert_eq!(shrunk["op"]["truncated"], true);
    assert!(
        shrunk["op"]["original_size"]
            .as_str()
            .unwrap()
            .parse::<usize>()
            .unwrap()
            > 200_000
    );
    assert_eq!(shrunk["op"]["original_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(shrunk["op"]["event_type"], "audit_event");
    let health = events
        .iter()
        .find(|e| e["integration"] == "siemtap")
        .expect("a health event");
    assert_eq!(health["siemtap"]["check"], "event_truncated");
    assert_eq!(health["siemtap"]["integration"], "1password");
    assert!(work.read("siemtap.log").contains("shrunk"));

    // Both go through the shipped rules: the health event alerts at 8, the shrunk event still
    // decodes and ends on its audit rule.
    let mut rule_files = Vec::new();
    for c in ["1password", "siemtap"] {
        let p = work.path(&format!("{c}.xml"));
        std::fs::write(&p, wazuh(&["rules", c]).stdout).unwrap();
        rule_files.push(p.display().to_string());
    }
    let mut eval = crate::harness::siemtap_cmd()
        .args(["wazuh", "eval", "--rules", &rule_files[0], &rule_files[1]])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("{}\n{}\n", shrunk, health);
    eval.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = eval.wait_with_output().unwrap();
    let hits = crate::harness::lines(&text(&out.stdout));
    assert_eq!(hits[0]["rule"], "100710", "{hits:?}");
    assert_eq!(hits[1]["rule"], "100802", "{hits:?}");
    assert_eq!(hits[1]["level"], 8);
}

/// A fake logtest server (wazuh.md §6.2 framing) answering from the offline evaluator.
fn fake_logtest(path: &Path, engine: Engine) {
    let listener = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let mut sessions = std::collections::HashMap::new();
        let (mut next, mut clock) = (0u32, 0i64);
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let Ok(raw) = read_frame(&mut conn, 65_535) else {
                continue;
            };
            let req: Value = serde_json::from_slice(&raw).unwrap_or_default();
            let p = &req["parameters"];
            let reply = match req["command"].as_str() {
                Some("log_processing") => {
                    let token = p["token"].as_str().map(str::to_string).unwrap_or_else(|| {
                        next += 1;
                        let t = format!("{next:08x}");
                        sessions.insert(t.clone(), engine.session());
                        t
                    });
                    clock += 1;
                    let o = sessions.get_mut(&token).unwrap().process(
                        p["event"].as_str().unwrap_or_default(),
                        p["location"].as_str().unwrap_or_default(),
                        clock,
                    );
                    let mut output = json!({"decoder": {"name": o.decoder}});
                    if let Some(f) = &o.rule {
                        output["rule"] = json!({"id": f.id.to_string(), "level": f.level});
                    }
                    json!({"error": 0, "data": {"codemsg": 0, "token": token, "messages": [], "output": output, "alert": true}})
                }
                Some("remove_session") => {
                    sessions.remove(p["token"].as_str().unwrap_or_default());
                    json!({"error": 0, "data": {"codemsg": 0, "messages": []}})
                }
                _ => json!({"error": 3, "message": "command not allowed"}),
            };
            let _ = conn.write_all(&frame(reply.to_string().as_bytes()));
        }
    });
}

#[test]
fn logtest_runs_the_generated_tests_over_a_socket() {
    let work = Workdir::new();
    let xml = render_file(&rules_for("siemtap", None, None).unwrap());
    let sock = work.path("logtest");
    fake_logtest(
        &sock,
        Engine::new(check_sources(&[("r.xml".into(), xml)]).rules()),
    );
    let ini = work.path("siemtap.ini");
    std::fs::write(&ini, wazuh(&["tests", "siemtap"]).stdout).unwrap();
    let s = sock.to_str().unwrap();
    let ok = wazuh(&["logtest", "--socket", s, ini.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains(" passed, 0 failed, 0 rule-loading"),
        "{}",
        text(&ok.stdout)
    );

    let bad = work.path("bad.ini");
    std::fs::write(
        &bad,
        "[wrong level]\nlog 1 pass = {\"integration\":\"siemtap\",\"siemtap\":{\"kind\":\"error\"}}\nrule = 100810\nalert = 3\ndecoder = json\n",
    )
    .unwrap();
    let failed = wazuh(&["logtest", "--socket", s, bad.to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("bad.ini:2: FAILED [wrong level]"),
        "{}",
        text(&failed.stderr)
    );

    let absent = work.path("absent");
    let gone = wazuh(&[
        "logtest",
        "--socket",
        absent.to_str().unwrap(),
        ini.to_str().unwrap(),
    ]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(
        text(&gone.stderr).contains("is wazuh-manager running"),
        "{}",
        text(&gone.stderr)
    );
}

/// `[Section]` → `(key, value)` lines, as systemd reads unit files (comments `#`/`;`).
fn parse_unit(path: &Path) -> Vec<(String, String, String)> {
    let body = std::fs::read_to_string(path).unwrap();
    let mut section = String::new();
    let mut out = Vec::new();
    for (n, line) in body.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(name) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (k, v) = l
            .split_once('=')
            .unwrap_or_else(|| panic!("{}:{}: not KEY=VALUE: {l}", path.display(), n + 1));
        assert!(
            !section.is_empty(),
            "{}:{}: key outside a section",
            path.display(),
            n + 1
        );
        assert!(!l.ends_with('\\'), "no continuation lines");
        out.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
    }
    out
}

fn get<'a>(unit: &'a [(String, String, String)], section: &str, key: &str) -> Vec<&'a str> {
    unit.iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.as_str())
        .collect()
}

#[test]
fn systemd_units_parse_and_use_flags_that_exist() {
    let dir = repo("packaging/systemd");
    let service = parse_unit(&dir.join("siemtap@.service"));
    let timer = parse_unit(&dir.join("siemtap@.timer"));
    assert_eq!(get(&timer, "Install", "WantedBy"), ["timers.target"]);
    assert_eq!(get(&timer, "Timer", "OnUnitInactiveSec").len(), 1);
    assert_eq!(get(&service, "Service", "Type"), ["oneshot"]);

    let exec = get(&service, "Service", "ExecStart");
    assert_eq!(exec.len(), 1);
    let argv: Vec<&str> = exec[0].split_whitespace().collect();
    assert_eq!(
        argv[0], "/var/ossec/wodles/siemtap/siemtap",
        "the install layout"
    );
    assert_eq!(&argv[1..3], ["run", "%i"]);
    let help = crate::harness::siemtap_cmd()
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = text(&help.stdout);
    let flags: Vec<&str> = argv
        .iter()
        .copied()
        .filter(|a| a.starts_with("--"))
        .collect();
    for f in &flags {
        assert!(
            help.contains(&format!("{f} ")) || help.contains(&format!("{f}\n")),
            "{f} is not a `siemtap run` flag:\n{help}"
        );
    }
    for needed in ["--output", "--log-file", "--max-runtime"] {
        assert!(flags.contains(&needed), "ExecStart lacks {needed}");
    }
    let value = |flag: &str| argv[argv.iter().position(|a| *a == flag).unwrap() + 1];
    assert_eq!(value("--output"), "wazuh-socket");
    let budget: u64 = value("--max-runtime").parse().unwrap();
    let hard: u64 = get(&service, "Service", "TimeoutStartSec")[0]
        .parse()
        .unwrap();
    assert!(
        budget < hard,
        "--max-runtime {budget} must stay below TimeoutStartSec {hard}"
    );
    assert!(value("--log-file").starts_with("/var/ossec/logs/"));
    // Issue 10 item 7: the unit runs as wazuh from the start, without capabilities.
    assert_eq!(get(&service, "Service", "User"), ["wazuh"]);
    assert_eq!(get(&service, "Service", "Group"), ["wazuh"]);
    for (key, want) in [
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictSUIDSGID", "yes"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("ProtectSystem", "strict"),
    ] {
        assert_eq!(get(&service, "Service", key), [want], "{key}");
    }

    // Each connector's drop-in loads exactly the credentials its connector reads.
    for (connector, creds) in [
        (
            "1password",
            vec![siemtap_connectors::onepassword::TOKEN_KEY.cred_name],
        ),
        (
            "proofpoint",
            vec![
                siemtap_connectors::proofpoint::PRINCIPAL_KEY.cred_name,
                siemtap_connectors::proofpoint::SECRET_KEY.cred_name,
            ],
        ),
        (
            "cortex_xdr",
            vec![
                siemtap_connectors::cortex_xdr::FQDN_KEY.cred_name,
                siemtap_connectors::cortex_xdr::API_KEY.cred_name,
                siemtap_connectors::cortex_xdr::API_KEY_ID.cred_name,
            ],
        ),
    ] {
        let drop_in =
            parse_unit(&dir.join(format!("siemtap@{connector}.service.d/credentials.conf")));
        let loaded: Vec<&str> = get(&drop_in, "Service", "LoadCredential")
            .iter()
            .map(|v| v.split_once(':').expect("ID:PATH").0)
            .collect();
        assert_eq!(loaded, creds, "{connector}");
        let env = get(&drop_in, "Service", "Environment");
        assert!(
            env.iter()
                .any(|e| e.contains("_STATE_FILE=/var/ossec/var/wodles/siemtap/")),
            "{connector}: {env:?}"
        );
        assert!(siemtap_connectors::find(connector).is_some(), "{connector}");
    }
}

#[test]
fn ossec_conf_and_docs_describe_both_modes_alike() {
    let socket = text(&wazuh(&["ossec-conf", "1password", "--socket"]).stdout);
    let stdout = text(&wazuh(&["ossec-conf", "1password"]).stdout);
    assert!(
        socket.contains("--output wazuh-socket --max-runtime 240")
            && socket.contains("<ignore_output>yes</ignore_output>")
    );
    assert!(
        stdout.contains("--output stdout --max-runtime 240")
            && stdout.contains("<ignore_output>no</ignore_output>")
    );
    assert!(
        stdout.contains("100 events/s") && stdout.contains("64 MiB"),
        "{stdout}"
    );
    let docs = std::fs::read_to_string(repo("docs/wazuh.md")).unwrap();
    for needle in [
        "100 events/s",
        "64 MiB",
        "--max-runtime",
        "<timeout>",
        "siemtap@.timer",
        "LoadCredential",
        "siemtap wazuh logtest",
        "65,460",
        // The documented stanza is what `ossec-conf --socket` prints.
        "/var/ossec/wodles/siemtap/siemtap run 1password --output wazuh-socket --max-runtime 240 --log-file /var/ossec/logs/siemtap.log --state-dir /var/ossec/var/wodles/siemtap",
    ] {
        assert!(docs.contains(needle), "docs/wazuh.md lacks {needle:?}");
    }
}
