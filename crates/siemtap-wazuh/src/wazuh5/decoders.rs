//! The integration and decoder documents of a profile (engine README "Assets", "Decoders";
//! content-manager API "Create Integration", "Create Decoder").

use serde_json::{Map, Value, json};

use super::profile::{Profile, Src, render_cond, render_src};
use super::uuid::uuid_for;

/// The parent every siemtap decoder hangs under: it has parsed `event.original` into
/// `$_tmp_json` (engine README, trace example).
pub const PARENT: &str = "decoder/integrations/0";

const AUTHOR: &str = "siemtap";
const DOCS: &str = "https://github.com/siemtap/siemtap/blob/main/docs/wazuh5.md";

/// The decoder document.
pub fn decoder(p: &Profile) -> Value {
    let name = p.decoder_name();
    let normalize: Vec<Value> = p
        .blocks
        .iter()
        .map(|b| {
            let mut o = Map::new();
            if !b.check.is_empty() {
                o.insert(
                    "check".into(),
                    Value::Array(b.check.iter().map(render_cond).collect()),
                );
            }
            let map: Vec<Value> = b
                .map
                .iter()
                .map(|m| json!({ m.field.clone(): render_src(&m.src) }))
                .collect();
            o.insert("map".into(), Value::Array(map));
            Value::Object(o)
        })
        .collect();
    json!({
        "name": name,
        "id": uuid_for(&name),
        "enabled": true,
        "metadata": {
            "title": format!("siemtap {} events", p.label),
            "description": format!(
                "Normalises siemtap's {} events (integration {:?}, vendor record under {:?}) \
                 into the Wazuh Common Schema. Vendor fields without a WCS home stay in \
                 event.original.",
                p.label, p.integration, p.ns
            ),
            "compatibility": ["siemtap JSON events (one object per event)"],
            "supports": ["Wazuh 5.x"],
            "author": AUTHOR,
            "documentation": DOCS,
            "references": [DOCS],
        },
        "parents": [PARENT],
        "check": format!("$_tmp_json.integration == '{}'", p.integration),
        "normalize": normalize,
    })
}

/// The integration document: `decoders`, `kvdbs` and `rules` list the bundle's ids.
pub fn integration(p: &Profile, decoders: &[String], rules: &[String]) -> Value {
    let name = format!("integration/siemtap-{}/0", p.integration);
    json!({
        "id": uuid_for(&name),
        "enabled": true,
        "category": p.category,
        "metadata": {
            "title": p.integration,
            "author": AUTHOR,
            "description": format!("siemtap {} events, decoded and detected.", p.label),
            "documentation": DOCS,
            "references": [DOCS],
        },
        "decoders": decoders,
        "kvdbs": [],
        "rules": rules,
    })
}

/// The field map of a profile as a Markdown table (docs/wazuh5.md embeds these).
pub fn map_table(p: &Profile) -> String {
    let mut out = format!(
        "#### {} (`integration: {}`, category `{}`)\n\n| event type | WCS field | value |\n|---|---|---|\n",
        p.label, p.integration, p.category
    );
    for b in &p.blocks {
        let when = match (p.block_type(b), b.check.len()) {
            (None, 0) => "all".to_string(),
            (Some(t), 1) => format!("`{t}`"),
            _ => b
                .check
                .iter()
                .map(|c| format!("`{}`", render_cond(c)))
                .collect::<Vec<_>>()
                .join(" and "),
        };
        for m in &b.map {
            let v = match &m.src {
                Src::Ref(p) => format!("`{p}`"),
                other => format!("`{}`", render_src(other)),
            };
            out.push_str(&format!("| {when} | `{}` | {v} |\n", m.field));
        }
    }
    out
}
