//! No state file, lock or temp file is written through a link a non-root owner of the
//! directory could plant (issue 10 item 2). The victim stands for `/etc/shadow`.

#![allow(clippy::print_stdout)] // the skipped sub-case says so

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;
use siemtap_state::{StateError, StateStore, StreamState, lock_path};

const SECRET: &[u8] = b"root:$6$hash:19000:0:99999:7:::\n";

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("shadow");
    fs::write(&victim, SECRET).unwrap();
    let state = dir.path().join("state.json");
    (dir, victim, state)
}

fn cursor(c: &str) -> StreamState {
    StreamState {
        cursor: Some(json!(c)),
        ..StreamState::default()
    }
}

fn assert_names(err: &StateError, path: &Path, fix: &str) {
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains(fix),
        "the message names {} and says `{fix}`: {msg}",
        path.display()
    );
}

#[test]
fn a_planted_lock_symlink_never_truncates_its_target() {
    let (_dir, victim, state) = setup();
    let lock = lock_path(&state);
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let err = StateStore::open(&state).unwrap_err();
    assert_names(&err, &lock, "remove the link");
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
}

#[test]
fn a_hard_linked_lock_never_truncates_the_other_name() {
    let (_dir, victim, state) = setup();
    let lock = lock_path(&state);
    fs::hard_link(&victim, &lock).unwrap();
    let err = StateStore::open(&state).unwrap_err();
    assert_names(&err, &lock, "hard links");
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
}

#[test]
fn a_planted_state_symlink_is_refused_not_read_or_replaced() {
    let (_dir, victim, state) = setup();
    std::os::unix::fs::symlink(&victim, &state).unwrap();
    let err = StateStore::open(&state).unwrap_err();
    assert_names(&err, &state, "remove the link");
    assert!(
        fs::symlink_metadata(&state)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&victim).unwrap(), SECRET);
}

#[test]
fn a_planted_temp_name_is_skipped_never_written_through() {
    let (dir, victim, state) = setup();
    let pid = std::process::id();
    // Temp names are `.<name>.<pid>.<n>.tmp`: plant the first ones this process would use.
    for n in 0..200 {
        let name = dir.path().join(format!(".state.json.{pid}.{n}.tmp"));
        std::os::unix::fs::symlink(&victim, &name).unwrap();
    }
    {
        let mut store = StateStore::open(&state).unwrap();
        store.commit("audit", cursor("c1"), None).unwrap();
    }
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
    let written: serde_json::Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert_eq!(written["audit_cursor"], "c1");
}

#[test]
fn a_symlinked_state_directory_is_refused() {
    let (dir, _victim, _state) = setup();
    let real = dir.path().join("elsewhere");
    fs::create_dir(&real).unwrap();
    let linked = dir.path().join("wodles");
    std::os::unix::fs::symlink(&real, &linked).unwrap();
    let state = linked.join("state.json");
    let err = StateStore::open(&state).unwrap_err();
    assert_names(&err, &linked, "symbolic link");
    assert!(
        fs::read_dir(&real).unwrap().next().is_none(),
        "nothing created behind the link"
    );
}

#[test]
fn state_files_of_another_owner_are_refused_with_the_chown_fix() {
    if siemtap_fs::euid() != 0 {
        println!("note: not root, cannot plant a file owned by another user; sub-case skipped");
        return;
    }
    for target in ["lock", "state"] {
        let (_dir, _victim, state) = setup();
        fs::write(&state, br#"{"audit_cursor": "c0"}"#).unwrap();
        let lock = lock_path(&state);
        fs::write(&lock, b"").unwrap();
        let path = if target == "lock" { &lock } else { &state };
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
        let before = fs::read(path).unwrap();
        let err = StateStore::open(&state).unwrap_err();
        assert_names(&err, path, &format!("chown root {}", path.display()));
        assert_eq!(fs::read(path).unwrap(), before, "{target} untouched");
    }
}
