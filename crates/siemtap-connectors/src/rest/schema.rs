//! The JSON Schema of connector files, generated from the same serde types that parse them
//! (schemars), so editors and assistants validate exactly what siemtap accepts. TOML has no
//! null: the `null` alternatives schemars adds for optional keys are removed (the keys are
//! simply optional).

use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::spec::ConnectorFile;

/// The schema as a JSON value (draft 2020-12).
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<ConnectorFile>();
    schema.insert(
        "$id".into(),
        "https://siemtap.invalid/schemas/connector.json".into(),
    );
    schema.insert("title".into(), "siemtap declarative connector file".into());
    let mut v = schema.to_value();
    strip_null(&mut v);
    v
}

fn is_null_type(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.get("type") == Some(&Value::from("null")))
}

fn strip_null(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.get("default") == Some(&Value::Null) {
                o.remove("default");
            }
            if let Some(Value::Array(types)) = o.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    o.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = o.get("anyOf")
                && any.len() == 2
                && any.iter().any(is_null_type)
                && let Some(Value::Object(inner)) = any.iter().find(|a| !is_null_type(a)).cloned()
            {
                o.remove("anyOf");
                for (k, val) in inner {
                    o.entry(k).or_insert(val);
                }
            }
            o.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_null_alternatives_remain() {
        let text = json_schema().to_string();
        assert!(!text.contains("\"null\""), "{text}");
        assert!(!text.contains("\"default\":null"));
    }
}
