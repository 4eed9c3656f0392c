//! `siemtap wazuh ...` command-line contracts: `ossec-conf` refuses what it cannot run,
//! `test --rules A B FILE.ini` keeps the INI file apart from the rules.

use std::process::{Command, Output, Stdio};

use crate::harness::*;

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
