//! The bodies of siemtap's fuzz targets, as plain functions.
//!
//! Each function takes arbitrary bytes, feeds them to one parser and panics when a property
//! every input must keep is broken (a crash, a hang or an inconsistent result). The cargo-fuzz
//! binaries in `fuzz_targets/` call these; the stable integration test
//! `crates/siemtap/tests/it/bad_input.rs` includes this file with `#[path]` and runs every
//! body over the committed seed corpus (`fuzz/corpus/<target>/seed-*`), so the targets keep
//! compiling and stay meaningful without nightly. See docs/fuzzing.md.

use std::path::Path;

use serde_json::Value;

/// A fuzz target's body.
pub type Body = fn(&[u8]);

/// Every target: `(name, body)`; the name is the cargo-fuzz target and the corpus directory.
pub const TARGETS: &[(&str, Body)] = &[
    ("secrets_file", secrets_file),
    ("connector_file", connector_file),
    ("state_file", state_file),
    ("onepassword_page", onepassword_page),
    ("proofpoint_page", proofpoint_page),
    ("xdr_page", xdr_page),
];

/// `siemtap_secrets::parse_secrets` on the bytes (as the file loader sees them: UTF-8 only,
/// so other bytes are replaced first). Every key is non-empty, trimmed, one line, free of `=`
/// and unique; every value is one line; the `Debug` form never shows a value.
pub fn secrets_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let pairs = siemtap_secrets::parse_secrets(&text);
    let mut seen = std::collections::HashSet::new();
    for (key, value) in &pairs {
        assert!(!key.is_empty(), "empty key");
        assert_eq!(key.trim(), key, "untrimmed key {key:?}");
        assert!(
            !key.contains(['\n', '\r', '=']),
            "key {key:?} spans lines or has '='"
        );
        assert!(seen.insert(key.clone()), "duplicate key {key:?}");
        // expose: the fuzz property inspects the parsed value
        let v = value.expose();
        assert!(!v.contains(['\n', '\r']), "value spans lines");
        assert!(text.contains(v), "value not taken from the input");
        let debug = format!("{value:?}");
        if v.len() >= 12 && v.chars().all(|c| c.is_ascii_alphanumeric()) {
            assert!(!debug.contains(v), "Debug shows a secret value");
        }
    }
}

/// `siemtap_connectors::rest::load_str` on the bytes as TOML text. An error names the origin,
/// a line and column inside the text (1-based) and a key; an accepted file has a name.
pub fn connector_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match siemtap_connectors::rest::load_str(text, "fuzz.toml") {
        Ok(spec) => assert!(
            !spec.name().is_empty(),
            "accepted a connector without a name"
        ),
        Err(e) => {
            let lines = text.lines().count().max(1);
            assert_eq!(e.origin, "fuzz.toml");
            assert!(
                (1..=lines + 1).contains(&e.line),
                "line {} outside 1..={} ({e})",
                e.line,
                lines + 1
            );
            assert!(e.column >= 1, "column 0 ({e})");
            // A line with no key before `=` once gave `key: ""` (found by this target); the
            // key is now the enclosing table or `<document>`.
            assert!(!e.key.is_empty(), "empty key ({e})");
            assert!(!e.message.trim().is_empty(), "empty message");
            let shown = e.to_string();
            assert!(shown.starts_with("fuzz.toml:"), "{shown}");
        }
    }
}

/// `siemtap_state::parse_state_bytes`: never a panic; a refusal names the file; an accepted
/// snapshot renders (both forms) as JSON and answers for each of its streams.
pub fn state_file(data: &[u8]) {
    let path = Path::new("/fuzz/state.json");
    match siemtap_state::parse_state_bytes(path, data) {
        Ok(snapshot) => {
            for full in [false, true] {
                let rendered = snapshot.render(full);
                serde_json::from_str::<Value>(&rendered).expect("render is JSON");
            }
            for key in snapshot.stream_keys() {
                let _ = snapshot.stream(&key);
            }
        }
        Err(e) => assert!(e.to_string().contains("/fuzz/state.json"), "{e}"),
    }
}

/// Length of `doc[key]` when the input is a JSON object whose `key` is an array.
fn array_len(data: &[u8], pointer: &str) -> Option<usize> {
    let doc: Value = serde_json::from_slice(data).ok()?;
    doc.pointer(pointer)?.as_array().map(Vec::len)
}

/// `siemtap_connectors::onepassword::parse_page`: an accepted page has a non-empty cursor and
/// accounts for every item (events + skipped non-objects = items).
pub fn onepassword_page(data: &[u8]) {
    if let Ok(page) = siemtap_connectors::onepassword::parse_page(data, "audit_event") {
        assert!(!page.cursor.is_empty(), "accepted an empty cursor");
        if let Some(n) = array_len(data, "/items") {
            assert_eq!(page.events.len() + page.skipped, n, "items lost");
        }
    }
}

/// `siemtap_connectors::proofpoint::{parse_siem, parse_people}`: no panic; People pages
/// account for every user.
pub fn proofpoint_page(data: &[u8]) {
    let _ = siemtap_connectors::proofpoint::parse_siem(Some(data));
    if let Ok(page) =
        siemtap_connectors::proofpoint::parse_people(Some(data), "vap", "totalVapUsers", 30)
    {
        assert!(page.events.len() <= page.users, "more events than users");
        if let Some(n) = array_len(data, "/users") {
            assert_eq!(page.users, n, "users miscounted");
        }
    }
}

/// `siemtap_connectors::cortex_xdr::parse_reply`: an accepted reply accounts for every record
/// (records + skipped non-objects = the array's length).
pub fn xdr_page(data: &[u8]) {
    for key in ["alerts", "incidents"] {
        if let Ok(reply) = siemtap_connectors::cortex_xdr::parse_reply(data, key)
            && let Some(n) = array_len(data, &format!("/reply/{key}"))
        {
            assert_eq!(reply.records.len() + reply.skipped, n, "records lost");
        }
    }
}
