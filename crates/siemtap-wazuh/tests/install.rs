//! The install plan into a temporary prefix: tree, modes, contents, idempotence, 5.x refusal.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use siemtap_wazuh::install::{InstallError, InstallOptions, execute, plan, render_plan};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn opts(prefix: &Path, binary: &Path) -> InstallOptions {
    InstallOptions {
        prefix: prefix.to_path_buf(),
        binary: binary.to_path_buf(),
        connectors: Vec::new(),
    }
}

#[test]
fn installs_the_documented_tree_with_modes() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("ossec");
    let bin = dir.path().join("siemtap-bin");
    std::fs::write(&bin, b"#!/bin/sh\nexit 0\n").unwrap();
    let steps = plan(&opts(&prefix, &bin)).unwrap();
    let text = render_plan(&steps);
    assert!(text.contains("0750 root:wazuh"), "{text}");
    assert!(text.contains("siemtap_1password_rules.xml"), "{text}");
    assert!(!prefix.exists(), "planning writes nothing");

    execute(&steps, true).unwrap();
    for (path, want) in [
        ("wodles/siemtap", 0o750),
        ("wodles/siemtap/siemtap", 0o750),
        ("wodles/siemtap/.secrets", 0o640),
        ("var/wodles/siemtap", 0o770),
        ("logs/siemtap.log", 0o660),
        ("etc/rules", 0o770),
        ("etc/rules/siemtap_1password_rules.xml", 0o660),
        ("etc/rules/siemtap_proofpoint_rules.xml", 0o660),
        ("etc/rules/siemtap_cortex_xdr_rules.xml", 0o660),
        ("etc/rules/siemtap_health_rules.xml", 0o660),
    ] {
        let p = prefix.join(path);
        assert!(p.exists(), "{path} missing");
        assert_eq!(mode(&p), want, "mode of {path}");
    }
    assert_eq!(
        std::fs::read(prefix.join("wodles/siemtap/siemtap")).unwrap(),
        b"#!/bin/sh\nexit 0\n"
    );
    let rules =
        std::fs::read_to_string(prefix.join("etc/rules/siemtap_1password_rules.xml")).unwrap();
    assert!(rules.contains("<rule id=\"100754\""));

    // A second install keeps the operator's secrets and log, and rewrites the rules.
    std::fs::write(
        prefix.join("wodles/siemtap/.secrets"),
        "OP_BEARER_TOKEN=x\n",
    )
    .unwrap();
    std::fs::write(prefix.join("etc/rules/siemtap_1password_rules.xml"), "old").unwrap();
    let again = execute(&plan(&opts(&prefix, &bin)).unwrap(), true).unwrap();
    assert!(again.kept.contains(&prefix.join("wodles/siemtap/.secrets")));
    assert_eq!(
        std::fs::read_to_string(prefix.join("wodles/siemtap/.secrets")).unwrap(),
        "OP_BEARER_TOKEN=x\n"
    );
    assert!(
        std::fs::read_to_string(prefix.join("etc/rules/siemtap_1password_rules.xml"))
            .unwrap()
            .contains("100700")
    );
    let leftovers: Vec<_> = walk(&prefix)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("siemtap-new"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(walk(&e));
        }
        out.push(e);
    }
    out
}

#[test]
fn existing_wazuh_directories_keep_their_mode() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().to_path_buf();
    std::fs::create_dir_all(prefix.join("etc/rules")).unwrap();
    std::fs::set_permissions(
        prefix.join("etc/rules"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"x").unwrap();
    execute(&plan(&opts(&prefix, &bin)).unwrap(), true).unwrap();
    assert_eq!(mode(&prefix.join("etc/rules")), 0o750);
}

#[test]
fn refuses_wazuh5_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let p5 = dir.path().join("wazuh-manager");
    assert!(matches!(
        plan(&opts(&p5, &bin)),
        Err(InstallError::Wazuh5 { .. })
    ));
    let p = dir.path().join("ossec");
    std::fs::create_dir_all(p.join("queue/sockets")).unwrap();
    std::fs::write(p.join("queue/sockets/queue-http.sock"), b"").unwrap();
    let err = plan(&opts(&p, &bin)).unwrap_err();
    assert!(err.to_string().contains("Wazuh 5.x"), "{err}");
}

#[test]
fn chown_failure_is_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("ossec");
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"x").unwrap();
    let has_wazuh = std::fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("wazuh:"));
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let result = execute(&plan(&opts(&prefix, &bin)).unwrap(), false);
    if has_wazuh && root {
        result.unwrap();
    } else {
        let msg = result.unwrap_err().to_string();
        assert!(
            msg.contains("owners could not be set") && msg.contains("--skip-chown"),
            "{msg}"
        );
        assert!(msg.contains("wodles/siemtap/siemtap"), "{msg}");
        // Files are in place with their modes all the same.
        assert_eq!(mode(&prefix.join("wodles/siemtap/siemtap")), 0o750);
    }
}

#[test]
fn health_rules_come_with_any_connector_selection() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("ossec");
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"x").unwrap();
    let mut o = opts(&prefix, &bin);
    o.connectors = vec!["1password".into()];
    execute(&plan(&o).unwrap(), true).unwrap();
    let rules = prefix.join("etc/rules");
    assert!(rules.join("siemtap_1password_rules.xml").exists());
    assert!(!rules.join("siemtap_proofpoint_rules.xml").exists());
    let health = std::fs::read_to_string(rules.join("siemtap_health_rules.xml")).unwrap();
    assert!(
        health.contains("<rule id=\"100802\" level=\"8\""),
        "{health}"
    );
}
