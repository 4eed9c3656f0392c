//! Proofpoint, Cortex XDR and declarative-connector test events (vendors.md §3.8, §4.6,
//! §1.5, §1.6).

use serde_json::{Map, Value, json};

use super::{Case, compact, obj, with};
use crate::generate::Shape;

fn pp(event_type: &str, record: &Map<String, Value>) -> String {
    compact("proofpoint", "pp", ("event_type", event_type), record)
}

fn message() -> Map<String, Value> {
    obj(
        r#"{"GUID":"x11xxxx1-12f9-111x-x12x-1x1x123456xx","QID":"x2XXxXXX111111","ccAddresses":["abc@example.com"],"clusterId":"pharmtech_hosted","completelyRewritten":"true","fromAddress":"abc@example.com","impostorScore":0,"malwareScore":100,"messageID":"12345678912345.12345.mail@example.com","messageParts":[{"contentType":"application/pdf","disposition":"attached","filename":"text.pdf","md5":"b10a8db164e0754105b7a99be72e3fe5","oContentType":"application/pdf","sandboxStatus":"threat","sha256":"a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e"}],"messageTime":"2021-11-25T09:10:00.050Z","modulesRun":["pdr","sandbox","spam","urldefense"],"phishScore":46,"policyRoutes":["default_inbound","executives"],"quarantineFolder":"Attachment Defense","quarantineRule":"module.sandbox.threat","recipient":["example.abc@example.com"],"sender":"x99x7x5580193x6x51x597xx2x0210@example.com","senderIP":"175.16.199.1","spamScore":4,"subject":"Please find a totally safe invoice attached.","threatsInfoMap":[{"campaignId":"46x01x8x-x899-404x-xxx9-111xx393d1x7","classification":"MALWARE","threat":"example.com","threatId":"3xx97xx852c66a7xx761450xxxxxx9f4ffab74715b591294f78b5e37a76481xx","threatTime":"2021-07-20T05:00:00.050Z","threatType":"URL","threatUrl":"https://www.example.com/?name=john"}],"toAddresses":["example.abc@example.com"],"xmailer":"Spambot v2.5"}"#,
    )
}

fn click(classification: &str) -> Map<String, Value> {
    let base = obj(
        r#"{"url":"https://www.example.com/?name=john","classification":"phish","clickTime":"2022-03-21T07:52:11.000Z","threatTime":"2022-03-18T14:54:20.000Z","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","campaignId":"46x01x8x-x899-404x-xxx9-111xx393d1x7","id":"8760d0fc-78a4-4ab0-9355-2e3cdd155f1d","clickIP":"89.160.20.112","sender":"abc123@example.com","recipient":"123abc@example.com","senderIP":"81.2.69.143","GUID":"x11xxxx1-12f9-111x-x12x-1x1x123456xx","threatID":"3xx97xx852c66a7xx761450xxxxxx9f4ffab74715b591294f78b5e37a76481xx","threatURL":"https://www.abc.com/?name=john","threatStatus":"active","messageID":"12345678912345.12345.mail@example.com"}"#,
    );
    with(&base, &[("classification", classification.into())])
}

fn pp_error(code: &str, status: u16) -> String {
    let rec = obj(&format!(
        r#"{{"error_source":"siem","error_message":"request failed","error_code":"{code}","http_status":{status},"timestamp":"2026-04-01T00:00:00Z"}}"#
    ));
    pp("error", &rec)
}

fn pp_summary(siem: bool) -> String {
    let rec = obj(&format!(
        r#"{{"source":"orchestrator","timestamp":"2026-04-01T00:00:00Z","siem_ran":true,"siem_success":{siem},"people_ran":false}}"#
    ));
    pp("run_summary", &rec)
}

/// One case (or more) per rule of the Proofpoint block.
pub fn proofpoint() -> Vec<Case> {
    let vap = obj(
        r#"{"users":[{"identity":{"guid":"88e36bf359-99e8-7e53-f58a-6df8b430be6d","emails":["xxxx@xxx.com"],"vip":false},"threatStatistics":{"attackIndex":1805,"families":[{"name":"credential phishing","score":700}]}}],"totalVapUsers":1,"interval":"2021-04-06T21:48:25Z/2021-04-20T21:48:25Z","averageAttackIndex":"604.6563","vapAttackIndexThreshold":"1032.7329"}"#,
    );
    let top = obj(
        r#"{"users":[{"identity":{"guid":"44fa56cbf1-f9b5-d4ae-f22f-b49b49b1e4e3","emails":["xxxx@xxx.com"],"vip":false},"clickStatistics":{"clickCount":2,"families":[{"name":"Malware","clicks":2}]}}],"totalTopClickers":1,"interval":"2021-01-21T11:49:00Z/2021-04-21T11:49:00Z"}"#,
    );
    let mut gap = obj(
        r#"{"error_source":"siem","error_message":"window older than the look-back was skipped","error_code":"COLLECTION_GAP","timestamp":"2026-04-01T00:00:00Z"}"#,
    );
    gap.insert("gap_start".into(), "2026-03-20T00:00:00Z".into());
    gap.insert("gap_end".into(), "2026-03-25T00:00:00Z".into());
    vec![
        Case::one(
            "run summary, SIEM fine (base rule only)",
            100600,
            0,
            pp_summary(true),
        ),
        Case::one(
            "message blocked",
            100601,
            5,
            pp("messagesBlocked", &message()),
        ),
        Case::one(
            "message delivered",
            100602,
            8,
            pp(
                "messagesDelivered",
                &with(&message(), &[("id", "4b3b5d1b-delivered".into())]),
            ),
        ),
        Case::one(
            "click blocked",
            100603,
            5,
            pp("clicksBlocked", &click("phish")),
        ),
        Case::one(
            "click permitted, other classification",
            100604,
            10,
            pp("clicksPermitted", &click("spam")),
        ),
        Case::one("very attacked people", 100605, 3, pp("vap", &vap)),
        Case::one("top clickers", 100606, 3, pp("top_clickers", &top)),
        Case::each(
            "permitted click on malware or phish",
            100650,
            12,
            vec![
                pp("clicksPermitted", &click("phish")),
                pp("clicksPermitted", &click("MALWARE")),
            ],
        ),
        Case::one(
            "error, other code",
            100690,
            8,
            pp_error("API_HTTP_500", 500),
        ),
        Case::each(
            "authentication error",
            100691,
            12,
            vec![
                pp_error("API_HTTP_401", 401),
                pp_error("CONFIG_MISSING_CREDENTIAL", 0),
            ],
        ),
        Case::one(
            "quota or rate limit",
            100692,
            8,
            pp_error("API_HTTP_429", 429),
        ),
        Case::one("collection gap", 100693, 10, pp("error", &gap)),
        Case::one("run summary, SIEM failed", 100694, 10, pp_summary(false)),
        Case::sequence(
            "authentication failing twice in 600 s",
            100695,
            14,
            vec![pp_error("API_HTTP_401", 401), pp_error("API_HTTP_401", 401)],
        ),
    ]
}

fn xdr(kind: &str, record: &Map<String, Value>) -> String {
    compact("cortex_xdr", "xdr", ("type", kind), record)
}

fn alert(severity: &str) -> String {
    let base = obj(
        r#"{"alert_id":"31","creation_time":"2026-03-31T23:33:21.000Z","local_insert_ts":"2026-03-31T23:33:32.345Z","detection_timestamp":"2026-03-31T23:33:21.000Z","severity":"high","name":"Behavioral Threat","category":"Malware","action":"BLOCKED","action_pretty":"Prevented (Blocked)","description":"Behavioral threat detected","source":"XDR Agent","event_type":"Process Execution","host_ip":["10.0.0.5"],"host_name":"WS-0042","endpoint_id":"e1d2c3b4a5f60718293a4b5c6d7e8f90","agent_os_type":"Windows","mac":"00:11:22:33:44:55","mitre_tactic_id_and_name":["TA0040 - Impact"],"mitre_technique_id_and_name":["T1486 - Data Encrypted for Impact"],"matching_status":"UNMATCHABLE","is_whitelisted":false,"starred":false}"#,
    );
    xdr("alert", &with(&base, &[("severity", severity.into())]))
}

fn incident(severity: &str, status: &str, extra: &[(&str, Value)]) -> String {
    let base = obj(
        r#"{"incident_id":"1","creation_time":"2019-12-08T12:08:29.185Z","modification_time":"2019-12-08T14:04:35.168Z","status":"under_investigation","severity":"medium","description":"'Local Analysis Malware' generated by XDR Agent detected on host AAAAA involving user Administrator","alert_count":1,"low_severity_alert_count":0,"med_severity_alert_count":1,"high_severity_alert_count":0,"user_count":1,"host_count":1,"xdr_url":"https://demisto.hello.com/incident-view/1","starred":false}"#,
    );
    let mut rec = with(
        &base,
        &[("severity", severity.into()), ("status", status.into())],
    );
    for (k, v) in extra {
        rec.insert((*k).to_string(), v.clone());
    }
    xdr("incident", &rec)
}

/// One case (or more) per rule of the Cortex XDR rule set.
pub fn cortex_xdr() -> Vec<Case> {
    let tactics = |t: &str| vec![("mitre_tactics_ids_and_names", json!([t]))];
    let mut c = vec![
        Case::one("run summary (base rule only)", 100500, 0, xdr("run_summary", &obj(r#"{"source":"orchestrator","timestamp":"2026-04-01T00:00:00Z","alerts_ran":true,"alerts_success":true}"#))),
        Case::one("alert of another severity", 100510, 5, alert("informational")),
        Case::one("alert low", 100511, 5, alert("low")),
        Case::one("emitted alert sample (vendors.md 4.6)", 100511, 5, r#"{"integration":"cortex_xdr","xdr":{"type":"alert","alert_id":"0","creation_time":"2023-11-14T22:13:20.000Z","local_insert_ts":"2023-11-14T22:13:20.000Z","severity":"low","name":"a0","host_name":"h","event_type":"Process Execution"}}"#.to_string()),
        Case::one("alert medium", 100512, 10, alert("medium")),
        Case::one("alert high", 100513, 13, alert("high")),
        Case::one("alert critical", 100514, 15, alert("critical")),
        Case::one("incident without a specific rule", 100530, 6, incident("informational", "new", &[])),
        Case::one("active incident low", 100531, 6, incident("low", "new", &[])),
        Case::one("active incident medium", 100532, 10, incident("medium", "under_investigation", &[])),
        Case::one("rules-check minimal line (high, new)", 100533, 13, r#"{"integration":"cortex_xdr","xdr":{"type":"incident","incident_id":"1","severity":"high","status":"new","description":"Test"}}"#.to_string()),
        Case::one("active incident critical", 100534, 15, incident("critical", "new", &[])),
        Case::one("incident under investigation", 100535, 6, incident("informational", "under_investigation", &[("assigned_user_pretty_name", "Ann Analyst".into())])),
        Case::one("incident correlating many alerts", 100538, 11, incident("informational", "new", &[("alert_count", 12.into())])),
        Case::one("closed true positive", 100550, 3, incident("low", "resolved_true_positive", &[])),
        Case::one("closed false positive", 100551, 3, incident("high", "resolved_false_positive", &[])),
        Case::one("closed with analyst note", 100552, 5, incident("low", "resolved_true_positive", &[("resolve_comment", "confirmed phishing".into())])),
        Case::one("confirmed high", 100553, 8, incident("high", "resolved_true_positive", &[])),
        Case::one("confirmed critical", 100554, 10, incident("critical", "resolved_true_positive", &[])),
        Case::one("MITRE-mapped incident", 100570, 6, incident("informational", "resolved_other", &tactics("TA0043 - Reconnaissance"))),
    ];
    for (id, level, tactic) in [
        (100571, 10, "TA0003 - Persistence"),
        (100572, 11, "TA0004 - Privilege Escalation"),
        (100573, 11, "TA0005 - Defense Evasion"),
        (100574, 12, "TA0006 - Credential Access"),
        (100575, 12, "TA0008 - Lateral Movement"),
        (100576, 13, "TA0010 - Exfiltration"),
        (100577, 13, "TA0011 - Command and Control"),
        (100578, 14, "TA0040 - Impact"),
    ] {
        c.push(Case::one(
            &format!("MITRE tactic {tactic}"),
            id,
            level,
            incident("informational", "resolved_other", &tactics(tactic)),
        ));
    }
    c.push(Case::one(
        "wodle error, other code",
        100599,
        8,
        xdr_error("API_HTTP_500"),
    ));
    c.extend(cortex_xdr_health());
    c
}

fn xdr_error(code: &str) -> String {
    let rec = obj(&format!(
        r#"{{"error_source":"alerts","error_message":"request failed","error_code":"{code}","timestamp":"2026-04-01T00:00:00Z","gap_start":"2026-03-20T00:00:00Z","gap_end":"2026-03-25T00:00:00Z"}}"#
    ));
    xdr("error", &rec)
}

/// siemtap's health additions to the XDR set (100590-100595).
fn cortex_xdr_health() -> Vec<Case> {
    let summary = |alerts: bool, incidents: bool| {
        xdr(
            "run_summary",
            &obj(&format!(
                r#"{{"source":"orchestrator","timestamp":"2026-04-01T00:00:00Z","alerts_ran":true,"alerts_success":{alerts},"incidents_ran":true,"incidents_success":{incidents}}}"#
            )),
        )
    };
    let sample_401 = r#"{"integration":"cortex_xdr","xdr":{"type":"error","error_source":"alerts","error_message":"HTTP Error 401: Unauthorized","error_code":"API_HTTP_401","timestamp":"2026-04-01T00:00:00Z"}}"#;
    vec![
        Case::one(
            "run summary, alerts failed",
            100590,
            10,
            summary(false, true),
        ),
        Case::one(
            "run summary, incidents failed",
            100591,
            10,
            summary(true, false),
        ),
        Case::each(
            "authentication error (vendors.md 1.5 sample)",
            100592,
            12,
            vec![
                sample_401.to_string(),
                xdr_error("CONFIG_MISSING_CREDENTIAL"),
            ],
        ),
        Case::sequence(
            "authentication failing twice in 600 s",
            100593,
            14,
            vec![xdr_error("API_HTTP_401"), xdr_error("API_HTTP_401")],
        ),
        Case::one("rate limited", 100594, 8, xdr_error("API_HTTP_429")),
        Case::one("collection gap", 100595, 10, xdr_error("COLLECTION_GAP")),
    ]
}

/// Cases for a declarative connector's block (layout in `generate::custom`).
pub fn custom(shape: &Shape, block: u32) -> Vec<Case> {
    let (name, ns, key) = (&shape.integration, &shape.namespace, &shape.event_type_key);
    let ev = |et: Option<&str>, rec: &str| {
        let rec = obj(rec);
        match et {
            Some(et) => compact(name, ns, (key, et), &rec),
            None => json!({"integration": name, ns.as_str(): Value::Object(rec)}).to_string(),
        }
    };
    let err = |code: &str| {
        ev(
            Some("error"),
            &format!(
                r#"{{"error_source":"orchestrator","error_message":"failed","error_code":"{code}","timestamp":"2026-04-01T00:00:00Z","gap_start":"2026-03-01T00:00:00Z","gap_end":"2026-03-02T00:00:00Z"}}"#
            ),
        )
    };
    let summary = |failed: Option<&str>| {
        let mut rec = Map::new();
        rec.insert("source".into(), "orchestrator".into());
        for s in &shape.streams {
            rec.insert(format!("{s}_ran"), true.into());
            rec.insert(format!("{s}_success"), (Some(s.as_str()) != failed).into());
        }
        compact(name, ns, (key, "run_summary"), &rec)
    };
    let mut cases = vec![
        Case::one(
            "event without event_type (base rule only)",
            block,
            0,
            ev(None, r#"{"id":"1"}"#),
        ),
        Case::one(
            "event of an undeclared type",
            block + 1,
            3,
            ev(Some("login"), r#"{"id":"1","outcome":"success"}"#),
        ),
    ];
    for (i, t) in shape.event_types.iter().enumerate() {
        cases.push(Case::one(
            &format!("{t} event"),
            block + 2 + i as u32,
            3,
            ev(Some(t), r#"{"id":"1"}"#),
        ));
    }
    cases.push(Case::one(
        "run summary, all streams fine",
        block + 60,
        0,
        summary(None),
    ));
    for (i, s) in shape.streams.iter().enumerate() {
        cases.push(Case::one(
            &format!("run summary, {s} failed"),
            block + 61 + i as u32,
            10,
            summary(Some(s)),
        ));
    }
    cases.extend([
        Case::one(
            "health",
            block + 80,
            8,
            ev(
                Some("health"),
                r#"{"source":"items","health_code":"MAX_PAGES_REACHED","message":"stopped"}"#,
            ),
        ),
        Case::one("error, other code", block + 90, 8, err("API_HTTP_500")),
        Case::each(
            "authentication error",
            block + 91,
            12,
            vec![err("API_HTTP_401"), err("CONFIG_MISSING_CREDENTIAL")],
        ),
        Case::one("rate limited", block + 92, 8, err("API_HTTP_429")),
        Case::one("collection gap", block + 93, 10, err("COLLECTION_GAP")),
        Case::sequence(
            "authentication failing twice in 600 s",
            block + 94,
            14,
            vec![err("API_HTTP_401"), err("API_HTTP_401")],
        ),
    ]);
    cases
}
