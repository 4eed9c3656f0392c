//! Generated rules pass the checker, and the generated INI tests pass on the evaluator for
//! every connector, with every rule of the set hit at least once.

use std::collections::BTreeSet;

use siemtap_wazuh::check::check_sources;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::{Shape, rules_for, rules_for_shape};
use siemtap_wazuh::ini;
use siemtap_wazuh::parse::Severity;
use siemtap_wazuh::render::render_file;
use siemtap_wazuh::testgen::{render_tests, render_tests_for_shape};

fn roundtrip(connector: &str, block: Option<u32>, ns: Option<&str>) {
    let xml = render_file(&rules_for(connector, block, ns).unwrap());
    let text = render_tests(connector, block, ns).unwrap();
    roundtrip_text(connector, &xml, &text);
}

fn roundtrip_text(connector: &str, xml: &str, text: &str) {
    let xml = xml.to_string();
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
    let sections = ini::parse("generated.ini", text).unwrap();
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

/// A connector described by its file: integration, namespace and discriminator key differ
/// from the file name, with declared event types and streams.
fn okta_like() -> Shape {
    Shape {
        name: "okta_system_log".into(),
        integration: "okta".into(),
        namespace: "okta".into(),
        event_type_key: "kind".into(),
        event_types: vec!["system_log".into(), "audit".into()],
        streams: vec!["system_log".into(), "audit_stream".into()],
        origin: Some("connectors/okta_system_log.toml".into()),
        block: Some((100_900, 100_999)),
    }
}

#[test]
fn declarative_connector_from_its_file_generated_tests_pass() {
    let shape = okta_like();
    let xml = render_file(&rules_for_shape(&shape, None).unwrap());
    assert!(xml.contains("<rule id=\"100900\""), "the file's block");
    assert!(
        xml.contains("^\\Qokta\\E$"),
        "the file's integration, not the file name:\n{xml}"
    );
    let text = render_tests_for_shape(&shape, None).unwrap();
    roundtrip_text("okta_system_log", &xml, &text);
    // --block overrides the file's block.
    let moved = render_file(&rules_for_shape(&shape, Some(101_500)).unwrap());
    assert!(moved.contains("<rule id=\"101594\""));
}

#[test]
fn declarative_connector_with_a_builtin_integration_gets_the_builtin_rules() {
    let shape = Shape {
        integration: "1password".into(),
        namespace: "op".into(),
        block: None,
        ..okta_like()
    };
    let file = rules_for_shape(&shape, None).unwrap();
    assert_eq!(
        file.groups,
        rules_for("1password", None, None).unwrap().groups,
        "the same rules, not a second base rule on integration 1password"
    );
    let siemtap = Shape {
        integration: "siemtap".into(),
        ..okta_like()
    };
    assert!(rules_for_shape(&siemtap, None).is_err());
    let small = Shape {
        block: Some((100_900, 100_949)),
        ..okta_like()
    };
    let e = rules_for_shape(&small, None).unwrap_err().to_string();
    assert!(e.contains("last = 100999"), "{e}");
}
