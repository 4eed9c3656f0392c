//! The generated Cortex XDR rules are the reference rule set of vendors.md §4.9, rule for
//! rule: id, level, parent, fields (names in order, and a value each must match) and
//! **groups**. Wazuh does not inherit `<group>` from a parent rule, so a child that drops its
//! parent's group (`cortex_xdr_alert`, `cortex_xdr_incident`, `closed`/`true_positive`,
//! `mitre_mapped`) breaks saved searches, `if_group` rules and active responses on it.

use siemtap_wazuh::generate::rules_for;
use siemtap_wazuh::model::Rule;
use siemtap_wazuh::parse::parse_file;
use siemtap_wazuh::pcre;
use siemtap_wazuh::render::render_file;

/// Compliance set C.
const C: &str = "gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_SI.4,pci_dss_11.4,tsc_CC7.2";
/// C without tsc_CC7.2 (100533).
const C_NO_TSC: &str = "gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_SI.4,pci_dss_11.4";
/// Compliance set C′.
const C2: &str = "gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_IR.4,pci_dss_12.10";

/// (id, level, parent (0 = none), fields as (name, a value it must match), groups after
/// `cortex_xdr`, in order).
type Row = (
    u32,
    u8,
    u32,
    &'static [(&'static str, &'static str)],
    String,
);

fn g(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

fn reference() -> Vec<Row> {
    const ALERT: &str = "cortex_xdr_alert";
    const INC: &str = "cortex_xdr_incident";
    const TP: &str = "closed,true_positive";
    const MM: &str = "mitre_mapped";
    const GDPR: &str = "gdpr_IV_35.7.d";
    const TAC: &str = "xdr.mitre_tactics_ids_and_names";
    vec![
        (100500, 0, 0, &[("integration", "cortex_xdr")], g(&[])),
        (100510, 5, 100500, &[("xdr.type", "alert")], g(&[ALERT])),
        (
            100511,
            5,
            100510,
            &[("xdr.severity", "low")],
            g(&[ALERT, "low_severity"]),
        ),
        (
            100512,
            10,
            100510,
            &[("xdr.severity", "medium")],
            g(&[ALERT, "medium_severity"]),
        ),
        (
            100513,
            13,
            100510,
            &[("xdr.severity", "high")],
            g(&[ALERT, "high_severity", C]),
        ),
        (
            100514,
            15,
            100510,
            &[("xdr.severity", "critical")],
            g(&[ALERT, "critical_severity", C]),
        ),
        (100530, 6, 100500, &[("xdr.type", "incident")], g(&[INC])),
        (
            100531,
            6,
            100530,
            &[("xdr.severity", "low"), ("xdr.status", "new")],
            g(&[INC, "low_severity"]),
        ),
        (
            100532,
            10,
            100530,
            &[
                ("xdr.severity", "medium"),
                ("xdr.status", "under_investigation"),
            ],
            g(&[INC, "medium_severity"]),
        ),
        (
            100533,
            13,
            100530,
            &[("xdr.severity", "high"), ("xdr.status", "new")],
            g(&[INC, "high_severity", C_NO_TSC]),
        ),
        (
            100534,
            15,
            100530,
            &[("xdr.severity", "critical"), ("xdr.status", "new")],
            g(&[INC, "critical_severity", C]),
        ),
        (
            100535,
            6,
            100530,
            &[("xdr.status", "under_investigation")],
            g(&[INC, "investigation"]),
        ),
        (
            100538,
            11,
            100530,
            &[("xdr.alert_count", "12"), ("xdr.status", "new")],
            g(&[INC, "correlated"]),
        ),
        (
            100550,
            3,
            100530,
            &[("xdr.status", "resolved_true_positive")],
            g(&[TP]),
        ),
        (
            100551,
            3,
            100530,
            &[("xdr.status", "resolved_false_positive")],
            g(&["closed", "false_positive"]),
        ),
        (
            100552,
            5,
            100550,
            &[("xdr.resolve_comment", "confirmed phishing")],
            g(&[TP, "analyst_note"]),
        ),
        (
            100553,
            8,
            100550,
            &[("xdr.severity", "high")],
            g(&[TP, "high_severity", C2]),
        ),
        (
            100554,
            10,
            100550,
            &[("xdr.severity", "critical")],
            g(&[TP, "critical_severity", C2, "tsc_CC7.2"]),
        ),
        (
            100570,
            6,
            100530,
            &[(TAC, "TA0043 - Reconnaissance")],
            g(&[MM]),
        ),
        (
            100571,
            10,
            100570,
            &[(TAC, "[\"TA0003 - Persistence\"]")],
            g(&[MM, "mitre_persistence", GDPR, "nist_800_53_SI.4"]),
        ),
        (
            100572,
            11,
            100570,
            &[(TAC, "TA0004 - Privilege Escalation")],
            g(&[
                MM,
                "mitre_privilege_escalation",
                GDPR,
                "hipaa_164.312.a",
                "nist_800_53_AC.6",
                "pci_dss_7.1",
            ]),
        ),
        (
            100573,
            11,
            100570,
            &[(TAC, "TA0005 - Defense Evasion")],
            g(&[
                MM,
                "mitre_defense_evasion",
                "nist_800_53_SI.4",
                "pci_dss_11.4",
            ]),
        ),
        (
            100574,
            12,
            100570,
            &[(TAC, "TA0006 - Credential Access")],
            g(&[
                MM,
                "mitre_credential_access",
                GDPR,
                "hipaa_164.312.a",
                "nist_800_53_IA.5",
                "pci_dss_8.3",
            ]),
        ),
        (
            100575,
            12,
            100570,
            &[(TAC, "TA0008 - Lateral Movement")],
            g(&[
                MM,
                "mitre_lateral_movement",
                GDPR,
                "nist_800_53_SI.4",
                "pci_dss_11.4",
            ]),
        ),
        (
            100576,
            13,
            100570,
            &[(TAC, "TA0010 - Exfiltration")],
            g(&[
                MM,
                "mitre_exfiltration",
                GDPR,
                "hipaa_164.312.b",
                "nist_800_53_SI.4",
                "pci_dss_12.3",
            ]),
        ),
        (
            100577,
            13,
            100570,
            &[(TAC, "TA0011 - Command and Control")],
            g(&[MM, "mitre_c2", GDPR, "nist_800_53_SI.4", "pci_dss_11.4"]),
        ),
        (
            100578,
            14,
            100570,
            &[(TAC, "TA0040 - Impact")],
            g(&[
                MM,
                "mitre_impact",
                GDPR,
                "hipaa_164.312.b",
                "nist_800_53_CP.2",
                "pci_dss_12.3",
                "tsc_CC7.2",
            ]),
        ),
        (
            100599,
            8,
            100500,
            &[("xdr.type", "error")],
            g(&["cortex_xdr_error", "integration_error"]),
        ),
    ]
}

/// Rules siemtap adds to the reference set (health coverage shared with the other
/// connectors, docs/wazuh-rules.md); they never change a reference rule.
const SIEMTAP_ADDED: &[u32] = &[100590, 100591, 100592, 100593, 100594, 100595];

fn generated() -> Vec<Rule> {
    // Through the XML text, as Wazuh reads it.
    let xml = render_file(&rules_for("cortex_xdr", None, None).unwrap());
    let parsed = parse_file("siemtap_cortex_xdr_rules.xml", &xml);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    parsed.rules
}

#[test]
fn generated_rules_are_the_reference_rule_set_with_groups() {
    let rules = generated();
    let table = reference();
    let ids: Vec<u32> = rules
        .iter()
        .map(|r| r.id)
        .filter(|id| !SIEMTAP_ADDED.contains(id))
        .collect();
    let want: Vec<u32> = table.iter().map(|r| r.0).collect();
    assert_eq!(ids, want, "exactly the reference ids, in order");
    let mut mismatches = Vec::new();
    for (id, level, parent, fields, groups) in &table {
        let r = rules.iter().find(|r| r.id == *id).unwrap();
        if r.level != *level {
            mismatches.push(format!("{id}: level {} (reference {level})", r.level));
        }
        let parents = r.parent_sids();
        let want_parents: Vec<u32> = (*parent != 0).then_some(*parent).into_iter().collect();
        if parents != want_parents {
            mismatches.push(format!(
                "{id}: parent {parents:?} (reference {want_parents:?})"
            ));
        }
        let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
        let want_names: Vec<&str> = fields.iter().map(|f| f.0).collect();
        if names != want_names {
            mismatches.push(format!("{id}: fields {names:?} (reference {want_names:?})"));
        }
        for (f, (name, value)) in r.fields.iter().zip(fields.iter()) {
            let re = pcre::compile(&f.pattern.text).unwrap();
            if f.name == *name && !re.is_match(value) {
                mismatches.push(format!(
                    "{id}: {name} {:?} does not match {value:?}",
                    f.pattern.text
                ));
            }
        }
        let mut want_groups = vec!["cortex_xdr".to_string()];
        want_groups.extend(
            groups
                .split(',')
                .filter(|g| !g.is_empty())
                .map(String::from),
        );
        if r.all_groups() != want_groups {
            mismatches.push(format!(
                "{id}: groups {:?} (reference {want_groups:?})",
                r.all_groups()
            ));
        }
        if !r.options.iter().any(|o| o == "no_full_log") {
            mismatches.push(format!("{id}: no no_full_log"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "differences from the reference:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn siemtap_additions_stay_inside_the_block_and_off_reference_ids() {
    let rules = generated();
    let table = reference();
    for id in SIEMTAP_ADDED {
        assert!(rules.iter().any(|r| r.id == *id), "{id} is generated");
        assert!(
            !table.iter().any(|r| r.0 == *id),
            "{id} is not a reference id"
        );
        assert!((100500..=100599).contains(id), "{id} is inside the block");
    }
    assert_eq!(
        rules.len(),
        table.len() + SIEMTAP_ADDED.len(),
        "no other rule"
    );
}
