//! `siemtap wazuh ...` command-line contracts: `ossec-conf` refuses what it cannot run,
//! `test --rules A B FILE.ini` keeps the INI file apart from the rules.

use std::process::{Command, Output, Stdio};

use crate::harness::*;
use crate::shipped::*;

fn wazuh_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .arg("wazuh")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run siemtap wazuh")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn ossec_conf_unknown_connector_exits_2() {
    let work = Workdir::new();
    let out = wazuh_in(work.dir.path(), &["ossec-conf", "nosuch"]);
    assert_eq!(out.status.code(), Some(2), "stdout: {}", text(&out.stdout));
    assert!(out.stdout.is_empty(), "no stanza for an unknown connector");
    let err = text(&out.stderr);
    assert!(err.contains("nosuch") && err.contains("1password"), "{err}");
    // The health rule set is not a connector either: no `siemtap run siemtap` exists.
    let out = wazuh_in(work.dir.path(), &["ossec-conf", "siemtap"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn test_rules_list_does_not_swallow_the_ini_file() {
    let work = Workdir::new();
    let dir = work.dir.path();
    for c in ["1password", "siemtap"] {
        let rules = wazuh_in(dir, &["rules", c]);
        std::fs::write(work.path(&format!("{c}.xml")), &rules.stdout).unwrap();
    }
    let ini = wazuh_in(dir, &["tests", "1password"]);
    std::fs::write(work.path("t.ini"), &ini.stdout).unwrap();
    // The documented order, INI file first ...
    let first = wazuh_in(
        dir,
        &["test", "t.ini", "--rules", "1password.xml", "siemtap.xml"],
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    // ... and after the rules list: the .ini file is the test file, not one more rules file.
    let last = wazuh_in(
        dir,
        &["test", "--rules", "1password.xml", "siemtap.xml", "t.ini"],
    );
    assert_eq!(
        last.status.code(),
        Some(0),
        "{}{}",
        text(&last.stdout),
        text(&last.stderr)
    );
    assert_eq!(text(&first.stdout), text(&last.stdout));
    assert!(text(&last.stdout).trim_end().ends_with("passed, 0 failed"));
    // Two INI files, or none, is a usage error.
    let two = wazuh_in(dir, &["test", "t.ini", "--rules", "1password.xml", "t.ini"]);
    assert_eq!(two.status.code(), Some(2), "{}", text(&two.stderr));
    let none = wazuh_in(dir, &["test", "--rules", "1password.xml"]);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none.stderr));
}

fn shipped_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../connectors")
}

/// Runs `siemtap wazuh eval --rules RULES...` (from `dir`) over `events`.
fn eval_in(dir: &std::path::Path, rules: &[&str], events: &str) -> Vec<serde_json::Value> {
    use std::io::Write;
    let mut child = Command::new(bin())
        .current_dir(dir)
        .args(["wazuh", "eval", "--rules"])
        .args(rules)
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

/// Every shipped declarative connector, end to end: its simulator's events (data, a failed
/// authentication, the run summaries) through the real connector, then through the rules
/// `siemtap wazuh rules NAME --block N` generates from `connectors/NAME.toml`, on the
/// evaluator. Every event ends on a rule of the block; data events alert; errors and failed
/// runs alert as the health coverage says.
#[test]
fn every_shipped_connector_rules_fire_on_its_simulator_events() {
    assert_every_shipped_file_is_covered();
    for c in SHIPPED {
        let (_sim, work, events) = c.drain();
        let file: toml::Table =
            std::fs::read_to_string(work.path(&format!("connectors/{}.toml", c.name)))
                .unwrap()
                .parse()
                .unwrap();
        let integration = file
            .get("integration")
            .and_then(|v| v.as_str())
            .unwrap_or(c.name);
        let ns = file["namespace"].as_str().unwrap().to_string();
        let key = file
            .get("event_type_key")
            .and_then(|v| v.as_str())
            .unwrap_or("event_type")
            .to_string();
        let block = file
            .get("rules")
            .and_then(|r| r.get("first"))
            .and_then(|f| f.as_integer())
            .map(|f| f as u32)
            .unwrap_or(100_700);
        let events_text = work.read("events.jsonl");
        assert!(events.iter().all(|e| e["integration"] == integration));

        // The CLI contract: from the directory whose connectors/ holds NAME.toml.
        let block_arg = block.to_string();
        let rules = wazuh_in(work.dir.path(), &["rules", c.name, "--block", &block_arg]);
        assert_eq!(
            rules.status.code(),
            Some(0),
            "{}: {}",
            c.name,
            text(&rules.stderr)
        );
        std::fs::write(work.path("conn.xml"), &rules.stdout).unwrap();
        // The generated INI tests of the same rules pass.
        let ini = wazuh_in(work.dir.path(), &["tests", c.name, "--block", &block_arg]);
        std::fs::write(work.path("conn.ini"), &ini.stdout).unwrap();
        let tested = wazuh_in(
            work.dir.path(),
            &["test", "conn.ini", "--rules", "conn.xml"],
        );
        assert_eq!(
            tested.status.code(),
            Some(0),
            "{}: {}",
            c.name,
            text(&tested.stderr)
        );
        let health = wazuh_in(work.dir.path(), &["rules", "siemtap"]);
        std::fs::write(work.path("health.xml"), &health.stdout).unwrap();
        let verdicts = eval_in(work.dir.path(), &["health.xml", "conn.xml"], &events_text);
        assert_eq!(verdicts.len(), events.len());

        let (mut data, mut auth, mut failed_run) = (0, 0, 0);
        for (e, v) in events.iter().zip(&verdicts) {
            let id: u32 = v["rule"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: no rule for {e}", c.name))
                .parse()
                .unwrap();
            let level = v["level"].as_u64().unwrap();
            assert!(
                (block..block + 100).contains(&id),
                "{}: {e} ended on {id}, outside {block}-{}",
                c.name,
                block + 99
            );
            let rec = &e[&ns];
            match rec[&key].as_str().unwrap() {
                "error" => {
                    assert!(level >= 8, "{}: error on level {level}: {e}", c.name);
                    if rec["error_code"] == "API_HTTP_401" {
                        assert!(level >= 12, "{}: authentication failure at {level}", c.name);
                        auth += 1;
                    }
                }
                "run_summary" => {
                    let failed = rec
                        .as_object()
                        .unwrap()
                        .iter()
                        .any(|(k, v)| k.ends_with("_success") && v == false);
                    if failed {
                        assert!(level >= 6, "{}: failed run on level {level}: {e}", c.name);
                        failed_run += 1;
                    }
                }
                "health" => assert!(level >= 8, "{}: health on level {level}", c.name),
                _ => {
                    assert!(
                        level > 0,
                        "{}: data event on level 0 rule {id}: {e}",
                        c.name
                    );
                    data += 1;
                }
            }
        }
        assert!(
            data > 0 && auth > 0 && failed_run > 0,
            "{}: data {data}, auth {auth}, failed runs {failed_run}",
            c.name
        );
    }
}

/// `validate` refuses a connector file whose rule block overlaps the built-in blocks
/// (siemtap's health block is installed with every connector) or another file validated
/// with it; the shipped files validate together.
#[test]
fn validate_refuses_overlapping_rule_blocks() {
    let work = Workdir::new();
    std::fs::create_dir_all(work.path("connectors")).unwrap();
    let okta = std::fs::read_to_string(shipped_dir().join("okta_system_log.toml")).unwrap();
    let with_block = |first: u32, last: u32| {
        let i = okta.find("[rules]").unwrap();
        let j = i + okta[i..].find("\n\n").unwrap();
        format!(
            "{}[rules]\nfirst = {first}\nlast = {last}{}",
            &okta[..i],
            &okta[j..]
        )
    };
    let write = |name: &str, text: String| {
        let p = work.path(&format!("connectors/{name}.toml"));
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let validate = |files: &[&str]| {
        let mut args = vec!["validate"];
        args.extend(files);
        siemtap_clean(&args, &[])
    };
    // The old shipped blocks: inside siemtap's health block.
    let health = write("in_health", with_block(100_800, 100_849));
    let out = validate(&[&health]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("in_health.toml") && said.contains("siemtap's health rules"),
        "{said}"
    );
    assert!(
        said.contains("first = 100900"),
        "a free block is proposed: {said}"
    );
    let builtin = write("in_1password", with_block(100_700, 100_799));
    let said = text(&validate(&[&builtin]).stdout);
    assert!(said.contains("built-in 1password"), "{said}");
    // Two files that overlap each other, validated together: the second is refused.
    let a = write("a", with_block(102_000, 102_099));
    let b = write("b", with_block(102_050, 102_149));
    assert_eq!(validate(&[&a]).status.code(), Some(0));
    let out = validate(&[&a, &b]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("a.toml: ok") && said.contains("b.toml") && said.contains("102000-102099"),
        "{said}"
    );
    // A config brings in its sources' connector files.
    std::fs::write(
        work.path("siemtap.toml"),
        "[[source]]\nname = \"x\"\nconnector = \"in_health\"\n[source.settings]\nbase_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let said = text(&validate(&[work.path("siemtap.toml").to_str().unwrap()]).stdout);
    assert!(said.contains("siemtap's health rules"), "{said}");
    // Every shipped file, together: no overlap.
    let mut shipped: Vec<String> = std::fs::read_dir(shipped_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    shipped.sort();
    let refs: Vec<&str> = shipped.iter().map(String::as_str).collect();
    let out = validate(&refs);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// `wazuh check` refuses an id defined in two files (Wazuh warns 7612 and keeps the first).
#[test]
fn check_refuses_a_duplicate_id_across_files() {
    let work = Workdir::new();
    let dir = work.dir.path();
    let health = wazuh_in(dir, &["rules", "siemtap"]);
    std::fs::write(work.path("health.xml"), &health.stdout).unwrap();
    let moved = wazuh_in(dir, &["rules", "proofpoint", "--block", "100800"]);
    std::fs::write(work.path("pp.xml"), &moved.stdout).unwrap();
    let alone = wazuh_in(dir, &["check", "pp.xml"]);
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone.stderr));
    let out = wazuh_in(dir, &["check", "health.xml", "pp.xml"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pp.xml:")
            && err.contains("id 100800 is duplicated (first defined at health.xml:"),
        "{err}"
    );
}
