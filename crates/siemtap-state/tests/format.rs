//! The file format: round trip, reference import, unknown keys, corruption.

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::{Value, json};
use siemtap_state::{Ledger, StateError, StateStore, StreamState, read_state_file};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn state_file(dir: &tempfile::TempDir, content: &str) -> PathBuf {
    let path = dir.path().join("state.json");
    fs::write(&path, content).unwrap();
    path
}

fn file_json(path: &Path) -> serde_json::Map<String, Value> {
    match serde_json::from_slice(&fs::read(path).unwrap()).unwrap() {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn sample_stream() -> StreamState {
    let mut ledger = Ledger::new();
    ledger.insert("id-1".into(), 1_772_323_200);
    ledger.insert("id-2".into(), 1_772_323_201);
    StreamState {
        cursor: Some(json!("aGVsbG8=")),
        last_poll: Some(ts("2026-11-22T09:23:30.987654321Z")),
        high_water: Some(ts("2026-03-01T00:00:00.123456789Z")),
        ledger,
        tuning: Some(json!({"window_minutes": 7})),
    }
}

#[test]
fn round_trip_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    store
        .commit(
            "client-a.top_clickers",
            sample_stream(),
            Some(("/var/log/out.json", 4096)),
        )
        .unwrap();
    store
        .commit(
            "signin",
            StreamState {
                cursor: Some(json!(17)),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    let in_memory = store.stream("client-a.top_clickers");
    drop(store);

    let store = StateStore::open(&path).unwrap();
    let mut expected = sample_stream();
    expected.last_poll = Some(ts("2026-11-22T09:23:30Z")); // whole seconds on disk
    assert_eq!(store.stream("client-a.top_clickers"), expected);
    assert_eq!(in_memory, expected, "memory must equal what a reload gives");
    assert_eq!(store.stream("signin").cursor, Some(json!(17)));
    assert_eq!(store.stream_keys(), vec!["client-a.top_clickers", "signin"]);
    assert_eq!(store.output_length("/var/log/out.json"), Some(4096));
    assert_eq!(store.output_length("/other"), None);

    let raw = file_json(&path);
    assert_eq!(
        raw["client-a.top_clickers_last_poll"],
        json!("2026-11-22T09:23:30Z")
    );
    assert_eq!(
        raw["client-a.top_clickers_high_water"],
        json!("2026-03-01T00:00:00.123456789Z")
    );
    assert_eq!(raw["client-a.top_clickers_cursor"], json!("aGVsbG8="));
    assert_eq!(
        raw["client-a.top_clickers_ledger"],
        json!({"id-1": 1_772_323_200, "id-2": 1_772_323_201})
    );
    assert_eq!(
        raw["siemtap"],
        json!({"format": 1, "outputs": {"/var/log/out.json": 4096}})
    );
    let keys: Vec<&String> = raw.keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "keys must be written in sorted order");
}

#[test]
fn reference_file_loads_as_is_and_keeps_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(
        &dir,
        r#"{"signin_cursor": "c:2", "signin_last_poll": "2026-11-22T09:23:30Z",
            "client-a.audit_cursor": "c:9", "alerts_cursor": 1795339412995,
            "people_last_fetch": "2026-03-22T10:00:00.123456+00:00"}"#,
    );
    let mut store = StateStore::open(&path).unwrap();
    let signin = store.stream("signin");
    assert_eq!(signin.cursor, Some(json!("c:2")));
    assert_eq!(signin.last_poll, Some(ts("2026-11-22T09:23:30Z")));
    assert_eq!(signin.high_water, None);
    assert!(signin.ledger.is_empty());
    assert_eq!(store.stream("client-a.audit").cursor, Some(json!("c:9")));
    assert_eq!(
        store.stream("alerts").cursor,
        Some(json!(1_795_339_412_995_u64))
    );
    assert_eq!(
        store.stream_keys(),
        vec!["alerts", "client-a.audit", "signin"]
    );
    assert_eq!(
        store.extra("people_last_fetch"),
        Some(&json!("2026-03-22T10:00:00.123456+00:00"))
    );

    store
        .commit(
            "itemusage",
            StreamState {
                cursor: Some(json!("c:1")),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    let raw = file_json(&path);
    assert_eq!(raw["signin_cursor"], json!("c:2"));
    assert_eq!(raw["signin_last_poll"], json!("2026-11-22T09:23:30Z"));
    assert_eq!(raw["alerts_cursor"], json!(1_795_339_412_995_u64));
    assert_eq!(
        raw["people_last_fetch"],
        json!("2026-03-22T10:00:00.123456+00:00")
    );
    assert_eq!(raw["itemusage_cursor"], json!("c:1"));
}

#[test]
fn unknown_keys_are_preserved_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(
        &dir,
        r#"{"zz_future": {"b": [1, 2.5, null], "a": "x"}, "_cursor": "no stream name",
            "siemtap": {"format": 1, "outputs": {}, "later_field": {"y": 1, "x": 2}},
            "signin_cursor": "c:1"}"#,
    );
    let mut store = StateStore::open(&path).unwrap();
    assert_eq!(store.stream_keys(), vec!["signin"]);
    store
        .commit(
            "signin",
            StreamState {
                cursor: Some(json!("c:2")),
                ..Default::default()
            },
            Some(("out", 7)),
        )
        .unwrap();

    let raw = file_json(&path);
    // inner key order is kept as read, not re-sorted
    assert_eq!(
        serde_json::to_string(&raw["zz_future"]).unwrap(),
        r#"{"b":[1,2.5,null],"a":"x"}"#
    );
    assert_eq!(raw["_cursor"], json!("no stream name"));
    assert_eq!(raw["siemtap"]["later_field"], json!({"y": 1, "x": 2}));
    assert_eq!(raw["siemtap"]["outputs"], json!({"out": 7}));
    assert_eq!(raw["signin_cursor"], json!("c:2"));
}

#[test]
fn null_values_count_as_absent() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(
        &dir,
        r#"{"a_cursor": null, "b_cursor": "x", "b_high_water": null, "siemtap": {"format": 1, "outputs": null}}"#,
    );
    let store = StateStore::open(&path).unwrap();
    assert_eq!(store.stream_keys(), vec!["b"]);
    assert_eq!(
        store.stream("b"),
        StreamState {
            cursor: Some(json!("x")),
            ..Default::default()
        }
    );
}

/// (file content, text the reason must contain)
const CORRUPT: &[(&str, &str)] = &[
    ("", "empty"),
    ("{\"signin_cursor\": \"c:1\"", "invalid JSON"),
    ("[1, 2]", "top level is an array"),
    (
        r#"{"signin_last_poll": 1795339412}"#,
        "\"signin_last_poll\"",
    ),
    (
        r#"{"signin_last_poll": "yesterday"}"#,
        "\"signin_last_poll\"",
    ),
    (
        r#"{"x.y_high_water": "2026-03-01T00:00:00"}"#,
        "\"x.y_high_water\"",
    ),
    (r#"{"siem_ledger": ["a", "b"]}"#, "\"siem_ledger\""),
    (r#"{"siem_ledger": {"a": "1795339412"}}"#, "\"a\""),
    (r#"{"siem_ledger": {"a": 1.5}}"#, "\"siem_ledger\""),
    (r#"{"siemtap": {"outputs": {}}}"#, "\"format\""),
    (
        r#"{"siemtap": {"format": 1, "outputs": {"f": -1}}}"#,
        "\"f\"",
    ),
    (
        r#"{"siemtap": {"format": 1, "outputs": [1]}}"#,
        "\"outputs\"",
    ),
    (r#"{"siemtap": "v1"}"#, "\"siemtap\""),
];

#[test]
fn corrupt_files_are_refused_and_left_untouched() {
    for (content, needle) in CORRUPT {
        let dir = tempfile::tempdir().unwrap();
        let path = state_file(&dir, content);
        for result in [
            StateStore::open(&path).map(|_| ()),
            read_state_file(&path).map(|_| ()),
        ] {
            let err = result.expect_err(content);
            let StateError::Corrupt { path: p, reason } = &err else {
                panic!("{content:?}: expected Corrupt, got {err:?}");
            };
            assert_eq!(p, &path);
            assert!(
                reason.contains(needle),
                "{content:?}: reason {reason:?} lacks {needle:?}"
            );
            let msg = err.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            let fix = format!(
                "`siemtap state reset --state-file {}` to start over",
                path.display()
            );
            assert!(msg.contains(&fix), "{msg}");
        }
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            *content,
            "corrupt file must not be rewritten"
        );
    }
}

#[test]
fn newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_file(&dir, r#"{"siemtap": {"format": 2, "outputs": {}}}"#);
    let err = StateStore::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::UnsupportedFormat {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade siemtap"));
}

#[test]
fn read_state_file_reports_missing_and_reads_while_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    assert!(read_state_file(&path).unwrap().is_none());
    assert!(!path.exists(), "reading must not create the file");

    let mut store = StateStore::open(&path).unwrap();
    store
        .commit("signin", sample_stream(), Some(("o", 3)))
        .unwrap();
    let view = read_state_file(&path).unwrap().expect("file exists");
    assert_eq!(view.stream("signin"), store.stream("signin"));
    assert_eq!(view.output_length("o"), Some(3));
    assert_eq!(&view, store.snapshot());
}

#[test]
fn render_summarizes_ledgers_unless_full() {
    let mut store = StateStore::ephemeral();
    store.commit("siem", sample_stream(), None).unwrap();
    let summary: Value = serde_json::from_str(&store.render(false)).unwrap();
    assert_eq!(
        summary["siem_ledger"],
        json!({"entries": 2, "oldest": "2026-03-01T00:00:00Z", "newest": "2026-03-01T00:00:01Z"})
    );
    assert_eq!(summary["siem_cursor"], json!("aGVsbG8="));
    let full: Value = serde_json::from_str(&store.render(true)).unwrap();
    assert_eq!(
        full["siem_ledger"],
        json!({"id-1": 1_772_323_200, "id-2": 1_772_323_201})
    );
    assert_eq!(
        StateStore::ephemeral()
            .render(false)
            .replace(char::is_whitespace, ""),
        r#"{"siemtap":{"format":1,"outputs":{}}}"#
    );
}
