//! Cortex XDR failure scenarios: 429 (both Retry-After forms), 401 and broken bodies each give
//! one error event with no cursor advance and full recovery; a canary API key appears in no
//! output channel.

use super::*;

fn fault_then_recover(path: &str, fault: Value, code: &str) {
    let sim = xdr_sim(&["--seed", "7", "--events", "300"]);
    let work = Workdir::new();
    let mut rule = json!({"match": {"path": path}});
    for (k, v) in fault.as_object().unwrap() {
        if k == "action" {
            rule["action"] = v.clone();
        } else {
            rule["match"][k] = v.clone();
        }
    }
    sim.faults(json!({ "faults": [rule] }));
    let first = xdr_run(&sim, &work).into_file(&work.out()).output();
    ok(&first, &work);
    let events = lines(&work.read("events.jsonl"));
    let errs = of_kind(&events, "error");
    assert_eq!(errs.len(), 1, "exactly one error event: {errs:?}");
    let (stream, other) = if path == ALERTS {
        ("alerts", "incidents")
    } else {
        ("incidents", "alerts")
    };
    let e = &errs[0]["xdr"];
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys[..5],
        [
            "type",
            "error_source",
            "error_message",
            "error_code",
            "timestamp"
        ]
    );
    assert_eq!(e["error_code"], code);
    assert_eq!(e["error_source"], stream);
    if let Some(status) = code.strip_prefix("API_HTTP_") {
        let message = e["error_message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("HTTP Error {status}: ")),
            "{e}"
        );
    }
    let s = &of_kind(&events, "run_summary")[0]["xdr"];
    assert_eq!(s[format!("{stream}_success")], false);
    assert_eq!(s[format!("{other}_success")], true, "streams are isolated");
    let state = state_json(&work);
    let cursor = &state[format!("{stream}_cursor")];
    assert!(cursor.is_object(), "stopped inside the walk: {state}");
    if stream == "alerts" {
        // Delivered = exactly what the server inserted up to the committed window start.
        let upto = iso(cursor["from"].as_i64().unwrap());
        let due = oracle_query(&sim, &format!("stream=alerts&to={upto}"));
        let mut got = xdr_ids(&events).remove("alerts").unwrap_or_default();
        let mut want = due["alerts"].clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "no cursor advance past undelivered alerts");
    }
    sim.clear_faults();
    let second = xdr_run(&sim, &work).into_file(&work.out()).output();
    ok(&second, &work);
    let all = lines(&work.read("events.jsonl"));
    assert_exact(&xdr_ids(&all), &sim.oracle(None));
    assert_eq!(of_kind(&all, "error").len(), 1);
}

fn nth(from: u64, count: u64) -> Value {
    json!((from..from + count).collect::<Vec<_>>())
}

#[test]
fn rate_limited_429_with_retry_after_seconds() {
    fault_then_recover(
        ALERTS,
        json!({"nth": nth(3, 5), "action": {"status": 429, "retry_after": {"form": "seconds", "value": 1}}}),
        "API_HTTP_429",
    );
}

#[test]
fn rate_limited_429_with_retry_after_http_date() {
    fault_then_recover(
        INCIDENTS,
        json!({"nth": nth(2, 5), "action": {"status": 429, "retry_after": {"form": "http-date", "offset_s": 2}}}),
        "API_HTTP_429",
    );
}

#[test]
fn unauthorized_401_is_one_event_and_not_retried() {
    fault_then_recover(
        ALERTS,
        json!({"nth": [4], "action": {"status": 401}}),
        "API_HTTP_401",
    );
}

#[test]
fn invalid_body_is_one_event() {
    fault_then_recover(
        ALERTS,
        json!({"nth": [2], "action": {"invalid_json": true}}),
        "API_INVALID_RESPONSE",
    );
}

const KEY_CRED: &str = "CANARY-xdr-cred-5e1f";
const KEY_FILE: &str = "CANARY-xdr-file-5e1f";
const KEY_ENV: &str = "CANARY-xdr-env-5e1f";
const KEY_ID: &str = "31415926535";

fn canary_scenario(name: &str, sim_key: &str, fault: Option<Value>) -> HashMap<String, usize> {
    let sim = xdr_sim(&[
        "--seed",
        "2",
        "--events",
        "80",
        "--api-key",
        sim_key,
        "--api-key-id",
        KEY_ID,
    ]);
    if let Some(f) = fault {
        sim.faults(json!({ "faults": [f] }));
    }
    let work = Workdir::new();
    let creds = work.path("creds");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("xdr_api_key"), format!("{KEY_CRED}\n")).unwrap();
    let secrets = work.path("secrets");
    std::fs::write(&secrets, format!("XDR_API_KEY=\"{KEY_FILE}\"\n")).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = xdr_run(&sim, &work)
        .env("CREDENTIALS_DIRECTORY", &creds)
        .env("XDR_SECRETS_FILE", &secrets)
        .env("XDR_API_KEY", KEY_ENV)
        .env("XDR_API_KEY_ID", KEY_ID)
        .args(["--debug", "3"])
        .into_file(&work.out())
        .output();
    let channels = [
        ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
        ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
        ("log", work.read("siemtap.log")),
        ("state", work.read("state.json")),
        ("output file", work.read("events.jsonl")),
    ];
    for (channel, text) in &channels {
        for canary in [KEY_CRED, KEY_FILE, KEY_ENV, KEY_ID] {
            assert!(
                !text.contains(canary),
                "{name}: {canary} leaked into {channel}"
            );
        }
    }
    assert!(
        !work.read("siemtap.log").is_empty(),
        "{name}: the scan is meaningful"
    );
    let events = lines(&work.read("events.jsonl"));
    let mut codes: HashMap<String, usize> = HashMap::new();
    for e in of_kind(&events, "error") {
        *codes
            .entry(e["xdr"]["error_code"].as_str().unwrap().into())
            .or_default() += 1;
    }
    codes
}

#[test]
fn canary_api_key_never_leaks() {
    assert!(canary_scenario("success", KEY_CRED, None).is_empty());
    let codes = canary_scenario("wrong key", "another-key", None);
    assert_eq!(
        codes.get("API_HTTP_401"),
        Some(&2),
        "one 401 per stream: {codes:?}"
    );
    canary_scenario(
        "429",
        KEY_CRED,
        Some(
            json!({"match": {"path": ALERTS}, "action": {"status": 429, "retry_after": {"form": "seconds", "value": 1}}}),
        ),
    );
    canary_scenario(
        "500",
        KEY_CRED,
        Some(json!({"match": {"path": INCIDENTS}, "action": {"status": 500}})),
    );
    canary_scenario(
        "truncated body",
        KEY_CRED,
        Some(json!({"match": {"path": ALERTS, "nth": [2]}, "action": {"truncate_body_at": 0.5}})),
    );
}
