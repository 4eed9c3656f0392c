use std::collections::HashSet;

use serde_json::json;
use siemtap_sim::OnePasswordArgs;

use crate::client::{Sim, flat, frozen, strings};

const PATHS: [(&str, &str); 3] = [
    ("audit", "/api/v2/auditevents"),
    ("signin", "/api/v2/signinattempts"),
    ("itemusage", "/api/v2/itemusages"),
];

fn is_upper_base32(s: &str) -> bool {
    s.len() == 26
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

#[tokio::test]
async fn paging_to_exhaustion_returns_exactly_the_oracle_ids_once() {
    let sim = Sim::start(frozen(250)).await;
    for (stream, path) in PATHS {
        let (ids, _) = sim.drain(path, flat(7)).await;
        let oracle = sim.oracle("").await;
        let expected = strings(&oracle["streams"][stream]);
        assert_eq!(
            expected.len(),
            250,
            "{stream}: all initial events are visible"
        );
        assert_eq!(ids, expected, "{stream}: same ids, same order");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "no duplicates"
        );
        assert!(
            ids.iter().all(|id| is_upper_base32(id)),
            "{stream}: uuid format"
        );
        let served = oracle["served"][stream].as_object().unwrap();
        assert_eq!(served.len(), 250);
        assert!(served.values().all(|c| c == 1));
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn items_have_vendor_shapes_and_values() {
    let sim = Sim::start(frozen(400)).await;
    let page = sim.post("/api/v2/signinattempts", &flat(1000)).await.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 400);
    let first = items[0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "uuid",
            "session_uuid",
            "timestamp",
            "country",
            "category",
            "type",
            "details",
            "target_user",
            "client"
        ]
    );
    assert!(
        items.iter().any(|i| i["country"] == ""),
        "some empty countries"
    );
    assert!(
        items.iter().any(|i| i["details"].is_null()),
        "some null details"
    );
    assert!(items.iter().any(|i| i["category"] == "firewall_failed"));
    assert!(
        items
            .iter()
            .any(|i| i["timestamp"].as_str().unwrap().len() == 20),
        "second precision"
    );
    assert!(
        items
            .iter()
            .any(|i| i["timestamp"].as_str().unwrap().contains('.')),
        "fractional"
    );
    let raw = sim.post("/api/v2/itemusages", &flat(1000)).await;
    let text = String::from_utf8(raw.body.clone()).unwrap();
    assert!(
        !text.is_ascii(),
        "non-ASCII names/places are served as UTF-8"
    );
    let usages = raw.json();
    for item in usages["items"].as_array().unwrap() {
        let vault = item["vault_uuid"].as_str().unwrap();
        assert!(
            vault
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
    }
    let audit = sim.post("/api/v2/auditevents", &flat(1000)).await.json();
    let actions: HashSet<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.len() >= 12,
        "rule-relevant actions appear: {actions:?}"
    );
    let audit_text = serde_json::to_string(&audit).unwrap();
    assert!(
        audit_text.chars().any(|c| c as u32 > 0xFFFF),
        "an emoji (outside the BMP) appears"
    );
}

#[tokio::test]
async fn tenants_have_separate_datasets_and_cursors() {
    let args = OnePasswordArgs {
        token: vec!["client-a=tok-a".into(), "client-b=tok-b".into()],
        ..frozen(60)
    };
    let sim = Sim::start(args).await;
    let (a_ids, a_cursor) = sim.drain_as("tok-a", "/api/v2/auditevents", flat(25)).await;
    let (b_ids, _) = sim.drain_as("tok-b", "/api/v2/auditevents", flat(25)).await;
    assert_eq!(
        a_ids,
        strings(&sim.oracle("?tenant=client-a").await["streams"]["audit"])
    );
    assert_eq!(
        b_ids,
        strings(&sim.oracle("?tenant=client-b").await["streams"]["audit"])
    );
    assert!(
        a_ids.iter().all(|id| !b_ids.contains(id)),
        "disjoint datasets"
    );
    let r = sim
        .post_as("tok-b", "/api/v2/auditevents", &json!({"cursor": a_cursor}))
        .await;
    assert_eq!(r.status, 400, "another tenant's cursor");
    assert!(
        sim.control("GET", "/_sim/oracle?tenant=nobody", None)
            .await
            .status
            == 400
    );
    let log = sim.requests().await;
    assert!(log.iter().any(|e| e["tenant"] == "client-b"));
}

async fn three_pages(args: OnePasswordArgs) -> Vec<Vec<u8>> {
    let sim = Sim::start(args).await;
    let mut bodies = Vec::new();
    let mut body = flat(40);
    for _ in 0..3 {
        let r = sim.post("/api/v2/auditevents", &body).await;
        let page = r.json();
        body = json!({"cursor": page["cursor"]});
        bodies.push(r.body);
    }
    sim.handle.shutdown().await;
    bodies
}

fn items_only(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    serde_json::to_string(&v["items"]).unwrap()
}

#[tokio::test]
async fn same_seed_and_clock_serve_byte_identical_bodies() {
    let det = || OnePasswordArgs {
        seed: 42,
        deterministic_cursors: true,
        ..frozen(100)
    };
    let a = three_pages(det()).await;
    let b = three_pages(det()).await;
    assert_eq!(a, b, "byte-identical bodies, cursors included");
    // Default (random) cursor keys: the items are still byte-identical.
    let c = three_pages(OnePasswordArgs {
        seed: 42,
        ..frozen(100)
    })
    .await;
    assert_ne!(a, c, "cursors differ across processes");
    for (x, y) in a.iter().zip(&c) {
        assert_eq!(items_only(x), items_only(y));
    }
    let d = three_pages(OnePasswordArgs { seed: 43, ..det() }).await;
    assert_ne!(
        items_only(&a[0]),
        items_only(&d[0]),
        "another seed, another dataset"
    );
}

#[cfg(target_os = "linux")]
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_million_events_per_stream_start_lazily_and_page() {
    let before = rss_kb();
    let sim = Sim::start(OnePasswordArgs {
        no_rate_limit: true,
        ..frozen(1_000_000)
    })
    .await;
    let mut body = flat(1000);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let page = sim.post("/api/v2/itemusages", &body).await.json();
        assert_eq!(page["items"].as_array().unwrap().len(), 1000);
        assert_eq!(page["has_more"], true);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["uuid"].clone()),
        );
        body = json!({"cursor": page["cursor"]});
    }
    // A late start_time skips ahead without walking a million records into responses.
    let recent = json!({"limit": 1000, "start_time": "2026-03-31T11:00:00Z"});
    let page = sim.post("/api/v2/auditevents", &recent).await.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1000);
    assert!(items[0]["timestamp"].as_str().unwrap() >= "2026-03-31T11:00:00");
    let grown_mb = rss_kb().saturating_sub(before) / 1024;
    // 3 × 1M materialised records would take gigabytes; lazy generation stays small.
    assert!(grown_mb < 200, "RSS grew by {grown_mb} MB");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 3000);
}

#[tokio::test]
async fn live_arrivals_reach_a_held_final_cursor() {
    let sim = Sim::start(OnePasswordArgs {
        rate: Some(2.0),
        ..frozen(20)
    })
    .await;
    let (ids, cursor) = sim.drain("/api/v2/signinattempts", flat(100)).await;
    assert_eq!(ids.len(), 20);
    let again = sim
        .post("/api/v2/signinattempts", &json!({"cursor": cursor}))
        .await
        .json();
    assert_eq!(
        again["items"].as_array().unwrap().len(),
        0,
        "nothing new while frozen"
    );
    assert_eq!(again["has_more"], false);
    sim.advance(10).await;
    let (new_ids, _) = sim
        .drain("/api/v2/signinattempts", json!({"cursor": cursor}))
        .await;
    assert_eq!(new_ids.len(), 20, "2/s for 10 s");
    let oracle = strings(&sim.oracle("?stream=signin").await["streams"]["signin"]);
    assert_eq!(oracle, [ids, new_ids].concat());
}
