//! Wazuh-safe shaping: rewrites one event so Wazuh's stock `json` decoder reads it as meant
//! (spec/wazuh.md §4.2–§4.4). Applied by the Wazuh sinks; pure functions on a
//! [`serde_json::Value`] so any sink can use it. Key order is preserved throughout.
//!
//! The rules, in order (docs/wazuh.md "Wazuh-safe shaping"):
//!
//! 1. **Nulls are dropped**, from objects and from arrays (the decoder would turn them into
//!    the string `"null"`).
//! 2. **Floats become strings** in serde_json's shortest form (`43.64` → `"43.64"`), since the
//!    decoder prints them with `%f` (`"43.640000"`).
//! 3. **Integers of 10 or more digits become strings** (`|n| ≥ 10^9`). This covers every
//!    integer outside ±(2^31−1), which the decoder saturates and prints as `N.000000`, and
//!    epoch-like values (epoch seconds since 2001, epoch milliseconds). Wazuh prints an
//!    in-range integer exactly as its decimal string, so the change is invisible to rules and
//!    keeps a field's text stable when it crosses 2^31−1. Smaller integers stay numbers.
//! 4. **No top-level static field names**: a top-level key that Wazuh treats as a static field
//!    ([`STATIC_FIELD_NAMES`], with a non-object value) is moved to the end of the namespace
//!    object (the second top-level key); if the namespace already has that key, or there is no
//!    namespace object, it is renamed `top_<key>` instead.
//! 5. **Field count**: leaves are counted as the decoder counts them (a scalar or an array is
//!    one field; objects recurse). Over [`DECODER_FIELD_LIMIT`] the caller warns and emits a
//!    health event ([`ShapeReport::over_field_limit`]); nothing is removed, because the decoder
//!    keeps the first 256 leaves in document order and siemtap puts the discriminator and key
//!    fields first.
//!
//! Arrays of objects are left as they are (the decoder keeps them as one JSON-text field):
//! flattening them would rename fields that shipped rules match.

use serde_json::{Map, Number, Value};

/// Top-level names the decoder maps to static fields (spec/wazuh.md §4.3, §4.4).
pub const STATIC_FIELD_NAMES: &[&str] = &[
    "srcip",
    "dstip",
    "srcport",
    "dstport",
    "protocol",
    "action",
    "srcuser",
    "dstuser",
    "user",
    "id",
    "status",
    "url",
    "data",
    "extra_data",
    "systemname",
    "system_name",
    "srcgeoip",
    "dstgeoip",
];

/// The decoder's default dynamic field limit (`analysisd.decoder_order_size`).
pub const DECODER_FIELD_LIMIT: usize = 256;

/// Integers at or beyond this magnitude are sent as strings (rule 3).
pub const STRINGIFY_INT_FROM: u64 = 1_000_000_000;

/// What [`make_wazuh_safe`] changed and counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShapeReport {
    /// Dynamic fields the decoder will see (after shaping).
    pub fields: usize,
    /// Nulls removed.
    pub nulls_dropped: usize,
    /// Numbers turned into strings.
    pub numbers_stringified: usize,
    /// Top-level static names moved or renamed, as `from -> to` (`id -> op.id`).
    pub static_names_moved: Vec<String>,
}

impl ShapeReport {
    /// Whether the decoder would drop fields (more than [`DECODER_FIELD_LIMIT`]).
    pub fn over_field_limit(&self) -> bool {
        self.fields > DECODER_FIELD_LIMIT
    }
}

/// The namespace of an event: its second top-level key (`{"integration":…,"<ns>":{…}}`).
pub fn namespace_of(event: &Value) -> Option<&str> {
    event.as_object()?.keys().nth(1).map(String::as_str)
}

/// Applies the Wazuh-safe rules (module docs) to `event` in place.
pub fn make_wazuh_safe(event: &mut Value) -> ShapeReport {
    let mut report = ShapeReport::default();
    scrub(event, &mut report);
    if let Value::Object(top) = event {
        move_static_names(top, &mut report);
    }
    report.fields = count_fields(event);
    report
}

/// Counts the leaves the JSON decoder turns into fields: scalars and arrays count one,
/// objects recurse (an empty object counts nothing).
pub fn count_fields(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.values().map(count_fields).sum(),
        _ => 1,
    }
}

/// Drops nulls and stringifies numbers, recursively.
fn scrub(value: &mut Value, report: &mut ShapeReport) {
    match value {
        Value::Object(map) => {
            let before = map.len();
            map.retain(|_, v| !v.is_null());
            report.nulls_dropped += before - map.len();
            for v in map.values_mut() {
                scrub(v, report);
            }
        }
        Value::Array(items) => {
            let before = items.len();
            items.retain(|v| !v.is_null());
            report.nulls_dropped += before - items.len();
            for v in items {
                scrub(v, report);
            }
        }
        Value::Number(n) => {
            if let Some(text) = number_as_text(n) {
                *value = Value::String(text);
                report.numbers_stringified += 1;
            }
        }
        _ => {}
    }
}

/// The string form of a number that must not reach the decoder as a number.
fn number_as_text(n: &Number) -> Option<String> {
    if let Some(i) = n.as_i64() {
        (i.unsigned_abs() >= STRINGIFY_INT_FROM).then(|| i.to_string())
    } else if let Some(u) = n.as_u64() {
        (u >= STRINGIFY_INT_FROM).then(|| u.to_string())
    } else {
        Some(n.to_string())
    }
}

fn is_static(key: &str, value: &Value) -> bool {
    // `{"data":{…}}` yields dynamic `data.x`: only non-object values are static.
    !value.is_object() && STATIC_FIELD_NAMES.contains(&key)
}

/// Rule 4: moves top-level static names into the namespace (or renames them `top_<key>`).
fn move_static_names(top: &mut Map<String, Value>, report: &mut ShapeReport) {
    if !top.iter().any(|(k, v)| is_static(k, v)) {
        return;
    }
    let ns = top
        .iter()
        .nth(1)
        .filter(|(k, v)| v.is_object() && !is_static(k, v))
        .map(|(k, _)| k.clone());
    let ns_keys: Option<Vec<String>> = ns
        .as_ref()
        .and_then(|ns| top.get(ns))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect());
    let original_keys: Vec<String> = top.keys().cloned().collect();
    let old = std::mem::take(top);
    let mut moved: Vec<(String, Value)> = Vec::new();
    for (k, v) in old {
        if !is_static(&k, &v) {
            top.insert(k, v);
            continue;
        }
        let fits_ns = ns_keys
            .as_ref()
            .is_some_and(|keys| !keys.contains(&k) && !moved.iter().any(|(mk, _)| *mk == k));
        if fits_ns {
            report
                .static_names_moved
                .push(format!("{k} -> {}.{k}", ns.as_deref().unwrap_or_default()));
            moved.push((k, v));
        } else {
            let renamed = unique_key(top, &original_keys, &format!("top_{k}"));
            report.static_names_moved.push(format!("{k} -> {renamed}"));
            top.insert(renamed, v);
        }
    }
    if let Some(ns_map) = ns
        .as_ref()
        .and_then(|ns| top.get_mut(ns))
        .and_then(Value::as_object_mut)
    {
        for (k, v) in moved {
            ns_map.insert(k, v);
        }
    }
}

fn unique_key(map: &Map<String, Value>, original: &[String], base: &str) -> String {
    let mut key = base.to_string();
    while map.contains_key(&key) || original.contains(&key) {
        key.push('_');
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shaped(v: Value) -> (Value, ShapeReport) {
        let mut v = v;
        let r = make_wazuh_safe(&mut v);
        (v, r)
    }

    #[test]
    fn big_and_epoch_integers_become_strings_small_ones_stay() {
        let (v, r) = shaped(json!({"integration":"x","x":{
            "ms": 1_700_000_000_000_i64, "s": 1_700_000_000, "neg": -3_000_000_000_i64,
            "max": 2_147_483_647, "u": u64::MAX, "small": 42, "zero": 0, "minus": -7,
            "just_below": 999_999_999}}));
        assert_eq!(
            v["x"],
            json!({"ms":"1700000000000","s":"1700000000","neg":"-3000000000",
                "max":"2147483647","u":"18446744073709551615","small":42,"zero":0,"minus":-7,
                "just_below":999_999_999})
        );
        assert_eq!(r.numbers_stringified, 5);
    }

    #[test]
    fn floats_become_shortest_strings() {
        let (v, _) = shaped(
            json!({"integration":"x","x":{"lat":43.64,"lon":-79.433,"one":1.0,"tiny":1e-7}}),
        );
        assert_eq!(
            v["x"],
            json!({"lat":"43.64","lon":"-79.433","one":"1.0","tiny":"1e-7"})
        );
    }

    #[test]
    fn nulls_are_dropped_everywhere_and_counted() {
        let (v, r) = shaped(json!({"integration":"x","x":{"a":null,"b":{"c":null,"d":1},
            "arr":[null,"s",null,[null,2]],"e":""}}));
        assert_eq!(v["x"], json!({"b":{"d":1},"arr":["s",[2]],"e":""}));
        assert_eq!(r.nulls_dropped, 5);
        assert!(!v.to_string().contains("null"));
    }

    #[test]
    fn nested_arrays_are_shaped_but_not_flattened() {
        let (v, r) = shaped(json!({"integration":"x","x":{"events":[
            {"ts":1_700_000_000_123_i64,"score":0.5,"gone":null,"n":3},[[1.5]]]}}));
        assert_eq!(
            v["x"]["events"],
            json!([{"ts":"1700000000123","score":"0.5","n":3},[["1.5"]]])
        );
        // integration + one array field.
        assert_eq!(r.fields, 2);
    }

    #[test]
    fn key_order_is_preserved() {
        let line = r#"{"integration":"x","x":{"z":1,"gone":null,"a":2.5,"m":{"y":null,"b":1,"a":2},"event_type":"e"}}"#;
        let mut v: Value = serde_json::from_str(line).unwrap();
        make_wazuh_safe(&mut v);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"integration":"x","x":{"z":1,"a":"2.5","m":{"b":1,"a":2},"event_type":"e"}}"#
        );
    }

    #[test]
    fn top_level_static_names_move_into_the_namespace() {
        let (v, r) = shaped(json!({"integration":"x","x":{"id":"keep","k":1},
            "id":"dup","srcip":"1.2.3.4","data":{"obj":1},"other":true}));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"integration":"x","x":{"id":"keep","k":1,"srcip":"1.2.3.4"},"top_id":"dup","data":{"obj":1},"other":true}"#
        );
        assert_eq!(
            r.static_names_moved,
            vec!["id -> top_id", "srcip -> x.srcip"]
        );
    }

    #[test]
    fn static_names_without_a_namespace_are_renamed() {
        let (v, _) = shaped(json!({"user":"bob","status":"ok"}));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"top_user":"bob","top_status":"ok"}"#
        );
    }

    #[test]
    fn field_limit_is_reported() {
        let mut inner = Map::new();
        for i in 0..300 {
            inner.insert(format!("f{i}"), json!(i));
        }
        let (_, r) = shaped(json!({"integration":"x","x":inner}));
        assert_eq!(r.fields, 301);
        assert!(r.over_field_limit());
        let (_, small) = shaped(json!({"integration":"x","x":{"a":[1,2,3],"b":{"c":"d"}}}));
        assert_eq!(small.fields, 3);
        assert!(!small.over_field_limit());
    }

    #[test]
    fn namespace_is_the_second_key() {
        assert_eq!(
            namespace_of(&json!({"integration":"1password","op":{}})),
            Some("op")
        );
        assert_eq!(namespace_of(&json!({"integration":"x"})), None);
    }
}
