//! A canary secret planted in every credential tier appears in no output channel — events,
//! stderr, the log at --debug 3, the state file — in success and in every fault scenario.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::harness::*;

const CRED: &str = "CANARY-cred-7f3a9e";
const FILE: &str = "CANARY-file-7f3a9e";
const ENV: &str = "CANARY-env-7f3a9e";

/// Plants the canaries: the credentials directory holds the token the simulator accepts.
fn planted(sim: &Sim, work: &Workdir, secrets_mode: u32) -> RunCmd {
    let creds = work.path("creds");
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(creds.join("op_bearer_token"), format!("{CRED}\n")).unwrap();
    let secrets = work.path("secrets");
    std::fs::write(&secrets, format!("# siemtap\nOP_BEARER_TOKEN=\"{FILE}\"\n")).unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(secrets_mode)).unwrap();
    RunCmd::new(sim, work)
        .env("CREDENTIALS_DIRECTORY", &creds)
        .env("OP_SECRETS_FILE", &secrets)
        .env("OP_BEARER_TOKEN", ENV)
        .env("OP_PAGE_LIMIT", "20")
        .args(["--debug", "3"])
}

fn assert_clean(work: &Workdir, out: &std::process::Output, scenario: &str) {
    let channels = [
        ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
        ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
        ("log", work.read("siemtap.log")),
        ("state", work.read("state.json")),
        ("output file", work.read("events.jsonl")),
    ];
    for (name, text) in channels {
        for canary in [CRED, FILE, ENV, "7f3a9e"] {
            assert!(
                !text.contains(canary),
                "{scenario}: {canary} leaked into {name}"
            );
        }
    }
    assert!(
        !work.read("siemtap.log").is_empty(),
        "{scenario}: the debug log was written (the scan is meaningful)"
    );
}

fn scenario(name: &str, fault: Option<Value>, extra: &[(&str, &str)]) {
    let sim = Sim::start(&["--seed", "1", "--events", "60", "--token", CRED]);
    if let Some(f) = fault {
        sim.faults(json!({ "faults": [f] }));
    }
    let work = Workdir::new();
    let mut run = planted(&sim, &work, 0o600);
    for (k, v) in extra {
        run = run.env(k, v);
    }
    let out = run.into_file(&work.out()).output();
    assert_clean(&work, &out, name);
}

#[test]
fn canary_never_leaks_in_success_or_faults() {
    let signin = "/api/v2/signinattempts";
    scenario("success", None, &[]);
    scenario(
        "429",
        Some(
            json!({"match": {"path": signin}, "action": {"status": 429, "retry_after": {"form": "seconds", "value": 1}}}),
        ),
        &[],
    );
    scenario(
        "500",
        Some(json!({"match": {"path": signin}, "action": {"status": 500}})),
        &[],
    );
    scenario(
        "401",
        Some(json!({"match": {"path_prefix": "/api/"}, "action": {"status": 401}})),
        &[],
    );
    scenario(
        "timeout",
        Some(json!({"match": {"path": signin}, "action": {"delay_ms": 800}})),
        &[("SIEMTAP_REQUEST_TIMEOUT", "0.2")],
    );
    scenario(
        "truncated",
        Some(json!({"match": {"path": signin}, "action": {"truncate_body_at": 0.3}})),
        &[],
    );
    scenario(
        "html",
        Some(json!({"match": {"path": signin}, "action": {"html_body": true}})),
        &[],
    );
    scenario(
        "cursor 400",
        Some(json!({"match": {"path": signin, "nth": [2, 4]}, "action": {"status": 400}})),
        &[],
    );
}

#[test]
fn canary_never_leaks_when_credentials_are_refused() {
    // The simulator knows none of the planted tokens.
    let sim = Sim::start(&["--seed", "1", "--events", "10", "--token", "other-token"]);
    let work = Workdir::new();
    let out = planted(&sim, &work, 0o600).into_file(&work.out()).output();
    assert_eq!(out.status.code(), Some(0));
    assert_clean(&work, &out, "refused token");

    // A world-readable secrets file is refused; the error names the file, not its content.
    let work = Workdir::new();
    let out = planted(&sim, &work, 0o644)
        .env_remove("CREDENTIALS_DIRECTORY")
        .into_file(&work.out())
        .output();
    assert_eq!(out.status.code(), Some(2));
    let events = lines(&work.read("events.jsonl"));
    assert_eq!(
        errors(&events)[0]["op"]["error_code"],
        "CONFIG_MISSING_CREDENTIAL"
    );
    assert_clean(&work, &out, "world-readable secrets file");
}

#[test]
fn canary_never_leaks_from_the_tokens_file() {
    let sim = Sim::start(&[
        "--seed",
        "1",
        "--events",
        "10",
        "--token",
        &format!("good={CRED}"),
    ]);
    let work = Workdir::new();
    let tokens = work.path("tokens.json");
    let doc = json!({"tenants": [
        {"name": "good", "bearer_token": CRED},
        {"name": "bad name", "bearer_token": FILE},
        {"name": "refused", "bearer_token": ENV}
    ]});
    std::fs::write(&tokens, doc.to_string()).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = RunCmd::new(&sim, &work)
        .env("OP_TOKENS_FILE", &tokens)
        .args(["--debug", "3"])
        .into_file(&work.out())
        .output();
    assert_eq!(out.status.code(), Some(0));
    assert_clean(&work, &out, "tokens file");
}
