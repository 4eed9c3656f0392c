//! Fault injection: the XDR knobs, late events, token expiry and the shared per-request knobs.

use std::collections::HashSet;

use serde_json::{Value, json};
use siemtap_sim::CortexXdrArgs;

use crate::client::*;

fn page(from: u64, filters: &Value, sort: &Value) -> Value {
    json!({"request_data": {"filters": filters, "sort": sort,
        "search_from": from, "search_to": from + 100}})
}

fn unlimited(events: u64) -> CortexXdrArgs {
    CortexXdrArgs {
        no_rate_limit: true,
        ..frozen(events)
    }
}

#[tokio::test]
async fn incident_mutated_mid_pagination_leaves_the_window_and_adds_an_oracle_version() {
    let sim = Sim::start(unlimited(250)).await;
    sim.faults(json!({"faults": [{"match": {"stream": "incidents"},
        "action": {"mutate_mid_pagination": {"after_page": 1, "count": 3}}}]}))
        .await;
    let (w, sort) = (
        incident_window(),
        json!({"field": "modification_time", "keyword": "asc"}),
    );
    let mut read = Vec::new();
    let mut totals = Vec::new();
    for from in [0, 100, 200] {
        let r = sim.post(INCIDENTS, &page(from, &w, &sort)).await.json();
        totals.push(r["reply"]["total_count"].as_u64().unwrap());
        read.extend(r["reply"]["incidents"].as_array().unwrap().clone());
    }
    assert_eq!(
        totals,
        vec![250, 247, 247],
        "three incidents left the window"
    );
    let mutated: Vec<String> = read[..3]
        .iter()
        .map(|i| i["incident_id"].as_str().unwrap().to_owned())
        .collect();
    let read_ids: HashSet<String> = read
        .iter()
        .map(|i| i["incident_id"].as_str().unwrap().to_owned())
        .collect();

    // A second pass over the same window is stable (the fault fires once per window) and
    // holds the three records the offset shift skipped.
    let (again, totals) = sim.drain(INCIDENTS, w.clone(), sort.clone()).await;
    assert!(totals.iter().all(|t| *t == 247));
    let skipped: Vec<&Value> = again
        .iter()
        .filter(|i| !read_ids.contains(i["incident_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped.len(),
        3,
        "offset paging skipped the records at the page boundary"
    );

    // The new versions: modification_time = now, a status step, and one more oracle entry each.
    let oracle = strings(&sim.oracle("?stream=incidents").await["streams"]["incidents"]);
    assert_eq!(oracle.len(), 253);
    for id in &mutated {
        assert!(oracle.contains(&format!("{id}@{}", t0_ms())), "{id}");
    }
    let later = json!([{"field": "modification_time", "operator": "gte", "value": t0_ms() - 1000}]);
    let (fresh, _) = sim.drain(INCIDENTS, later, sort).await;
    let fresh_ids: Vec<&str> = fresh
        .iter()
        .map(|i| i["incident_id"].as_str().unwrap())
        .collect();
    assert_eq!(fresh_ids.len(), 3);
    for new in &fresh {
        let old = read[..3]
            .iter()
            .find(|o| o["incident_id"] == new["incident_id"])
            .expect("a mutated incident");
        assert_eq!(new["modification_time"], t0_ms());
        assert_ne!(new["status"], "new", "a status step");
        assert_eq!(new["creation_time"], old["creation_time"]);
    }
}

#[tokio::test]
async fn alerts_inserted_mid_pagination_shift_creation_time_offsets() {
    let sim = Sim::start(unlimited(250)).await;
    sim.faults(json!({"faults": [{"match": {"path": ALERTS},
        "action": {"insert_mid_pagination": {"after_page": 1, "count": 2}}}]}))
        .await;
    // The reference's request: creation_time gte, sorted by creation_time.
    let w =
        json!([{"field": "creation_time", "operator": "gte", "value": t0_ms() - 40 * 3_600_000}]);
    let sort = json!({"field": "creation_time", "keyword": "asc"});
    let p1 = sim.post(ALERTS, &page(0, &w, &sort)).await.json();
    let p2 = sim.post(ALERTS, &page(100, &w, &sort)).await.json();
    assert_eq!(p1["reply"]["total_count"], 250);
    assert_eq!(p2["reply"]["total_count"], 252);
    let ids = |p: &Value| -> Vec<String> {
        p["reply"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["alert_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (first, second) = (ids(&p1), ids(&p2));
    assert_eq!(
        &second[..2],
        &first[98..],
        "the shift repeats the boundary records"
    );
    let oracle = strings(&sim.oracle("").await["streams"]["alerts"]);
    assert_eq!(oracle.len(), 252);
    let new: Vec<&String> = oracle
        .iter()
        .filter(|id| !first.contains(id) && !second.contains(id))
        .collect();
    assert!(new.contains(&&"251".to_owned()) && new.contains(&&"252".to_owned()));
    let one = json!([{"field": "alert_id_list", "operator": "in", "value": ["251"]}]);
    let (got, _) = sim.drain(ALERTS, one, json!(null)).await;
    assert_eq!(got[0]["local_insert_ts"], t0_ms());
    assert_eq!(
        got[0]["creation_time"], p1["reply"]["alerts"][0]["creation_time"],
        "an old creation_time"
    );
    // A closed server_creation_time window ending before now does not see them.
    let (closed, _) = sim.drain(ALERTS, alert_window(), json!(null)).await;
    assert_eq!(closed.len(), 250);
}

#[tokio::test]
async fn total_count_drift_on_one_page() {
    let sim = Sim::start(unlimited(250)).await;
    sim.faults(json!({"faults": [{"match": {"path": ALERTS, "nth": [2]},
        "action": {"total_count_drift": 5}}]}))
        .await;
    let (_, totals) = sim.drain(ALERTS, alert_window(), json!(null)).await;
    assert_eq!(totals, vec![250, 255, 250]);
}

#[tokio::test]
async fn late_events_hide_alerts_until_inserted() {
    let sim = Sim::start(unlimited(200)).await;
    sim.faults(json!({"faults": [{"match": {"stream": "alerts"},
        "action": {"late_events": {"fraction": 0.3, "delay_s": 7200}}}]}))
        .await;
    let visible = strings(&sim.oracle("").await["streams"]["alerts"]).len();
    assert!(visible < 200, "{visible}");
    let (now, _) = sim.drain(ALERTS, json!([]), json!(null)).await;
    assert_eq!(now.len(), visible);
    sim.advance(7200).await;
    let (all, _) = sim.drain(ALERTS, json!([]), json!(null)).await;
    assert_eq!(all.len(), 200);
    let late: Vec<&Value> = all
        .iter()
        .filter(|a| {
            a["local_insert_ts"].as_i64().unwrap() - a["detection_timestamp"].as_i64().unwrap()
                == 7_200_000
        })
        .collect();
    assert!(late.len() > 30);
    assert!(
        late.iter()
            .any(|a| a["local_insert_ts"].as_i64().unwrap() > t0_ms())
    );
}

#[tokio::test]
async fn token_expiry_turns_valid_credentials_into_401() {
    let sim = Sim::start(frozen(5)).await;
    sim.faults(json!({"faults": [{"action": {"token_expiry": {"at": "2026-03-31T12:01:00Z"}}}]}))
        .await;
    let body = json!({"request_data": {}});
    assert_eq!(sim.post(ALERTS, &body).await.status, 200);
    sim.advance(61).await;
    let r = sim.post(INCIDENTS, &body).await;
    assert_eq!(r.status, 401);
    assert!(
        r.json()["reply"]["err_extra"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(sim.requests().await.last().unwrap()["auth"], "expired");
}

#[tokio::test]
async fn shared_per_request_knobs() {
    let sim = Sim::start(unlimited(150)).await;
    sim.faults(json!({"faults": [
        {"match": {"path": INCIDENTS, "nth": [1]}, "action": {"status": 503, "burst": 1}},
        {"match": {"path": INCIDENTS, "nth": [3]},
         "action": {"status": 429, "retry_after": {"form": "http-date", "offset_s": 3}}},
        {"match": {"path": ALERTS, "search_from": 100}, "action": {"status": 500}},
        {"match": {"path": ALERTS_V2, "nth": [1]}, "action": {"truncate_body_at": 0.5}},
        {"match": {"path": ALERTS_V2, "nth": [2]}, "action": {"drop_connection": true}},
        {"match": {"path": ALERTS_V2, "nth": [3]}, "action": {"invalid_json": true}}
    ]}))
    .await;
    let body = json!({"request_data": {}});
    assert_eq!(sim.post(INCIDENTS, &body).await.status, 503);
    assert_eq!(sim.post(INCIDENTS, &body).await.status, 503, "burst");
    let r = sim.post(INCIDENTS, &body).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("retry-after"),
        Some("Tue, 31 Mar 2026 12:00:03 GMT")
    );
    assert_eq!(sim.post(INCIDENTS, &body).await.status, 200);

    let w = json!([]);
    assert_eq!(
        sim.post(ALERTS, &page(0, &w, &json!(null))).await.status,
        200
    );
    assert_eq!(
        sim.post(ALERTS, &page(100, &w, &json!(null))).await.status,
        500
    );

    let small = json!({"request_data": {"search_from": 0, "search_to": 3}});
    let cut = sim.post(ALERTS_V2, &small).await;
    assert_eq!(cut.status, 200);
    assert!(
        serde_json::from_slice::<Value>(&cut.body).is_err(),
        "truncated"
    );
    let h = sim.auth().await;
    let bytes = serde_json::to_vec(&small).unwrap();
    assert!(
        send(sim.addr(), "POST", ALERTS_V2, &h, Some(&bytes))
            .await
            .is_err()
    );
    let broken = sim.post(ALERTS_V2, &small).await;
    assert!(serde_json::from_slice::<Value>(&broken.body).is_err());
    assert_eq!(sim.post(ALERTS_V2, &small).await.status, 200);

    // Served counts include the truncated and broken pages.
    let served = &sim.oracle("?stream=alerts").await["served"]["alerts"];
    // v1 page 0, then v2 truncated, broken and clean; the dropped connection never built a page.
    assert_eq!(served["1"], 4);
    let log = sim.requests().await;
    assert!(
        log.iter().any(|e| e["status"] == 0),
        "dropped connection logged as 0"
    );
    assert!(log.iter().filter(|e| e["fault"].is_string()).count() >= 7);

    let bad = sim
        .control(
            "POST",
            "/_sim/faults",
            Some(json!({"faults": [{"action":
            {"mutate_mid_pagination": {"after_page": 0}}}]})),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn faults_file_and_reset() {
    let path = std::env::temp_dir().join(format!("xdr-faults-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"faults":[{"match":{"path":"/public_api/v1/alerts/get_alerts"},"action":{"status":502}}]}"#,
    )
    .unwrap();
    let sim = Sim::start(CortexXdrArgs {
        faults: Some(path.clone()),
        ..frozen(5)
    })
    .await;
    let body = json!({"request_data": {}});
    assert_eq!(sim.post(ALERTS, &body).await.status, 502);
    let r = sim
        .control("POST", "/_sim/reset", Some(json!({"seed": 3})))
        .await;
    assert_eq!(r.json()["seed"], 3);
    assert_eq!(
        sim.post(ALERTS, &body).await.status,
        200,
        "reset clears faults"
    );
    std::fs::write(&path, "{\"faults\":[{\"action\":{}}]}").unwrap();
    let err = siemtap_sim::spawn_cortex_xdr(CortexXdrArgs {
        faults: Some(path.clone()),
        ..frozen(5)
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("--faults"), "{err}");
    let _ = std::fs::remove_file(&path);
}
