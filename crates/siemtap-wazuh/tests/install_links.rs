//! `wazuh install` writes nothing through a link planted by a member of group `wazuh` (who
//! can write `etc/`, `etc/rules/` and `logs/` on a Wazuh manager), and sets modes and owners
//! through handles, never through a link (issue 10 item 2). The victim stands for
//! `/etc/shadow`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use siemtap_wazuh::install::{InstallOptions, execute, plan};

const SECRET: &[u8] = b"root:$6$hash:19000:0:99999:7:::\n";

struct Layout {
    _dir: tempfile::TempDir,
    prefix: PathBuf,
    bin: PathBuf,
    victim: PathBuf,
}

fn layout() -> Layout {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("var/ossec");
    fs::create_dir_all(prefix.join("etc/rules")).unwrap();
    fs::create_dir_all(prefix.join("logs")).unwrap();
    fs::create_dir_all(prefix.join("wodles/siemtap")).unwrap();
    fs::write(
        prefix.join("etc/ossec.conf"),
        "<ossec_config>\n</ossec_config>\n",
    )
    .unwrap();
    let bin = dir.path().join("siemtap-bin");
    fs::write(&bin, b"#!/bin/sh\nexit 0\n").unwrap();
    let victim = dir.path().join("shadow");
    fs::write(&victim, SECRET).unwrap();
    Layout {
        _dir: dir,
        prefix,
        bin,
        victim,
    }
}

fn options(l: &Layout) -> InstallOptions {
    let mut o = InstallOptions::new(&l.prefix, &l.bin);
    o.merge_ossec_conf = true;
    o
}

fn link(victim: &Path, at: &Path) {
    if fs::symlink_metadata(at).is_err() {
        std::os::unix::fs::symlink(victim, at).unwrap();
    }
}

/// The temp names an install could use for `target`: the old `<stem>.siemtap-new` and the
/// first `.<name>.<pid>.<n>.tmp` of this process.
fn temp_names(target: &Path) -> Vec<PathBuf> {
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    let pid = std::process::id();
    let mut out = vec![target.with_extension("siemtap-new")];
    out.extend((0..100).map(|n| target.with_file_name(format!(".{name}.{pid}.{n}.tmp"))));
    out
}

#[test]
fn planted_temp_file_links_are_never_written_through() {
    let l = layout();
    let p = &l.prefix;
    for target in [
        p.join("etc/rules/siemtap_1password_rules.xml"),
        p.join("etc/rules/siemtap_health_rules.xml"),
        p.join("wodles/siemtap/siemtap"),
        p.join("wodles/siemtap/siemtap.toml"),
        p.join("wodles/siemtap/.secrets"),
        p.join("logs/siemtap.log"),
        p.join("../../etc/systemd/system/siemtap@.service"),
    ] {
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).unwrap();
        }
        for name in temp_names(&target) {
            link(&l.victim, &name);
        }
    }
    execute(&plan(&options(&l)).unwrap(), true).unwrap();
    assert!(fs::read(&l.victim).unwrap() == SECRET, "victim changed");
    assert_eq!(mode(&l.victim), 0o644 & !umask(), "victim mode unchanged");
    let rules = fs::read_to_string(p.join("etc/rules/siemtap_1password_rules.xml")).unwrap();
    assert!(
        rules.contains("<rule id=\"100754\""),
        "installed all the same"
    );
}

#[test]
fn a_planted_ossec_conf_backup_link_is_replaced_not_written_through() {
    let l = layout();
    link(&l.victim, &l.prefix.join("etc/ossec.conf.siemtap.bak"));
    let out = execute(&plan(&options(&l)).unwrap(), true).unwrap();
    assert!(fs::read(&l.victim).unwrap() == SECRET, "victim changed");
    let backup = out.ossec_conf_backup.expect("a backup");
    assert!(fs::symlink_metadata(&backup).unwrap().file_type().is_file());
    assert_eq!(
        fs::read_to_string(&backup).unwrap(),
        "<ossec_config>\n</ossec_config>\n"
    );
}

#[test]
fn a_planted_ossec_conf_link_is_refused_naming_the_path() {
    let l = layout();
    let conf = l.prefix.join("etc/ossec.conf");
    fs::remove_file(&conf).unwrap();
    fs::write(&l.victim, "<ossec_config>\n</ossec_config>\n").unwrap();
    link(&l.victim, &conf);
    let err = execute(&plan(&options(&l)).unwrap(), true).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&conf.display().to_string()) && msg.contains("remove the link"),
        "{msg}"
    );
    assert_eq!(
        fs::read_to_string(&l.victim).unwrap(),
        "<ossec_config>\n</ossec_config>\n",
        "victim unchanged"
    );
}

#[test]
fn a_planted_directory_link_is_refused_and_its_target_keeps_its_mode() {
    let l = layout();
    let elsewhere = l.prefix.join("../../elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o700)).unwrap();
    fs::create_dir_all(l.prefix.join("var/wodles")).unwrap();
    let state_dir = l.prefix.join("var/wodles/siemtap");
    link(&elsewhere, &state_dir);
    let err = execute(&plan(&options(&l)).unwrap(), true).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&state_dir.display().to_string()) && msg.contains("symbolic link"),
        "{msg}"
    );
    assert_eq!(mode(&elsewhere), 0o700, "no chmod through the link");
}

#[test]
fn a_dangling_log_link_is_kept_never_created_through() {
    let l = layout();
    let target = l.prefix.join("../../created-by-root");
    link(&target, &l.prefix.join("logs/siemtap.log"));
    execute(&plan(&options(&l)).unwrap(), true).unwrap();
    assert!(!target.exists(), "nothing created at the link's target");
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn umask() -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("probe");
    fs::write(&p, b"").unwrap();
    0o666 & !mode(&p)
}

#[test]
fn state_and_log_belong_to_the_run_user_and_are_not_group_writable() {
    let l = layout();
    let steps = plan(&options(&l)).unwrap();
    let find = |rel: &str| {
        steps
            .iter()
            .find(|s| s.path == l.prefix.join(rel))
            .unwrap_or_else(|| panic!("{rel} not in the plan"))
    };
    for (rel, mode) in [("var/wodles/siemtap", 0o750), ("logs/siemtap.log", 0o640)] {
        let s = find(rel);
        assert_eq!(
            (s.owner, s.group, s.mode),
            ("wazuh", "wazuh", mode),
            "{rel}"
        );
    }
    // Read before the privilege drop: root's, readable by the group.
    for rel in ["wodles/siemtap/siemtap.toml", "wodles/siemtap/.secrets"] {
        let s = find(rel);
        assert_eq!(
            (s.owner, s.group, s.mode),
            ("root", "wazuh", 0o640),
            "{rel}"
        );
    }
}
