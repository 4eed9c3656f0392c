//! The checker rejects each kind of bad rule or decoder file, naming file and line.

use siemtap_wazuh::check::check_sources;
use siemtap_wazuh::parse::Severity;

const BASE: &str = r#"<group name="acme,">
  <rule id="100100" level="0">
    <decoded_as>json</decoded_as>
    <field name="integration" type="pcre2">^\Qacme\E$</field>
    <description>Acme events.</description>
  </rule>
"#;

/// Checks `BASE + body + </group>` and expects an error at `line` containing `needle`.
fn rejects(body: &str, line: usize, needle: &str) {
    rejects_raw(&format!("{BASE}{body}</group>\n"), line, needle);
}

fn rejects_raw(text: &str, line: usize, needle: &str) {
    let report = check_sources(&[("bad_rules.xml".into(), text.into())]);
    assert!(report.has_errors(), "accepted:\n{text}");
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    let want = format!("bad_rules.xml:{line}: ");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&want) && e.contains(needle)),
        "expected `{want}…{needle}…` in {errors:#?}"
    );
}

#[test]
fn valid_file_passes() {
    let text = format!(
        "{BASE}{}</group>\n",
        r#"  <rule id="100101" level="5">
    <if_sid>100100</if_sid>
    <field name="acme.event_type">^login$|^logon$</field>
    <field name="acme.count">^\d+$</field>
    <match>failure</match>
    <description>Acme: failed login for $(acme.user.name)</description>
    <group>authentication_failed,</group>
  </rule>
  <rule id="100102" level="10" frequency="8" timeframe="120">
    <if_matched_sid>100101</if_matched_sid>
    <same_field>acme.user.id</same_field>
    <description>Acme: repeated failed logins</description>
  </rule>
"#
    );
    let report = check_sources(&[("good.xml".into(), text)]);
    assert!(!report.has_errors(), "{:#?}", report.diagnostics);
}

#[test]
fn id_outside_custom_range() {
    rejects(
        "  <rule id=\"5000\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "outside the custom range",
    );
    rejects(
        "  <rule id=\"120001\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "outside the custom range",
    );
}

#[test]
fn id_not_a_number() {
    rejects(
        "  <rule id=\"1000000\" level=\"3\">\n    <description>x</description>\n  </rule>\n",
        7,
        "at most 6 digits",
    );
}

#[test]
fn duplicated_id() {
    rejects(
        "  <rule id=\"100100\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "duplicated",
    );
}

#[test]
fn duplicated_id_across_files() {
    let other = format!("{BASE}</group>\n");
    let report = check_sources(&[
        ("a.xml".into(), format!("{BASE}</group>\n")),
        ("bad_rules.xml".into(), other),
    ]);
    let msgs: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(msgs.iter().any(|m| m.starts_with("bad_rules.xml:2: error: rule 100100:") && m.contains("a.xml:2")), "{msgs:#?}");
}

#[test]
fn if_sid_to_missing_rule() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100199</if_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "if_sid 100199 is not defined",
    );
}

#[test]
fn if_sid_forward_reference() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100102</if_sid>\n    <description>x</description>\n  </rule>\n  <rule id=\"100102\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <description>y</description>\n  </rule>\n",
        7,
        "not defined before this rule",
    );
}

#[test]
fn empty_if_sid() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid></if_sid>\n    <description>x</description>\n  </rule>\n",
        8,
        "empty <if_sid>",
    );
}

#[test]
fn if_matched_sid_to_missing_rule() {
    rejects(
        "  <rule id=\"100101\" level=\"10\" frequency=\"3\" timeframe=\"60\">\n    <if_matched_sid>100150</if_matched_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "if_matched_sid 100150",
    );
}

#[test]
fn level_out_of_range() {
    rejects(
        "  <rule id=\"100101\" level=\"17\">\n    <if_sid>100100</if_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "between 0 and 16",
    );
    rejects(
        "  <rule id=\"100101\" level=\"-1\">\n    <if_sid>100100</if_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "between 0 and 16",
    );
}

#[test]
fn frequency_out_of_range() {
    rejects(
        "  <rule id=\"100101\" level=\"10\" frequency=\"1\" timeframe=\"60\">\n    <if_matched_sid>100100</if_matched_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "frequency",
    );
}

#[test]
fn static_field_name_in_field() {
    for name in ["srcip", "user", "id", "status", "data", "url", "action"] {
        rejects(
            &format!(
                "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <field name=\"{name}\">x</field>\n    <description>x</description>\n  </rule>\n"
            ),
            9,
            "is a static field",
        );
    }
}

fn regex_case(pattern: &str, needle: &str) {
    rejects(
        &format!(
            "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <field name=\"acme.x\">{pattern}</field>\n    <description>x</description>\n  </rule>\n"
        ),
        7,
        needle,
    );
}

#[test]
fn osregex_character_class() {
    regex_case("^[a-z]+$", "character classes");
}

#[test]
fn osregex_counted_repetition() {
    regex_case("^\\d{2,}$", "counted repetition");
}

#[test]
fn osregex_optional() {
    regex_case("^colou?r$", "optional");
}

#[test]
fn osregex_unbalanced_groups() {
    regex_case("^(\\w+$", "unbalanced group");
    regex_case("^\\w+)$", "unbalanced group");
}

#[test]
fn osregex_quantifier_after_literal() {
    regex_case("^a+$", "matched literally");
}

#[test]
fn osregex_unknown_escape() {
    regex_case("^\\bword$", "not an OS_Regex escape");
}

#[test]
fn osregex_empty_alternative() {
    regex_case("^a$|", "matches every event");
}

#[test]
fn pcre2_invalid() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <field name=\"acme.x\" type=\"pcre2\">^(a$</field>\n    <description>x</description>\n  </rule>\n",
        7,
        "invalid pcre2",
    );
}

#[test]
fn osmatch_with_regex_syntax() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <match>fail.*login</match>\n    <description>x</description>\n  </rule>\n",
        7,
        "plain string match",
    );
}

#[test]
fn unknown_regex_type() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <field name=\"acme.x\" type=\"pcre\">x</field>\n    <description>x</description>\n  </rule>\n",
        9,
        "type=\"pcre\" is unknown",
    );
}

#[test]
fn unknown_element_and_attribute() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <fields name=\"acme.x\">x</fields>\n    <description>x</description>\n  </rule>\n",
        9,
        "unknown rule element <fields>",
    );
    rejects(
        "  <rule id=\"100101\" level=\"3\" severity=\"high\">\n    <if_sid>100100</if_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "unknown <rule> attribute",
    );
}

#[test]
fn unknown_option() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <options>no_fulllog</options>\n    <description>x</description>\n  </rule>\n",
        9,
        "unknown <options> value",
    );
}

#[test]
fn if_matched_sid_without_frequency() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_matched_sid>100100</if_matched_sid>\n    <description>x</description>\n  </rule>\n",
        7,
        "without frequency",
    );
}

#[test]
fn same_field_without_frequency() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <same_field>acme.user</same_field>\n    <description>x</description>\n  </rule>\n",
        7,
        "only act on frequency rules",
    );
}

#[test]
fn user_in_description() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n    <description>login by $(user)</description>\n  </rule>\n",
        7,
        "$(user)",
    );
}

#[test]
fn missing_description() {
    rejects(
        "  <rule id=\"100101\" level=\"3\">\n    <if_sid>100100</if_sid>\n  </rule>\n",
        7,
        "no <description>",
    );
}

#[test]
fn malformed_xml_unbalanced_tags() {
    rejects_raw(
        &format!(
            "{BASE}  <rule id=\"100101\" level=\"3\">\n    <description>x</description>\n</group>\n"
        ),
        9,
        "malformed XML",
    );
    rejects_raw(BASE, 1, "never closed");
}

#[test]
fn rule_outside_group() {
    rejects_raw(
        "<rule id=\"100101\" level=\"3\">\n  <description>x</description>\n</rule>\n",
        1,
        "outside a <group",
    );
}

#[test]
fn group_without_name() {
    rejects_raw(
        "<group>\n  <rule id=\"100101\" level=\"0\">\n    <description>x</description>\n  </rule>\n</group>\n",
        1,
        "without a name",
    );
}

#[test]
fn shadowed_top_level_json_decoder() {
    rejects_raw(
        "<decoder name=\"acme\">\n  <prematch>^{\"integration\":\"acme\"</prematch>\n  <plugin_decoder>JSON_Decoder</plugin_decoder>\n</decoder>\n",
        1,
        "never runs",
    );
}

#[test]
fn decoder_osregex_problems() {
    rejects_raw(
        "<decoder name=\"acme\">\n  <program_name>acme</program_name>\n  <regex>user=([a-z]+)</regex>\n  <order>user</order>\n</decoder>\n",
        1,
        "character classes",
    );
}
