//! The offline 5.x checks refuse each kind of broken document: one mutation of a good
//! bundle per row, and the problem it must produce.

use serde_json::{Value, json};
use siemtap_wazuh::wazuh5::bundle_builtin;
use siemtap_wazuh::wazuh5::check::check_bundle;

fn good() -> Value {
    bundle_builtin("cortex_xdr").unwrap().document
}

type Mutation = fn(&mut Value);

fn rows() -> Vec<(&'static str, Mutation, &'static str)> {
    vec![
        (
            "map target outside WCS",
            |b| {
                b["decoders"][0]["normalize"][0]["map"][0] =
                    json!({"xdr.severity": "$_tmp_json.xdr.severity"})
            },
            "is not a WCS field",
        ),
        (
            "string literal into a long",
            |b| b["decoders"][0]["normalize"][0]["map"][0] = json!({"event.severity": "high"}),
            "cannot hold",
        ),
        (
            "bad IP literal",
            |b| b["decoders"][0]["normalize"][0]["map"][0] = json!({"source.ip": "not-an-ip"}),
            "cannot hold",
        ),
        (
            "parse_date into a keyword",
            |b| {
                b["decoders"][0]["normalize"][0]["map"][0] =
                    json!({"event.action": "parse_date($_tmp_json.xdr.x, '%FT%TZ')"})
            },
            "cannot hold",
        ),
        (
            "reference into an object",
            |b| b["decoders"][0]["normalize"][0]["map"][0] = json!({"labels": "$_tmp_json.xdr"}),
            "cannot hold",
        ),
        (
            "unknown helper",
            |b| {
                b["decoders"][0]["normalize"][0]["map"][0] =
                    json!({"event.action": "upcase($_tmp_json.xdr.x)"})
            },
            "helper upcase()",
        ),
        (
            "unknown stage",
            |b| b["decoders"][0]["normalize"][0]["mapp"] = json!([]),
            "unknown stage",
        ),
        (
            "decoder name",
            |b| b["decoders"][0]["name"] = json!("siemtap-xdr"),
            "decoder/<name>/0",
        ),
        (
            "decoder parent",
            |b| b["decoders"][0]["parents"] = json!(["decoder/syslog/0"]),
            "parents",
        ),
        (
            "decoder check",
            |b| b["decoders"][0]["check"] = json!("$integration == 'cortex_xdr'"),
            "`check` must be",
        ),
        (
            "decoder id not a UUIDv4",
            |b| b["decoders"][0]["id"] = json!("1234"),
            "UUIDv4",
        ),
        (
            "integration category",
            |b| b["integration"]["category"] = json!("edr"),
            "category",
        ),
        (
            "integration decoders list",
            |b| b["integration"]["decoders"] = json!([]),
            "`decoders` must list",
        ),
        (
            "integration author",
            |b| b["integration"]["metadata"]["author"] = json!(""),
            "metadata.author",
        ),
        (
            "rule level keyword",
            |b| b["rules"][0]["level"] = json!("severe"),
            "level",
        ),
        (
            "rule status keyword",
            |b| b["rules"][0]["status"] = json!("production"),
            "status",
        ),
        (
            "rule id reused",
            |b| b["rules"][1]["id"] = b["rules"][0]["id"].clone(),
            "used by another document",
        ),
        (
            "rule title reused",
            |b| b["rules"][1]["metadata"]["title"] = b["rules"][0]["metadata"]["title"].clone(),
            "not unique",
        ),
        (
            "rule product",
            |b| b["rules"][0]["logsource"]["product"] = json!("xdr"),
            "logsource.product",
        ),
        (
            "condition names an undefined selection",
            |b| b["rules"][0]["detection"]["condition"] = json!("match_100500 and missing"),
            "not a selection",
        ),
        (
            "condition pattern matches nothing",
            |b| b["rules"][0]["detection"]["condition"] = json!("all of sel_*"),
            "matches no selection",
        ),
        (
            "condition syntax",
            |b| b["rules"][0]["detection"]["condition"] = json!("(match_100500"),
            "missing ')'",
        ),
        (
            "detection field outside WCS",
            |b| b["rules"][0]["detection"]["match_100500"] = json!({"xdr.severity": "high"}),
            "is not a WCS field",
        ),
        (
            "detection field not indexed",
            |b| {
                b["rules"][0]["detection"]["match_100500"] = json!({"event.original|contains": "x"})
            },
            "not indexed",
        ),
        (
            "string modifier on an ip",
            |b| b["rules"][0]["detection"]["match_100500"] = json!({"host.ip|contains": "10."}),
            "does not fit",
        ),
        (
            "word on a long",
            |b| b["rules"][0]["detection"]["match_100500"] = json!({"event.severity": "high"}),
            "does not fit",
        ),
        (
            "exists takes a boolean",
            |b| b["rules"][0]["detection"]["match_100500"] = json!({"host.name|exists": "yes"}),
            "does not fit",
        ),
        (
            "mitre tactic id",
            |b| {
                b["rules"][0]["mitre"] =
                    json!({"tactic": ["Impact"], "technique": [], "subtechnique": []})
            },
            "mitre.tactic",
        ),
        (
            "compliance framework",
            |b| b["rules"][0]["compliance"] = json!({"sox": ["1"]}),
            "compliance framework",
        ),
        ("bundle key", |b| b["extra"] = json!(1), "unknown key"),
    ]
}

#[test]
fn good_bundles_pass() {
    for c in ["1password", "proofpoint", "cortex_xdr", "siemtap"] {
        let p = check_bundle(&bundle_builtin(c).unwrap().document);
        assert!(p.is_empty(), "{c}: {p:#?}");
    }
}

#[test]
fn each_broken_document_is_refused() {
    let mut missed = Vec::new();
    for (name, mutate, want) in rows() {
        let mut b = good();
        mutate(&mut b);
        let problems = check_bundle(&b);
        if !problems.iter().any(|p| p.message.contains(want)) {
            missed.push(format!(
                "{name}: expected a problem with {want:?}, got {problems:#?}"
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}
