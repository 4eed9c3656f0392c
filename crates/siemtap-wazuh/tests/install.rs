//! The install plan into a temporary prefix: tree, modes, contents, idempotence, 5.x refusal,
//! systemd units under `<root>/etc/systemd/system`, the ossec.conf merge.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use siemtap_wazuh::install::{InstallError, InstallOptions, execute, plan, render_plan};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn opts(prefix: &Path, binary: &Path) -> InstallOptions {
    InstallOptions::new(prefix, binary)
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
        ("var/wodles/siemtap", 0o750),
        ("logs/siemtap.log", 0o640),
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
        .filter(|p| {
            let name = p.to_string_lossy();
            name.ends_with("siemtap-new") || name.ends_with(".tmp")
        })
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

/// `<root>/var/ossec` gets everything: units under `<root>/etc/systemd/system`, the sample
/// config, the merged stanzas; a second install changes nothing the operator owns and does not
/// add a second block.
#[test]
fn full_install_into_a_root_with_systemd_and_merge_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let prefix = root.join("var/ossec");
    std::fs::create_dir_all(prefix.join("etc")).unwrap();
    let conf = prefix.join("etc/ossec.conf");
    let original =
        "<ossec_config>\n  <global><logall_json>yes</logall_json></global>\n</ossec_config>\n";
    std::fs::write(&conf, original).unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o640)).unwrap();
    let bin = root.join("siemtap-bin");
    std::fs::write(&bin, b"binary v1").unwrap();
    let mut o = opts(&prefix, &bin);
    assert_eq!(
        o.systemd_dir.as_deref(),
        Some(root.join("etc/systemd/system").as_path())
    );
    o.merge_ossec_conf = true;

    let first = execute(&plan(&o).unwrap(), true).unwrap();
    let sd = root.join("etc/systemd/system");
    for (path, want) in [
        (prefix.join("wodles/siemtap/siemtap.toml"), 0o640),
        (prefix.join("wodles/siemtap/.secrets"), 0o640),
        (sd.join("siemtap@.service"), 0o644),
        (sd.join("siemtap@.timer"), 0o644),
        (sd.join("siemtap@1password.service.d"), 0o755),
        (
            sd.join("siemtap@1password.service.d/credentials.conf"),
            0o644,
        ),
        (
            sd.join("siemtap@proofpoint.service.d/credentials.conf"),
            0o644,
        ),
        (
            sd.join("siemtap@cortex_xdr.service.d/credentials.conf"),
            0o644,
        ),
    ] {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let p = prefix.display().to_string();
    // The service runs the installed binary against this prefix's socket.
    let service = read(&sd.join("siemtap@.service"));
    assert!(service.contains(&format!("ExecStart={p}/wodles/siemtap/siemtap run %i --output wazuh-socket:{p}/queue/sockets/queue ")), "{service}");
    assert!(!service.contains(" /var/ossec"), "{service}");
    assert!(read(&sd.join("siemtap@.timer")).contains("WantedBy=timers.target"));
    let drop_in = read(&sd.join("siemtap@cortex_xdr.service.d/credentials.conf"));
    for cred in ["xdr_fqdn", "xdr_api_key", "xdr_api_key_id"] {
        assert!(
            drop_in.contains(&format!(
                "\nLoadCredentialEncrypted={cred}:/etc/credstore.encrypted/{cred}\n"
            )),
            "{drop_in}"
        );
        assert!(drop_in.contains(&format!(
            "systemd-creds encrypt --name={cred} - /etc/credstore.encrypted/{cred}"
        )));
    }
    assert!(drop_in.contains(&format!(
        "Environment=XDR_STATE_FILE={p}/var/wodles/siemtap/cortex_xdr.state.json"
    )));
    // Secrets template: every key there, none active.
    let secrets = read(&prefix.join("wodles/siemtap/.secrets"));
    for key in [
        "OP_BEARER_TOKEN",
        "PP_PRINCIPAL",
        "PP_SECRET",
        "XDR_FQDN",
        "XDR_API_KEY",
        "XDR_API_KEY_ID",
    ] {
        assert!(secrets.contains(&format!("\n#{key}=\n")), "{secrets}");
    }
    assert!(secrets.lines().all(|l| l.is_empty() || l.starts_with('#')));
    let config = read(&prefix.join("wodles/siemtap/siemtap.toml"));
    assert!(
        config.contains(&format!("state_dir = \"{p}/var/wodles/siemtap\"")),
        "{config}"
    );
    // ossec.conf: the operator's part kept, one block with the three stanzas, mode kept, backup.
    let merged = read(&conf);
    assert!(merged.starts_with(original));
    assert_eq!(merged.matches("<!-- siemtap:begin").count(), 1);
    for c in ["1password", "proofpoint", "cortex_xdr"] {
        assert_eq!(
            merged.matches(&format!("<tag>siemtap-{c}</tag>")).count(),
            1,
            "{merged}"
        );
        assert!(merged.contains(&format!("<command>{p}/wodles/siemtap/siemtap run {c} --output wazuh-socket:{p}/queue/sockets/queue --max-runtime 240 --log-file {p}/logs/siemtap.log --state-dir {p}/var/wodles/siemtap</command>")), "{merged}");
    }
    assert!(merged.contains("<ignore_output>yes</ignore_output>"));
    assert_eq!(mode(&conf), 0o640, "ossec.conf keeps its mode");
    assert_eq!(
        first.ossec_conf_backup.as_deref(),
        Some(prefix.join("etc/ossec.conf.siemtap.bak").as_path())
    );
    assert_eq!(read(&prefix.join("etc/ossec.conf.siemtap.bak")), original);

    // The operator edits config, secrets and a drop-in; installs again with the same binary.
    // (The secrets edit completes no connector's keys: completing one enables its stanza,
    // default_install_stanzas_stay_disabled_until_credentials_exist.)
    std::fs::write(prefix.join("wodles/siemtap/siemtap.toml"), "# mine\n").unwrap();
    std::fs::write(prefix.join("wodles/siemtap/.secrets"), "PP_PRINCIPAL=x\n").unwrap();
    let d1 = sd.join("siemtap@1password.service.d/credentials.conf");
    std::fs::write(&d1, "[Service]\nLoadCredential=op_bearer_token:/root/t\n").unwrap();
    let again = execute(&plan(&o).unwrap(), true).unwrap();
    assert!(
        again.ossec_conf_backup.is_none(),
        "nothing changed in ossec.conf"
    );
    assert!(again.kept.contains(&conf));
    assert_eq!(
        read(&conf),
        merged,
        "no second stanza, byte for byte the same"
    );
    assert_eq!(
        read(&prefix.join("wodles/siemtap/siemtap.toml")),
        "# mine\n"
    );
    assert_eq!(
        read(&prefix.join("wodles/siemtap/.secrets")),
        "PP_PRINCIPAL=x\n"
    );
    assert_eq!(
        read(&d1),
        "[Service]\nLoadCredential=op_bearer_token:/root/t\n"
    );

    // A new binary changes <verify_sha256>: the block is replaced in place, the backup is the
    // previous file, still one block.
    std::fs::write(&bin, b"binary v2").unwrap();
    let third = execute(&plan(&o).unwrap(), true).unwrap();
    assert!(third.ossec_conf_backup.is_some());
    let replaced = read(&conf);
    assert_ne!(replaced, merged);
    assert_eq!(replaced.matches("<!-- siemtap:begin").count(), 1);
    assert_eq!(replaced.matches("<tag>siemtap-1password</tag>").count(), 1);
    assert_eq!(read(&prefix.join("etc/ossec.conf.siemtap.bak")), merged);
    assert_eq!(replaced.matches("<disabled>yes</disabled>").count(), 3);

    // The 1Password token filled in: the next install enables that stanza only.
    std::fs::write(
        prefix.join("wodles/siemtap/.secrets"),
        "OP_BEARER_TOKEN=x\n",
    )
    .unwrap();
    execute(&plan(&o).unwrap(), true).unwrap();
    let enabled = read(&conf);
    assert_eq!(enabled.matches("<disabled>yes</disabled>").count(), 2);
    assert_eq!(enabled.matches("<disabled>no</disabled>").count(), 1);
}

#[test]
fn merge_needs_an_ossec_conf_and_other_prefixes_get_no_units() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"x").unwrap();
    let mut o = opts(&dir.path().join("var/ossec"), &bin);
    o.merge_ossec_conf = true;
    let err = plan(&o).unwrap_err();
    assert!(matches!(err, InstallError::NoOssecConf(_)), "{err}");
    assert!(err.to_string().contains("etc/ossec.conf"), "{err}");
    let o = opts(&dir.path().join("opt/wazuh"), &bin);
    assert!(o.systemd_dir.is_none());
    assert!(!render_plan(&plan(&o).unwrap()).contains("systemd"));
    assert_eq!(
        siemtap_wazuh::install::default_systemd_dir(Path::new("/var/ossec")).as_deref(),
        Some(Path::new("/etc/systemd/system"))
    );
}

/// A fresh manager gets no alerts from siemtap: with the secrets template (every key commented
/// out) every wodle stanza is `<disabled>yes</disabled>`, because an enabled wodle with
/// `run_on_start` and no credentials raises an authentication alert (level 12, the default
/// `email_alert_level`) at every interval. A connector whose keys are all filled in gets an
/// enabled stanza on the next install.
#[test]
fn default_install_stanzas_stay_disabled_until_credentials_exist() {
    use siemtap_wazuh::install::stanzas;
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("ossec");
    let bin = dir.path().join("siemtap-bin");
    std::fs::write(&bin, b"#!/bin/sh\nexit 0\n").unwrap();
    let o = opts(&prefix, &bin);
    execute(&plan(&o).unwrap(), true).unwrap();
    let all = stanzas(&o).unwrap();
    assert_eq!(all.len(), 3);
    for (tag, text) in &all {
        assert!(
            text.contains("<disabled>yes</disabled>") && !text.contains("<disabled>no</disabled>"),
            "{tag} is enabled without credentials:\n{text}"
        );
        assert!(
            text.contains(".secrets"),
            "{tag}: the comment says what enables it"
        );
    }
    // 1Password's key filled in, Proofpoint's only half: 1Password alone is enabled.
    std::fs::write(
        prefix.join("wodles/siemtap/.secrets"),
        "# comment\nOP_BEARER_TOKEN=tok\nPP_PRINCIPAL=p\nPP_SECRET=\nXDR_FQDN=  \n",
    )
    .unwrap();
    for (tag, text) in stanzas(&o).unwrap() {
        let enabled = text.contains("<disabled>no</disabled>");
        assert_eq!(enabled, tag == "siemtap-1password", "{tag}:\n{text}");
    }
}
