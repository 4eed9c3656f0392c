//! `siemtap wazuh install` (the binary) into `<root>/var/ossec`: the whole tree with modes,
//! a sample config that `siemtap validate` accepts, systemd units installed but not enabled,
//! encrypted-credential drop-ins naming exactly the credentials each connector reads, the
//! ossec.conf merge (one block however often it runs, backup kept) and the printed stanza.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use siemtap_connectors::{cortex_xdr, onepassword, proofpoint};
use siemtap_wazuh::install_files::CREDENTIALS;

use crate::harness::*;

fn siemtap(args: &[&str]) -> Output {
    crate::harness::siemtap_cmd()
        .args(args)
        .output()
        .expect("run siemtap")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn credential_table_matches_the_connectors() {
    let want = [
        ("1password", vec![onepassword::TOKEN_KEY]),
        (
            "proofpoint",
            vec![proofpoint::PRINCIPAL_KEY, proofpoint::SECRET_KEY],
        ),
        (
            "cortex_xdr",
            vec![
                cortex_xdr::FQDN_KEY,
                cortex_xdr::API_KEY,
                cortex_xdr::API_KEY_ID,
            ],
        ),
    ];
    assert_eq!(CREDENTIALS.len(), want.len());
    for (c, (name, keys)) in CREDENTIALS.iter().zip(want) {
        assert_eq!(c.connector, name);
        let table: Vec<(&str, &str)> = keys.iter().map(|k| (k.cred_name, k.env_name)).collect();
        assert_eq!(c.credentials, table.as_slice(), "{name}");
        let registered = siemtap_connectors::find(name).expect("registered connector");
        assert_eq!(c.env_prefix, registered.env_prefix, "{name}");
    }
}

#[test]
fn install_into_a_root_builds_everything_and_is_idempotent() {
    let work = Workdir::new();
    let root = work.path("root");
    let prefix = root.join("var/ossec");
    let p = prefix.to_str().unwrap();
    std::fs::create_dir_all(prefix.join("etc")).unwrap();
    let conf = prefix.join("etc/ossec.conf");
    let original = "<ossec_config>\n  <global><jsonout_output>yes</jsonout_output></global>\n</ossec_config>\n";
    std::fs::write(&conf, original).unwrap();

    // Dry run: the plan, nothing written.
    let dry = siemtap(&[
        "wazuh",
        "install",
        "--prefix",
        p,
        "--dry-run",
        "--merge-ossec-conf",
    ]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let plan = text(&dry.stdout);
    for needle in [
        "siemtap.toml",
        ".secrets",
        "siemtap@.timer",
        "credentials.conf",
        "ossec.conf.siemtap.bak",
    ] {
        assert!(plan.contains(needle), "plan lacks {needle}: {plan}");
    }
    assert!(!prefix.join("wodles").exists() && !root.join("etc").exists());
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), original);

    let first = siemtap(&[
        "wazuh",
        "install",
        "--prefix",
        p,
        "--skip-chown",
        "--merge-ossec-conf",
    ]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let out = text(&first.stdout);
    let sd = root.join("etc/systemd/system");
    for (path, want) in [
        (prefix.join("wodles/siemtap"), 0o750),
        (prefix.join("wodles/siemtap/siemtap"), 0o750),
        (prefix.join("wodles/siemtap/siemtap.toml"), 0o640),
        (prefix.join("wodles/siemtap/.secrets"), 0o640),
        (prefix.join("var/wodles/siemtap"), 0o750),
        (prefix.join("logs/siemtap.log"), 0o640),
        (prefix.join("etc/rules/siemtap_health_rules.xml"), 0o660),
        (sd.join("siemtap@.service"), 0o644),
        (sd.join("siemtap@.timer"), 0o644),
    ] {
        assert_eq!(mode(&path), want, "mode of {}", path.display());
    }
    for c in CREDENTIALS {
        assert_eq!(
            mode(&prefix.join(format!("etc/rules/siemtap_{}_rules.xml", c.connector))),
            0o660
        );
        let drop_in = sd.join(format!(
            "siemtap@{}.service.d/credentials.conf",
            c.connector
        ));
        assert_eq!(mode(&drop_in), 0o644);
        let body = std::fs::read_to_string(&drop_in).unwrap();
        let loaded: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix("LoadCredentialEncrypted="))
            .map(|v| v.split_once(':').unwrap().0)
            .collect();
        let want: Vec<&str> = c.credentials.iter().map(|(cred, _)| *cred).collect();
        assert_eq!(loaded, want, "{}", c.connector);
        assert!(
            !body.lines().any(|l| l.starts_with("LoadCredential=")),
            "{body}"
        );
        for cred in want {
            assert!(
                out.contains(&format!(
                    "systemd-creds encrypt --name={cred} - /etc/credstore.encrypted/{cred}"
                )),
                "{out}"
            );
        }
        assert!(
            out.contains(&format!(
                "systemctl enable --now siemtap@{}.timer",
                c.connector
            )),
            "{out}"
        );
    }
    // Installed, not enabled: no wants links.
    assert!(!sd.join("timers.target.wants").exists());
    // The service runs the installed binary with flags it has, against this prefix.
    let service = std::fs::read_to_string(sd.join("siemtap@.service")).unwrap();
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let argv: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(argv[0], format!("{p}/wodles/siemtap/siemtap"));
    let help = text(
        &Command::new(argv[0])
            .args(["run", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    for flag in argv.iter().filter(|a| a.starts_with("--")) {
        assert!(
            help.contains(&format!("{flag} ")),
            "{flag} is not a run flag"
        );
    }
    assert!(
        exec.contains(&format!("--output wazuh-socket:{p}/queue/sockets/queue ")),
        "{exec}"
    );

    // The sample config is valid as written.
    let config = prefix.join("wodles/siemtap/siemtap.toml");
    let v = siemtap(&["validate", config.to_str().unwrap()]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}{}",
        text(&v.stdout),
        text(&v.stderr)
    );
    assert!(!text(&v.stderr).contains("warning"), "{}", text(&v.stderr));
    // Secrets template: keys commented out.
    let secrets = std::fs::read_to_string(prefix.join("wodles/siemtap/.secrets")).unwrap();
    assert!(
        secrets.contains("#OP_BEARER_TOKEN=")
            && secrets.lines().all(|l| l.is_empty() || l.starts_with('#'))
    );

    // ossec.conf: one block, three socket-sink stanzas with the installed binary's hash.
    let merged = std::fs::read_to_string(&conf).unwrap();
    assert!(merged.starts_with(original));
    let hash =
        siemtap_wazuh::ossec_conf::sha256_file(&prefix.join("wodles/siemtap/siemtap")).unwrap();
    assert_eq!(
        merged
            .matches(&format!("<verify_sha256>{hash}</verify_sha256>"))
            .count(),
        3
    );
    assert_eq!(
        std::fs::read_to_string(prefix.join("etc/ossec.conf.siemtap.bak")).unwrap(),
        original
    );

    // Second install: the operator's files stay, ossec.conf is byte-identical (no second block).
    // (The secrets edit completes no connector's keys: a complete set enables that stanza.)
    std::fs::write(&config, "# edited\n").unwrap();
    std::fs::write(prefix.join("wodles/siemtap/.secrets"), "PP_PRINCIPAL=t\n").unwrap();
    let again = siemtap(&[
        "wazuh",
        "install",
        "--prefix",
        p,
        "--skip-chown",
        "--merge-ossec-conf",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), merged);
    assert!(!text(&again.stdout).contains("ossec.conf changed"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# edited\n");
    assert_eq!(
        std::fs::read_to_string(prefix.join("wodles/siemtap/.secrets")).unwrap(),
        "PP_PRINCIPAL=t\n"
    );

    // Without --merge-ossec-conf the stanza is printed instead, and ossec.conf is left alone.
    let printed = siemtap(&[
        "wazuh",
        "install",
        "--prefix",
        p,
        "--skip-chown",
        "--connector",
        "proofpoint",
        "--no-systemd",
    ]);
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed.stderr));
    let o = text(&printed.stdout);
    assert!(
        o.contains("<tag>siemtap-proofpoint</tag>")
            && o.contains("<ignore_output>yes</ignore_output>"),
        "{o}"
    );
    assert!(o.contains("systemd units not installed"), "{o}");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), merged);

    // --systemd-dir puts the units elsewhere.
    let elsewhere = work.path("units");
    let sd2 = siemtap(&[
        "wazuh",
        "install",
        "--prefix",
        p,
        "--skip-chown",
        "--connector",
        "1password",
        "--systemd-dir",
        elsewhere.to_str().unwrap(),
    ]);
    assert_eq!(sd2.status.code(), Some(0), "{}", text(&sd2.stderr));
    assert!(
        elsewhere
            .join("siemtap@1password.service.d/credentials.conf")
            .exists()
    );
    assert!(!elsewhere.join("siemtap@proofpoint.service.d").exists());
}

#[test]
fn merge_without_ossec_conf_is_refused_with_the_path() {
    let work = Workdir::new();
    let prefix = work.path("root/var/ossec");
    let out = siemtap(&[
        "wazuh",
        "install",
        "--prefix",
        prefix.to_str().unwrap(),
        "--skip-chown",
        "--merge-ossec-conf",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("etc/ossec.conf does not exist"), "{err}");
    assert!(!prefix.join("wodles").exists(), "nothing installed");
}
