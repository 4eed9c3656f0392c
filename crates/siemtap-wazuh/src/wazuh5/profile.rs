//! What a connector's 5.x decoder does, as data: the normalize blocks (checks on
//! `$_tmp_json` and maps into WCS fields), rendered into the engine's decoder document by
//! [`crate::wazuh5::decoders`] and read by the 4.x → Sigma translation
//! ([`crate::wazuh5::rules`]) to find each 4.x field's WCS home.

use serde_json::{Value, json};

/// Where a mapped value comes from (paths are relative to `$_tmp_json`).
#[derive(Clone, Debug, PartialEq)]
pub enum Src {
    /// A copy of `$_tmp_json.<path>`.
    Ref(String),
    /// `parse_date($_tmp_json.<path>, '%FT%TZ')` (ISO 8601 UTC, the format of the source's
    /// own CloudTrail example).
    Date(String),
    /// A literal.
    Const(Value),
    /// `array_append(a, b, ...)` of literal words.
    Append(Vec<String>),
    /// `concat('<prefix>', $_tmp_json.<path>)`.
    Concat(String, String),
}

/// One `{FIELD: VALUE}` map operation.
#[derive(Clone, Debug, PartialEq)]
pub struct MapOp {
    /// Target WCS field.
    pub field: String,
    /// Value.
    pub src: Src,
}

/// One condition of a block's checklist.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// `$_tmp_json.<path>` equals the JSON value.
    Eq(String, Value),
    /// `$_tmp_json.<path>` is a number ≥ N (`int_greater_or_equal(N)`).
    Gte(String, i64),
}

/// One normalize block: maps applied when every check holds.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Block {
    /// Checklist (all must hold; empty: always).
    pub check: Vec<Cond>,
    /// Map operations in order.
    pub map: Vec<MapOp>,
}

/// A connector's 5.x integration and decoder, as data.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The events' `integration` value; also the integration's title (`wazuh.integration.name`
    /// and every rule's `logsource.product`).
    pub integration: String,
    /// Integration category.
    pub category: &'static str,
    /// Human name for titles and descriptions.
    pub label: String,
    /// Namespace key of the vendor record.
    pub ns: String,
    /// Discriminator key inside the namespace.
    pub disc: String,
    /// Normalize blocks in order.
    pub blocks: Vec<Block>,
}

impl Profile {
    /// `<ns>.<disc>`, the 4.x field that names the event type.
    pub fn disc_field(&self) -> String {
        format!("{}.{}", self.ns, self.disc)
    }

    /// `event.dataset` of an event type.
    pub fn dataset(&self, event_type: &str) -> String {
        format!("{}.{event_type}", self.integration)
    }

    /// The event type a block is restricted to, if its checklist names one.
    pub fn block_type(&self, b: &Block) -> Option<String> {
        let disc = self.disc_field();
        b.check.iter().find_map(|c| match c {
            Cond::Eq(p, Value::String(v)) if *p == disc => Some(v.clone()),
            _ => None,
        })
    }

    /// The decoder's name (`decoder/<name>/0`).
    pub fn decoder_name(&self) -> String {
        format!("decoder/siemtap-{}/0", self.integration)
    }
}

/// Renders a source as the engine writes it in a map stage.
pub fn render_src(src: &Src) -> Value {
    match src {
        Src::Ref(p) => json!(format!("$_tmp_json.{p}")),
        Src::Date(p) => json!(format!("parse_date($_tmp_json.{p}, '%FT%TZ')")),
        Src::Const(v) => v.clone(),
        Src::Append(words) => json!(format!("array_append({})", words.join(", "))),
        Src::Concat(prefix, p) => json!(format!("concat('{prefix}', $_tmp_json.{p})")),
    }
}

/// Renders a block's checklist entry.
pub fn render_cond(c: &Cond) -> Value {
    match c {
        Cond::Eq(p, v) => json!({ format!("_tmp_json.{p}"): v }),
        Cond::Gte(p, n) => {
            json!({ format!("_tmp_json.{p}"): format!("int_greater_or_equal({n})") })
        }
    }
}

/// Shorthands for the profile tables.
pub mod build {
    use super::*;

    /// `field ← $_tmp_json.path`.
    pub fn r(field: &str, path: &str) -> MapOp {
        MapOp {
            field: field.into(),
            src: Src::Ref(path.into()),
        }
    }
    /// `field ← literal`.
    pub fn c(field: &str, v: impl Into<Value>) -> MapOp {
        MapOp {
            field: field.into(),
            src: Src::Const(v.into()),
        }
    }
    /// `field ← parse_date($_tmp_json.path)`.
    pub fn date(field: &str, path: &str) -> MapOp {
        MapOp {
            field: field.into(),
            src: Src::Date(path.into()),
        }
    }
    /// `field ← array_append(words)`.
    pub fn app(field: &str, words: &[&str]) -> MapOp {
        MapOp {
            field: field.into(),
            src: Src::Append(words.iter().map(|w| w.to_string()).collect()),
        }
    }
    /// A block restricted to `<ns>.<disc> == t`.
    pub fn when(ns: &str, disc: &str, t: &str, map: Vec<MapOp>) -> Block {
        Block {
            check: vec![Cond::Eq(format!("{ns}.{disc}"), Value::from(t))],
            map,
        }
    }
    /// A block under extra conditions.
    pub fn when_all(check: Vec<Cond>, map: Vec<MapOp>) -> Block {
        Block { check, map }
    }
    /// `<ns>.<disc> == t` and `path == v`.
    pub fn eq2(ns: &str, disc: &str, t: &str, path: &str, v: impl Into<Value>) -> Vec<Cond> {
        vec![
            Cond::Eq(format!("{ns}.{disc}"), Value::from(t)),
            Cond::Eq(path.into(), v.into()),
        ]
    }
}
