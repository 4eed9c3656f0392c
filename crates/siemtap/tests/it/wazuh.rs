//! `siemtap wazuh ...`: generated rules pass `check`, generated INI tests pass `test`, every
//! event each simulator emits (through the real connector) ends on a rule of its event type,
//! the checker rejects a bad file naming file and line, and `install --prefix` builds the
//! documented tree with the documented modes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::ops::RangeInclusive;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::harness::*;

fn wazuh(args: &[&str]) -> Output {
    crate::harness::siemtap_cmd()
        .arg("wazuh")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run siemtap wazuh")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Writes the connector's generated rules into `work` and returns the path.
fn rules_file(work: &Workdir, connector: &str) -> String {
    let out = wazuh(&["rules", connector]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = work.path(&format!("siemtap_{connector}_rules.xml"));
    std::fs::write(&path, &out.stdout).unwrap();
    path.display().to_string()
}

#[test]
fn generated_rules_check_and_generated_tests_pass_for_every_connector() {
    let work = Workdir::new();
    let mut all = Vec::new();
    for c in ["1password", "proofpoint", "cortex_xdr", "siemtap"] {
        let rules = rules_file(&work, c);
        let out = wazuh(&["check", &rules]);
        assert_eq!(out.status.code(), Some(0), "{c}: {}", text(&out.stderr));
        let ini = work.path(&format!("{c}.ini"));
        let t = wazuh(&["tests", c]);
        assert_eq!(t.status.code(), Some(0));
        std::fs::write(&ini, &t.stdout).unwrap();
        let run = wazuh(&["test", ini.to_str().unwrap(), "--rules", &rules]);
        let summary = text(&run.stdout);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{c}: {summary}{}",
            text(&run.stderr)
        );
        assert!(
            summary.trim_end().ends_with("passed, 0 failed"),
            "{summary}"
        );
        all.push(rules);
    }
    // All three together (as installed side by side): no id collides.
    let mut args = vec!["check"];
    args.extend(all.iter().map(String::as_str));
    assert_eq!(wazuh(&args).status.code(), Some(0));
    // Decoders: nothing to install, said so.
    let d = wazuh(&["decoders", "1password"]);
    assert_eq!(d.status.code(), Some(0));
    assert!(text(&d.stdout).contains("needs no decoder"));
}

#[test]
fn a_failing_ini_test_fails_the_command_naming_the_line() {
    let work = Workdir::new();
    let rules = rules_file(&work, "1password");
    let ini = work.path("bad.ini");
    std::fs::write(
        &ini,
        "[wrong level]\nlog 1 pass = {\"integration\":\"1password\",\"op\":{\"event_type\":\"signin_attempt\",\"category\":\"success\"}}\nrule = 100731\nalert = 4\ndecoder = json\n",
    )
    .unwrap();
    let out = wazuh(&["test", ini.to_str().unwrap(), "--rules", &rules]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.ini:2: FAILED [wrong level]") && err.contains("got 100731:3:json"),
        "{err}"
    );
    assert!(text(&out.stdout).contains("0 passed, 1 failed"));
}

#[test]
fn check_rejects_a_bad_file_with_file_and_line() {
    let work = Workdir::new();
    let bad = work.path("bad_rules.xml");
    std::fs::write(
        &bad,
        "<group name=\"acme,\">\n  <rule id=\"100100\" level=\"0\">\n    <decoded_as>json</decoded_as>\n    <description>base</description>\n  </rule>\n  <rule id=\"100101\" level=\"5\">\n    <if_sid>100199</if_sid>\n    <field name=\"acme.x\">^\\d{2}$</field>\n    <description>x</description>\n  </rule>\n</group>\n",
    )
    .unwrap();
    let out = wazuh(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let name = bad.display().to_string();
    assert!(
        err.contains(&format!("{name}:6: error: rule 100101: if_sid 100199")),
        "{err}"
    );
    assert!(err.contains("counted repetition"), "{err}");
    let missing = wazuh(&["check", work.path("nope.xml").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
}

/// Runs `siemtap wazuh eval` over `events` and returns one verdict per line.
fn eval(rules: &str, events: &str) -> Vec<Value> {
    let mut child = crate::harness::siemtap_cmd()
        .args(["wazuh", "eval", "--rules", rules])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(events.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    lines(&text(&out.stdout))
}

/// Every event ends on a rule allowed for its type; every listed type was seen.
fn assert_routed(
    events_text: &str,
    rules: &str,
    ns: &str,
    disc: &str,
    allowed: &[(&str, RangeInclusive<u32>)],
    required: &[&str],
) {
    let verdicts = eval(rules, events_text);
    let events = lines(events_text);
    assert_eq!(verdicts.len(), events.len());
    let mut seen: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for (e, v) in events.iter().zip(&verdicts) {
        let kind = e[ns][disc].as_str().unwrap_or("?").to_string();
        assert_eq!(v["decoder"], "json", "{e}");
        let id: u32 = v["rule"]
            .as_str()
            .unwrap_or_else(|| panic!("no rule for {e}"))
            .parse()
            .unwrap();
        let range = allowed
            .iter()
            .find(|(k, _)| *k == kind)
            .unwrap_or_else(|| panic!("unexpected event type {kind}: {e}"))
            .1
            .clone();
        assert!(
            range.contains(&id),
            "{kind} ended on {id}, expected {range:?}: {e}"
        );
        seen.entry(kind).or_default().insert(id);
    }
    for k in required {
        assert!(
            seen.contains_key(*k),
            "no {k} event from the simulator: {seen:?}"
        );
    }
}

#[test]
fn onepassword_simulator_events_end_on_their_rules() {
    let sim = Sim::start(&["--seed", "3", "--events", "60"]);
    let work = Workdir::new();
    let out = RunCmd::new(&sim, &work).arg("--all").output();
    assert_eq!(out.status.code(), Some(0), "{}", work.read("siemtap.log"));
    let rules = rules_file(&work, "1password");
    assert_routed(
        &text(&out.stdout),
        &rules,
        "op",
        "event_type",
        &[
            ("audit_event", 100710..=100754),
            ("signin_attempt", 100730..=100751),
            ("item_usage", 100740..=100747),
            ("run_summary", 100700..=100750),
            ("error", 100701..=100709),
        ],
        &["audit_event", "signin_attempt", "item_usage", "run_summary"],
    );
}

#[test]
fn proofpoint_simulator_events_end_on_their_rules() {
    let sim = Sim::vendor("proofpoint", &["--seed", "2", "--events", "30"]);
    let work = Workdir::new();
    let out = crate::harness::siemtap_cmd_clean()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
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
    let rules = rules_file(&work, "proofpoint");
    assert_routed(
        &text(&out.stdout),
        &rules,
        "pp",
        "event_type",
        &[
            ("messagesBlocked", 100601..=100601),
            ("messagesDelivered", 100602..=100602),
            ("clicksBlocked", 100603..=100603),
            ("clicksPermitted", 100604..=100650),
            ("vap", 100605..=100605),
            ("top_clickers", 100606..=100606),
            ("run_summary", 100600..=100694),
            ("error", 100690..=100693),
        ],
        &[
            "messagesBlocked",
            "messagesDelivered",
            "clicksBlocked",
            "clicksPermitted",
            "vap",
            "run_summary",
        ],
    );
}

#[test]
fn cortex_xdr_simulator_events_end_on_their_rules() {
    let sim = Sim::vendor("cortex_xdr", &["--seed", "5", "--events", "60"]);
    let work = Workdir::new();
    let out = crate::harness::siemtap_cmd_clean()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
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
    let rules = rules_file(&work, "cortex_xdr");
    assert_routed(
        &text(&out.stdout),
        &rules,
        "xdr",
        "type",
        &[
            ("alert", 100510..=100514),
            ("incident", 100530..=100578),
            ("run_summary", 100500..=100500),
            ("error", 100590..=100599),
        ],
        &["alert", "incident"],
    );
}

#[test]
fn ossec_conf_prints_the_stanza() {
    let out = wazuh(&[
        "ossec-conf",
        "cortex_xdr",
        "--socket",
        "--interval",
        "10m",
        "--timeout",
        "350",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.contains("<command>/var/ossec/wodles/siemtap/siemtap run cortex_xdr --output wazuh-socket --max-runtime 300 --log-file /var/ossec/logs/siemtap.log --state-dir /var/ossec/var/wodles/siemtap</command>"), "{s}");
    assert!(s.contains("<interval>10m</interval>") && s.contains("<timeout>350</timeout>"));
    let bad = wazuh(&["ossec-conf", "1password", "--interval", "5x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--interval"));
}

#[test]
fn install_into_a_prefix_builds_the_documented_tree() {
    let work = Workdir::new();
    let prefix = work.path("ossec");
    let p = prefix.to_str().unwrap();
    let dry = wazuh(&["install", "--prefix", p, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(text(&dry.stdout).contains("0750 root:wazuh"));
    assert!(!prefix.exists(), "dry run writes nothing");

    let out = wazuh(&["install", "--prefix", p, "--skip-chown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mode = |rel: &str| {
        std::fs::metadata(prefix.join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("wodles/siemtap"), 0o750);
    assert_eq!(mode("wodles/siemtap/siemtap"), 0o750);
    assert_eq!(mode("wodles/siemtap/.secrets"), 0o640);
    assert_eq!(mode("var/wodles/siemtap"), 0o750);
    assert_eq!(mode("logs/siemtap.log"), 0o640);
    for c in ["1password", "proofpoint", "cortex_xdr"] {
        assert_eq!(mode(&format!("etc/rules/siemtap_{c}_rules.xml")), 0o660);
    }
    // The installed binary is this binary and works.
    let installed = prefix.join("wodles/siemtap/siemtap");
    let v = Command::new(&installed).arg("--version").output().unwrap();
    assert!(v.status.success());
    let rules = prefix.join("etc/rules/siemtap_1password_rules.xml");
    assert_eq!(
        wazuh(&["check", rules.to_str().unwrap()]).status.code(),
        Some(0)
    );

    // Without --skip-chown: either it works (root with a wazuh group) or it says why.
    let chown = wazuh(&["install", "--prefix", p]);
    let has_wazuh = std::fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("wazuh:"));
    if !has_wazuh {
        assert_eq!(chown.status.code(), Some(1));
        let err = text(&chown.stderr);
        assert!(
            err.contains("owners could not be set") && err.contains("chown root:wazuh"),
            "{err}"
        );
    }

    // A 5.x layout is refused.
    let v5 = work.path("wazuh-manager");
    let refused = wazuh(&["install", "--prefix", v5.to_str().unwrap(), "--skip-chown"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("Wazuh 5.x"));
    assert!(!v5.exists());
}
