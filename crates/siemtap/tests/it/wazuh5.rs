//! `siemtap wazuh bundle CONNECTOR --target 5`: the printed bundle passes `wazuh check5`, and
//! every event each simulator emits through the real connector, normalised by the bundle's
//! decoder and run through its Sigma rules, gives exactly the finding of the 4.x rule the
//! 4.x evaluator ends it on (none for a level-0 ending).

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::rules_for;
use siemtap_wazuh::wazuh5::normalize::normalize;
use siemtap_wazuh::wazuh5::sigma::rule_matches;

use crate::harness::*;
use crate::shipped::*;

fn wazuh(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("wazuh")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run siemtap wazuh")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The bundle as the CLI prints it, checked by `wazuh check5`.
fn bundle(work: &Workdir, connector: &str) -> Value {
    bundle_in(work, connector, &[])
}

/// The bundle printed from `work` (whose `connectors/` may hold the connector's file).
fn bundle_in(work: &Workdir, connector: &str, extra: &[&str]) -> Value {
    let out = Command::new(bin())
        .current_dir(work.path(""))
        .args(["wazuh", "bundle", connector, "--target", "5"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = work.path(&format!("{connector}.bundle.json"));
    std::fs::write(&path, &out.stdout).unwrap();
    let chk = wazuh(&["check5", &path.display().to_string()]);
    assert_eq!(chk.status.code(), Some(0), "{}", text(&chk.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn agree(connector: &str, events: &str, work: &Workdir) {
    let b = bundle(work, connector);
    let engine = Engine::new(rules_for(connector, None, None).unwrap().rules());
    agree_with(&b, &engine, connector, events);
}

/// Every event: the 5.x findings are exactly the migrated rule of the 4.x rule `engine` ends
/// it on (none for level 0).
fn agree_with(b: &Value, engine: &Engine, integration: &str, events: &str) {
    let rules = b["rules"].as_array().unwrap();
    let migrated: Vec<u32> = rules
        .iter()
        .map(|r| {
            let reference = r["metadata"]["references"][0].as_str().unwrap();
            reference.rsplit(' ').next().unwrap().parse().unwrap()
        })
        .collect();
    let mut findings = 0;
    let lines: Vec<&str> = events.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 5, "too few events: {events}");
    for line in lines {
        let expected: Vec<u32> = engine
            .session()
            .process(line, "siemtap", 0)
            .rule
            .filter(|f| f.level > 0)
            .map(|f| f.id)
            .into_iter()
            .collect();
        let ev = normalize(b, line, "siemtap")
            .unwrap()
            .unwrap_or_else(|| panic!("unclassified: {line}"));
        assert_eq!(ev["wazuh"]["integration"]["name"], integration);
        assert_eq!(ev["event"]["original"], line);
        let got: Vec<u32> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| rule_matches(r, &ev).unwrap())
            .map(|(k, _)| migrated[k])
            .collect();
        assert_eq!(got, expected, "{line}\n{ev:#}");
        findings += got.len();
    }
    assert!(findings > 0, "{integration}: no finding at all");
}

#[test]
fn onepassword_simulator_events_give_the_migrated_findings() {
    let sim = Sim::start(&["--seed", "3", "--events", "60"]);
    let work = Workdir::new();
    let out = RunCmd::new(&sim, &work).arg("--all").output();
    assert_eq!(out.status.code(), Some(0), "{}", work.read("siemtap.log"));
    agree("1password", &text(&out.stdout), &work);
}

#[test]
fn proofpoint_simulator_events_give_the_migrated_findings() {
    let sim = Sim::vendor("proofpoint", &["--seed", "2", "--events", "30"]);
    let work = Workdir::new();
    let out = siemtap_cmd_clean()
        .env("PP_BASE_URL", &sim.base)
        .env("PP_PRINCIPAL", "sim-principal")
        .env("PP_SECRET", "sim-secret")
        .env("PP_STATE_FILE", work.state())
        .env("PP_SECRETS_FILE", work.path("absent.secrets"))
        .env("PP_REQUESTS_PER_SECOND", "500")
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args(["run", "proofpoint", "--log-file"])
        .arg(work.log())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", work.read("siemtap.log"));
    agree("proofpoint", &text(&out.stdout), &work);
}

#[test]
fn cortex_xdr_simulator_events_give_the_migrated_findings() {
    let sim = Sim::vendor("cortex_xdr", &["--seed", "5", "--events", "60"]);
    let work = Workdir::new();
    let out = siemtap_cmd_clean()
        .env("XDR_BASE_URL", &sim.base)
        .env("XDR_API_KEY", "sim-api-key")
        .env("XDR_API_KEY_ID", "1")
        .env("XDR_STATE_FILE", work.state())
        .env("XDR_SECRETS_FILE", work.path("absent.secrets"))
        .env("XDR_REQUESTS_PER_SECOND", "10")
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args(["run", "cortex_xdr", "--log-file"])
        .arg(work.log())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", work.read("siemtap.log"));
    agree("cortex_xdr", &text(&out.stdout), &work);
}

#[test]
fn bundle_target_4_points_to_the_4x_commands() {
    let out = wazuh(&["bundle", "1password", "--target", "4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("siemtap wazuh rules 1password"));
    assert!(out.stdout.is_empty());
}

#[test]
fn check5_fails_a_broken_bundle_naming_the_document() {
    let work = Workdir::new();
    let mut b = bundle(&work, "proofpoint");
    b["rules"][0]["level"] = Value::from("severe");
    let path = work.path("broken.json");
    std::fs::write(&path, b.to_string()).unwrap();
    let out = wazuh(&["check5", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("rule \"") && err.contains("severe"), "{err}");
}

#[test]
fn bundle_of_a_declarative_connector_comes_from_its_file() {
    let work = Workdir::new();
    std::fs::create_dir_all(work.path("connectors")).unwrap();
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../connectors/okta_system_log.toml"
    );
    std::fs::copy(src, work.path("connectors/okta_system_log.toml")).unwrap();
    let out = Command::new(bin())
        .current_dir(work.path(""))
        .args([
            "wazuh",
            "bundle",
            "okta_system_log",
            "--target",
            "5",
            "--check",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["integration"]["metadata"]["title"], "okta");
    assert_eq!(
        b["decoders"][0]["check"],
        "$_tmp_json.integration == 'okta'"
    );
    assert!(!b["rules"].as_array().unwrap().is_empty());
}

/// Every shipped declarative connector: its simulator's events through the real connector
/// (good and wrong credentials, so data, errors and run summaries), then through the bundle
/// `wazuh bundle NAME --target 5` builds from `connectors/NAME.toml`, give the findings of
/// the 4.x rules `wazuh rules NAME` generates from the same file.
#[test]
fn every_shipped_connector_bundle_gives_its_4x_findings_on_simulator_events() {
    assert_every_shipped_file_is_covered();
    for c in SHIPPED {
        let (_sim, work, _) = c.drain();
        let events = work.read("events.jsonl");
        let first: Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
        let integration = first["integration"].as_str().unwrap().to_string();
        let b = bundle_in(&work, c.name, &[]);
        let rules = Command::new(bin())
            .current_dir(work.path(""))
            .args(["wazuh", "rules", c.name])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            rules.status.code(),
            Some(0),
            "{}: {}",
            c.name,
            text(&rules.stderr)
        );
        let report =
            siemtap_wazuh::check::check_sources(&[("conn.xml".to_string(), text(&rules.stdout))]);
        let engine = Engine::new(report.rules());
        agree_with(&b, &engine, &integration, &events);
    }
}
