//! Paging, sort, filters, late alerts, shapes, determinism and live arrivals.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Value, json};
use siemtap_sim::CortexXdrArgs;

use crate::client::*;

fn asc(field: &str) -> Value {
    json!({"field": field, "keyword": "asc"})
}

#[tokio::test]
async fn paging_to_exhaustion_returns_the_oracle() {
    let sim = Sim::start(CortexXdrArgs {
        no_rate_limit: true,
        ..frozen(250)
    })
    .await;
    let oracle = sim.oracle("").await;
    let (alerts, totals) = sim
        .drain(ALERTS, alert_window(), asc("creation_time"))
        .await;
    assert!(totals.iter().all(|t| *t == 250), "{totals:?}");
    let ids: Vec<String> = alerts
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        250,
        "no duplicates"
    );
    let mut want = strings(&oracle["streams"]["alerts"]);
    let mut got = ids.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // Sorted by creation (detection) time, then id.
    let keys: Vec<(i64, u64)> = alerts
        .iter()
        .map(|a| {
            (
                a["detection_timestamp"].as_i64().unwrap(),
                a["alert_id"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
    assert!(alerts.iter().any(|a| a.get("creation_time").is_none()));
    assert!(alerts.iter().all(|a| a["event_type"].is_string()));
    assert!(
        alerts.iter().any(|a| a.get("type").is_some()),
        "vendor `type` field"
    );

    let (incidents, totals) = sim
        .drain(INCIDENTS, incident_window(), asc("modification_time"))
        .await;
    assert!(totals.iter().all(|t| *t == 250));
    let mut got: Vec<String> = incidents.iter().map(version_id).collect();
    let mut want = strings(&oracle["streams"]["incidents"]);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let mods: Vec<i64> = incidents
        .iter()
        .map(|i| i["modification_time"].as_i64().unwrap())
        .collect();
    assert!(mods.windows(2).all(|w| w[0] <= w[1]));
    assert!(incidents.iter().any(|i| i.get("type").is_some()));
    let statuses: BTreeSet<&str> = incidents
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains("new") && statuses.contains("resolved_true_positive"));
    let served = &sim.oracle("").await["served"];
    assert_eq!(served["alerts"].as_object().unwrap().len(), 250);
    assert_eq!(served["incidents"].as_object().unwrap().len(), 250);
}

#[tokio::test]
async fn sort_and_filters() {
    let sim = Sim::start(CortexXdrArgs {
        no_rate_limit: true,
        ..frozen(300)
    })
    .await;
    let rank = |s: &str| {
        ["low", "medium", "high", "critical"]
            .iter()
            .position(|x| *x == s)
    };
    let (all, _) = sim.drain(ALERTS, json!([]), json!(null)).await;
    assert_eq!(all.len(), 300);
    let ids: Vec<u64> = all
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "default order: id");

    let (by_sev, _) = sim
        .drain(
            ALERTS,
            json!([]),
            json!({"field": "severity", "keyword": "desc"}),
        )
        .await;
    let keys: Vec<(i64, u64)> = by_sev
        .iter()
        .map(|a| {
            (
                -(rank(a["severity"].as_str().unwrap()).unwrap() as i64),
                a["alert_id"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "severity desc, then id asc"
    );

    let high = json!([{"field": "severity", "operator": "in", "value": ["high", "critical"]}]);
    let (hits, totals) = sim.drain(ALERTS, high, json!(null)).await;
    let expected = all
        .iter()
        .filter(|a| ["high", "critical"].contains(&a["severity"].as_str().unwrap()))
        .count();
    assert_eq!((hits.len(), totals[0] as usize), (expected, expected));
    assert!(expected > 0);

    let source = json!([{"field": "alert_source", "operator": "in", "value": ["XDR Agent"]},
                        {"field": "alert_id_list", "operator": "in", "value": ids[..50].to_vec()}]);
    let (hits, _) = sim.drain(ALERTS, source, json!(null)).await;
    assert!(!hits.is_empty() && hits.len() < 50);
    assert!(hits.iter().all(|a| a["source"] == "XDR Agent"));

    let (incs, _) = sim
        .drain(
            INCIDENTS,
            json!([]),
            json!({"field": "creation_time", "keyword": "desc"}),
        )
        .await;
    let created: Vec<i64> = incs
        .iter()
        .map(|i| i["creation_time"].as_i64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
    let active =
        json!([{"field": "status", "operator": "in", "value": ["new", "under_investigation"]}]);
    let (act, _) = sim.drain(INCIDENTS, active, json!(null)).await;
    let not_new = json!([{"field": "status", "operator": "neq", "value": "new"}]);
    let (rest, _) = sim.drain(INCIDENTS, not_new, json!(null)).await;
    let new = json!([{"field": "status", "operator": "eq", "value": "new"}]);
    let (fresh, _) = sim.drain(INCIDENTS, new, json!(null)).await;
    assert_eq!(fresh.len() + rest.len(), 300);
    assert!(act.len() > fresh.len());
    let one = json!([{"field": "incident_id_list", "operator": "in", "value": ["7"]}]);
    let (seven, _) = sim.drain(INCIDENTS, one, json!(null)).await;
    assert_eq!(seven.len(), 1);
    assert_eq!(seven[0]["incident_id"], "7");
}

#[tokio::test]
async fn late_alerts_are_found_by_server_time_but_not_by_creation_time() {
    let sim = Sim::start(CortexXdrArgs {
        no_rate_limit: true,
        late_fraction: 0.3,
        ..frozen(400)
    })
    .await;
    let start = t0_ms() - 24 * 3_600_000;
    let server = json!([{"field": "server_creation_time", "operator": "gte", "value": start}]);
    let detect = json!([{"field": "creation_time", "operator": "gte", "value": start}]);
    let (by_server, _) = sim.drain(ALERTS, server, json!(null)).await;
    let (by_detect, _) = sim.drain(ALERTS, detect, json!(null)).await;
    assert_eq!(
        by_server.len(),
        400,
        "server insertion time finds every alert"
    );
    assert!(
        by_detect.len() < 400,
        "the reference's creation_time filter misses late uploads"
    );
    let late = by_server
        .iter()
        .filter(|a| {
            a["local_insert_ts"].as_i64().unwrap() - a["detection_timestamp"].as_i64().unwrap()
                >= 3_600_000
        })
        .count();
    assert!(late > 60, "{late} late uploads");
    assert!(by_server.iter().all(|a| {
        a.get("creation_time")
            .is_none_or(|c| c.as_i64() <= a["local_insert_ts"].as_i64())
    }));
}

#[tokio::test]
async fn v2_multi_events_carry_large_events_and_same_ids() {
    let sim = Sim::start(frozen(20)).await;
    let body = json!({"request_data": {"search_from": 0, "search_to": 20}});
    let v1 = sim.post(ALERTS, &body).await.json();
    let v2 = sim.post(ALERTS_V2, &body).await.json();
    let ids = |v: &Value| -> Vec<String> {
        v["reply"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["alert_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&v1), ids(&v2));
    for a in v2["reply"]["alerts"].as_array().unwrap() {
        let events = a["events"].as_array().unwrap();
        assert!((1..=3).contains(&events.len()));
        for e in events {
            let size = e.to_string().len();
            assert!((5_000..=20_500).contains(&size), "event of {size} bytes");
        }
    }
    for a in v1["reply"]["alerts"].as_array().unwrap() {
        assert!(a["events"][0].is_object() && a.to_string().len() < 5_000);
    }
}

#[tokio::test]
async fn same_seed_same_bytes_and_live_arrivals() {
    let body = json!({"request_data": {"search_from": 0, "search_to": 100}});
    let a = Sim::start(CortexXdrArgs {
        seed: 9,
        ..frozen(50)
    })
    .await;
    let b = Sim::start(CortexXdrArgs {
        seed: 9,
        ..frozen(50)
    })
    .await;
    let c = Sim::start(CortexXdrArgs {
        seed: 10,
        ..frozen(50)
    })
    .await;
    for path in [ALERTS, INCIDENTS] {
        let (x, y, z) = (
            a.post(path, &body).await.body,
            b.post(path, &body).await.body,
            c.post(path, &body).await.body,
        );
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    let live = Sim::start(CortexXdrArgs {
        rate: Some(2.0),
        ..frozen(10)
    })
    .await;
    let before = live.oracle("").await;
    assert_eq!(before["streams"]["alerts"].as_array().unwrap().len(), 10);
    live.advance(10).await;
    let after = live.oracle("").await;
    assert_eq!(after["streams"]["alerts"].as_array().unwrap().len(), 30);
    // 20 arrivals: 15 new incidents, 5 updates; each update adds a version.
    assert_eq!(after["streams"]["incidents"].as_array().unwrap().len(), 30);
    let stats = live.control("GET", "/_sim/stats", None).await.json();
    assert_eq!(stats["incidents"], 25);
    let window = json!([{"field": "modification_time", "operator": "gte", "value": t0_ms()}]);
    let (fresh, _) = live
        .drain(INCIDENTS, window, asc("modification_time"))
        .await;
    // 15 new incidents plus the updated ones (an update may hit a live or repeated incident).
    assert!((15..=20).contains(&fresh.len()), "{}", fresh.len());
    let versions: HashSet<String> = strings(&after["streams"]["incidents"])
        .into_iter()
        .collect();
    assert!(fresh.iter().all(|i| versions.contains(&version_id(i))));
}
