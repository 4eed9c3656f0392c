//! The on-disk JSON format: parsing a file into a [`StateSnapshot`] and back.
//!
//! The format itself is documented at the top of `lib.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::snapshot::StateSnapshot;
use crate::{Ledger, StateError};

/// The `siemtap.format` value this build writes and the newest it reads.
pub const FORMAT_VERSION: u64 = 1;

/// The top-level key holding siemtap's own metadata.
pub(crate) const META_KEY: &str = "siemtap";
const FORMAT_KEY: &str = "format";
const OUTPUTS_KEY: &str = "outputs";

const CURSOR: &str = "_cursor";
const LAST_POLL: &str = "_last_poll";
const HIGH_WATER: &str = "_high_water";
const LEDGER: &str = "_ledger";
const TUNING: &str = "_tuning";
const SUFFIXES: [&str; 5] = [CURSOR, LAST_POLL, HIGH_WATER, LEDGER, TUNING];

/// How ledgers appear in [`to_json`] output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LedgerView {
    /// Every id with its event time (the file format).
    Full,
    /// Only the number of ids and their time range (for display).
    Summary,
}

/// `ts` truncated (towards the past) to a whole second.
pub(crate) fn floor_to_second(ts: Timestamp) -> Timestamp {
    let second = ts.as_second() - i64::from(ts.subsec_nanosecond() < 0);
    Timestamp::from_second(second).unwrap_or(ts)
}

/// `%Y-%m-%dT%H:%M:%SZ` in UTC, the format the reference integrations write.
fn format_last_poll(ts: Timestamp) -> String {
    floor_to_second(ts)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Split `"<stream>_<suffix>"` into the stream key and the suffix. `None` for anything else.
fn split_key(key: &str) -> Option<(&str, &'static str)> {
    SUFFIXES.iter().find_map(|suffix| {
        key.strip_suffix(suffix)
            .filter(|stem| !stem.is_empty())
            .map(|stem| (stem, *suffix))
    })
}

/// Parse the bytes of a state file. `path` is only used in error messages.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<StateSnapshot, StateError> {
    let corrupt = |reason: String| StateError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.is_empty() {
        return Err(corrupt(
            "the file is empty (0 bytes), which siemtap never writes".to_owned(),
        ));
    }
    let top: Map<String, Value> = match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return Err(corrupt(format!(
                "the top level is {}, expected a JSON object",
                type_name(&other)
            )));
        }
        Err(e) => return Err(corrupt(format!("invalid JSON ({e})"))),
    };

    let mut snapshot = StateSnapshot::default();
    for (key, value) in top {
        if key == META_KEY {
            parse_meta(path, value, &mut snapshot)?;
            continue;
        }
        let Some((stream, suffix)) = split_key(&key) else {
            snapshot.extra.insert(key, value);
            continue;
        };
        if value.is_null() {
            continue; // a JSON null is an absent value
        }
        let entry = snapshot.streams.entry(stream.to_owned()).or_default();
        match suffix {
            CURSOR => entry.cursor = Some(value),
            TUNING => entry.tuning = Some(value),
            LAST_POLL => entry.last_poll = Some(parse_timestamp(&key, &value).map_err(corrupt)?),
            HIGH_WATER => {
                entry.high_water = Some(parse_timestamp(&key, &value).map_err(corrupt)?);
            }
            _ => entry.ledger = parse_ledger(&key, value).map_err(corrupt)?,
        }
    }
    snapshot.streams.retain(|_, s| !s.is_empty());
    Ok(snapshot)
}

fn parse_timestamp(key: &str, value: &Value) -> Result<Timestamp, String> {
    let text = value.as_str().ok_or_else(|| {
        format!(
            "key {key:?} is {}, expected a timestamp string",
            type_name(value)
        )
    })?;
    text.parse().map_err(|_| {
        format!(
            "key {key:?} is not a timestamp with a UTC offset \
             (expected e.g. 2026-11-22T09:23:30Z)"
        )
    })
}

fn parse_ledger(key: &str, value: Value) -> Result<Ledger, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "key {key:?} is {}, expected an object of id -> epoch seconds",
            type_name(&value)
        ));
    };
    map.into_iter()
        .map(|(id, t)| match t.as_i64() {
            Some(t) => Ok((id, t)),
            None => Err(format!(
                "key {key:?}: the entry for id {id:?} is {}, expected integer epoch seconds",
                type_name(&t)
            )),
        })
        .collect()
}

fn parse_meta(path: &Path, value: Value, snapshot: &mut StateSnapshot) -> Result<(), StateError> {
    let corrupt = |reason: String| StateError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let Value::Object(mut meta) = value else {
        return Err(corrupt(format!(
            "key {META_KEY:?} is {}, expected an object",
            type_name(&value)
        )));
    };
    let format = meta.remove(FORMAT_KEY);
    match format.as_ref().and_then(Value::as_u64) {
        Some(FORMAT_VERSION) => {}
        Some(found) if found > FORMAT_VERSION => {
            return Err(StateError::UnsupportedFormat {
                path: path.to_path_buf(),
                found,
                supported: FORMAT_VERSION,
            });
        }
        _ => {
            return Err(corrupt(format!(
                "key {META_KEY:?}.{FORMAT_KEY:?} is {}, expected the number {FORMAT_VERSION}",
                format.as_ref().map_or("missing", type_name)
            )));
        }
    }
    match meta.remove(OUTPUTS_KEY) {
        None | Some(Value::Null) => {}
        Some(Value::Object(outputs)) => {
            for (id, len) in outputs {
                let len = len.as_u64().ok_or_else(|| {
                    corrupt(format!(
                        "key {META_KEY:?}.{OUTPUTS_KEY:?}: the length of output {id:?} is {}, \
                         expected a non-negative integer",
                        type_name(&len)
                    ))
                })?;
                snapshot.outputs.insert(id, len);
            }
        }
        Some(other) => {
            return Err(corrupt(format!(
                "key {META_KEY:?}.{OUTPUTS_KEY:?} is {}, expected an object",
                type_name(&other)
            )));
        }
    }
    snapshot.meta_extra = meta;
    Ok(())
}

/// One top-level value of the file, serialised without building a `Value` tree for ledgers
/// (they can hold tens of thousands of entries and are written on every commit).
pub(crate) enum Entry<'a> {
    /// A value as is.
    Value(Value),
    /// A borrowed value.
    Borrowed(&'a Value),
    /// A ledger written in full as `{"<id>": <epoch s>}`.
    Ledger(&'a Ledger),
}

impl serde::Serialize for Entry<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(v) => v.serialize(serializer),
            Self::Borrowed(v) => v.serialize(serializer),
            Self::Ledger(ledger) => serializer.collect_map(ledger.iter()),
        }
    }
}

/// The snapshot as the top-level JSON object, keys sorted.
pub(crate) fn to_json(
    snapshot: &StateSnapshot,
    ledgers: LedgerView,
) -> BTreeMap<String, Entry<'_>> {
    let mut top: BTreeMap<String, Entry<'_>> = snapshot
        .extra
        .iter()
        .map(|(k, v)| (k.clone(), Entry::Borrowed(v)))
        .collect();
    for (key, stream) in &snapshot.streams {
        if let Some(cursor) = &stream.cursor {
            top.insert(format!("{key}{CURSOR}"), Entry::Borrowed(cursor));
        }
        if let Some(ts) = stream.last_poll {
            top.insert(
                format!("{key}{LAST_POLL}"),
                Entry::Value(format_last_poll(ts).into()),
            );
        }
        if let Some(ts) = stream.high_water {
            top.insert(
                format!("{key}{HIGH_WATER}"),
                Entry::Value(ts.to_string().into()),
            );
        }
        if let Some(tuning) = &stream.tuning {
            top.insert(format!("{key}{TUNING}"), Entry::Borrowed(tuning));
        }
        if !stream.ledger.is_empty() {
            let value = match ledgers {
                LedgerView::Full => Entry::Ledger(&stream.ledger),
                LedgerView::Summary => Entry::Value(ledger_summary(&stream.ledger)),
            };
            top.insert(format!("{key}{LEDGER}"), value);
        }
    }
    let mut meta = Map::new();
    meta.insert(FORMAT_KEY.to_owned(), FORMAT_VERSION.into());
    let outputs: Map<String, Value> = snapshot
        .outputs
        .iter()
        .map(|(id, len)| (id.clone(), (*len).into()))
        .collect();
    meta.insert(OUTPUTS_KEY.to_owned(), Value::Object(outputs));
    let mut extra: Vec<_> = snapshot.meta_extra.iter().collect();
    extra.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in extra {
        meta.insert(k.clone(), v.clone());
    }
    top.insert(META_KEY.to_owned(), Entry::Value(Value::Object(meta)));
    top
}

fn ledger_summary(ledger: &Ledger) -> Value {
    let mut summary = Map::new();
    summary.insert("entries".to_owned(), ledger.len().into());
    if let Some((oldest, newest)) = ledger.time_range() {
        for (name, t) in [("oldest", oldest), ("newest", newest)] {
            let value =
                Timestamp::from_second(t).map_or_else(|_| t.into(), |ts| ts.to_string().into());
            summary.insert(name.to_owned(), value);
        }
    }
    Value::Object(summary)
}

/// Serialize for writing: pretty JSON with sorted keys and a trailing newline.
pub(crate) fn to_bytes(snapshot: &StateSnapshot) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(&to_json(snapshot, LedgerView::Full))?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
