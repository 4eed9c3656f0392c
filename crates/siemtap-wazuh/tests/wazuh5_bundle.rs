//! 5.x bundles of every built-in connector pass the offline checks, and every sample event
//! of the 4.x tests, normalised by the bundle's decoder and run through its Sigma rules,
//! produces exactly the finding of the 4.x rule the 4.x evaluator ends it on.

use std::collections::BTreeSet;

use serde_json::Value;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::{Shape, rules_for, rules_for_shape};
use siemtap_wazuh::testgen::{tests_for, tests_for_shape};
use siemtap_wazuh::wazuh5::check::check_bundle;
use siemtap_wazuh::wazuh5::normalize::normalize;
use siemtap_wazuh::wazuh5::sigma::rule_matches;
use siemtap_wazuh::wazuh5::{Bundle, bundle_builtin, bundle_for_shape};

fn events_of(sections: &[siemtap_wazuh::ini::Section]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in sections {
        for l in &s.logs {
            if !out.contains(&l.event) {
                out.push(l.event.clone());
            }
        }
    }
    out
}

/// For each event: the 4.x rule it ends on (a fresh session: no correlation), and the 5.x
/// findings; they must agree, and every migrated rule must be found at least once.
fn findings_agree(b: &Bundle, engine: &Engine, events: &[String]) {
    let problems = check_bundle(&b.document);
    assert!(problems.is_empty(), "{problems:#?}");
    let rules = b.document["rules"].as_array().unwrap();
    let mut hit = BTreeSet::new();
    for line in events {
        let fired = engine.session().process(line, "siemtap", 0).rule;
        let expected: Vec<u32> = fired
            .filter(|f| f.level > 0)
            .map(|f| f.id)
            .filter(|id| b.migrated.from.contains(id))
            .into_iter()
            .collect();
        let ev = normalize(&b.document, line, "siemtap")
            .unwrap()
            .unwrap_or_else(|| panic!("no decoder took {line}"));
        let mut got = Vec::new();
        for (k, r) in rules.iter().enumerate() {
            if rule_matches(r, &ev).unwrap() {
                got.push(b.migrated.from[k]);
            }
        }
        assert_eq!(got, expected, "{line}\n{ev:#}");
        hit.extend(got);
    }
    let all: BTreeSet<u32> = b.migrated.from.iter().copied().collect();
    let missing: Vec<_> = all.difference(&hit).collect();
    assert!(
        missing.is_empty(),
        "migrated rules no sample event finds: {missing:?}"
    );
}

fn builtin(name: &str) {
    let b = bundle_builtin(name).unwrap();
    let engine = Engine::new(rules_for(name, None, None).unwrap().rules());
    let events = events_of(&tests_for(name, None, None).unwrap());
    assert!(events.len() > 5);
    findings_agree(&b, &engine, &events);
}

#[test]
fn onepassword_sample_events_produce_the_migrated_findings() {
    builtin("1password");
}

#[test]
fn proofpoint_sample_events_produce_the_migrated_findings() {
    builtin("proofpoint");
}

#[test]
fn cortex_xdr_sample_events_produce_the_migrated_findings() {
    builtin("cortex_xdr");
}

#[test]
fn siemtap_health_events_produce_the_migrated_findings() {
    builtin("siemtap");
}

#[test]
fn declarative_connector_events_produce_the_migrated_findings() {
    let shape = Shape {
        name: "okta_system_log".into(),
        integration: "okta".into(),
        namespace: "okta".into(),
        event_type_key: "event_type".into(),
        event_types: vec!["system_log".into(), "user".into()],
        streams: vec!["logs".into(), "users".into()],
        origin: Some("connectors/okta_system_log.toml".into()),
        block: Some((101_200, 101_299)),
    };
    let b = bundle_for_shape(&shape, None).unwrap();
    assert_eq!(b.document["integration"]["metadata"]["title"], "okta");
    let engine = Engine::new(rules_for_shape(&shape, None).unwrap().rules());
    let events = events_of(&tests_for_shape(&shape, None).unwrap());
    findings_agree(&b, &engine, &events);
}

#[test]
fn bundle_is_stable_run_to_run() {
    let a = bundle_builtin("cortex_xdr").unwrap().document;
    let b = bundle_builtin("cortex_xdr").unwrap().document;
    assert_eq!(a, b);
    let ids: BTreeSet<&str> = a["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), a["rules"].as_array().unwrap().len());
    assert!(a["decoders"][0]["normalize"].is_array());
    assert_eq!(a["kvdbs"], Value::Array(vec![]));
}

/// docs/wazuh5.md carries each built-in bundle's generated section verbatim.
#[test]
fn docs_show_the_field_maps_and_unmigrated_rules_as_generated() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/wazuh5.md"))
            .unwrap();
    for c in ["1password", "proofpoint", "cortex_xdr", "siemtap"] {
        let s = siemtap_wazuh::wazuh5::docs::section(&bundle_builtin(c).unwrap());
        assert!(
            page.contains(&s),
            "docs/wazuh5.md is out of date for {c}; paste:\n{s}"
        );
    }
}
