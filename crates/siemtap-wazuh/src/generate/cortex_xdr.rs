//! Cortex XDR: the installed reference rule set (vendors.md §4.9), ids kept exactly.

use super::{R, set};
use crate::model::{Pattern, RuleFile, RuleGroup};
use crate::render::pcre_contains;

/// Compliance set C.
const C: &str = "gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_SI.4,pci_dss_11.4,tsc_CC7.2";
/// Compliance set C without tsc_CC7.2 (100533).
const C_NO_TSC: &str = "gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_SI.4,pci_dss_11.4";
/// Compliance set C′.
const C2: &str = "gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_IR.4,pci_dss_12.10";
const GDPR: &str = "gdpr_IV_35.7.d";

const ACTIVE: &[&str] = &["new", "under_investigation"];

/// The rule file (`<group name="cortex_xdr,">`).
pub fn rules() -> RuleFile {
    let mut rules = vec![
        R::base(100500, "cortex_xdr", "Cortex XDR events."),
        R::new(100510, 5)
            .parent(100500)
            .eq("xdr.type", &["alert"])
            .desc("Cortex XDR Alert: $(xdr.name)")
            .groups(&["cortex_xdr_alert"]),
    ];
    for (id, level, sev, extra) in [
        (100511, 5, "low", ""),
        (100512, 10, "medium", ""),
        (100513, 13, "high", C),
        (100514, 15, "critical", C),
    ] {
        let group = format!("{sev}_severity");
        // Wazuh does not inherit a parent's groups: the reference repeats them.
        let mut groups = vec!["cortex_xdr_alert", group.as_str()];
        groups.extend(set(extra));
        rules.push(
            R::new(id, level)
                .parent(100510)
                .eq_ci("xdr.severity", &[sev])
                .desc(&format!(
                    "Cortex XDR Alert [{}]: $(xdr.name) on $(xdr.host_name)",
                    sev.to_uppercase()
                ))
                .groups(&groups),
        );
    }
    rules.push(
        R::new(100530, 6)
            .parent(100500)
            .eq("xdr.type", &["incident"])
            .desc("$(xdr.description)")
            .groups(&["cortex_xdr_incident"]),
    );
    for (id, level, sev, extra) in [
        (100531, 6, "low", ""),
        (100532, 10, "medium", ""),
        (100533, 13, "high", C_NO_TSC),
        (100534, 15, "critical", C),
    ] {
        let group = format!("{sev}_severity");
        let mut groups = vec!["cortex_xdr_incident", group.as_str()];
        groups.extend(set(extra));
        rules.push(
            R::new(id, level)
                .parent(100530)
                .eq_ci("xdr.severity", &[sev])
                .eq_ci("xdr.status", ACTIVE)
                .desc(&format!(
                    "Cortex XDR Incident [{}]: $(xdr.description)",
                    sev.to_uppercase()
                ))
                .groups(&groups),
        );
    }
    rules.extend([
        R::new(100535, 6)
            .parent(100530)
            .eq_ci("xdr.status", &["under_investigation"])
            .desc("Cortex XDR Incident under investigation by $(xdr.assigned_user_pretty_name): $(xdr.description)")
            .groups(&["cortex_xdr_incident", "investigation"]),
        // The reference wrote OS_Regex `\d{2,}`, which OS_Regex cannot express; pcre2 keeps
        // the intent (ten or more alerts).
        R::new(100538, 11)
            .parent(100530)
            .field("xdr.alert_count", Pattern::pcre2("^\\d{2,}$"))
            .eq_ci("xdr.status", ACTIVE)
            .desc("Cortex XDR Incident correlates $(xdr.alert_count) alerts: $(xdr.description)")
            .groups(&["cortex_xdr_incident", "correlated"]),
        R::new(100550, 3)
            .parent(100530)
            .eq_ci("xdr.status", &["resolved_true_positive"])
            .desc("Cortex XDR Incident resolved as true positive: $(xdr.description)")
            .groups(&["closed", "true_positive"]),
        R::new(100551, 3)
            .parent(100530)
            .eq_ci("xdr.status", &["resolved_false_positive"])
            .desc("Cortex XDR Incident resolved as false positive: $(xdr.description)")
            .groups(&["closed", "false_positive"]),
        R::new(100552, 5)
            .parent(100550)
            .field("xdr.resolve_comment", Pattern::pcre2("\\S"))
            .desc("Cortex XDR Incident closed with analyst note: $(xdr.resolve_comment)")
            .groups(&["closed", "true_positive", "analyst_note"]),
        R::new(100553, 8)
            .parent(100550)
            .eq_ci("xdr.severity", &["high"])
            .desc("Cortex XDR high severity incident confirmed: $(xdr.description)")
            .groups(&[&["closed", "true_positive", "high_severity"][..], &set(C2)].concat()),
        R::new(100554, 10)
            .parent(100550)
            .eq_ci("xdr.severity", &["critical"])
            .desc("Cortex XDR critical incident confirmed: $(xdr.description)")
            .groups(&[&["closed", "true_positive", "critical_severity"][..], &set(C2), &["tsc_CC7.2"]].concat()),
        R::new(100570, 6)
            .parent(100530)
            .field("xdr.mitre_tactics_ids_and_names", Pattern::pcre2("\\w"))
            .desc("Cortex XDR Incident with MITRE tactics: $(xdr.mitre_tactics_ids_and_names)")
            .groups(&["mitre_mapped"]),
    ]);
    for (id, level, tactic, groups) in [
        (
            100571,
            10,
            "Persistence",
            format!("mitre_mapped,mitre_persistence,{GDPR},nist_800_53_SI.4"),
        ),
        (
            100572,
            11,
            "Privilege Escalation",
            format!(
                "mitre_mapped,mitre_privilege_escalation,{GDPR},hipaa_164.312.a,nist_800_53_AC.6,pci_dss_7.1"
            ),
        ),
        (
            100573,
            11,
            "Defense Evasion",
            "mitre_mapped,mitre_defense_evasion,nist_800_53_SI.4,pci_dss_11.4".to_string(),
        ),
        (
            100574,
            12,
            "Credential Access",
            format!(
                "mitre_mapped,mitre_credential_access,{GDPR},hipaa_164.312.a,nist_800_53_IA.5,pci_dss_8.3"
            ),
        ),
        (
            100575,
            12,
            "Lateral Movement",
            format!("mitre_mapped,mitre_lateral_movement,{GDPR},nist_800_53_SI.4,pci_dss_11.4"),
        ),
        (
            100576,
            13,
            "Exfiltration",
            format!(
                "mitre_mapped,mitre_exfiltration,{GDPR},hipaa_164.312.b,nist_800_53_SI.4,pci_dss_12.3"
            ),
        ),
        (
            100577,
            13,
            "Command and Control",
            format!("mitre_mapped,mitre_c2,{GDPR},nist_800_53_SI.4,pci_dss_11.4"),
        ),
        (
            100578,
            14,
            "Impact",
            format!(
                "mitre_mapped,mitre_impact,{GDPR},hipaa_164.312.b,nist_800_53_CP.2,pci_dss_12.3,tsc_CC7.2"
            ),
        ),
    ] {
        rules.push(
            R::new(id, level)
                .parent(100570)
                .field("xdr.mitre_tactics_ids_and_names", pcre_contains(tactic))
                .desc(&format!(
                    "Cortex XDR Incident with MITRE tactic {tactic}: $(xdr.description)"
                ))
                .groups(&set(&groups)),
        );
    }
    rules.push(
        R::new(100599, 8)
            .parent(100500)
            .eq("xdr.type", &["error"])
            .desc("Cortex XDR wodle error ($(xdr.error_source)): $(xdr.error_message)")
            .groups(&["cortex_xdr_error", "integration_error"]),
    );
    rules.extend(health());
    RuleFile {
        header: vec![
            "siemtap: Cortex XDR rules (block 100500-100599). Generated by `siemtap wazuh rules cortex_xdr`."
                .into(),
            "Ids, levels, parents and groups are those of the reference rule set; 100590-100595 are".into(),
            "siemtap's health coverage, the same for every connector (run summaries, authentication).".into(),
            "No decoder is needed: Wazuh's stock json decoder decodes these events.".into(),
        ],
        groups: vec![RuleGroup {
            name: "cortex_xdr,".into(),
            rules: rules.into_iter().map(|r| r.0).collect(),
        }],
    }
}

/// siemtap's additions (not in the reference): the health coverage every connector has
/// (docs/wazuh-rules.md "Health coverage"). Defined after 100599, their parent.
fn health() -> Vec<R> {
    const ERR: &str = "cortex_xdr_error";
    const CODE: &str = "xdr.error_code";
    vec![
        R::new(100590, 10)
            .parent(100500)
            .eq("xdr.type", &["run_summary"])
            .eq("xdr.alerts_success", &["false"])
            .desc("Cortex XDR run: alerts collection failed")
            .groups(&[ERR, "integration_error"]),
        R::new(100591, 10)
            .parent(100500)
            .eq("xdr.type", &["run_summary"])
            .eq("xdr.incidents_success", &["false"])
            .desc("Cortex XDR run: incidents collection failed")
            .groups(&[ERR, "integration_error"]),
        R::new(100592, 12)
            .parent(100599)
            .eq(CODE, &["API_HTTP_401", "CONFIG_MISSING_CREDENTIAL"])
            .desc("Cortex XDR authentication failed [$(xdr.error_source)]: $(xdr.error_code) - check the API key, key id and security level")
            .groups(&[ERR, "integration_error", "authentication_failures"]),
        R::new(100593, 14)
            .freq(2, 600, 100592)
            .desc("Cortex XDR authentication keeps failing: 2 failures in 10 minutes [$(xdr.error_source)]")
            .groups(&[ERR, "integration_error", "authentication_failures"]),
        R::new(100594, 8)
            .parent(100599)
            .eq(CODE, &["API_HTTP_429"])
            .desc("Cortex XDR API rate limit reached [$(xdr.error_source)]")
            .groups(&[ERR, "integration_error"]),
        R::new(100595, 10)
            .parent(100599)
            .eq(CODE, &["COLLECTION_GAP"])
            .desc("Cortex XDR collection gap: events from $(xdr.gap_start) to $(xdr.gap_end) were not collected")
            .groups(&[ERR, "integration_error", "collection_gap"]),
    ]
}
