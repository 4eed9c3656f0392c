//! Generated rules pass the checker, and the generated INI tests pass on the evaluator for
//! every connector, with every rule of the set hit at least once.

use std::collections::BTreeSet;

use siemtap_wazuh::check::check_sources;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::rules_for;
use siemtap_wazuh::ini;
use siemtap_wazuh::parse::Severity;
use siemtap_wazuh::render::render_file;
use siemtap_wazuh::testgen::render_tests;

fn roundtrip(connector: &str, block: Option<u32>, ns: Option<&str>) {
    let xml = render_file(&rules_for(connector, block, ns).unwrap());
    let name = format!("siemtap_{connector}_rules.xml");
    let report = check_sources(&[(name.clone(), xml.clone())]);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{connector}: {errors:#?}\n{xml}");
    let rules = report.rules();
    let ids: BTreeSet<u32> = rules.iter().map(|r| r.id).collect();
    let engine = Engine::new(rules);
    assert!(engine.problems.is_empty(), "{:?}", engine.problems);

    // Through the text form, as `siemtap wazuh test` reads it.
    let text = render_tests(connector, block, ns).unwrap();
    let sections = ini::parse("generated.ini", &text).unwrap();
    let results = ini::run(&engine, &sections);
    let failed: Vec<_> = results.iter().filter(|r| !r.ok).collect();
    assert!(failed.is_empty(), "{connector}: {failed:#?}");
    let hit: BTreeSet<u32> = sections.iter().map(|s| s.rule.parse().unwrap()).collect();
    let missing: Vec<_> = ids.difference(&hit).collect();
    assert!(
        missing.is_empty(),
        "{connector}: rules without a test: {missing:?}"
    );
    assert!(results.iter().any(|r| !r.description.is_empty()));
}

#[test]
fn onepassword_generated_tests_pass() {
    roundtrip("1password", None, None);
}

#[test]
fn proofpoint_generated_tests_pass() {
    roundtrip("proofpoint", None, None);
}

#[test]
fn cortex_xdr_generated_tests_pass() {
    roundtrip("cortex_xdr", None, None);
}

#[test]
fn declarative_connector_generated_tests_pass() {
    roundtrip("acme", Some(101_000), Some("acme"));
}

#[test]
fn relocated_builtin_block_still_passes() {
    roundtrip("proofpoint", Some(110_000), None);
}

#[test]
fn siemtap_health_generated_tests_pass() {
    roundtrip("siemtap", None, None);
}
