//! Commits: atomic replacement, failure leaves everything unchanged, reset, modes.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;
use siemtap_state::{StateError, StateStore, StreamState};

fn cursor(c: &str) -> StreamState {
    StreamState {
        cursor: Some(json!(c)),
        ..Default::default()
    }
}

fn dir_names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_run_creates_dir_and_leaves_no_temp_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b");
    let path = dir.join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    assert!(store.stream_keys().is_empty());
    assert!(!path.exists(), "opening must not write the state file");
    assert_eq!(
        mode(&dir) & !0o750,
        0,
        "state dir must not be wider than 0o750"
    );

    for i in 0..5 {
        store
            .commit("signin", cursor(&format!("c:{i}")), Some(("out", i)))
            .unwrap();
        assert_eq!(dir_names(&dir), names(&["state.json", "state.json.lock"]));
    }
    assert_eq!(
        mode(&path) & !0o640,
        0,
        "state file must not be wider than 0o640"
    );
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(reread.stream("signin"), cursor("c:4"));
    assert_eq!(reread.output_length("out"), Some(4));
}

#[test]
fn replacing_keeps_the_existing_file_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    fs::write(&path, r#"{"signin_cursor": "c:1"}"#).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let mut store = StateStore::open(&path).unwrap();
    store.commit("signin", cursor("c:2"), None).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn failed_commit_changes_neither_memory_nor_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let moved = tmp.path().join("moved");
    let path = dir.join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    store
        .commit("signin", cursor("c:1"), Some(("out", 10)))
        .unwrap();
    let before = fs::read(&path).unwrap();

    // Make the state directory unusable in a way that also works as root: its path now names
    // a regular file (the real directory, lock and all, moved aside).
    fs::rename(&dir, &moved).unwrap();
    fs::write(&dir, "not a directory").unwrap();
    let err = store
        .commit("signin", cursor("c:2"), Some(("out", 20)))
        .unwrap_err();
    assert!(matches!(err, StateError::Write { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&dir.display().to_string()),
        "{err}"
    );
    assert_eq!(store.stream("signin"), cursor("c:1"));
    assert_eq!(store.output_length("out"), Some(10));
    let err = store.reset(&[]).unwrap_err();
    assert!(matches!(err, StateError::Write { .. }), "{err:?}");
    assert_eq!(store.stream_keys(), vec!["signin"]);

    fs::remove_file(&dir).unwrap();
    fs::rename(&moved, &dir).unwrap();
    assert_eq!(fs::read(&path).unwrap(), before, "file must be unchanged");
    assert_eq!(dir_names(&dir), names(&["state.json", "state.json.lock"]));

    // the store still works once the directory is back
    store.commit("signin", cursor("c:3"), None).unwrap();
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(reread.stream("signin"), cursor("c:3"));
    assert_eq!(reread.output_length("out"), Some(10));
}

#[test]
fn failed_rename_removes_the_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    // a non-empty directory where the state file should go: rename over it fails
    fs::create_dir(&path).unwrap();
    fs::write(path.join("keep"), "x").unwrap();
    let err = store.commit("signin", cursor("c:1"), None).unwrap_err();
    assert!(matches!(err, StateError::Write { .. }), "{err:?}");
    assert!(store.stream_keys().is_empty());
    assert_eq!(
        dir_names(tmp.path()),
        names(&["state.json", "state.json.lock"])
    );
}

#[test]
fn stale_temp_files_are_removed_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    fs::write(tmp.path().join(".state.json.4242.0.tmp"), "{\"half").unwrap();
    fs::write(tmp.path().join(".other.json.4242.0.tmp"), "not ours").unwrap();
    let _store = StateStore::open(&path).unwrap();
    assert_eq!(
        dir_names(tmp.path()),
        names(&[".other.json.4242.0.tmp", "state.json.lock"])
    );
}

#[test]
fn open_fails_when_parent_is_a_regular_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    let err = StateStore::open(&file.join("state.json")).unwrap_err();
    assert!(matches!(err, StateError::Write { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn reset_removes_streams_but_keeps_outputs_and_unknown_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    fs::write(&path, r#"{"people_last_fetch": "2026-03-22T10:00:00Z"}"#).unwrap();
    let mut store = StateStore::open(&path).unwrap();
    for key in ["a", "b", "c"] {
        store.commit(key, cursor(key), Some(("out", 5))).unwrap();
    }
    store
        .reset(&["b".to_owned(), "missing".to_owned()])
        .unwrap();
    assert_eq!(store.stream_keys(), vec!["a", "c"]);
    store.reset(&[]).unwrap();
    assert!(store.stream_keys().is_empty());
    drop(store);

    let store = StateStore::open(&path).unwrap();
    assert!(store.stream_keys().is_empty());
    assert_eq!(store.output_length("out"), Some(5));
    assert_eq!(
        store.extra("people_last_fetch"),
        Some(&json!("2026-03-22T10:00:00Z"))
    );
}

#[test]
fn committing_an_empty_stream_removes_it_and_empty_keys_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    store.commit("a", cursor("x"), None).unwrap();
    store.commit("a", StreamState::default(), None).unwrap();
    assert!(store.stream_keys().is_empty());
    let err = store.commit("", cursor("x"), None).unwrap_err();
    assert!(matches!(err, StateError::InvalidKey { .. }), "{err:?}");
    assert!(store.stream_keys().is_empty());
}

#[test]
fn record_output_alone_is_written_and_keeps_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    store.commit("a", cursor("x"), Some(("out", 5))).unwrap();
    store.record_output("out", 9).unwrap();
    store.record_output("other", 1).unwrap();
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(reread.output_length("out"), Some(9));
    assert_eq!(reread.output_length("other"), Some(1));
    assert_eq!(reread.stream("a"), cursor("x"));
    assert_eq!(
        reread.outputs().collect::<Vec<_>>(),
        vec![("other", 1), ("out", 9)]
    );
}

#[test]
fn ephemeral_store_keeps_memory_only() {
    let mut store = StateStore::ephemeral();
    assert_eq!(store.path(), None);
    store
        .commit("signin", cursor("c:1"), Some(("out", 3)))
        .unwrap();
    assert_eq!(store.stream("signin"), cursor("c:1"));
    assert_eq!(store.output_length("out"), Some(3));
    store.reset(&[]).unwrap();
    assert!(store.stream_keys().is_empty());
    // two ephemeral stores never contend for anything
    let _other = StateStore::ephemeral();
}
