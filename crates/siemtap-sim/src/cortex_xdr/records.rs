//! Record JSON (spec §4.5 fields, §4.6 sample shapes), built on demand from the dataset.
//!
//! Content is a pure function of `(seed, record key)`; times come from the dataset. Value
//! pools are chosen so every installed rule can fire: all severities and statuses, MITRE
//! tactics named by rules 100571–100578, `alert_count` ≥ 10, resolve comments. About one
//! record in six carries a vendor field named `type` (the discriminator-collision case of
//! spec §1.2), and every alert carries the vendor field `event_type`.

use serde_json::{Map, Value, json};

use crate::common::prng::Draw;

use super::data::{Alert, Incident, SEVERITIES, SOURCES, STATUSES};

const SALT_CONTENT: u64 = 0x434F_4E54;
const SALT_INC_CONTENT: u64 = 0x4943_4E54;
const SALT_EVENT: u64 = 0x4556_4E54;
const HOSTS: u64 = 24;
const USERS: &[&str] = &[
    "Administrator",
    "jdoe",
    "asmith",
    "svc_backup",
    "mgarcia",
    "lchen",
    "root",
    "kwilliams",
];

/// `(name, category, event_type)`
const ALERT_KINDS: &[(&str, &str, &str)] = &[
    ("Behavioral Threat", "Malware", "Process Execution"),
    ("Local Analysis Malware", "Malware", "File Event"),
    ("WildFire Malware", "Malware", "File Event"),
    (
        "Suspicious Process Creation",
        "Execution",
        "Process Execution",
    ),
    (
        "Credential Dumping via LSASS Access",
        "Credential Access",
        "Injection Event",
    ),
    ("Ransomware Protection", "Ransomware", "File Event"),
    ("Port Scan", "Discovery", "Network Event"),
    ("Exploit Protection", "Exploit", "Injection Event"),
    (
        "Registry Run Key Persistence",
        "Persistence",
        "Registry Event",
    ),
    (
        "Lateral Movement via WinRM",
        "Lateral Movement",
        "Network Event",
    ),
];

const ACTIONS: &[(&str, &str)] = &[
    ("BLOCKED", "Prevented (Blocked)"),
    ("DETECTED", "Detected"),
    ("REPORTED", "Detected (Reported)"),
    ("SCANNED", "Detected (Scanned)"),
];

/// `(tactic, technique)`
const MITRE: &[(&str, &str)] = &[
    ("TA0040 - Impact", "T1486 - Data Encrypted for Impact"),
    (
        "TA0002 - Execution",
        "T1059.001 - Command and Scripting Interpreter: PowerShell",
    ),
    (
        "TA0006 - Credential Access",
        "T1003.001 - OS Credential Dumping: LSASS Memory",
    ),
    (
        "TA0003 - Persistence",
        "T1547.001 - Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder",
    ),
    (
        "TA0008 - Lateral Movement",
        "T1021.006 - Remote Services: Windows Remote Management",
    ),
    ("TA0007 - Discovery", "T1046 - Network Service Discovery"),
    (
        "TA0005 - Defense Evasion",
        "T1562.001 - Impair Defenses: Disable or Modify Tools",
    ),
    (
        "TA0004 - Privilege Escalation",
        "T1068 - Exploitation for Privilege Escalation",
    ),
    (
        "TA0011 - Command and Control",
        "T1071.001 - Application Layer Protocol: Web Protocols",
    ),
    (
        "TA0010 - Exfiltration",
        "T1041 - Exfiltration Over C2 Channel",
    ),
];

struct Host {
    name: String,
    endpoint_id: String,
    ip: String,
    mac: String,
    os: &'static str,
    os_sub: &'static str,
}

fn hex(d: &mut Draw, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[d.below(16) as usize]))
        .collect()
}

fn host(seed: u64, h: u64) -> Host {
    let mut d = Draw::new(&[seed, 0x484F_5354, h]);
    let (os, os_sub, prefix) = *d.pick(&[
        ("Windows", "Windows 11", "WS"),
        ("Windows", "Windows Server 2022", "SRV"),
        ("Linux", "Ubuntu 22.04", "lnx"),
        ("macOS", "14.4", "MAC"),
    ]);
    let mac: Vec<String> = (0..6).map(|_| format!("{:02x}", d.below(256))).collect();
    Host {
        name: format!("{prefix}-{:04}", 10 + h * 37 % 9000),
        endpoint_id: hex(&mut d, 32),
        ip: format!("10.{}.{}.{}", d.below(8), d.below(256), 1 + d.below(254)),
        mac: mac.join(":"),
        os,
        os_sub,
    }
}

fn event(d: &mut Draw, a: &Alert, h: &Host, user: &str, event_type: &str) -> Map<String, Value> {
    let image = *d.pick(&[
        "powershell.exe",
        "cmd.exe",
        "rundll32.exe",
        "wmic.exe",
        "bash",
    ]);
    let sha = hex(d, 64);
    let mut e = Map::new();
    e.insert("agent_install_type".into(), json!("STANDARD"));
    e.insert(
        "agent_host_boot_time".into(),
        json!(a.detect_ms - 86_400_000),
    );
    e.insert("event_sub_type".into(), json!(1 + d.below(4)));
    e.insert("module_id".into(), json!("Behavioral Threat Protection"));
    e.insert("association_strength".into(), json!(50));
    e.insert("event_id".into(), json!(hex(d, 24)));
    e.insert("event_timestamp".into(), json!(a.detect_ms));
    e.insert("event_type".into(), json!(event_type));
    e.insert("actor_process_image_name".into(), json!(image));
    e.insert("actor_process_image_sha256".into(), json!(sha));
    e.insert(
        "actor_process_command_line".into(),
        json!(format!("{image} /c whoami /all")),
    );
    e.insert(
        "actor_effective_username".into(),
        json!(format!("CORP\\{user}")),
    );
    e.insert(
        "causality_actor_process_image_name".into(),
        json!("explorer.exe"),
    );
    e.insert(
        "causality_actor_process_execution_time".into(),
        json!(a.detect_ms - 1000 * (1 + d.below(600) as i64)),
    );
    e.insert("action_local_ip".into(), json!(h.ip));
    e.insert("action_remote_ip".into(), Value::Null);
    e.insert("action_remote_port".into(), Value::Null);
    e.insert("action_file_path".into(), Value::Null);
    e.insert(
        "os_actor_process_os_pid".into(),
        json!(1000 + d.below(60_000)),
    );
    e
}

/// One alert (v1 shape, or v2 with 1–3 events of 5–20 KB each when `multi`).
pub(crate) fn alert_json(seed: u64, a: &Alert, multi: bool) -> Value {
    let mut d = Draw::new(&[seed, SALT_CONTENT, a.gen_key]);
    let (name, category, event_type) = *d.pick(ALERT_KINDS);
    let (action, action_pretty) = *d.pick(ACTIONS);
    let h = host(seed, d.below(HOSTS));
    let user = *d.pick(USERS);
    let (tactic, technique) = *d.pick(MITRE);
    let bioc = SOURCES[usize::from(a.source)] == "XDR BIOC";
    let mut m = Map::new();
    m.insert("alert_id".into(), json!(a.id.to_string()));
    m.insert("local_insert_ts".into(), json!(a.insert_ms));
    if a.has_creation_time {
        m.insert("creation_time".into(), json!(a.detect_ms));
    }
    m.insert("detection_timestamp".into(), json!(a.detect_ms));
    m.insert(
        "severity".into(),
        json!(SEVERITIES[usize::from(a.severity)]),
    );
    m.insert("name".into(), json!(name));
    m.insert("category".into(), json!(category));
    m.insert("action".into(), json!(action));
    m.insert("action_pretty".into(), json!(action_pretty));
    m.insert(
        "description".into(),
        json!(format!("{name} detected on {} for user {user}", h.name)),
    );
    m.insert("source".into(), json!(SOURCES[usize::from(a.source)]));
    m.insert("event_type".into(), json!(event_type));
    m.insert("host_ip".into(), json!([h.ip]));
    m.insert("host_name".into(), json!(h.name));
    m.insert("endpoint_id".into(), json!(h.endpoint_id));
    m.insert("agent_os_type".into(), json!(h.os));
    m.insert("agent_os_sub_type".into(), json!(h.os_sub));
    m.insert("agent_version".into(), json!("8.4.1.12345"));
    m.insert(
        "agent_fqdn".into(),
        json!(format!("{}.corp.example", h.name.to_lowercase())),
    );
    m.insert("agent_device_domain".into(), json!("corp.example"));
    m.insert("agent_is_vdi".into(), json!(false));
    m.insert("agent_data_collection_status".into(), json!(true));
    m.insert("mac".into(), json!(h.mac));
    m.insert("mac_address".into(), json!([h.mac]));
    m.insert("mitre_tactic_id_and_name".into(), json!([tactic]));
    m.insert("mitre_technique_id_and_name".into(), json!([technique]));
    m.insert("matching_status".into(), json!("UNMATCHABLE"));
    m.insert("matching_service_rule_id".into(), Value::Null);
    m.insert("filter_rule_id".into(), Value::Null);
    m.insert("external_id".into(), json!(hex(&mut d, 32)));
    m.insert("attempt_counter".into(), json!(d.below(3)));
    m.insert(
        "end_match_attempt_ts".into(),
        if d.chance(0.5) {
            json!(a.insert_ms + 60_000)
        } else {
            Value::Null
        },
    );
    m.insert(
        "bioc_category_enum_key".into(),
        if bioc {
            json!("EXECUTION")
        } else {
            Value::Null
        },
    );
    m.insert(
        "bioc_indicator".into(),
        if bioc {
            json!(format!("[{{\"pretty_name\":\"{name}\"}}]"))
        } else {
            Value::Null
        },
    );
    m.insert("deduplicate_tokens".into(), json!(hex(&mut d, 32)));
    m.insert("is_whitelisted".into(), json!(false));
    m.insert("starred".into(), json!(d.chance(0.1)));
    if d.chance(1.0 / 6.0) {
        m.insert(
            "type".into(),
            json!(*d.pick(&["Unclassified", "BIOC", "Analytics"])),
        );
    }
    let events: Vec<Value> = if multi {
        let mut ed = Draw::new(&[seed, SALT_EVENT, a.gen_key]);
        (0..1 + ed.below(3))
            .map(|_| {
                let mut e = event(&mut ed, a, &h, user, event_type);
                let target = 5_000 + ed.below(15_000) as usize;
                let size = Value::Object(e.clone()).to_string().len();
                let pad = target.saturating_sub(size + 80).max(16);
                e.insert(
                    "action_process_image_command_line".into(),
                    json!(format!(
                        "powershell.exe -NoProfile -EncodedCommand {}",
                        ed.base32(pad, false)
                    )),
                );
                Value::Object(e)
            })
            .collect()
    } else {
        vec![Value::Object(event(&mut d, a, &h, user, event_type))]
    };
    m.insert("events".into(), Value::Array(events));
    Value::Object(m)
}

/// Version `v` of incident `inc`.
pub(crate) fn incident_json(seed: u64, inc: &Incident, v: usize) -> Value {
    let ver = inc.versions[v];
    let mut d = Draw::new(&[seed, SALT_INC_CONTENT, inc.id]);
    let status = STATUSES[usize::from(ver.status)];
    let severity = SEVERITIES[usize::from(inc.severity)];
    let h = host(seed, d.below(HOSTS));
    let user = *d.pick(USERS);
    let alert_count = if d.chance(0.15) {
        10 + d.below(40)
    } else {
        1 + d.below(6)
    };
    let (low, med) = (alert_count / 3, alert_count / 3);
    let high = alert_count - low - med;
    let tactics: Vec<&str> = (0..1 + d.below(3)).map(|_| d.pick(MITRE).0).collect();
    let techniques: Vec<&str> = (0..1 + d.below(2)).map(|_| d.pick(MITRE).1).collect();
    let (kind, _, _) = *d.pick(ALERT_KINDS);
    let active = ver.status <= 1;
    let resolved = ver.status >= 2;
    let mut m = Map::new();
    m.insert("incident_id".into(), json!(inc.id.to_string()));
    m.insert("creation_time".into(), json!(inc.creation_ms));
    m.insert("modification_time".into(), json!(ver.mod_ms));
    m.insert("detection_time".into(), Value::Null);
    m.insert("status".into(), json!(status));
    m.insert("severity".into(), json!(severity));
    m.insert(
        "description".into(),
        json!(format!(
            "'{kind}' generated by XDR Agent detected on host {} involving user {user}",
            h.name
        )),
    );
    let assigned = !active || ver.status == 1;
    m.insert(
        "assigned_user_mail".into(),
        if assigned {
            json!("analyst@corp.example")
        } else {
            Value::Null
        },
    );
    m.insert(
        "assigned_user_pretty_name".into(),
        if assigned {
            json!("SOC Analyst")
        } else {
            Value::Null
        },
    );
    m.insert("alert_count".into(), json!(alert_count));
    m.insert("low_severity_alert_count".into(), json!(low));
    m.insert("med_severity_alert_count".into(), json!(med));
    m.insert("high_severity_alert_count".into(), json!(high));
    m.insert("user_count".into(), json!(1));
    m.insert("host_count".into(), json!(1));
    m.insert(
        "notes".into(),
        if ver.rev > 0 {
            json!(format!("update {} by the SOC", ver.rev))
        } else {
            Value::Null
        },
    );
    m.insert(
        "resolve_comment".into(),
        if resolved && d.chance(0.7) {
            json!("Confirmed and remediated")
        } else {
            Value::Null
        },
    );
    m.insert("manual_severity".into(), Value::Null);
    m.insert("manual_description".into(), Value::Null);
    m.insert(
        "xdr_url".into(),
        json!(format!("https://sim.xdr.example/incident-view/{}", inc.id)),
    );
    m.insert("starred".into(), json!(d.chance(0.1)));
    m.insert(
        "hosts".into(),
        json!([format!("{}:{}", h.name.to_lowercase(), h.endpoint_id)]),
    );
    m.insert("users".into(), json!([format!("CORP\\{user}")]));
    m.insert("incident_sources".into(), json!(["XDR Agent"]));
    m.insert("mitre_tactics_ids_and_names".into(), json!(tactics));
    m.insert("mitre_techniques_ids_and_names".into(), json!(techniques));
    if resolved {
        m.insert("resolved_timestamp".into(), json!(ver.mod_ms));
    }
    if d.chance(1.0 / 6.0) {
        m.insert("type".into(), json!("Unclassified"));
    }
    Value::Object(m)
}
