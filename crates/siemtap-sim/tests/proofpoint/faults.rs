use std::collections::HashSet;

use serde_json::json;
use siemtap_sim::ProofpointArgs;

use crate::client::{Sim, counts, frozen, interval, send, strings};

const HOUR: i64 = 3600;

async fn day_hour_by_hour(sim: &Sim) -> Vec<String> {
    let mut ids = Vec::new();
    for h in (1..=25).rev() {
        ids.extend(sim.window(-h * HOUR, -(h - 1) * HOUR).await);
    }
    ids
}

#[tokio::test]
async fn quota_exhausted_fault_is_a_429_for_the_matching_request_only() {
    let sim = Sim::start(ProofpointArgs {
        quota_retry_after: true,
        ..frozen(50)
    })
    .await;
    sim.faults(json!({"faults":[{"match":{"path":"/v2/siem/all","nth":[2]},"action":{"quota_exhausted":true}}]}))
        .await;
    let path = interval(-HOUR, 0);
    assert_ne!(sim.get(&path).await.status, 429);
    let r = sim.get(&path).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("3600"));
    assert_ne!(sim.get(&path).await.status, 429);
    let log = sim.requests().await;
    assert!(
        log[1]["fault"]
            .as_str()
            .unwrap()
            .contains("quota_exhausted")
    );
    assert_eq!(
        log[1]["rate_limited"], false,
        "injected, not self-inflicted"
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn lookback_400_refuses_windows_older_than_12_hours() {
    let sim = Sim::start(frozen(500)).await;
    sim.faults(
        json!({"faults":[{"match":{"path_prefix":"/v2/siem/"},"action":{"lookback_400":true}}]}),
    )
    .await;
    let r = sim.get(&interval(-13 * HOUR, -12 * HOUR)).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("12 hours"), "{}", r.text());
    assert_eq!(
        sim.get(&interval(-12 * HOUR - 1, -11 * HOUR)).await.status,
        400
    );
    assert_eq!(sim.get(&interval(-12 * HOUR, -11 * HOUR)).await.status, 200);
    assert_eq!(
        sim.get("/v2/people/vap?window=90").await.status,
        200,
        "People are unaffected"
    );
    sim.control("DELETE", "/_sim/faults", None).await;
    assert_eq!(sim.get(&interval(-13 * HOUR, -12 * HOUR)).await.status, 200);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn duplicate_across_windows_serves_the_boundary_minute_twice() {
    let sim = Sim::start(frozen(1000)).await;
    let clean = day_hour_by_hour(&sim).await;
    sim.faults(json!({"faults":[{"action":{"duplicate_across_windows":true}}]}))
        .await;
    let dup = day_hour_by_hour(&sim).await;
    let c = counts(&dup);
    let twice: Vec<&&str> = c.keys().filter(|k| c[**k] == 2).collect();
    assert!(!twice.is_empty(), "some boundary-minute records come twice");
    assert!(c.values().all(|n| *n <= 2));
    assert_eq!(
        c.keys().copied().collect::<HashSet<_>>(),
        clean.iter().map(String::as_str).collect::<HashSet<_>>(),
        "no record lost or invented"
    );
    // Exactly the records in the last minute before each hour boundary repeat.
    let o = sim.oracle("?generated=true").await;
    for g in o["generated"]["siem"].as_array().unwrap() {
        let id = g["id"].as_str().unwrap();
        let t: jiff::Timestamp = g["event_time"].as_str().unwrap().parse().unwrap();
        let in_last_minute = t.as_second().rem_euclid(3600) >= 3540;
        let inside = t < "2026-03-31T11:00:00Z".parse().unwrap();
        assert_eq!(
            c.get(id) == Some(&2),
            in_last_minute && inside,
            "{id} at {t}"
        );
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn late_events_become_visible_after_their_delay_and_only_then_enter_the_oracle() {
    let sim = Sim::start(frozen(500)).await;
    sim.faults(json!({"faults":[{"match":{"stream":"siem"},"action":{"late_events":{"fraction":0.2,"delay_s":7200}}}]}))
        .await;
    let first = day_hour_by_hour(&sim).await;
    let o = sim.oracle("?generated=true").await;
    let visible = strings(&o["streams"]["siem"]);
    assert_eq!(
        first.iter().collect::<HashSet<_>>(),
        visible.iter().collect::<HashSet<_>>()
    );
    let generated = o["generated"]["siem"].as_array().unwrap();
    assert_eq!(generated.len(), 2000);
    let late = generated
        .iter()
        .filter(|g| g["event_time"] != g["visible_at"])
        .count();
    assert!(
        late > 300 && late < 500,
        "{late} late records (fraction 0.2 of 2000)"
    );
    // Only the records of the last two hours are still invisible.
    assert_eq!(
        visible.len(),
        2000 - generated
            .iter()
            .filter(|g| {
                let v: jiff::Timestamp = g["visible_at"].as_str().unwrap().parse().unwrap();
                v > "2026-03-31T12:00:00Z".parse().unwrap()
            })
            .count()
    );
    assert!(visible.len() < 2000);
    sim.advance(7200).await;
    let all = strings(&sim.oracle("").await["streams"]["siem"]);
    assert_eq!(all.len(), 2000);
    // Re-reading the same windows now returns the late arrivals as well.
    let second = day_hour_by_hour(&sim).await;
    assert_eq!(
        second.iter().collect::<HashSet<_>>(),
        all.iter().collect::<HashSet<_>>()
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn common_faults_apply_to_proofpoint_routes() {
    let sim = Sim::start(frozen(300)).await;
    sim.faults(json!({"faults":[
        {"match":{"path":"/v2/siem/all","nth":[1]},"action":{"status":503,"retry_after":{"form":"seconds","value":2}}},
        {"match":{"path":"/v2/siem/all","nth":[2]},"action":{"truncate_body_at":0.5}},
        {"match":{"path":"/v2/siem/all","nth":[3]},"action":{"drop_connection":true}},
        {"match":{"stream":"people","nth":[1]},"action":{"invalid_json":true}},
        {"match":{"after_clock":"2026-03-31T13:00:00Z"},"action":{"token_expiry":{"at":"2026-03-31T13:00:00Z"}}}
    ]}))
    .await;
    let path = interval(-5 * HOUR, -4 * HOUR);
    let r = sim.get(&path).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("2"));
    let r = sim.get(&path).await;
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&r.body).is_err(),
        "truncated"
    );
    let served = sim.oracle("").await["served"]["siem"]
        .as_object()
        .unwrap()
        .len();
    assert!(served > 0, "served counts include truncated bodies");
    assert!(
        send(
            sim.addr(),
            "GET",
            &path,
            &[("Authorization", &sim.auth)],
            None
        )
        .await
        .is_err()
    );
    let r = sim.get("/v2/people/vap?window=30").await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert_eq!(sim.get(&path).await.status, 200, "no more faults");
    sim.advance(3600).await;
    let r = sim.get(&path).await;
    assert_eq!(r.status, 401, "token_expiry");
    let log = sim.requests().await;
    let statuses: Vec<u64> = log.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [503, 200, 0, 200, 200, 401]);
    assert_eq!(log[5]["auth"], "expired");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn reset_reanchors_the_dataset_and_clears_counts() {
    let sim = Sim::start(ProofpointArgs {
        quota_scale: 0.001,
        ..frozen(40)
    })
    .await;
    let before = strings(&sim.oracle("").await["streams"]["siem"]);
    sim.get(&interval(-5 * HOUR, -4 * HOUR)).await;
    sim.get("/v2/people/vap?window=30").await;
    let r = sim
        .control("POST", "/_sim/reset", Some(json!({"seed": 4})))
        .await;
    assert_eq!(r.status, 200);
    let o = sim.oracle("").await;
    assert!(o["served"]["siem"].as_object().unwrap().is_empty());
    assert!(strings(&o["streams"]["people"]).is_empty());
    let after = strings(&o["streams"]["siem"]);
    assert_eq!(after.len(), 160);
    assert!(
        after.iter().all(|i| !before.contains(i)),
        "new seed, new ids"
    );
    let q = sim.control("GET", "/_sim/quota", None).await.json();
    assert_eq!(q["buckets"]["shared"]["used"], 0);
    assert_eq!(
        sim.control("GET", "/_sim/health", None).await.json()["vendor"],
        "proofpoint"
    );
    sim.handle.shutdown().await;
}
