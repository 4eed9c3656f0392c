//! Wazuh INI rule tests per connector (wazuh.md §6.4), built from the vendor samples
//! (vendors.md §1.5, §1.6, §2.9, §3.8, §4.6) and lines the 1Password simulator emitted,
//! so every generated rule has at least one event that ends on it.

mod health;
mod onepassword;
mod others;

use serde_json::{Map, Value};

use crate::generate::{GenError, builtin};
use crate::ini::{LogLine, Section};

/// A test case before rendering.
pub(crate) struct Case {
    name: String,
    logs: Vec<(bool, String)>,
    rule: u32,
    level: u8,
    shared: bool,
}

impl Case {
    /// One event that must end on `rule`/`level`.
    pub fn one(name: &str, rule: u32, level: u8, event: String) -> Self {
        Case {
            name: name.into(),
            logs: vec![(true, event)],
            rule,
            level,
            shared: false,
        }
    }
    /// Several independent events that must each end on `rule`/`level`.
    pub fn each(name: &str, rule: u32, level: u8, events: Vec<String>) -> Self {
        Case {
            name: name.into(),
            logs: events.into_iter().map(|e| (true, e)).collect(),
            rule,
            level,
            shared: false,
        }
    }
    /// A sequence in one session: all but the last must not end on `rule`, the last must.
    pub fn sequence(name: &str, rule: u32, level: u8, events: Vec<String>) -> Self {
        let n = events.len();
        Case {
            name: name.into(),
            logs: events
                .into_iter()
                .enumerate()
                .map(|(i, e)| (i + 1 == n, e))
                .collect(),
            rule,
            level,
            shared: true,
        }
    }
    /// A sequence in one session where every event must end on `rule`.
    pub fn sequence_all(name: &str, rule: u32, level: u8, events: Vec<String>) -> Self {
        Case {
            shared: true,
            ..Case::each(name, rule, level, events)
        }
    }
}

/// Serialises like Python's `json.dumps` defaults: `", "` and `": "` separators, non-ASCII
/// as `\uXXXX` (the 1Password reference output, vendors.md §1.1).
pub fn py_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_json(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(py_json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(s) => py_str(s),
        other => other.to_string(),
    }
}

fn py_str(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Parses a JSON object literal (test data).
pub(crate) fn obj(json: &str) -> Map<String, Value> {
    match serde_json::from_str(json) {
        Ok(Value::Object(m)) => m,
        _ => panic!("test sample is not a JSON object: {json}"),
    }
}

/// Sets keys on a copy of `base`.
pub(crate) fn with(base: &Map<String, Value>, sets: &[(&str, Value)]) -> Map<String, Value> {
    let mut m = base.clone();
    for (k, v) in sets {
        m.insert((*k).to_string(), v.clone());
    }
    m
}

/// `{"integration": NAME, NS: record}` compact, with the discriminator first.
pub(crate) fn compact(
    integration: &str,
    ns: &str,
    disc: (&str, &str),
    record: &Map<String, Value>,
) -> String {
    let mut inner = Map::new();
    inner.insert(disc.0.into(), Value::from(disc.1));
    for (k, v) in record {
        if k != disc.0 {
            inner.insert(k.clone(), v.clone());
        }
    }
    let mut top = Map::new();
    top.insert("integration".into(), Value::from(integration));
    top.insert(ns.into(), Value::Object(inner));
    Value::Object(top).to_string()
}

/// The INI sections for a connector (`block`/`namespace` as for rule generation).
pub fn tests_for(
    connector: &str,
    block: Option<u32>,
    namespace: Option<&str>,
) -> Result<Vec<Section>, GenError> {
    let (cases, label) = match connector {
        "1password" => (onepassword::cases(), "1Password"),
        "proofpoint" => (others::proofpoint(), "Proofpoint"),
        "cortex_xdr" => (others::cortex_xdr(), "Cortex XDR"),
        "siemtap" => (health::cases(), "siemtap"),
        other => {
            let Some(b) = block else {
                return Err(GenError::NeedsBlock(other.to_string()));
            };
            let shape = crate::generate::Shape::named(other, namespace);
            (others::custom(&shape, b), other)
        }
    };
    Ok(sections(cases, label, offset(connector, block)))
}

/// The INI sections for a declarative connector described by its file, for the rules
/// [`crate::generate::rules_for_shape`] gives it (same block choice, same built-in case).
pub fn tests_for_shape(
    shape: &crate::generate::Shape,
    block: Option<u32>,
) -> Result<Vec<Section>, GenError> {
    // Refuses exactly what rule generation refuses.
    crate::generate::rules_for_shape(shape, block)?;
    if let Some(b) = builtin(&shape.integration) {
        return tests_for(b.name, block, None);
    }
    let b = block
        .or(shape.block.map(|(first, _)| first))
        .ok_or_else(|| GenError::NeedsBlock(shape.name.clone()))?;
    Ok(sections(others::custom(shape, b), &shape.name, 0))
}

/// The INI file for a declarative connector described by its file.
pub fn render_tests_for_shape(
    shape: &crate::generate::Shape,
    block: Option<u32>,
) -> Result<String, GenError> {
    let sections = tests_for_shape(shape, block)?;
    Ok(crate::ini::render(&header(&shape.name), &sections))
}

/// A relocated built-in block shifts the expected ids with it.
fn offset(connector: &str, block: Option<u32>) -> i64 {
    match (builtin(connector), block) {
        (Some(b), Some(start)) => i64::from(start) - i64::from(b.block),
        _ => 0,
    }
}

fn sections(cases: Vec<Case>, label: &str, offset: i64) -> Vec<Section> {
    cases
        .into_iter()
        .map(|c| Section {
            name: format!("{label} - {} - {}", (i64::from(c.rule) + offset), c.name),
            rule: (i64::from(c.rule) + offset).to_string(),
            alert: c.level.to_string(),
            decoder: "json".into(),
            shared: c.shared,
            line: 0,
            logs: c
                .logs
                .into_iter()
                .enumerate()
                .map(|(i, (pass, event))| LogLine {
                    key: format!("log {} {}", i + 1, if pass { "pass" } else { "fail" }),
                    pass,
                    event,
                    line: 0,
                })
                .collect(),
        })
        .collect()
}

/// The rendered INI file for a connector.
pub fn render_tests(
    connector: &str,
    block: Option<u32>,
    namespace: Option<&str>,
) -> Result<String, GenError> {
    let sections = tests_for(connector, block, namespace)?;
    Ok(crate::ini::render(&header(connector), &sections))
}

fn header(connector: &str) -> Vec<String> {
    vec![
        format!(
            "siemtap: Wazuh rule tests for {connector}. Generated by `siemtap wazuh tests {connector}`."
        ),
        "Run offline: siemtap wazuh test THIS.ini --rules RULES.xml".into(),
        "Sections with `session = shared` feed their logs into one session (frequency rules);"
            .into(),
        "Wazuh's runtests.py runs each log alone, so it cannot pass those sections.".into(),
    ]
}
