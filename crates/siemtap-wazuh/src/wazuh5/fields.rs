//! The Wazuh Common Schema field list (WCS 5.0: ECS 9.1.0 plus Wazuh extensions), from
//! `wazuh/wazuh-indexer-plugins` branch 5.0.0 `wcs/stateless/events/main/docs/fields.csv`,
//! kept as `data/wcs-fields.tsv`.

use std::collections::HashMap;
use std::sync::OnceLock;

const TSV: &str = include_str!("../../data/wcs-fields.tsv");

/// One WCS field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WcsField {
    /// Dotted name.
    pub name: &'static str,
    /// OpenSearch type (`keyword`, `long`, `ip`, `date`, `object`, ...).
    pub kind: &'static str,
    /// Whether the index makes it searchable (rules can only use indexed fields).
    pub indexed: bool,
}

fn table() -> &'static HashMap<&'static str, WcsField> {
    static T: OnceLock<HashMap<&'static str, WcsField>> = OnceLock::new();
    T.get_or_init(|| {
        TSV.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("field\t"))
            .filter_map(|l| {
                let mut c = l.split('\t');
                let (name, kind, _set, indexed) = (c.next()?, c.next()?, c.next()?, c.next()?);
                Some((
                    name,
                    WcsField {
                        name,
                        kind,
                        indexed: indexed == "true",
                    },
                ))
            })
            .collect()
    })
}

/// The WCS field `name`, if the schema has it.
pub fn field(name: &str) -> Option<&'static WcsField> {
    table().get(name)
}

/// Number of fields in the schema.
pub fn count() -> usize {
    table().len()
}

/// Types that hold strings (the string modifiers of Sigma and string maps apply).
pub fn is_stringy(kind: &str) -> bool {
    matches!(
        kind,
        "keyword" | "text" | "match_only_text" | "wildcard" | "constant_keyword"
    )
}

/// Integer and floating types.
pub fn is_numeric(kind: &str) -> bool {
    matches!(
        kind,
        "long"
            | "integer"
            | "short"
            | "byte"
            | "unsigned_long"
            | "float"
            | "double"
            | "half_float"
            | "scaled_float"
    )
}

/// Whether a JSON `value` may be stored in a field of type `kind` (the engine's map-stage
/// type validation, engine README "Map": a bad literal fails the build, a bad runtime value
/// leaves the field unmapped). Arrays are checked element by element.
pub fn value_fits(kind: &str, value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().all(|v| value_fits(kind, v)),
        Value::Null => false,
        Value::Bool(_) => kind == "boolean",
        Value::Number(n) => {
            if kind.ends_with("float") || kind == "double" {
                true
            } else if is_numeric(kind) {
                n.is_i64() || n.is_u64()
            } else {
                is_stringy(kind)
            }
        }
        Value::String(s) => match kind {
            k if is_stringy(k) => true,
            "ip" => s.parse::<std::net::IpAddr>().is_ok(),
            "date" => crate::wazuh5::normalize::parse_iso_date(s).is_some(),
            "boolean" => s == "true" || s == "false",
            k if is_numeric(k) => s.parse::<f64>().is_ok(),
            _ => false,
        },
        Value::Object(_) => matches!(kind, "object" | "flat_object" | "nested"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_loads_with_types() {
        assert!(count() > 2300, "{}", count());
        assert_eq!(field("source.ip").unwrap().kind, "ip");
        assert_eq!(field("@timestamp").unwrap().kind, "date");
        assert!(!field("event.original").unwrap().indexed);
        assert!(field("op.action").is_none());
    }

    #[test]
    fn type_compatibility() {
        use serde_json::json;
        assert!(value_fits("ip", &json!("2001:db8::1")));
        assert!(!value_fits("ip", &json!("not-an-ip")));
        assert!(value_fits("long", &json!(73)));
        assert!(!value_fits("long", &json!("high")));
        assert!(value_fits("keyword", &json!(["a", "b"])));
        assert!(!value_fits("keyword", &json!({"a": 1})));
    }
}
