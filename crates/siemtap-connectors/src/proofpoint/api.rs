//! The TAP API wire format (spec §3.2–§3.4, §3.8): SIEM window bodies, People reports, and the
//! dedupe keys of §3.7.

use std::borrow::Cow;

use serde::de::{Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use siemtap_core::{Record, VendorEvent};

use super::canonical::{Fnv, Scanned, Scratch, scan_record};

/// SIEM categories in processing order: `(category, key field, time field)`.
pub const CATEGORIES: [(&str, &str, &str); 4] = [
    ("messagesBlocked", "GUID", "messageTime"),
    ("messagesDelivered", "GUID", "messageTime"),
    ("clicksBlocked", "id", "clickTime"),
    ("clicksPermitted", "id", "clickTime"),
];

/// One parsed SIEM window.
#[derive(Debug, Default)]
pub struct SiemWindow {
    /// `queryEndTime`, when present and parseable.
    pub query_end: Option<jiff::Timestamp>,
    /// Records in category order, then server order.
    pub events: Vec<VendorEvent>,
    /// Records per category (for the coverage log), in [`CATEGORIES`] order.
    pub counts: [usize; 4],
    /// Array items that were not objects (skipped).
    pub skipped: usize,
}

/// Parses a SIEM response body (`None` = 204 No Content). `Err` names what is wrong
/// (`API_INVALID_RESPONSE`).
///
/// The body is read without building a tree of the whole document: each record stays its raw
/// text ([`Record::Raw`], shaped later in one streaming pass), and its key, time and ledger
/// hash are read from that text in one scan (`canonical.rs`). A record the streaming shaper
/// would write differently from the parsed path (a repeated key, `-0`, an integer beyond 64
/// bits) is kept as a parsed object, so the output bytes do not depend on the path.
pub fn parse_siem(body: Option<&[u8]>) -> Result<SiemWindow, String> {
    let Some(body) = body else {
        return Ok(SiemWindow::default());
    };
    let invalid = |e: serde_json::Error| format!("body is not valid JSON ({e})");
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        // Not UTF-8 (an error path): the tree parse names the position, as it always did.
        Err(utf8) => {
            return Err(match serde_json::from_slice::<Value>(body) {
                Err(e) => invalid(e),
                Ok(_) => format!("body is not UTF-8 ({utf8})"),
            });
        }
    };
    let wire = match serde_json::from_str::<Top<'_>>(text) {
        Ok(Top::Object(wire)) => wire,
        Ok(Top::NotObject) => return Err("body is not a JSON object".into()),
        Err(e) if body.is_empty() => return Err(format!("empty body with status 200 ({e})")),
        Err(e) => return Err(invalid(e)),
    };
    let mut out = SiemWindow {
        query_end: match wire
            .query_end
            .map(|raw| serde_json::from_str::<Value>(raw.get()))
        {
            None | Some(Ok(Value::Null)) => None,
            Some(Ok(Value::String(s))) => Some(
                s.parse()
                    .map_err(|_| format!("`queryEndTime` {s:?} is not an ISO-8601 time"))?,
            ),
            Some(Ok(_)) => return Err("`queryEndTime` is not a string".into()),
            Some(Err(e)) => return Err(invalid(e)),
        },
        ..SiemWindow::default()
    };
    let mut scratch = Scratch::new();
    for (i, (category, key_field, time_field)) in CATEGORIES.into_iter().enumerate() {
        let items: Vec<&RawValue> = match wire.categories[i] {
            None => continue,
            Some(raw) if raw.get() == "null" => continue,
            Some(raw) if raw.get().starts_with('[') => {
                serde_json::from_str(raw.get()).map_err(invalid)?
            }
            Some(_) => return Err(format!("`{category}` is not a list")),
        };
        out.events.reserve(items.len());
        for item in items {
            if item.get().starts_with('{') {
                out.counts[i] += 1;
                let fields = [key_field, time_field];
                let event = match scan_record(item.get(), fields, &mut scratch) {
                    Some(scan) if !scan.needs_object => raw_event(category, item, scan),
                    // Rare records: parsed, exactly as before (and rejected where the tree
                    // parse rejected them).
                    _ => siem_event(
                        category,
                        key_field,
                        time_field,
                        serde_json::from_str(item.get()).map_err(invalid)?,
                    ),
                };
                out.events.push(event);
            } else {
                serde_json::from_str::<Value>(item.get()).map_err(invalid)?;
                out.skipped += 1;
            }
        }
    }
    Ok(out)
}

/// The top level of a SIEM body: the five keys it uses, each kept as raw text.
enum Top<'a> {
    Object(Wire<'a>),
    NotObject,
}

#[derive(Default)]
struct Wire<'a> {
    query_end: Option<&'a RawValue>,
    /// In [`CATEGORIES`] order.
    categories: [Option<&'a RawValue>; 4],
}

impl<'de> serde::Deserialize<'de> for Top<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut wire = Wire::default();
        // A repeated key: the last value wins, as in a parsed map.
        while let Some(key) = map.next_key::<String>()? {
            let raw: &'de RawValue = map.next_value()?;
            if key == "queryEndTime" {
                wire.query_end = Some(raw);
            } else if let Some(i) = CATEGORIES.iter().position(|(c, _, _)| *c == key) {
                wire.categories[i] = Some(raw);
            } else {
                // Unused, but a value the tree parse rejected (a number out of range) still
                // makes the body invalid.
                serde_json::from_str::<Value>(raw.get()).map_err(A::Error::custom)?;
            }
        }
        Ok(Top::Object(wire))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Top::NotObject)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Top::NotObject)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Top::NotObject)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Top::NotObject)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Top::NotObject)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Top::NotObject)
    }
}

/// A raw record's event: id and time from the scan, the text kept as it came.
fn raw_event(category: &'static str, item: &RawValue, scan: Scanned<'_>) -> VendorEvent {
    let [key, time] = scan.fields;
    let key = key.as_deref().filter(|k| !k.is_empty());
    VendorEvent {
        event_type: Cow::Borrowed(category),
        id: Some(id_with_hash(category, key, scan.hash)),
        time: time.and_then(|t| t.parse::<jiff::Timestamp>().ok()),
        record: Record::Raw(item.to_owned()),
    }
}

fn siem_event(
    category: &'static str,
    key_field: &str,
    time_field: &str,
    record: Map<String, Value>,
) -> VendorEvent {
    let key = record
        .get(key_field)
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty());
    let id = ledger_id(category, key, &record);
    let time = record
        .get(time_field)
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    VendorEvent {
        event_type: Cow::Borrowed(category),
        id: Some(id),
        time,
        record: record.into(),
    }
}

/// The oracle id of a SIEM record: `<category>:<GUID>` (messages) or `<category>:<id>` (clicks).
pub fn oracle_id(category: &str, key: &str) -> String {
    format!("{category}:{key}")
}

/// The ledger id (spec §3.7 step 4): the oracle id plus a hash of the record's canonical JSON,
/// so a known key whose content changed (a click moving from `active` to `cleared`) is emitted
/// again, while an identical re-read is suppressed. A record without a key is keyed by its
/// hash alone.
pub fn ledger_id(category: &str, key: Option<&str>, record: &Map<String, Value>) -> String {
    id_with_hash(category, key, content_hash(record))
}

/// `<oracle id>#<hash>`, or `<category>#<hash>` without a key.
fn id_with_hash(category: &str, key: Option<&str>, hash: u64) -> String {
    match key {
        Some(key) => format!("{}#{hash:016x}", oracle_id(category, key)),
        None => format!("{category}#{hash:016x}"),
    }
}

/// FNV-1a (64 bit) of the canonical JSON (keys sorted at every depth, compact). Stable across
/// builds and platforms, since ledgers outlive the binary that wrote them.
pub fn content_hash(record: &Map<String, Value>) -> u64 {
    let mut text = String::new();
    canonical_object(record, &mut text);
    let mut hash = Fnv::new();
    hash.feed(text.as_bytes());
    hash.finish()
}

/// The canonical JSON of a parsed record (the reference the raw scan must equal).
pub(super) fn canonical_object(map: &Map<String, Value>, out: &mut String) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(k.clone()).to_string());
        out.push(':');
        canonical(&map[k], out);
    }
    out.push('}');
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => canonical_object(map, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The two People reports: `(event_type, path, total key, statistics key)`.
pub const PEOPLE_REPORTS: [(&str, &str, &str); 2] = [
    ("vap", "/v2/people/vap", "totalVapUsers"),
    (
        "top_clickers",
        "/v2/people/top-clickers",
        "totalTopClickers",
    ),
];

/// One parsed People page.
#[derive(Debug, Default)]
pub struct PeoplePage {
    /// One event per user.
    pub events: Vec<VendorEvent>,
    /// The report total (`totalVapUsers` / `totalTopClickers`), when present.
    pub total: Option<u64>,
    /// Users on this page (objects or not).
    pub users: usize,
    /// The report's `interval` (changes when Proofpoint regenerates the report).
    pub interval: Option<String>,
}

/// Parses a People page (`None` = 204). Each user becomes one event: its own keys verbatim,
/// then `report: {window, interval, <the report's other top-level keys in order>}` (§3.3).
pub fn parse_people(
    body: Option<&[u8]>,
    event_type: &'static str,
    total_key: &str,
    window: u32,
) -> Result<PeoplePage, String> {
    let Some(body) = body else {
        return Ok(PeoplePage::default());
    };
    let doc: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err("body is not a JSON object".into()),
        Err(e) => return Err(format!("body is not valid JSON ({e})")),
    };
    let users = match doc.get("users") {
        Some(Value::Array(users)) => users.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("`users` is not a list".into()),
    };
    let interval = doc
        .get("interval")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut report = Map::new();
    report.insert("window".into(), Value::from(window));
    if let Some(i) = &interval {
        report.insert("interval".into(), Value::String(i.clone()));
    }
    for (k, v) in &doc {
        if k != "users" && k != "interval" {
            report.insert(k.clone(), v.clone());
        }
    }
    let time = interval
        .as_deref()
        .and_then(|i| i.rsplit('/').next())
        .and_then(|end| end.parse::<jiff::Timestamp>().ok());
    let mut page = PeoplePage {
        total: doc.get(total_key).and_then(Value::as_u64),
        users: users.len(),
        events: Vec::with_capacity(users.len()),
        interval: interval.clone(),
    };
    for user in users {
        let Value::Object(mut record) = user else {
            continue;
        };
        let guid = record
            .get("identity")
            .and_then(|i| i.get("guid"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        record.insert("report".into(), Value::Object(report.clone()));
        let id = match (&guid, &interval) {
            (Some(g), Some(i)) => format!("{event_type}:{g}@{i}"),
            _ => format!("{event_type}#{:016x}", content_hash(&record)),
        };
        page.events.push(VendorEvent {
            event_type: Cow::Borrowed(event_type),
            id: Some(id),
            time,
            record: record.into(),
        });
    }
    Ok(page)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MESSAGE: &str = r#"{"queryEndTime":"2072-03-30T13:00:00Z","messagesBlocked":[{"GUID":"x11xxxx1-12f9-111x-x12x-1x1x123456xx","QID":"x2XXxXXX111111","ccAddresses":["abc@example.com"],"clusterId":"pharmtech_hosted","completelyRewritten":"true","fromAddress":"abc@example.com","headerReplyTo":null,"impostorScore":0,"malwareScore":100,"messageID":"12345678912345.12345.mail@example.com","messageParts":[{"contentType":"application/pdf","disposition":"attached","filename":"text.pdf","md5":"b10a8db164e0754105b7a99be72e3fe5","oContentType":"application/pdf","sandboxStatus":"threat","sha256":"a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e"}],"messageTime":"2021-11-25T09:10:00.050Z","modulesRun":["pdr","sandbox","spam","urldefense"],"phishScore":46,"policyRoutes":["default_inbound","executives"],"quarantineFolder":"Attachment Defense","quarantineRule":"module.sandbox.threat","recipient":["example.abc@example.com"],"replyToAddress":null,"sender":"x99x7x5580193x6x51x597xx2x0210@example.com","senderIP":"175.16.199.1","spamScore":4,"subject":"Please find a totally safe invoice attached.","threatsInfoMap":[{"campaignId":"46x01x8x-x899-404x-xxx9-111xx393d1x7","classification":"MALWARE","threat":"example.com","threatId":"3xx97xx852c66a7xx761450xxxxxx9f4ffab74715b591294f78b5e37a76481xx","threatTime":"2021-07-20T05:00:00.050Z","threatType":"URL","threatUrl":"https://www.example.com/?name=john"}],"toAddresses":["example.abc@example.com"],"xmailer":"Spambot v2.5"}]}"#;

    pub(crate) const CLICK: &str = r#"{"url":"https://www.example.com/?name=john","classification":"phish","clickTime":"2022-03-21T07:52:11.000Z","threatTime":"2022-03-18T14:54:20.000Z","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) …","campaignId":"46x01x8x-x899-404x-xxx9-111xx393d1x7","id":"8760d0fc-78a4-4ab0-9355-2e3cdd155f1d","clickIP":"89.160.20.112","sender":"abc123@example.com","recipient":"123abc@example.com","senderIP":"81.2.69.143","GUID":"x11xxxx1-12f9-111x-x12x-1x1x123456xx","threatID":"3xx97xx852c66a7xx761450xxxxxx9f4ffab74715b591294f78b5e37a76481xx","threatURL":"https://www.abc.com/?name=john","threatStatus":"active","messageID":"12345678912345.12345.mail@example.com"}"#;

    #[test]
    fn sample_window_parses_with_keys_and_times() {
        let body = format!(
            r#"{{"queryEndTime":"2072-03-30T13:00:00Z","clicksPermitted":[{CLICK}],"messagesBlocked":{}}}"#,
            &MESSAGE[MESSAGE.find('[').unwrap()..MESSAGE.len() - 1]
        );
        let w = parse_siem(Some(body.as_bytes())).unwrap();
        assert_eq!(w.query_end, Some("2072-03-30T13:00:00Z".parse().unwrap()));
        assert_eq!(w.counts, [1, 0, 0, 1]);
        // Category order, whatever the body order.
        assert_eq!(w.events[0].event_type, "messagesBlocked");
        assert_eq!(w.events[1].event_type, "clicksPermitted");
        let id0 = w.events[0].id.as_deref().unwrap();
        assert!(
            id0.starts_with("messagesBlocked:x11xxxx1-12f9-111x-x12x-1x1x123456xx#"),
            "{id0}"
        );
        // Clicks are keyed by `id`, not the message GUID they share.
        let id1 = w.events[1].id.as_deref().unwrap();
        assert!(
            id1.starts_with("clicksPermitted:8760d0fc-78a4-4ab0-9355-2e3cdd155f1d#"),
            "{id1}"
        );
        assert_eq!(
            w.events[0].time,
            Some("2021-11-25T09:10:00.050Z".parse().unwrap())
        );
        assert_eq!(
            w.events[1].time,
            Some("2022-03-21T07:52:11Z".parse().unwrap())
        );
    }

    #[test]
    fn empty_windows_and_broken_bodies() {
        let empty = parse_siem(None).unwrap();
        assert!(empty.events.is_empty() && empty.query_end.is_none());
        let arrays = parse_siem(Some(br#"{"queryEndTime":"2026-04-01T00:00:00Z","messagesBlocked":[],"messagesDelivered":[],"clicksBlocked":[],"clicksPermitted":[]}"#)).unwrap();
        assert!(arrays.events.is_empty());
        for bad in [
            &b""[..],
            br#"{"messagesBlocked":[{"GUID":"#,
            br#"<html>oops</html>"#,
            br#"[1,2]"#,
            br#"{"clicksBlocked":{}}"#,
            br#"{"queryEndTime":"yesterday"}"#,
        ] {
            assert!(
                parse_siem(Some(bad)).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ledger_id_follows_content() {
        let a: Map<String, Value> = serde_json::from_str(CLICK).unwrap();
        let mut reordered: Map<String, Value> = Map::new();
        for (k, v) in a.iter().rev() {
            reordered.insert(k.clone(), v.clone());
        }
        let key = Some("8760d0fc-78a4-4ab0-9355-2e3cdd155f1d");
        assert_eq!(
            ledger_id("clicksBlocked", key, &a),
            ledger_id("clicksBlocked", key, &reordered)
        );
        let mut cleared = a.clone();
        cleared.insert("threatStatus".into(), "cleared".into());
        assert_ne!(
            ledger_id("clicksBlocked", key, &a),
            ledger_id("clicksBlocked", key, &cleared)
        );
        assert_ne!(
            ledger_id("clicksBlocked", key, &a),
            ledger_id("clicksPermitted", key, &a)
        );
        let unkeyed = ledger_id("clicksBlocked", None, &a);
        assert!(
            unkeyed.starts_with("clicksBlocked#") && unkeyed.len() == "clicksBlocked#".len() + 16
        );
        // Pinned: the hash must never change between builds (ledgers outlive binaries).
        let tiny: Map<String, Value> =
            serde_json::from_str(r#"{"b":1,"a":[true,null,"x"]}"#).unwrap();
        assert_eq!(
            content_hash(&tiny),
            content_hash(&serde_json::from_str(r#"{"a":[true,null,"x"],"b":1}"#).unwrap())
        );
        let mut text = String::new();
        canonical_object(&tiny, &mut text);
        assert_eq!(text, r#"{"a":[true,null,"x"],"b":1}"#);
    }

    #[test]
    fn people_users_carry_the_report() {
        let body = br#"{"users":[{"identity":{"guid":"88e36bf359-99e8-7e53-f58a-6df8b430be6d","customerUserId":null,"emails":["xxxx@xxx.com"],"name":null,"department":null,"location":null,"title":null,"vip":false},"threatStatistics":{"attackIndex":1805,"families":[{"name":"credential phishing","score":700}]}}],"totalVapUsers":1,"interval":"2021-04-06T21:48:25Z/2021-04-20T21:48:25Z","averageAttackIndex":604.6563,"vapAttackIndexThreshold":1032.7329}"#;
        let page = parse_people(Some(body), "vap", "totalVapUsers", 30).unwrap();
        assert_eq!((page.total, page.users), (Some(1), 1));
        let e = &page.events[0];
        assert_eq!(
            e.id.as_deref(),
            Some(
                "vap:88e36bf359-99e8-7e53-f58a-6df8b430be6d@2021-04-06T21:48:25Z/2021-04-20T21:48:25Z"
            )
        );
        assert_eq!(e.time, Some("2021-04-20T21:48:25Z".parse().unwrap()));
        assert_eq!(
            serde_json::to_string(&e.record.to_object()["report"]).unwrap(),
            r#"{"window":30,"interval":"2021-04-06T21:48:25Z/2021-04-20T21:48:25Z","totalVapUsers":1,"averageAttackIndex":604.6563,"vapAttackIndexThreshold":1032.7329}"#
        );
        assert!(
            parse_people(None, "vap", "totalVapUsers", 30)
                .unwrap()
                .events
                .is_empty()
        );
        assert!(parse_people(Some(br#"{"users":{}}"#), "vap", "totalVapUsers", 30).is_err());
        assert!(parse_people(Some(b"{\"users\":["), "vap", "totalVapUsers", 30).is_err());
    }
}
