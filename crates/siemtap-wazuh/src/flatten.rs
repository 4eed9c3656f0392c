//! Decoding as Wazuh's stock `json` decoder does it (wazuh.md §4.1–§4.3): which decoder
//! wins, the flattened dynamic fields, static fields and the 256-field limit.

use serde_json::{Map, Value};

/// Dynamic fields the decoder keeps (`analysisd.decoder_order_size` default).
pub const MAX_FIELDS: usize = 256;

/// Top-level keys that become static fields.
pub const STATIC_KEYS: &[&str] = &[
    "srcip",
    "dstip",
    "srcport",
    "dstport",
    "protocol",
    "action",
    "srcuser",
    "dstuser",
    "id",
    "status",
    "url",
    "data",
    "extra_data",
    "systemname",
];

/// What decoding produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decoded {
    /// Decoder name (`json`, `json-msgraph`), `None` when no decoder matched.
    pub decoder: Option<String>,
    /// Static fields by name (`system_name` for `systemname`).
    pub statics: Vec<(String, String)>,
    /// Dynamic fields in document order.
    pub fields: Vec<(String, String)>,
    /// Leaves dropped beyond the field limit.
    pub dropped: usize,
}

impl Decoded {
    /// A dynamic field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A static field (`user` reads `dstuser`, falling back to `srcuser`).
    pub fn static_field(&self, name: &str) -> Option<&str> {
        let get = |n: &str| {
            self.statics
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        match name {
            "user" => get("dstuser").or_else(|| get("srcuser")),
            "systemname" => get("system_name"),
            n => get(n),
        }
    }
}

fn prematch_json(log: &str) -> bool {
    // `^{\s*"` (OS_Regex `\s` is a space).
    let rest = log.strip_prefix('{').unwrap_or("");
    log.starts_with('{') && rest.trim_start_matches(' ').starts_with('"')
}

/// Decodes one log line as Wazuh would for a line without a syslog header.
pub fn decode(log: &str) -> Decoded {
    let mut d = Decoded::default();
    if log.contains("\"integration\":\"ms-graph\"") {
        d.decoder = Some("json-msgraph".into());
    } else if prematch_json(log) {
        d.decoder = Some("json".into());
    } else {
        return d;
    }
    // Unparsable JSON: the decoder is still json, with no fields.
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(log) else {
        return d;
    };
    let mut user_alias: Option<String> = None;
    for (k, v) in &obj {
        let scalar = !matches!(v, Value::Object(_) | Value::Array(_));
        if scalar && STATIC_KEYS.contains(&k.as_str()) {
            let name = if k == "systemname" { "system_name" } else { k };
            d.statics.push((name.to_string(), scalar_text(v)));
            continue;
        }
        if scalar && k == "user" {
            user_alias = Some(scalar_text(v));
            continue;
        }
        flatten_into(&mut d, k, v);
    }
    if let Some(u) = user_alias {
        if d.static_field("dstuser").is_none() {
            d.statics.push(("dstuser".into(), u));
        } else {
            push_field(&mut d, "user".into(), u);
        }
    }
    d
}

fn push_field(d: &mut Decoded, k: String, v: String) {
    if d.fields.len() >= MAX_FIELDS {
        d.dropped += 1;
    } else {
        d.fields.push((k, v));
    }
}

fn flatten_into(d: &mut Decoded, key: &str, v: &Value) {
    match v {
        Value::Object(m) => flatten_object(d, key, m),
        other => push_field(d, key.to_string(), value_text(other)),
    }
}

fn flatten_object(d: &mut Decoded, prefix: &str, m: &Map<String, Value>) {
    for (k, v) in m {
        flatten_into(d, &format!("{prefix}.{k}"), v);
    }
}

fn scalar_text(v: &Value) -> String {
    value_text(v)
}

/// The text a field value gets (wazuh.md §4.2).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Number(n) => number_text(n),
        Value::Array(a) => array_text(a),
        Value::Object(_) => cjson_pretty(v, 0),
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64()
        && i32::try_from(i).is_ok()
    {
        return i.to_string();
    }
    format!("{:.6}", n.as_f64().unwrap_or(0.0))
}

fn array_text(a: &[Value]) -> String {
    if a.iter().any(|v| v.is_object() || v.is_array()) {
        return cjson_pretty(&Value::Array(a.to_vec()), 0);
    }
    let items: Vec<String> = a.iter().map(cjson_scalar).collect();
    format!("[{}]", items.join(", "))
}

fn cjson_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                format!("{f}")
            }
        }
        other => other.to_string(),
    }
}

/// cJSON's formatted printing (tabs, newlines), used for arrays holding objects.
fn cjson_pretty(v: &Value, depth: usize) -> String {
    let ind = "\t".repeat(depth + 1);
    let end = "\t".repeat(depth);
    match v {
        Value::Object(m) if m.is_empty() => "{\n}".into(),
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{ind}{}:\t{}",
                        serde_json::to_string(k).unwrap_or_default(),
                        cjson_pretty(v, depth + 1)
                    )
                })
                .collect();
            format!("{{\n{}\n{end}}}", items.join(",\n"))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(|v| cjson_pretty(v, depth)).collect();
            format!("[{}]", items.join(", "))
        }
        other => cjson_scalar(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_table() {
        let d = decode(
            r#"{"acme":{"user":{"id":"u1"}},"n":42,"ts":1700000000000,"r":0.5,"ok":true,"x":null,"tags":["a","b"],"l":[{"k":"v"}]}"#,
        );
        assert_eq!(d.decoder.as_deref(), Some("json"));
        assert_eq!(d.field("acme.user.id"), Some("u1"));
        assert_eq!(d.field("n"), Some("42"));
        assert_eq!(d.field("ts"), Some("1700000000000.000000"));
        assert_eq!(d.field("r"), Some("0.500000"));
        assert_eq!(d.field("ok"), Some("true"));
        assert_eq!(d.field("x"), Some("null"));
        assert_eq!(d.field("tags"), Some(r#"["a", "b"]"#));
        assert!(d.field("l").unwrap().contains('\n'));
        assert_eq!(d.field("l.k"), None);
    }

    #[test]
    fn statics_and_user_alias() {
        let d = decode(r#"{"srcip":"1.2.3.4","user":"bob","data":{"x":"1"},"acme":{"id":"7"}}"#);
        assert_eq!(d.static_field("srcip"), Some("1.2.3.4"));
        assert_eq!(d.static_field("user"), Some("bob"));
        assert_eq!(d.field("data.x"), Some("1"));
        assert_eq!(d.field("acme.id"), Some("7"));
        assert_eq!(d.field("srcip"), None);
    }

    #[test]
    fn decoder_choice_and_limit() {
        assert_eq!(decode("plain text").decoder, None);
        assert_eq!(decode("{ \"a\":1").decoder.as_deref(), Some("json"));
        assert!(
            decode("{ \"a\":1").fields.is_empty(),
            "unparsable JSON has no fields"
        );
        let mut obj = serde_json::Map::new();
        for i in 0..300 {
            obj.insert(format!("k{i}"), Value::from(i));
        }
        let d = decode(&Value::Object(obj).to_string());
        assert_eq!(d.fields.len(), MAX_FIELDS);
        assert_eq!(d.dropped, 44);
        assert_eq!(d.fields[255].0, "k255");
    }
}
