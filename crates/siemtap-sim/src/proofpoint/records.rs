//! The JSON of SIEM record `i`, generated on demand (spec §3.8 shapes, §3.4 casing).
//!
//! The first draws of a record's PRNG are its id (`GUID` for messages, `id` for clicks), so
//! the oracle lists ids without building records. A click carries the `GUID` of a delivered
//! message (several clicks can share one), which is why clicks are keyed by `id`.

use serde_json::{Value, json};

use super::category::Category;
use super::timeline::Timeline;
use crate::common::clock::ns_to_ts;
use crate::common::prng::Draw;

const NS: i64 = 1_000_000_000;

/// Formats `ns` as ISO-8601 UTC with milliseconds (`2021-11-25T09:10:00.050Z`).
pub(crate) fn format_ms(ns: i64) -> String {
    let base = ns_to_ts(ns).strftime("%Y-%m-%dT%H:%M:%S").to_string();
    format!("{base}.{:03}Z", ns.rem_euclid(NS) / 1_000_000)
}

/// Formats `ns` as ISO-8601 UTC with whole seconds (`2021-04-20T21:48:25Z`).
pub(crate) fn format_s(ns: i64) -> String {
    ns_to_ts(ns).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A lowercase 8-4-4-4-12 hex GUID.
pub(crate) fn guid(d: &mut Draw) -> String {
    let a = d.next_u64();
    let b = d.next_u64();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// The id of record `key` (`GUID` for messages, `id` for clicks).
pub(crate) fn id_of(key: &[u64; 3]) -> String {
    guid(&mut Draw::new(key))
}

/// The oracle id `<category>:<id>`.
pub(crate) fn oracle_id(cat: Category, key: &[u64; 3]) -> String {
    format!("{}:{}", cat.key(), id_of(key))
}

const DOMAINS: &[&str] = &["example.com", "example.net", "example.org", "corp.example"];
const EXTERNAL: &[&str] = &[
    "invoices-online.example",
    "secure-login.example",
    "parcel-track.example",
    "hr-portal.example",
];
const SUBJECTS: &[&str] = &[
    "Please find a totally safe invoice attached.",
    "Action required: verify your mailbox",
    "Your parcel could not be delivered",
    "Updated salary review 2026",
    "Re: wire transfer today",
    "Shared document: Q3 plan",
];
const PARTS: &[(&str, &str, &str)] = &[
    ("application/pdf", "attached", "invoice.pdf"),
    ("text/plain", "inline", "text.txt"),
    ("text/html", "inline", "text.html"),
    ("application/zip", "attached", "documents.zip"),
    ("application/vnd.ms-excel", "attached", "payroll.xls"),
];
const MSG_CLASSIFICATION: &[(&str, u32)] =
    &[("MALWARE", 4), ("PHISH", 4), ("SPAM", 2), ("IMPOSTOR", 1)];
const CLICK_CLASSIFICATION: &[(&str, u32)] = &[("phish", 5), ("malware", 4), ("spam", 1)];
const THREAT_TYPE: &[(&str, u32)] = &[("URL", 5), ("ATTACHMENT", 3), ("MESSAGETEXT", 1)];
const THREAT_STATUS: &[(&str, u32)] = &[("active", 7), ("cleared", 2), ("falsePositive", 1)];
const MODULES: &[&str] = &["pdr", "sandbox", "spam", "urldefense", "av", "dmarc"];
const ROUTES: &[&str] = &[
    "default_inbound",
    "executives",
    "allow_relay",
    "firewallsafe",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
];
const IP_PREFIXES: &[&str] = &[
    "175.16.199.",
    "81.2.69.",
    "89.160.20.",
    "216.160.83.",
    "67.43.156.",
];

fn hex(d: &mut Draw, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[d.below(16) as usize]))
        .collect()
}

fn ip(d: &mut Draw) -> String {
    format!("{}{}", d.pick(IP_PREFIXES), d.below(254) + 1)
}

fn user_addr(d: &mut Draw) -> String {
    format!("user{:03}@{}", d.below(60), d.pick(DOMAINS))
}

fn ext_addr(d: &mut Draw) -> String {
    format!("{}@{}", d.base32(12, false), d.pick(EXTERNAL))
}

fn message_id(d: &mut Draw) -> String {
    format!(
        "{}.{}.mail@{}",
        d.below(90_000_000_000_000) + 10_000_000_000_000,
        d.below(90_000) + 10_000,
        d.pick(EXTERNAL)
    )
}

/// The `GUID` a click on the messages of this dataset refers to.
fn clicked_guid(seed: u64, n: u64, d: &mut Draw) -> String {
    let j = d.below(n.max(1));
    id_of(&[seed, Category::MessagesDelivered.id(), j])
}

/// Builds record `i` of category `cat` (`n`: `--events`, for click → message links).
pub(crate) fn build(tl: &Timeline, cat: Category, i: u64, n: u64) -> Value {
    let key = tl.record_key(i);
    let mut d = Draw::new(&key);
    let id = guid(&mut d);
    let time = format_ms(tl.event_ns(i));
    if cat.is_message() {
        message(&mut d, cat, id, time, tl.event_ns(i))
    } else {
        click(&mut d, key[0], n, id, time, tl.event_ns(i))
    }
}

fn threat(d: &mut Draw, event_ns: i64, campaign: &str) -> Value {
    let threat_type = d.weighted(THREAT_TYPE);
    let host = *d.pick(EXTERNAL);
    let url = format!("https://{host}/?id={}", d.below(100_000));
    json!({
        "campaignId": campaign,
        "classification": d.weighted(MSG_CLASSIFICATION),
        "threat": if threat_type == "ATTACHMENT" { hex(d, 64) } else { host.to_owned() },
        "threatId": hex(d, 64),
        "threatStatus": d.weighted(THREAT_STATUS),
        "threatTime": format_ms(event_ns - i64::try_from(d.below(72 * 3600)).unwrap_or(0) * NS),
        "threatType": threat_type,
        "threatUrl": url,
    })
}

fn message(d: &mut Draw, cat: Category, guid_s: String, time: String, event_ns: i64) -> Value {
    let blocked = cat == Category::MessagesBlocked;
    let campaign = guid(d);
    let threats: Vec<Value> = (0..=d.below(3))
        .map(|_| threat(d, event_ns, &campaign))
        .collect();
    let parts: Vec<Value> = (0..=d.below(5))
        .map(|_| {
            let (ct, disp, name) = *d.pick(PARTS);
            json!({
                "contentType": ct, "disposition": disp, "filename": name, "md5": hex(d, 32),
                "oContentType": ct, "sandboxStatus": if d.chance(0.3) { "threat" } else { "clean" },
                "sha256": hex(d, 64)
            })
        })
        .collect();
    let recipient = user_addr(d);
    let sender = ext_addr(d);
    let modules: Vec<&str> = MODULES.iter().copied().filter(|_| d.chance(0.6)).collect();
    let routes: Vec<&str> = ROUTES.iter().copied().filter(|_| d.chance(0.4)).collect();
    let mut m = serde_json::Map::new();
    m.insert("GUID".into(), guid_s.into());
    if !blocked {
        m.insert("id".into(), guid(d).into());
    }
    let qid = format!("{}{}", d.base32(2, false), d.base32(12, true));
    let cc: Vec<String> = (0..d.below(3)).map(|_| user_addr(d)).collect();
    let rest = json!({
        "QID": qid,
        "ccAddresses": cc,
        "clusterId": "pharmtech_hosted",
        "completelyRewritten": if d.chance(0.7) { "true" } else { "false" },
        "fromAddress": sender,
        "headerReplyTo": null,
        "impostorScore": d.below(101),
        "malwareScore": d.below(101),
        "messageID": message_id(d),
        "messageParts": parts,
        "messageTime": time,
        "modulesRun": modules,
        "phishScore": d.below(101),
        "policyRoutes": routes,
        "quarantineFolder": if blocked { json!("Attachment Defense") } else { Value::Null },
        "quarantineRule": if blocked { json!("module.sandbox.threat") } else { Value::Null },
        "recipient": [recipient],
        "replyToAddress": null,
        "sender": sender,
        "senderIP": ip(d),
        "spamScore": d.below(101),
        "subject": d.pick(SUBJECTS),
        "threatsInfoMap": threats,
        "toAddresses": [recipient],
        "xmailer": if d.chance(0.5) { json!("Spambot v2.5") } else { Value::Null },
    });
    if let Value::Object(r) = rest {
        m.extend(r);
    }
    Value::Object(m)
}

fn click(d: &mut Draw, seed: u64, n: u64, id: String, time: String, event_ns: i64) -> Value {
    let host = *d.pick(EXTERNAL);
    json!({
        "url": format!("https://{host}/?name={}", d.base32(6, false)),
        "classification": d.weighted(CLICK_CLASSIFICATION),
        "clickTime": time,
        "threatTime": format_ms(event_ns - i64::try_from(d.below(72 * 3600)).unwrap_or(0) * NS),
        "userAgent": d.pick(AGENTS),
        "campaignId": guid(d),
        "id": id,
        "clickIP": ip(d),
        "sender": ext_addr(d),
        "recipient": user_addr(d),
        "senderIP": ip(d),
        "GUID": clicked_guid(seed, n, d),
        "threatID": hex(d, 64),
        "threatURL": format!("https://threatinsight.proofpoint.com/{}/threat/email/{}", guid(d), hex(d, 64)),
        "threatStatus": d.weighted(THREAT_STATUS),
        "messageID": message_id(d),
    })
}

/// Whether `record` passes the optional `threatType` / `threatStatus` filters
/// (case-insensitive). Clicks are URL threats; a message passes when one of its
/// `threatsInfoMap` entries does.
pub(crate) fn passes(
    record: &Value,
    cat: Category,
    threat_type: Option<&str>,
    threat_status: Option<&str>,
) -> bool {
    let eq = |v: &Value, want: Option<&str>| {
        want.is_none_or(|w| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(w)))
    };
    if cat.is_message() {
        record["threatsInfoMap"].as_array().is_some_and(|ts| {
            ts.iter()
                .any(|t| eq(&t["threatType"], threat_type) && eq(&t["threatStatus"], threat_status))
        })
    } else {
        threat_type.is_none_or(|t| t.eq_ignore_ascii_case("url"))
            && eq(&record["threatStatus"], threat_status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_ids_and_casing() {
        let t0 = 1_800_000_000 * NS;
        let tl = Timeline::new(3, Category::MessagesDelivered, 50, t0, None, None);
        let m = build(&tl, Category::MessagesDelivered, 4, 50);
        assert_eq!(m["GUID"], id_of(&tl.record_key(4)));
        assert!(m["id"].is_string());
        assert!(m["threatsInfoMap"][0]["threatId"].is_string());
        assert!(m["threatsInfoMap"][0]["threatUrl"].is_string());
        assert_eq!(m["messageTime"], format_ms(tl.event_ns(4)));
        let parts = m["messageParts"].as_array().unwrap().len();
        assert!((1..=5).contains(&parts));
        let tl = Timeline::new(3, Category::ClicksPermitted, 50, t0, None, None);
        let c = build(&tl, Category::ClicksPermitted, 9, 50);
        assert_eq!(c["id"], id_of(&tl.record_key(9)));
        assert!(c["threatID"].is_string() && c["threatURL"].is_string());
        let guids: Vec<String> = (0..50)
            .map(|j| id_of(&[3, Category::MessagesDelivered.id(), j]))
            .collect();
        assert!(guids.contains(&c["GUID"].as_str().unwrap().to_owned()));
        assert_eq!(
            format_ms(1_635_110_212_827_288_935),
            "2021-10-24T21:16:52.827Z"
        );
        assert!(passes(&c, Category::ClicksPermitted, Some("URL"), None));
        assert!(!passes(
            &c,
            Category::ClicksPermitted,
            Some("attachment"),
            None
        ));
    }
}
