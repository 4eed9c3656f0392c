//! Offline checks of a 5.x bundle, as the 4.x checker does for XML: document shape
//! (required keys, UUIDs, categories, level and status keywords), every mapped and every
//! detected field in WCS with a compatible type, conditions that name defined selections,
//! and only operations the offline applier and evaluator know.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::condition;
use super::decoders::PARENT;
use super::fields::{self, is_numeric, is_stringy, value_fits};
use super::uuid::is_uuid_v4;

/// Integration categories (engine README "Integration categories").
pub const CATEGORIES: &[&str] = &[
    "access-management",
    "applications",
    "cloud-services",
    "network-activity",
    "security",
    "system-activity",
    "other",
];
/// Rule levels.
pub const LEVELS: &[&str] = &["informational", "low", "medium", "high", "critical"];
/// Rule statuses.
pub const STATUSES: &[&str] = &["experimental", "test", "stable"];
/// Compliance frameworks (Security Analytics `rules.md` "Compliance").
pub const FRAMEWORKS: &[&str] = &[
    "gdpr",
    "pci_dss",
    "cmmc",
    "nist_800_53",
    "nist_800_171",
    "hipaa",
    "iso_27001",
    "nis2",
    "tsc",
    "fedramp",
];

/// One problem in a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Which document (`integration`, `decoder NAME`, `rule TITLE`).
    pub document: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.document, self.message)
    }
}

struct Ctx {
    out: Vec<Problem>,
    ids: HashSet<String>,
}

impl Ctx {
    fn say(&mut self, doc: &str, msg: impl Into<String>) {
        self.out.push(Problem {
            document: doc.to_string(),
            message: msg.into(),
        });
    }
    fn id(&mut self, doc: &str, v: &Value) {
        match v.as_str() {
            Some(s) if is_uuid_v4(s) => {
                if !self.ids.insert(s.to_string()) {
                    self.say(doc, format!("id {s} is used by another document"));
                }
            }
            _ => self.say(doc, format!("`id` must be a UUIDv4 string, got {v}")),
        }
    }
    fn text(&mut self, doc: &str, v: &Value, key: &str) {
        if v.as_str().is_none_or(|s| s.trim().is_empty()) {
            self.say(doc, format!("`{key}` must be a non-empty string"));
        }
    }
}

/// Checks a bundle document.
pub fn check_bundle(b: &Value) -> Vec<Problem> {
    let mut c = Ctx {
        out: Vec::new(),
        ids: HashSet::new(),
    };
    let Some(top) = b.as_object() else {
        c.say("bundle", "must be a JSON object");
        return c.out;
    };
    let keys: Vec<&str> = top.keys().map(String::as_str).collect();
    for k in ["integration", "decoders", "rules", "kvdbs"] {
        if !keys.contains(&k) {
            c.say("bundle", format!("missing key `{k}`"));
        }
    }
    for k in &keys {
        if !["integration", "decoders", "rules", "kvdbs"].contains(k) {
            c.say("bundle", format!("unknown key `{k}`"));
        }
    }
    let integ = &b["integration"];
    let title = integ["metadata"]["title"]
        .as_str()
        .unwrap_or("")
        .to_string();
    check_integration(&mut c, integ);
    let mut dec_ids = Vec::new();
    for d in b["decoders"].as_array().into_iter().flatten() {
        check_decoder(&mut c, d);
        dec_ids.push(d["id"].clone());
    }
    let mut rule_ids = Vec::new();
    let mut titles = HashSet::new();
    for r in b["rules"].as_array().into_iter().flatten() {
        let t = r["metadata"]["title"].as_str().unwrap_or("?").to_string();
        if !titles.insert(t.clone()) {
            c.say(
                &format!("rule {t:?}"),
                "title is not unique (the draft space refuses it)",
            );
        }
        check_rule(&mut c, r, &title);
        rule_ids.push(r["id"].clone());
    }
    if integ["decoders"].as_array() != Some(&dec_ids) {
        c.say(
            "integration",
            "`decoders` must list the bundle's decoder ids in order",
        );
    }
    if integ["rules"].as_array() != Some(&rule_ids) {
        c.say(
            "integration",
            "`rules` must list the bundle's rule ids in order",
        );
    }
    if !b["kvdbs"].is_array() {
        c.say("bundle", "`kvdbs` must be a list");
    }
    c.out
}

fn check_integration(c: &mut Ctx, i: &Value) {
    let d = "integration";
    c.id(d, &i["id"]);
    c.text(d, &i["metadata"]["title"], "metadata.title");
    c.text(d, &i["metadata"]["author"], "metadata.author");
    if !i["enabled"].is_boolean() {
        c.say(d, "`enabled` must be true or false");
    }
    match i["category"].as_str() {
        Some(k) if CATEGORIES.contains(&k) => {}
        other => c.say(
            d,
            format!("category {other:?} is not one of {CATEGORIES:?}"),
        ),
    }
    if !i["kvdbs"].is_array() {
        c.say(d, "`kvdbs` must be a list (empty when none)");
    }
}

fn check_decoder(c: &mut Ctx, dv: &Value) {
    let name = dv["name"].as_str().unwrap_or("?").to_string();
    let d = format!("decoder {name}");
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() != 3 || parts[0] != "decoder" || parts[1].is_empty() || parts[2] != "0" {
        c.say(&d, "`name` must be decoder/<name>/0");
    }
    c.id(&d, &dv["id"]);
    check_decoder_metadata(c, &d, &dv["metadata"]);
    if !dv["enabled"].is_boolean() {
        c.say(&d, "`enabled` must be true or false");
    }
    if dv["parents"]
        .as_array()
        .is_none_or(|p| !p.iter().any(|x| x == PARENT))
    {
        c.say(
            &d,
            format!("`parents` must name {PARENT} (siemtap events arrive as JSON)"),
        );
    }
    match dv["check"].as_str() {
        Some(s) if s.starts_with("$_tmp_json.integration == '") => {}
        _ => c.say(
            &d,
            "`check` must be `$_tmp_json.integration == '<integration>'`",
        ),
    }
    let Some(blocks) = dv["normalize"].as_array() else {
        c.say(&d, "`normalize` must be a list of blocks");
        return;
    };
    for (k, b) in blocks.iter().enumerate() {
        let Some(b) = b.as_object() else {
            c.say(&d, format!("normalize[{k}] must be an object"));
            continue;
        };
        for key in b.keys() {
            if key != "check" && key != "map" && !key.starts_with("parse|") {
                c.say(&d, format!("normalize[{k}]: unknown stage {key:?}"));
            }
        }
        for op in b.get("map").and_then(Value::as_array).into_iter().flatten() {
            check_map(c, &d, k, op);
        }
    }
}

/// Decoder metadata keys (engine `ruleset/schemas/wazuh-decoders.json`: closed object).
const DECODER_METADATA: &[&str] = &[
    "author",
    "compatibility",
    "date",
    "description",
    "documentation",
    "modified",
    "references",
    "supports",
    "title",
];

fn check_decoder_metadata(c: &mut Ctx, d: &str, m: &Value) {
    let Some(o) = m.as_object() else {
        c.say(d, "`metadata` must be an object");
        return;
    };
    for k in ["title", "author", "description"] {
        c.text(d, &m[k], &format!("metadata.{k}"));
    }
    for k in o.keys() {
        if !DECODER_METADATA.contains(&k.as_str()) {
            c.say(
                d,
                format!(
                    "metadata.{k} is not a decoder metadata key (allowed: {DECODER_METADATA:?})"
                ),
            );
        }
    }
    for k in ["compatibility", "references", "supports"] {
        if o.contains_key(k)
            && m[k]
                .as_array()
                .is_none_or(|a| !a.iter().all(Value::is_string))
        {
            c.say(d, format!("metadata.{k} must be a list of strings"));
        }
    }
}

fn check_map(c: &mut Ctx, d: &str, k: usize, op: &Value) {
    let Some((target, v)) = op
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        c.say(
            d,
            format!("normalize[{k}].map: each entry must be one {{field: value}} pair"),
        );
        return;
    };
    if target.starts_with('_') {
        return;
    }
    let Some(f) = fields::field(target) else {
        c.say(d, format!("normalize[{k}].map: {target} is not a WCS field (not searchable; rules cannot use it): keep the vendor value in event.original or pick a WCS field"));
        return;
    };
    let s = v.as_str().unwrap_or("");
    let helper = s.split_once('(').map(|(h, _)| h).filter(|h| {
        !h.is_empty() && h.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && s.ends_with(')')
    });
    let ok = match (helper, v) {
        (Some("parse_date"), _) => f.kind == "date",
        (Some("concat"), _) => is_stringy(f.kind),
        (Some("array_append"), _) => is_stringy(f.kind),
        (Some(h), _) => {
            c.say(d, format!("normalize[{k}].map: helper {h}() is not one the offline checks know (parse_date, concat, array_append)"));
            return;
        }
        (None, Value::String(s)) if s.starts_with('$') => {
            !matches!(f.kind, "object" | "nested" | "flat_object")
        }
        (None, lit) => value_fits(f.kind, lit),
    };
    if !ok {
        c.say(
            d,
            format!("normalize[{k}].map: {target} ({}) cannot hold {v}", f.kind),
        );
    }
}

fn check_rule(c: &mut Ctx, r: &Value, product: &str) {
    let d = format!("rule {:?}", r["metadata"]["title"].as_str().unwrap_or("?"));
    c.id(&d, &r["id"]);
    c.text(&d, &r["metadata"]["title"], "metadata.title");
    if !r["enabled"].is_boolean() {
        c.say(&d, "`enabled` must be true or false");
    }
    match r["level"].as_str() {
        Some(l) if LEVELS.contains(&l) => {}
        other => c.say(&d, format!("level {other:?} is not one of {LEVELS:?}")),
    }
    match r["status"].as_str() {
        Some(s) if STATUSES.contains(&s) => {}
        other => c.say(&d, format!("status {other:?} is not one of {STATUSES:?}")),
    }
    if r["logsource"]["product"].as_str() != Some(product) {
        c.say(
            &d,
            format!("logsource.product must equal the integration's title {product:?}"),
        );
    }
    match r["detection"].as_object() {
        Some(det) => check_detection(c, &d, det),
        None => c.say(&d, "missing `detection` object"),
    }
    check_mitre(c, &d, &r["mitre"]);
    if let Some(comp) = r.get("compliance") {
        for (k, v) in comp.as_object().into_iter().flatten() {
            if !FRAMEWORKS.contains(&k.as_str()) {
                c.say(
                    &d,
                    format!("compliance framework {k:?} is not one of {FRAMEWORKS:?}"),
                );
            }
            if v.as_array()
                .is_none_or(|a| a.is_empty() || !a.iter().all(Value::is_string))
            {
                c.say(
                    &d,
                    format!("compliance.{k} must be a non-empty list of strings"),
                );
            }
        }
    }
}

fn check_mitre(c: &mut Ctx, d: &str, m: &Value) {
    if m.is_null() {
        return;
    }
    let shape = |s: &str, kind: &str| {
        let digits = |x: &str| x.len() == 4 && x.bytes().all(|b| b.is_ascii_digit());
        match kind {
            "tactic" => s.strip_prefix("TA").is_some_and(digits),
            "technique" => s.strip_prefix('T').is_some_and(digits),
            _ => s
                .strip_prefix('T')
                .and_then(|x| x.split_once('.'))
                .is_some_and(|(a, b)| {
                    digits(a) && b.len() == 3 && b.bytes().all(|x| x.is_ascii_digit())
                }),
        }
    };
    for kind in ["tactic", "technique", "subtechnique"] {
        match m[kind].as_array() {
            Some(a) => {
                for v in a {
                    if !v.as_str().is_some_and(|s| shape(s, kind)) {
                        c.say(d, format!("mitre.{kind}: {v} is not an ATT&CK {kind} id"));
                    }
                }
            }
            None => c.say(d, format!("mitre.{kind} must be a list ([] when none)")),
        }
    }
}

fn check_detection(c: &mut Ctx, d: &str, det: &Map<String, Value>) {
    let names = super::sigma::selection_names(det);
    let Some(cond) = det.get("condition").and_then(Value::as_str) else {
        c.say(d, "detection.condition must be a string");
        return;
    };
    match condition::parse(cond) {
        Err(e) => c.say(d, e.to_string()),
        Ok(expr) => {
            let (mut plain, mut pats) = (Vec::new(), Vec::new());
            condition::references(&expr, &mut plain, &mut pats);
            for n in plain.iter().filter(|n| !names.contains(n)) {
                c.say(
                    d,
                    format!("condition names {n:?}, which is not a selection"),
                );
            }
            for p in &pats {
                if !names.iter().any(|n| condition::pattern_matches(p, n)) {
                    c.say(d, format!("condition pattern {p:?} matches no selection"));
                }
            }
        }
    }
    for n in &names {
        let maps: Vec<&Map<String, Value>> = match &det[n] {
            Value::Object(m) => vec![m],
            Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
            _ => {
                c.say(d, format!("selection {n} must be a map or a list"));
                continue;
            }
        };
        for m in maps {
            for (k, v) in m {
                check_detection_field(c, d, n, k, v);
            }
        }
    }
}

fn check_detection_field(c: &mut Ctx, d: &str, sel: &str, key: &str, v: &Value) {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mods: Vec<&str> = parts.collect();
    let Some(f) = fields::field(field) else {
        c.say(
            d,
            format!("{sel}: {field} is not a WCS field (the content manager rejects the rule)"),
        );
        return;
    };
    if !f.indexed {
        c.say(
            d,
            format!("{sel}: {field} is not indexed, so no rule can match it"),
        );
    }
    let string_op = mods
        .iter()
        .any(|m| matches!(*m, "contains" | "startswith" | "endswith" | "re"));
    let numeric_op = mods
        .iter()
        .any(|m| matches!(*m, "lt" | "lte" | "gt" | "gte"));
    let vals: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        x => vec![x],
    };
    let bad = if mods.contains(&"exists") {
        !v.is_boolean()
    } else if mods.contains(&"cidr") {
        f.kind != "ip"
    } else if string_op {
        !is_stringy(f.kind) || !vals.iter().all(|x| x.is_string())
    } else if numeric_op {
        !is_numeric(f.kind) || !vals.iter().all(|x| x.is_number())
    } else {
        !vals.iter().all(|x| x.is_null() || value_fits(f.kind, x))
    };
    if bad {
        c.say(
            d,
            format!("{sel}: {key}: {v} does not fit {field} ({})", f.kind),
        );
    }
}
