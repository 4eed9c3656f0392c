//! The raw scan against the parsed (`Map`) path it replaces: same ledger hashes, same ids,
//! same output bytes.

use serde_json::{Map, Value};
use siemtap_core::Record;
use siemtap_core::shape::Shaper;

use super::super::api::tests::{CLICK, MESSAGE};
use super::super::api::{content_hash, ledger_id, parse_siem};
use super::super::shape::ProofpointShaper;
use super::*;

fn parsed(raw: &str) -> Map<String, Value> {
    serde_json::from_str(raw).unwrap_or_else(|e| panic!("{e}: {raw}"))
}

fn scan(raw: &str) -> Scanned<'_> {
    let mut scratch = Scratch::new();
    scan_record(raw, ["GUID", "messageTime"], &mut scratch).unwrap_or_else(|| panic!("{raw}"))
}

/// Records whose canonical form is easy to get wrong.
fn tricky_records() -> Vec<String> {
    let message = &MESSAGE[MESSAGE.find("[{").unwrap() + 1..MESSAGE.len() - 2];
    let mut records: Vec<String> = [
        CLICK,
        message,
        r#"{}"#,
        r#"{"b":1,"a":[true,null,"x"]}"#,
        r#"{"z":{"y":{"x":[],"w":{}},"a":[{"d":1,"c":2},[{"f":null,"e":"é"}]]},"m":null}"#,
        " { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { \"d\" : null , \"c\" : \"x\" } } ",
        r#"{"name":"Zoë 李雷 😀","escaped":"Zo\u00eb \u674e\u96f7 \ud83d\ude00","ctl":"\u0001\u001f\b\f\n\r\t","q":"a\"b\\c\/d","del":"\u007f"}"#,
        r#"{"é":1,"e":2,"E":3,"\u00e8":4,"Ä":5,"a\"b":6,"a\\b":7,"a\/b":8,"\n":9,"😀":10,"GUID":"g"}"#,
        r#"{"f":[1.0,1e3,1E3,1e+3,-1.5e-7,0.1,2.5e-10,1.7976931348623157e308,5e-324,0.30000000000000004,100.0,1e16,1.5e300]}"#,
        r#"{"i":[0,-1,7,18446744073709551615,9223372036854775807,-9223372036854775808,1234567890123456789,-123456789012345678]}"#,
        r#"{"GUID":"k","messageTime":"2026-04-01T00:00:00Z","n":{"GUID":"inner"}}"#,
        r#"{"GUID":"","messageTime":17}"#,
        r#"{"GUID":"\u0067\u0031","messageTime":"2026-04-01T00:00:00.5\u005a"}"#,
        r#"{"deep":[[[[[[[[[[{"a":[[[[["x"]]]]]}]]]]]]]]]]}"#,
    ]
    .map(str::to_owned)
    .to_vec();
    records.push("{\"raw_del\":\"a\u{7f}b\"}".to_owned());
    // Generated records: every key order, nesting, value kind and spacing mixed.
    let mut rng = Lcg(0x5eed);
    records.extend((0..400).map(|_| {
        let mut out = String::new();
        generate_object(&mut rng, 0, &mut out);
        out
    }));
    records
}

/// Records the raw shaper writes differently from the parsed path: kept parsed.
const NEEDS_OBJECT: [&str; 7] = [
    r#"{"a":1,"b":2,"a":3}"#,
    r#"{"x":{"k":1,"k":null}}"#,
    r#"{"z":-0}"#,
    r#"{"big":123456789012345678901234567890}"#,
    r#"{"big":18446744073709551616}"#,
    r#"{"neg":-9223372036854775809}"#,
    r#"{"GUID":"a","GUID":"b","list":[{"c":1},{"c":2,"c":3}]}"#,
];

#[test]
fn raw_hash_equals_the_parsed_hash() {
    for raw in tricky_records()
        .iter()
        .map(String::as_str)
        .chain(NEEDS_OBJECT)
    {
        let map = parsed(raw);
        let s = scan(raw);
        let mut text = String::new();
        super::super::api::canonical_object(&map, &mut text);
        assert_eq!(s.hash, content_hash(&map), "{raw}\ncanonical: {text}");
        // The key field, read the way `siem_event` reads it from the map.
        assert_eq!(
            s.fields[0].as_deref(),
            map.get("GUID").and_then(Value::as_str),
            "{raw}"
        );
        assert_eq!(
            s.fields[1].as_deref(),
            map.get("messageTime").and_then(Value::as_str),
            "{raw}"
        );
    }
}

#[test]
fn canonical_numbers_are_what_value_to_string_writes() {
    // `1e3` parses to the float 1000 and is written `1000.0` (no arbitrary_precision).
    let raw = r#"{"n":1e3}"#;
    let mut text = String::new();
    super::super::api::canonical_object(&parsed(raw), &mut text);
    assert_eq!(text, r#"{"n":1000.0}"#);
    let mut fnv = Fnv::new();
    fnv.feed(text.as_bytes());
    assert_eq!(scan(raw).hash, fnv.finish());
    assert_ne!(scan(raw).hash, scan(r#"{"n":1000}"#).hash);
}

#[test]
fn records_that_shape_differently_stay_parsed() {
    for raw in tricky_records() {
        assert!(!scan(&raw).needs_object, "{raw}");
    }
    for raw in NEEDS_OBJECT {
        assert!(scan(raw).needs_object, "{raw}");
    }
}

/// Window bodies holding every record above in each category.
fn body_of(records: &[&str]) -> String {
    let list = records.join(",");
    format!(
        r#"{{"queryEndTime":"2026-04-01T01:00:00Z","messagesBlocked":[{list}],"messagesDelivered":[{list}],"clicksBlocked":[{list}],"clicksPermitted":[{list}]}}"#
    )
}

#[test]
fn parse_siem_gives_the_ids_and_bytes_of_the_parsed_path() {
    let tricky = tricky_records();
    let records: Vec<&str> = tricky
        .iter()
        .map(String::as_str)
        .chain(NEEDS_OBJECT)
        .collect();
    let window = parse_siem(Some(body_of(&records).as_bytes())).unwrap();
    assert_eq!(window.counts, [records.len(); 4]);
    let shaper = ProofpointShaper::new(Some("t1".into()));
    for (n, event) in window.events.into_iter().enumerate() {
        let raw = records[n % records.len()];
        let map = parsed(raw);
        let (key_field, time_field) = if event.event_type.starts_with("clicks") {
            ("id", "clickTime")
        } else {
            ("GUID", "messageTime")
        };
        let key = map
            .get(key_field)
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty());
        assert_eq!(
            event.id.as_deref(),
            Some(ledger_id(&event.event_type, key, &map).as_str()),
            "{raw}"
        );
        let time = map
            .get(time_field)
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        assert_eq!(event.time, time, "{raw}");
        assert_eq!(
            matches!(event.record, Record::Raw(_)),
            !NEEDS_OBJECT.contains(&raw),
            "{raw}"
        );
        let mut got = Vec::new();
        let category = event.event_type.clone();
        shaper.vendor_event(event, &mut got);
        let mut want = Vec::new();
        shaper.vendor_event(
            siemtap_core::VendorEvent {
                event_type: category,
                id: None,
                time: None,
                record: Record::Object(map),
            },
            &mut want,
        );
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }
}

#[test]
fn what_the_tree_parse_rejected_is_still_rejected() {
    let deep = |n: usize| format!("{{\"d\":{}1{}}}", "[".repeat(n), "]".repeat(n));
    // Nesting the scan leaves to the parser, but serde_json accepts: parsed, same id.
    let nested = deep(110);
    let window = parse_siem(Some(body_of(&[nested.as_str()]).as_bytes())).unwrap();
    assert!(matches!(window.events[0].record, Record::Object(_)));
    assert_eq!(
        window.events[0].id.as_deref(),
        Some(ledger_id("messagesBlocked", None, &parsed(&nested)).as_str())
    );
    for bad in [
        r#"{"s":"\ud800"}"#.to_owned(),
        r#"{"n":1e400}"#.to_owned(),
        r#"[{"n":1e400}]"#.to_owned(),
        deep(200),
    ] {
        let body = body_of(&[bad.as_str()]);
        let err = parse_siem(Some(body.as_bytes())).unwrap_err();
        assert!(err.starts_with("body is not valid JSON ("), "{err}");
    }
    let err = parse_siem(Some(br#"{"other":1e400,"clicksBlocked":[]}"#)).unwrap_err();
    assert!(err.starts_with("body is not valid JSON ("), "{err}");
    let err = parse_siem(Some(b"{\"clicksBlocked\":[\"\xff\"]}")).unwrap_err();
    assert!(err.starts_with("body is not valid JSON ("), "{err}");
}

#[test]
fn body_shape_errors_and_skipped_items() {
    let w = parse_siem(Some(
        br#"{"clicksBlocked":[1,"x",null,[],{"id":"a"}],"clicksBlocked":[{"id":"b"},2],"messagesBlocked":null,"extra":{"k":[1]}}"#,
    ))
    .unwrap();
    // A repeated top-level key: the last one wins, as in a parsed map.
    assert_eq!((w.counts, w.skipped), ([0, 0, 1, 0], 1));
    assert!(
        w.events[0]
            .id
            .as_deref()
            .unwrap()
            .starts_with("clicksBlocked:b#")
    );
    for (body, want) in [
        (r#"[1,2]"#, "body is not a JSON object"),
        (r#""text""#, "body is not a JSON object"),
        (r#"null"#, "body is not a JSON object"),
        (r#"{"clicksBlocked":{}}"#, "`clicksBlocked` is not a list"),
        (
            r#"{"messagesDelivered":"x"}"#,
            "`messagesDelivered` is not a list",
        ),
        (r#"{"queryEndTime":5}"#, "`queryEndTime` is not a string"),
        (
            r#"{"queryEndTime":"yesterday"}"#,
            r#"`queryEndTime` "yesterday" is not an ISO-8601 time"#,
        ),
    ] {
        assert_eq!(parse_siem(Some(body.as_bytes())).unwrap_err(), want);
    }
    let empty = parse_siem(Some(b"")).unwrap_err();
    assert!(empty.starts_with("empty body with status 200 ("), "{empty}");
    for bad in [
        &b"<html>oops</html>"[..],
        br#"{"a":1} x"#,
        br#"{"clicksBlocked":[{"id":"#,
    ] {
        let err = parse_siem(Some(bad)).unwrap_err();
        assert!(err.starts_with("body is not valid JSON ("), "{err}");
    }
}

/// A small deterministic generator (no new dependency).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const KEYS: [&str; 12] = [
    r#""GUID""#,
    r#""messageTime""#,
    r#""id""#,
    r#""a""#,
    r#""B""#,
    r#""é""#,
    r#""\u00e9x""#,
    r#""k\"q""#,
    r#""threatsInfoMap""#,
    r#""😀""#,
    r#""""#,
    r#""a\nb""#,
];

const SCALARS: [&str; 20] = [
    "null",
    "true",
    "false",
    "0",
    "42",
    "-17",
    "1.0",
    "1e3",
    "-2.5E-3",
    "3.141592653589793",
    "9007199254740993",
    "0.1",
    r#""""#,
    r#""plain text""#,
    r#""2026-04-01T00:00:00.050Z""#,
    r#""tab\there""#,
    r#""Zo\u00eb \ud83d\ude00""#,
    r#""李雷""#,
    r#""a\/b\\c\"d""#,
    r#""\u0000\u001F""#,
];

const SPACE: [&str; 4] = ["", "", " ", "\n  "];

fn generate_value(rng: &mut Lcg, depth: usize, out: &mut String) {
    match rng.below(if depth < 4 { 8 } else { 5 }) {
        0..5 => out.push_str(rng.pick(&SCALARS)),
        5 | 6 => generate_object(rng, depth + 1, out),
        _ => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(rng.pick(&SPACE));
                generate_value(rng, depth + 1, out);
            }
            out.push(']');
        }
    }
}

/// An object with distinct keys in random order.
fn generate_object(rng: &mut Lcg, depth: usize, out: &mut String) {
    let mut keys: Vec<&str> = KEYS.to_vec();
    out.push('{');
    for i in 0..rng.below(7) {
        if i > 0 {
            out.push(',');
        }
        out.push_str(rng.pick(&SPACE));
        let key = keys.remove(rng.below(keys.len()));
        out.push_str(key);
        out.push_str(rng.pick(&SPACE));
        out.push(':');
        generate_value(rng, depth, out);
    }
    out.push_str(rng.pick(&SPACE));
    out.push('}');
}
