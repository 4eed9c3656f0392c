//! `StateStore::apply`: a page's changes applied in place, undone exactly when the write
//! fails, and quiet pages (nothing but a poll time) written once by `flush`.

use std::fs;

use jiff::Timestamp;
use serde_json::json;
use siemtap_state::{StateStore, StreamUpdate};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn page(cursor: &str, ids: &[(&str, i64)], newest: &str) -> StreamUpdate {
    StreamUpdate {
        cursor: Some(json!(cursor)),
        last_poll: Some(ts("2026-03-01T10:00:00Z")),
        newest: Some(ts(newest)),
        delivered: ids.iter().map(|(id, t)| ((*id).to_owned(), *t)).collect(),
        emitted: true,
        tuning: None,
        retention: Some((100, 1000)),
    }
}

#[test]
fn apply_inserts_prunes_and_moves_the_high_water_forward_only() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    // 2026-03-01T00:00:00Z = 1772323200
    store
        .apply(
            "s",
            page(
                "c1",
                &[("a", 1_772_323_050), ("b", 1_772_323_200)],
                "2026-03-01T00:00:00Z",
            ),
            None,
        )
        .unwrap();
    // "a" is 150 s older than the high-water mark. An older page time does not move the high-water mark back; the window (100 s behind
    // the high-water mark) drops "a".
    store
        .apply(
            "s",
            page("c2", &[("c", 1_772_323_150)], "2026-02-28T00:00:00Z"),
            Some(("out", 7)),
        )
        .unwrap();
    let st = siemtap_state::read_state_file(&path)
        .unwrap()
        .unwrap()
        .stream("s");
    assert_eq!(st.cursor, Some(json!("c2")));
    assert_eq!(st.high_water, Some(ts("2026-03-01T00:00:00Z")));
    let ids: Vec<&str> = st.ledger.iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["b", "c"]);
    assert_eq!(store.stream("s"), st);
    assert!(store.ledger_contains("s", "c") && !store.ledger_contains("s", "a"));
    assert_eq!(
        store.position("s").ledger.len(),
        0,
        "position carries no ledger"
    );
}

#[test]
fn a_failed_write_undoes_ids_pruning_cursor_and_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let moved = tmp.path().join("moved");
    let path = dir.join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    store
        .apply(
            "s",
            page(
                "c1",
                &[("a", 1_772_323_100), ("b", 1_772_323_200)],
                "2026-03-01T00:00:00Z",
            ),
            Some(("out", 10)),
        )
        .unwrap();
    let before = store.stream("s");
    fs::rename(&dir, &moved).unwrap();
    fs::write(&dir, "not a directory").unwrap();
    // Would add "c", move the high-water mark a day on and so prune "a" and "b".
    let failed = store.apply(
        "s",
        page("c2", &[("c", 1_772_409_600)], "2026-03-02T00:00:00Z"),
        Some(("out", 20)),
    );
    assert!(failed.is_err());
    assert_eq!(store.stream("s"), before, "memory exactly as before");
    assert_eq!(store.output_length("out"), Some(10));
    // A stream the failed write would have created is not left behind either.
    assert!(
        store
            .apply("new", page("x", &[("z", 1)], "2026-03-01T00:00:00Z"), None)
            .is_err()
    );
    assert_eq!(store.stream_keys(), ["s"]);
    fs::remove_file(&dir).unwrap();
    fs::rename(&moved, &dir).unwrap();
}

#[test]
fn a_quiet_page_is_written_by_flush_not_by_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    store
        .apply("s", page("c1", &[("a", 1)], "2026-03-01T00:00:00Z"), None)
        .unwrap();
    let written = fs::read(&path).unwrap();
    // A page that emitted nothing: same cursor, a new poll time, no id, an older event time.
    let quiet = StreamUpdate {
        cursor: Some(json!("c1")),
        last_poll: Some(ts("2026-03-01T11:00:00Z")),
        newest: Some(ts("2026-02-01T00:00:00Z")),
        delivered: Vec::new(),
        emitted: false,
        tuning: None,
        retention: Some((100, 1000)),
    };
    store.apply("s", quiet.clone(), None).unwrap();
    let first_poll_only = StreamUpdate {
        cursor: None,
        newest: None,
        ..quiet
    };
    store.apply("other", first_poll_only, None).unwrap();
    assert_eq!(
        fs::read(&path).unwrap(),
        written,
        "no write for quiet pages"
    );
    assert_eq!(
        store.stream("s").last_poll,
        Some(ts("2026-03-01T11:00:00Z"))
    );
    store.flush().unwrap();
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(
        reread.stream("s").last_poll,
        Some(ts("2026-03-01T11:00:00Z"))
    );
    assert_eq!(
        reread.stream("other").last_poll,
        Some(ts("2026-03-01T11:00:00Z"))
    );
    assert_eq!(reread.stream("s").cursor, Some(json!("c1")));
    // A page that moves the cursor is a checkpoint, even when it emitted nothing.
    let moved = StreamUpdate {
        cursor: Some(json!("c3")),
        last_poll: None,
        newest: None,
        delivered: Vec::new(),
        emitted: false,
        tuning: None,
        retention: None,
    };
    store.apply("s", moved, None).unwrap();
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(reread.stream("s").cursor, Some(json!("c3")));
    // Nothing pending: flush writes nothing.
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    store.flush().unwrap();
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

#[test]
fn tuning_is_stored_beside_the_cursor_and_removed_by_null() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    let mut update = page("c1", &[("a", 1)], "2026-03-01T00:00:00Z");
    update.tuning = Some(json!({"window_minutes": 7}));
    store.apply("siem", update, None).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"siem_tuning\": {"), "{text}");
    assert!(text.contains("\"siem_cursor\": \"c1\""), "{text}");
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(
        reread.stream("siem").tuning,
        Some(json!({"window_minutes": 7}))
    );
    assert_eq!(
        store.position("siem").tuning,
        Some(json!({"window_minutes": 7})),
        "the position a stream fetches from carries its tuning"
    );
    let mut update = page("c2", &[("b", 2)], "2026-03-01T00:00:00Z");
    update.tuning = Some(serde_json::Value::Null);
    store.apply("siem", update, None).unwrap();
    assert!(!fs::read_to_string(&path).unwrap().contains("siem_tuning"));
    assert_eq!(store.stream("siem").tuning, None);
}

#[test]
fn fan_out_page_records_every_output_with_the_cursor_or_none_of_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("st");
    fs::create_dir(&dir).unwrap();
    let path = dir.join("state.json");
    let mut store = StateStore::open(&path).unwrap();
    store
        .apply_outputs(
            "s",
            page("c1", &[("a", 1)], "2026-03-01T00:00:00Z"),
            &[("file:/a", 10), ("kafka://k/t", 3)],
        )
        .unwrap();
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(reread.output_length("file:/a"), Some(10));
    assert_eq!(reread.output_length("kafka://k/t"), Some(3));
    // A failed write leaves both outputs' positions as they were, with the cursor.
    let moved = tmp.path().join("moved");
    fs::rename(&dir, &moved).unwrap();
    fs::write(&dir, "not a directory").unwrap();
    let failed = store.apply_outputs(
        "s",
        page("c2", &[("b", 2)], "2026-03-01T00:00:00Z"),
        &[("file:/a", 20), ("kafka://k/t", 4), ("new", 1)],
    );
    assert!(failed.is_err());
    assert_eq!(store.output_length("file:/a"), Some(10));
    assert_eq!(store.output_length("kafka://k/t"), Some(3));
    assert_eq!(store.output_length("new"), None);
    assert!(
        store
            .record_outputs(&[("file:/a", 30), ("new", 1)])
            .is_err()
    );
    assert_eq!(store.output_length("file:/a"), Some(10));
    assert_eq!(store.output_length("new"), None);
    fs::remove_file(&dir).unwrap();
    fs::rename(&moved, &dir).unwrap();
    store
        .record_outputs(&[("file:/a", 30), ("new", 1)])
        .unwrap();
    let reread = siemtap_state::read_state_file(&path).unwrap().unwrap();
    assert_eq!(reread.output_length("file:/a"), Some(30));
    assert_eq!(reread.output_length("new"), Some(1));
}
