//! Evaluator semantics on hand-written rules: tree order, if_group, negate, statics,
//! descriptions, duplicates, decoders.

use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::parse::parse_file;

fn engine(body: &str) -> Engine {
    let text = format!("<group name=\"acme,\">\n{body}</group>\n");
    let parsed = parse_file("t.xml", &text);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    Engine::new(parsed.rules)
}

const BASE: &str = r#"<rule id="100100" level="0"><decoded_as>json</decoded_as><field name="integration">^acme$</field><description>base</description></rule>
"#;

fn hit(e: &Engine, log: &str) -> Option<(u32, u8, String)> {
    e.session()
        .process(log, "stdin", 0)
        .rule
        .map(|f| (f.id, f.level, f.description))
}

#[test]
fn higher_level_sibling_is_tried_first_ties_in_load_order() {
    let e = engine(&format!(
        "{BASE}<rule id=\"100101\" level=\"3\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><description>low</description></rule>
<rule id=\"100102\" level=\"9\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><description>high</description></rule>
<rule id=\"100103\" level=\"3\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><description>low2</description></rule>
"
    ));
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"a":"x"}}"#)
            .unwrap()
            .0,
        100102
    );
    let e = engine(&format!(
        "{BASE}<rule id=\"100101\" level=\"3\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><description>a</description></rule>
<rule id=\"100103\" level=\"3\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><description>b</description></rule>
"
    ));
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"a":"x"}}"#)
            .unwrap()
            .0,
        100101
    );
    // Nothing more specific: the base rule, level 0.
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"a":"y"}}"#)
            .unwrap()
            .0,
        100100
    );
    assert_eq!(hit(&e, r#"{"integration":"other"}"#), None);
    assert_eq!(e.session().process("not json", "stdin", 0).decoder, None);
}

#[test]
fn if_group_negate_and_statics() {
    let e = engine(&format!(
        "{BASE}<rule id=\"100101\" level=\"3\"><if_sid>100100</if_sid><field name=\"acme.kind\">^auth$</field><description>auth</description><group>acme_auth,</group></rule>
<rule id=\"100102\" level=\"7\"><if_group>acme_auth</if_group><field name=\"acme.ok\" negate=\"yes\">^true$</field><description>auth failed</description></rule>
<rule id=\"100103\" level=\"8\"><if_sid>100100</if_sid><srcip>10.0.0.1</srcip><description>from $(srcip)</description></rule>
"
    ));
    assert_eq!(
        hit(
            &e,
            r#"{"integration":"acme","acme":{"kind":"auth","ok":true}}"#
        )
        .unwrap()
        .0,
        100101
    );
    assert_eq!(
        hit(
            &e,
            r#"{"integration":"acme","acme":{"kind":"auth","ok":false}}"#
        )
        .unwrap()
        .0,
        100102
    );
    // A missing field never matches, negated or not.
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"kind":"auth"}}"#)
            .unwrap()
            .0,
        100101
    );
    let h = hit(&e, r#"{"integration":"acme","srcip":"10.0.0.1","acme":{}}"#).unwrap();
    assert_eq!((h.0, h.2.as_str()), (100103, "from 10.0.0.1"));
}

#[test]
fn descriptions_expand_fields_unknown_empty_long_raw() {
    let e = engine(&format!(
        "{BASE}<rule id=\"100101\" level=\"3\"><if_sid>100100</if_sid><description>u=$(acme.user.name) x=$(acme.nope) n=$(acme.n)</description></rule>
"
    ));
    let h = hit(
        &e,
        r#"{"integration":"acme","acme":{"user":{"name":"bob"},"n":7}}"#,
    )
    .unwrap();
    assert_eq!(h.2, "u=bob x= n=7");
    let long = "y".repeat(1100);
    let h = hit(
        &e,
        &format!(r#"{{"integration":"acme","acme":{{"user":{{"name":"{long}"}}}}}}"#),
    )
    .unwrap();
    assert_eq!(
        h.2, "u=$(acme.user.name) x=$(acme.nope) n=$(acme.n)",
        "over 1024 bytes: raw text"
    );
}

#[test]
fn duplicate_and_missing_parent_are_reported() {
    let e = engine(&format!(
        "{BASE}<rule id=\"100100\" level=\"5\"><description>dup</description></rule>
<rule id=\"100101\" level=\"5\"><if_sid>100999</if_sid><description>orphan</description></rule>
"
    ));
    assert!(
        e.problems.iter().any(|p| p.contains("7612")),
        "{:?}",
        e.problems
    );
    assert!(
        e.problems.iter().any(|p| p.contains("7617")),
        "{:?}",
        e.problems
    );
    assert_eq!(
        e.rule(100100).unwrap().level,
        0,
        "the first occurrence is kept"
    );
}

#[test]
fn osregex_fields_are_case_insensitive_pcre2_is_not() {
    let e = engine(&format!(
        "{BASE}<rule id=\"100101\" level=\"3\"><if_sid>100100</if_sid><field name=\"acme.a\">^ERROR$</field><description>os</description></rule>
<rule id=\"100102\" level=\"4\"><if_sid>100100</if_sid><field name=\"acme.b\" type=\"pcre2\">^\\QERROR\\E$</field><description>pcre</description></rule>
"
    ));
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"a":"error"}}"#)
            .unwrap()
            .0,
        100101
    );
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"b":"error"}}"#)
            .unwrap()
            .0,
        100100
    );
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"b":"ERROR"}}"#)
            .unwrap()
            .0,
        100102
    );
}

/// analysisd ranks a level-0 rule as 99 when it sorts siblings (`rules.c`: "If rule is 0,
/// set it to level 99 to have high priority", then `_OS_AddRule` inserts by that rank), so a
/// level-0 suppression rule is tried before its higher-level siblings, whatever the load order.
#[test]
fn level_zero_sibling_is_tried_first() {
    let e = engine(&format!(
        "{BASE}<rule id=\"100101\" level=\"10\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><description>alert</description></rule>
<rule id=\"100102\" level=\"0\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><field name=\"acme.user\">svc</field><description>suppressed</description></rule>
<rule id=\"100103\" level=\"12\"><if_sid>100100</if_sid><field name=\"acme.a\">x</field><field name=\"acme.user\">svc</field><description>loud</description></rule>
"
    ));
    assert_eq!(
        hit(
            &e,
            r#"{"integration":"acme","acme":{"a":"x","user":"svc"}}"#
        ),
        Some((100102, 0, "suppressed".into())),
        "the level-0 sibling wins over the level 10 and 12 ones"
    );
    // Without the suppressed user the level-0 rule does not match: highest level first.
    assert_eq!(
        hit(
            &e,
            r#"{"integration":"acme","acme":{"a":"x","user":"bob"}}"#
        )
        .unwrap()
        .0,
        100101
    );
}

/// `if_level` compares the same rank at load time, so a level-0 rule (rank 99) takes
/// `if_level` children like any rule of a level at least the one asked for.
#[test]
fn if_level_children_hang_under_level_zero_rules_too() {
    let e = engine(&format!(
        "{BASE}<rule id=\"100105\" level=\"4\"><if_level>3</if_level><field name=\"acme.b\">y</field><description>by level</description></rule>
"
    ));
    assert_eq!(
        hit(&e, r#"{"integration":"acme","acme":{"b":"y"}}"#)
            .unwrap()
            .0,
        100105
    );
}
