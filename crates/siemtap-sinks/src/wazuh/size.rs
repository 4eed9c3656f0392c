//! The 65,535-byte rule: analysisd reads at most 65,535 bytes per datagram and silently cuts
//! the rest, and a cut JSON event decodes to nothing (spec/wazuh.md §3.4). siemtap never lets
//! that happen: an event too big for its budget is shrunk by [`shrink_to_fit`] and marked.
//!
//! The shrink rule (docs/wazuh.md "Size rule"), repeated until the encoded event fits:
//!
//! 1. Markers are added to the namespace object (the second top-level key; the top level if
//!    there is none): `truncated: true`, `original_size` (bytes of the event as siemtap
//!    produced it), `original_sha256` (hex SHA-256 of those bytes) and `truncated_fields`
//!    (dotted paths of the cut values, at most [`MAX_LISTED_FIELDS`]). These are the names of
//!    spec/vendors.md §1.4, which is normative; spec/wazuh.md §1.3 shows `siemtap_*` names only
//!    as an example.
//! 2. The largest string or array (by encoded size, at any depth, outside `integration` and the
//!    markers) is cut: a string keeps its first bytes, an array becomes a string holding the
//!    start of its compact JSON text; both end in [`CUT_SUFFIX`]. The cut removes just enough
//!    for the event to fit, or the whole value when that is not enough.
//! 3. Only when no string or array of at least 64 encoded bytes is left, the largest nested
//!    object is cut the same way (as JSON text).
//! 4. Last resort: the namespace's last members are removed (never the markers).

use ring::digest;
use serde_json::{Map, Value};
use siemtap_core::shape::JsonStyle;
use siemtap_core::shape::json::write_value;

/// analysisd's receive size: the whole datagram `1:<location>:<event>` must fit.
pub const MAX_DATAGRAM_BYTES: usize = 65_535;

/// Appended to every cut value.
pub const CUT_SUFFIX: &str = "...[truncated]";

/// At most this many paths are listed in `truncated_fields`.
pub const MAX_LISTED_FIELDS: usize = 32;

/// Values smaller than this (encoded) are not worth cutting.
const MIN_CUT_BYTES: usize = 64;

/// Marker keys added to a shrunk event.
pub const MARKER_KEYS: [&str; 4] = [
    "truncated",
    "original_size",
    "original_sha256",
    "truncated_fields",
];

/// Encodes an event the way the Wazuh sinks send it: compact, ASCII-only, keys in order.
pub fn encode(event: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, event, JsonStyle::Compact);
    out
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    digest::digest(&digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How an event was shrunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Bytes of the original event.
    pub original_size: usize,
    /// Hex SHA-256 of the original event.
    pub original_sha256: String,
    /// Dotted paths of the values cut or removed (all of them, unlike the marker).
    pub fields: Vec<String>,
    /// Encoded size after shrinking.
    pub final_size: usize,
}

/// Shrinks `event` so that [`encode`] yields at most `max_bytes`, by the module's rule.
/// `original` is the event as siemtap produced it (hashed and measured for the markers).
/// Returns `None` when the event already fits (it is then untouched).
///
/// The result fits whenever `max_bytes` leaves room for `integration` and the markers (about
/// 300 bytes); callers keep `max_bytes` in the tens of kilobytes.
pub fn shrink_to_fit(event: &mut Value, original: &[u8], max_bytes: usize) -> Option<Truncation> {
    let size = encode(event).len();
    if size <= max_bytes {
        return None;
    }
    let mut t = Truncation {
        original_size: original.len(),
        original_sha256: sha256_hex(original),
        fields: Vec::new(),
        final_size: size,
    };
    let ns = container_key(event);
    write_markers(event, ns.as_deref(), &t);
    loop {
        let size = encode(event).len();
        t.final_size = size;
        if size <= max_bytes {
            return Some(t);
        }
        let excess = size - max_bytes;
        let cut =
            largest(event, ns.as_deref(), false).or_else(|| largest(event, ns.as_deref(), true));
        match cut {
            Some((path, _)) => {
                cut_at(event, &path, excess);
                push_field(&mut t, dotted(&path));
            }
            None => {
                let dropped = drop_last_members(event, ns.as_deref(), excess);
                if dropped.is_empty() {
                    return Some(t); // nothing left to cut: markers only
                }
                for key in dropped {
                    push_field(&mut t, key);
                }
            }
        }
        write_markers(event, ns.as_deref(), &t);
    }
}

fn push_field(t: &mut Truncation, path: String) {
    if !t.fields.contains(&path) {
        t.fields.push(path);
    }
}

/// The namespace key when the event is `{"integration":…,"<ns>":{…}}`.
fn container_key(event: &Value) -> Option<String> {
    let (k, v) = event.as_object()?.iter().nth(1)?;
    v.is_object().then(|| k.clone())
}

fn container<'a>(event: &'a mut Value, ns: Option<&str>) -> Option<&'a mut Map<String, Value>> {
    let top = event.as_object_mut()?;
    match ns {
        Some(ns) => top.get_mut(ns)?.as_object_mut(),
        None => Some(top),
    }
}

fn write_markers(event: &mut Value, ns: Option<&str>, t: &Truncation) {
    let Some(map) = container(event, ns) else {
        return;
    };
    let listed: Vec<Value> = t
        .fields
        .iter()
        .take(MAX_LISTED_FIELDS)
        .map(|f| Value::String(f.clone()))
        .collect();
    map.insert("truncated".into(), Value::Bool(true));
    // As strings: Wazuh-safe shaping would stringify large sizes anyway; keep one type.
    map.insert(
        "original_size".into(),
        Value::String(t.original_size.to_string()),
    );
    map.insert(
        "original_sha256".into(),
        Value::String(t.original_sha256.clone()),
    );
    map.insert("truncated_fields".into(), Value::Array(listed));
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn dotted(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The largest cuttable value: strings and arrays, or (`objects`) nested objects.
fn largest(event: &Value, ns: Option<&str>, objects: bool) -> Option<(Vec<Seg>, usize)> {
    let top = event.as_object()?;
    let mut best: Option<(Vec<Seg>, usize)> = None;
    for (k, v) in top {
        if k == "integration" && ns.is_some() {
            continue;
        }
        let mut path = vec![Seg::Key(k.clone())];
        let is_container = ns == Some(k.as_str());
        if is_container || ns.is_none() {
            if let Value::Object(m) = v {
                for (ck, cv) in m {
                    if MARKER_KEYS.contains(&ck.as_str()) {
                        continue;
                    }
                    let base = if ns.is_none() {
                        Vec::new()
                    } else {
                        path.clone()
                    };
                    let mut p = base;
                    p.push(Seg::Key(ck.clone()));
                    walk(cv, &mut p, objects, &mut best);
                }
                continue;
            }
            if ns.is_none() && MARKER_KEYS.contains(&k.as_str()) {
                continue;
            }
        }
        walk(v, &mut path, objects, &mut best);
    }
    best
}

fn walk(v: &Value, path: &mut Vec<Seg>, objects: bool, best: &mut Option<(Vec<Seg>, usize)>) {
    let candidate = match v {
        Value::String(_) | Value::Array(_) => !objects,
        Value::Object(_) => objects,
        _ => false,
    };
    if candidate {
        let size = encode(v).len();
        if size >= MIN_CUT_BYTES && best.as_ref().is_none_or(|(_, b)| size > *b) {
            *best = Some((path.clone(), size));
        }
    }
    match v {
        Value::Object(m) => {
            for (k, cv) in m {
                path.push(Seg::Key(k.clone()));
                walk(cv, path, objects, best);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, cv) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(cv, path, objects, best);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, seg| match seg {
        Seg::Key(k) => cur.as_object_mut()?.get_mut(k),
        Seg::Index(i) => cur.as_array_mut()?.get_mut(*i),
    })
}

/// Replaces the value at `path` by a string `excess` (plus the suffix) bytes shorter in
/// encoded form, or by the bare suffix when it is not that long.
fn cut_at(event: &mut Value, path: &[Seg], excess: usize) {
    let Some(slot) = get_mut(event, path) else {
        return;
    };
    // What the value adds to the event now, and the text it becomes (without an earlier
    // cut's suffix, so repeated cuts always shrink).
    let (current, mut text) = match &mut *slot {
        Value::String(s) => (encode(&Value::String(s.clone())).len(), std::mem::take(s)),
        other => {
            let encoded = encode(other);
            (
                encoded.len(),
                String::from_utf8_lossy(&encoded).into_owned(),
            )
        }
    };
    if let Some(stripped) = text.strip_suffix(CUT_SUFFIX) {
        text.truncate(stripped.len());
    }
    // Content budget of the new string: quotes and suffix included in what it may add.
    let budget = current.saturating_sub(excess + CUT_SUFFIX.len() + 2);
    let mut width = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        width += encoded_width(c);
        if width > budget {
            break;
        }
        end = i + c.len_utf8();
    }
    if end >= text.len() {
        // Always shrink (the suffix itself may be what is over).
        end = text.len().saturating_sub(1);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
    }
    *slot = Value::String(format!("{}{CUT_SUFFIX}", &text[..end]));
}

/// Markers, and `integration` when the markers sit at the top level, are never removed.
fn is_protected(key: &str, ns: Option<&str>) -> bool {
    MARKER_KEYS.contains(&key) || (ns.is_none() && key == "integration")
}

/// Upper bound of a char's size in the ASCII-only JSON encoding.
fn encoded_width(c: char) -> usize {
    match c {
        '"' | '\\' => 2,
        ' '..='~' => 1,
        c if c.is_ascii() => 6,
        c => 6 * c.len_utf16(),
    }
}

/// Removes members from the end of the container until their encoded size covers `excess`.
fn drop_last_members(event: &mut Value, ns: Option<&str>, excess: usize) -> Vec<String> {
    let Some(map) = container(event, ns) else {
        return Vec::new();
    };
    let mut removed = 0;
    let mut keys = Vec::new();
    while removed < excess {
        let Some(key) = map.keys().rev().find(|k| !is_protected(k, ns)).cloned() else {
            break;
        };
        if let Some(v) = map.shift_remove(&key) {
            // "key":value plus a comma.
            removed += encode(&Value::String(key.clone())).len() + 2 + encode(&v).len();
        }
        keys.push(match ns {
            Some(ns) => format!("{ns}.{key}"),
            None => key,
        });
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn big(n: usize) -> String {
        "abcdefghij".repeat(n / 10)
    }

    #[test]
    fn small_event_is_untouched() {
        let mut v = json!({"integration":"x","x":{"a":"b"}});
        let before = v.clone();
        assert!(shrink_to_fit(&mut v, b"orig", 65_000).is_none());
        assert_eq!(v, before);
    }

    #[test]
    fn a_200_kb_string_is_cut_and_marked() {
        let mut v =
            json!({"integration":"x","x":{"event_type":"alert","blob":big(200_000),"k":"v"}});
        let original = encode(&v);
        let t = shrink_to_fit(&mut v, &original, 65_000).expect("shrunk");
        let out = encode(&v);
        assert!(out.len() <= 65_000, "{}", out.len());
        assert!(out.len() > 60_000, "cut no more than needed: {}", out.len());
        assert_eq!(t.fields, vec!["x.blob"]);
        let x = &v["x"];
        assert_eq!(x["truncated"], true);
        assert_eq!(x["original_size"], original.len().to_string());
        assert_eq!(x["original_sha256"], sha256_hex(&original));
        assert_eq!(x["truncated_fields"], json!(["x.blob"]));
        assert_eq!(x["event_type"], "alert");
        assert_eq!(x["k"], "v");
        assert!(x["blob"].as_str().unwrap().ends_with(CUT_SUFFIX));
        // Order: original members first, markers last.
        let keys: Vec<_> = x.as_object().unwrap().keys().cloned().collect();
        assert_eq!(&keys[..3], ["event_type", "blob", "k"]);
    }

    #[test]
    fn arrays_become_cut_json_text_largest_first() {
        let parts: Vec<Value> = (0..3000)
            .map(|i| json!({"part": i, "text": "lorem ipsum dolor sit amet"}))
            .collect();
        let mut v = json!({"integration":"x","x":{"id":"m1","parts":parts,"note":big(30_000)}});
        let original = encode(&v);
        let t = shrink_to_fit(&mut v, &original, 65_535).unwrap();
        assert!(encode(&v).len() <= 65_535);
        assert_eq!(t.fields[0], "x.parts");
        let parts = v["x"]["parts"].as_str().expect("array cut to text");
        assert!(parts.starts_with(r#"[{"part":0,"#));
        assert_eq!(
            v["x"]["note"].as_str().unwrap().len(),
            30_000,
            "the smaller field is kept"
        );
    }

    #[test]
    fn escapes_and_multibyte_text_are_measured_encoded() {
        // Each char encodes to 6 bytes (\uXXXX); cut on a char boundary.
        let mut v = json!({"integration":"x","x":{"s":"é\"".repeat(40_000)}});
        let original = encode(&v);
        shrink_to_fit(&mut v, &original, 65_535).unwrap();
        let out = encode(&v);
        assert!(out.len() <= 65_535, "{}", out.len());
        assert!(serde_json::from_slice::<Value>(&out).is_ok());
    }

    #[test]
    fn many_small_fields_fall_back_to_objects_then_members() {
        let mut inner = Map::new();
        for i in 0..20_000 {
            inner.insert(format!("k{i}"), json!(i));
        }
        let mut v = json!({"integration":"x","x":{"event_type":"e","nested":inner.clone()}});
        let original = encode(&v);
        let t = shrink_to_fit(&mut v, &original, 65_535).unwrap();
        assert!(encode(&v).len() <= 65_535);
        assert_eq!(t.fields, vec!["x.nested"]);

        let mut flat = Value::Object(inner);
        flat["k0"] = json!("first");
        let mut v = json!({"integration":"x","x":flat});
        let original = encode(&v);
        let t = shrink_to_fit(&mut v, &original, 65_535).unwrap();
        assert!(encode(&v).len() <= 65_535);
        assert!(t.fields.iter().all(|f| f.starts_with("x.k")));
        assert_eq!(v["x"]["k0"], "first", "members go from the end");
        assert_eq!(
            v["x"]["truncated_fields"].as_array().unwrap().len(),
            MAX_LISTED_FIELDS
        );
    }

    #[test]
    fn without_a_namespace_markers_go_top_level() {
        let mut v = json!({"message": big(100_000)});
        let original = encode(&v);
        shrink_to_fit(&mut v, &original, 10_000).unwrap();
        assert!(encode(&v).len() <= 10_000);
        assert_eq!(v["truncated"], true);
    }
}
