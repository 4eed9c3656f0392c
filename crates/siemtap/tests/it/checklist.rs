//! Static proofs for security-checklist items that no run exercises (docs/security.md maps
//! every item C1…R3 to its test): what the install writes (no set-id bits, nothing for
//! "other", placeholder-only secrets template), what the repository ignores, and that product
//! code starts no child process.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        out.push(path.clone());
        if path.is_dir() && !path.is_symlink() {
            walk(&path, out);
        }
    }
}

fn install_tree(work: &Workdir) -> PathBuf {
    let prefix = work.path("ossec");
    let out = Command::new(bin())
        .args(["wazuh", "install", "--prefix"])
        .arg(&prefix)
        .arg("--skip-chown")
        .output()
        .expect("run siemtap wazuh install");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    prefix
}

/// P3 (no SUID/SGID anywhere) and F2 (nothing created world-readable): every file and
/// directory `wazuh install` creates.
#[test]
fn install_creates_nothing_set_id_and_nothing_for_other_users() {
    let work = Workdir::new();
    let prefix = install_tree(&work);
    let mut paths = Vec::new();
    walk(&prefix, &mut paths);
    assert!(paths.len() > 10, "the install wrote {} paths", paths.len());
    for p in &paths {
        let mode = std::fs::symlink_metadata(p).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o6000,
            0,
            "{} has a set-id bit: {mode:o}",
            p.display()
        );
        // Directories Wazuh itself owns keep their mode; siemtap's own paths give "other"
        // nothing (the wodle directory, its state, its logs, its rules).
        if p.to_string_lossy().contains("siemtap") {
            assert_eq!(
                mode & 0o007,
                0,
                "{} is open to other users: {mode:o}",
                p.display()
            );
        }
    }
}

/// C4: the shipped secrets template holds placeholders only (every key commented out, no
/// value).
#[test]
fn secrets_template_holds_no_value() {
    let work = Workdir::new();
    let prefix = install_tree(&work);
    let text = std::fs::read_to_string(prefix.join("wodles/siemtap/.secrets")).unwrap();
    let mut keys = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        assert!(
            line.starts_with('#'),
            "uncommented line in the template: {line:?}"
        );
        if let Some((key, value)) = line.trim_start_matches('#').split_once('=')
            && key.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            keys += 1;
            assert!(value.is_empty(), "{key} has a value in the template");
        }
    }
    assert!(keys >= 6, "the template lists {keys} keys");
}

/// C5: the repository ignores secrets files, state, locks, outputs and logs, so a developer
/// who runs siemtap in a checkout cannot commit a credential or a cursor by accident.
#[test]
fn ignore_file_excludes_secrets_state_and_outputs() {
    let root = repo_root();
    if !root.join(".git").exists() {
        eprintln!("not a git checkout: the ignore check is skipped");
        return;
    }
    let samples = [
        ".secrets",
        "crates/siemtap/.secrets",
        "tenants.secrets",
        "1password.state.json",
        "1password.state.json.lock",
        "x/.1password.state.json.123.tmp",
        "events.jsonl",
        "crates/siemtap/events.jsonl",
        "siemtap.log",
        "credentials/op_bearer_token",
    ];
    for sample in samples {
        let status = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(["check-ignore", "-q", "--no-index", sample])
            .status()
            .expect("run git check-ignore");
        assert!(status.success(), "{sample} is not ignored by .gitignore");
    }
}

/// I5 / P4: nothing derived from an API response reaches a subprocess, because no product
/// crate starts one (the bench crate is a developer tool, not shipped).
#[test]
fn product_code_starts_no_child_process() {
    let crates = repo_root().join("crates");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        if dir.file_name().is_some_and(|n| n == "siemtap-bench") {
            continue;
        }
        if dir.join("src").is_dir() {
            walk(&dir.join("src"), &mut files);
        }
    }
    let rs: Vec<_> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    assert!(rs.len() > 100, "scanned {} files", rs.len());
    for path in rs {
        let text = std::fs::read_to_string(path).unwrap();
        for needle in ["process::Command", "tokio::process", "Command::new("] {
            assert!(
                !text.contains(needle),
                "{} uses {needle}: product code must not start processes",
                path.display()
            );
        }
    }
}
