//! Rule generation per connector (wazuh.md §5.8; vendors.md §2.11, §3.9, §4.9).
//!
//! No decoder is generated: a siemtap event is one compact JSON line starting `{"`, and
//! Wazuh's stock `json` decoder (`ruleset/decoders/0006-json_decoders.xml`) is the first
//! top-level decoder whose prematch matches it. A custom top-level JSON decoder in
//! `etc/decoders` would never run (the stock one shadows it), so every rule starts from
//! `<decoded_as>json</decoded_as>` and routes on the `integration` field instead, as Wazuh's
//! own AWS, GCP, Docker and VirusTotal rules do (wazuh.md §4.1).

mod cortex_xdr;
pub mod custom;
mod onepassword;
mod proofpoint;
pub mod siemtap;

use crate::model::{FieldCond, Pattern, Rule, RuleFile};
use crate::render::pcre_exact;

/// Built-in rule sets with a fixed id block: the built-in connectors and `siemtap` (health
/// and error events of every connector).
pub const BUILTIN: &[BuiltIn] = &[
    BuiltIn {
        name: "1password",
        namespace: "op",
        block: 100700,
        group: "onepassword",
    },
    BuiltIn {
        name: "proofpoint",
        namespace: "pp",
        block: 100600,
        group: "proofpoint",
    },
    BuiltIn {
        name: "cortex_xdr",
        namespace: "xdr",
        block: 100500,
        group: "cortex_xdr",
    },
    // Not a connector: siemtap's own health and error events, installed with every connector.
    BuiltIn {
        name: "siemtap",
        namespace: "siemtap",
        block: siemtap::BLOCK,
        group: "siemtap",
    },
];

/// A built-in connector's rule block.
#[derive(Clone, Copy, Debug)]
pub struct BuiltIn {
    /// Connector name (`integration` value).
    pub name: &'static str,
    /// Namespace key of its events.
    pub namespace: &'static str,
    /// First id of its 100-id block.
    pub block: u32,
    /// Rule group name.
    pub group: &'static str,
}

/// Finds a built-in connector.
pub fn builtin(name: &str) -> Option<&'static BuiltIn> {
    BUILTIN.iter().find(|b| b.name == name)
}

/// Why rules cannot be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// Unknown connector and no block given.
    #[error(
        "connector {0:?} is not built in (built in: 1password, proofpoint, cortex_xdr, siemtap); for a \
         declarative connector pass --block START (a free 100-id block in 100000-119900)"
    )]
    NeedsBlock(String),
    /// Block outside the custom range.
    #[error("--block {0} must leave room for 100 ids inside 100000-120000 (100000..=119900)")]
    BadBlock(u32),
    /// Bad connector or namespace name.
    #[error("{0}")]
    BadName(String),
    /// The connector file cannot give rules as it is (the message names file, key and fix).
    #[error("{0}")]
    File(String),
}

pub use custom::Shape;

/// Rules of a declarative connector described by its file (`shape`), in `block` or else the
/// file's `[rules]` block. A connector whose `integration` is a built-in connector's emits
/// that connector's events, so it gets the built-in rule set (relocated only when `block` is
/// given): a second base rule on the same `integration` would never fire beside the first.
pub fn rules_for_shape(shape: &Shape, block: Option<u32>) -> Result<RuleFile, GenError> {
    let origin = shape.origin.as_deref().unwrap_or(&shape.name);
    if shape.integration == "siemtap" {
        return Err(GenError::File(format!(
            "{origin}: integration \"siemtap\" is reserved for siemtap's own health events; set \
             `integration` to the vendor's name"
        )));
    }
    if let Some(b) = BUILTIN
        .iter()
        .find(|b| b.name == shape.integration && b.name != "siemtap")
    {
        let mut file = rules_for(b.name, block, None)?;
        file.header.insert(
            0,
            format!(
                "{origin} emits integration {:?}: its events are the built-in {} connector's, so \
                 these are the built-in rules. Install them once (siemtap_{}_rules.xml).",
                shape.integration, b.name, b.name
            ),
        );
        return Ok(file);
    }
    let b = match (block, shape.block) {
        (Some(b), _) => b,
        (None, Some((first, last))) if last < first.saturating_add(99) => {
            return Err(GenError::File(format!(
                "{origin}: [rules] first = {first}, last = {last} holds {} ids; the generated rules \
                 need 100 (set last = {})",
                last.saturating_sub(first) + 1,
                first + 99
            )));
        }
        (None, Some((first, _))) => first,
        (None, None) => {
            return Err(GenError::File(format!(
                "{origin} reserves no rule block: add [rules] first = START, last = START+99 (a free \
                 100-id block in 100000-119999), or pass --block START"
            )));
        }
    };
    if !(100_000..=119_900).contains(&b) {
        return Err(GenError::BadBlock(b));
    }
    custom::rules(shape, b)
}

/// Generates the rules of one connector. `block` relocates a built-in set (its ids keep
/// their offsets inside the block) or places a declarative connector's set.
pub fn rules_for(
    connector: &str,
    block: Option<u32>,
    namespace: Option<&str>,
) -> Result<RuleFile, GenError> {
    if let Some(b) = block
        && !(100_000..=119_900).contains(&b)
    {
        return Err(GenError::BadBlock(b));
    }
    let file = match connector {
        "1password" => onepassword::rules(),
        "proofpoint" => proofpoint::rules(),
        "cortex_xdr" => cortex_xdr::rules(),
        "siemtap" => siemtap::rules(),
        other => {
            let Some(b) = block else {
                return Err(GenError::NeedsBlock(other.to_string()));
            };
            return custom::rules(&Shape::named(other, namespace), b);
        }
    };
    let Some(b) = block else { return Ok(file) };
    let default = builtin(connector).map(|c| c.block).unwrap_or(b);
    Ok(relocate(file, i64::from(b) - i64::from(default)))
}

/// Shifts every id and reference of a file by `offset`.
pub fn relocate(mut file: RuleFile, offset: i64) -> RuleFile {
    let shift = |id: u32| (i64::from(id) + offset) as u32;
    for g in &mut file.groups {
        for r in &mut g.rules {
            r.id = shift(r.id);
            r.if_sid = r.if_sid.iter().map(|&s| shift(s)).collect();
            r.if_matched_sid = r.if_matched_sid.map(shift);
        }
    }
    if offset != 0 {
        file.header.push(format!(
            "Relocated by {offset:+} ids from the default block."
        ));
    }
    file
}

/// Rule builder used by the connector tables.
pub(crate) struct R(pub Rule);

impl R {
    /// A rule with `no_full_log`.
    pub fn new(id: u32, level: u8) -> Self {
        R(Rule {
            id,
            level,
            options: vec!["no_full_log".into()],
            ..Rule::default()
        })
    }
    /// The base rule of a connector: `decoded_as json` + exact `integration`.
    pub fn base(id: u32, integration: &str, description: &str) -> Self {
        let mut r = R::new(id, 0).desc(description);
        r.0.decoded_as = Some("json".into());
        r.field("integration", pcre_exact(&[integration], false))
    }
    pub fn parent(mut self, sid: u32) -> Self {
        self.0.if_sid = vec![sid];
        self
    }
    pub fn field(mut self, name: &str, pattern: Pattern) -> Self {
        self.0.fields.push(FieldCond {
            name: name.into(),
            pattern,
        });
        self
    }
    /// Exact, case-sensitive values (siemtap-written discriminators and codes).
    pub fn eq(self, name: &str, values: &[&str]) -> Self {
        self.field(name, pcre_exact(values, false))
    }
    /// Exact, case-insensitive values (vendor values; the reference OS_Regex was
    /// case-insensitive).
    pub fn eq_ci(self, name: &str, values: &[&str]) -> Self {
        self.field(name, pcre_exact(values, true))
    }
    pub fn desc(mut self, d: &str) -> Self {
        self.0.description = d.into();
        self
    }
    pub fn groups(mut self, g: &[&str]) -> Self {
        self.0.groups = g.iter().map(|s| s.to_string()).collect();
        self
    }
    /// `frequency`/`timeframe` over `if_matched_sid` (which is also the implicit parent).
    pub fn freq(mut self, n: u32, seconds: u32, sid: u32) -> Self {
        self.0.frequency = Some(n);
        self.0.timeframe = Some(seconds);
        self.0.if_matched_sid = Some(sid);
        self
    }
    pub fn same_field(mut self, f: &str) -> Self {
        self.0.same_fields.push(f.into());
        self
    }
    pub fn mitre(mut self, id: &str) -> Self {
        self.0.mitre.push(id.into());
        self
    }
}

/// Splits a compliance set `a,b,c` into groups.
pub(crate) fn set(s: &str) -> Vec<&str> {
    s.split(',').filter(|x| !x.is_empty()).collect()
}
