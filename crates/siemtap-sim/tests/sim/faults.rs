use serde_json::{Value, json};
use siemtap_sim::OnePasswordArgs;

use crate::client::{Sim, flat, frozen, send, strings};

const AUDIT: &str = "/api/v2/auditevents";
const SIGNIN: &str = "/api/v2/signinattempts";

async fn sim_with(plan: Value) -> Sim {
    let sim = Sim::start(frozen(30)).await;
    sim.faults(plan).await;
    sim
}

#[tokio::test]
async fn status_retry_after_forms_and_nth() {
    let sim = sim_with(json!({"faults":[
        {"match":{"path":AUDIT,"nth":[1]},"action":{"status":429,"retry_after":{"form":"seconds","value":2}}},
        {"match":{"path":AUDIT,"nth":[2]},"action":{"status":503,"retry_after":{"form":"http-date","offset_s":3}}},
        {"match":{"path":AUDIT,"nth":[3]},"action":{"status":429,"retry_after":{"form":"garbage"}}},
        {"match":{"path":AUDIT,"nth":[4]},"action":{"status":429,"retry_after":{"form":"huge"}}},
        {"match":{"path":AUDIT,"nth":[5]},"action":{"status":502,"retry_after":{"form":"absent"}}}
    ]}))
    .await;
    let mut got = Vec::new();
    for _ in 0..6 {
        let r = sim.post(AUDIT, &flat(5)).await;
        got.push((r.status, r.header("retry-after").map(str::to_owned)));
    }
    assert_eq!(got[0], (429, Some("2".into())));
    assert_eq!(got[1], (503, Some("Tue, 31 Mar 2026 12:00:03 GMT".into())));
    assert_eq!(got[2], (429, Some("soon, probably".into())));
    assert_eq!(got[3], (429, Some("999999999".into())));
    assert_eq!(got[4], (502, None));
    assert_eq!(got[5].0, 200);
    assert_eq!(
        sim.post(SIGNIN, &flat(5)).await.status,
        200,
        "other paths unaffected"
    );
    let log = sim.requests().await;
    assert!(log[0]["fault"].as_str().unwrap().starts_with("rule 0"));
    assert_eq!(
        log[0]["rate_limited"], false,
        "injected 429s are not self-inflicted"
    );
    let stats = sim.control("GET", "/_sim/stats", None).await.json();
    assert_eq!(
        (
            stats["faults_applied"].as_u64(),
            stats["self_inflicted_429"].as_u64()
        ),
        (Some(5), Some(0))
    );
}

#[tokio::test]
async fn burst_every_probability_and_filters() {
    let sim = sim_with(json!({"faults":[
        {"match":{"path":AUDIT,"nth":[1]},"action":{"status":500,"burst":2}},
        {"match":{"path":SIGNIN,"every":2},"action":{"status":502}},
        {"match":{"stream":"itemusage","tenant":"default","method":"post","probability":1.0},"action":{"status":504}},
        {"match":{"path_prefix":"/api/v2/auth","probability":0.0},"action":{"status":500}}
    ]}))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(sim.post(AUDIT, &flat(5)).await.status);
    }
    assert_eq!(statuses, [500, 500, 500, 200]);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(sim.post(SIGNIN, &flat(5)).await.status);
    }
    assert_eq!(statuses, [200, 502, 200, 502]);
    assert_eq!(sim.post("/api/v2/itemusages", &flat(5)).await.status, 504);
    assert_eq!(
        sim.get_as("sim-token", "/api/v2/auth/introspect")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn broken_bodies_still_count_as_served() {
    let sim = sim_with(json!({"faults":[
        {"match":{"path":AUDIT,"nth":[1]},"action":{"truncate_body_at":0.5}},
        {"match":{"path":AUDIT,"nth":[2]},"action":{"invalid_json":true}},
        {"match":{"path":AUDIT,"nth":[3]},"action":{"html_body":true}},
        {"match":{"path":AUDIT,"nth":[4]},"action":{"wrong_content_type":true}},
        {"match":{"path":AUDIT,"nth":[5]},"action":{"empty_200":true}},
        {"match":{"path":AUDIT,"nth":[6]},"action":{"delay_ms":20}}
    ]}))
    .await;
    let full = sim.post(SIGNIN, &flat(10)).await.body.len();
    let r = sim.post(AUDIT, &flat(10)).await;
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_slice::<Value>(&r.body).is_err(),
        "truncated body is not JSON"
    );
    assert!(
        r.body.len() * 3 < full * 2,
        "about half of a {full}-byte page: {}",
        r.body.len()
    );
    let served = sim.oracle("?stream=audit").await["served"]["audit"]
        .as_object()
        .unwrap()
        .len();
    assert_eq!(served, 10, "items of the truncated page count as served");
    let r = sim.post(AUDIT, &flat(10)).await;
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    let r = sim.post(AUDIT, &flat(10)).await;
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    let r = sim.post(AUDIT, &flat(10)).await;
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 10);
    let r = sim.post(AUDIT, &flat(10)).await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    let r = sim.post(AUDIT, &flat(10)).await;
    assert_eq!(
        r.json()["items"].as_array().unwrap().len(),
        10,
        "delay_ms then a normal page"
    );
    let log = sim.requests().await;
    assert!(
        log.iter()
            .any(|e| e["fault"].as_str().is_some_and(|f| f.contains("delay_ms")))
    );
}

#[tokio::test]
async fn cursor_faults() {
    let sim = sim_with(json!({"faults":[
        {"match":{"path":AUDIT},"action":{"cursor_reject":true}},
        {"match":{"path":SIGNIN,"nth":[1]},"action":{"missing_cursor":true}},
        {"match":{"path":SIGNIN,"nth":[2]},"action":{"empty_cursor":true}},
        {"match":{"path":SIGNIN,"nth":[3,4]},"action":{"has_more_stuck":true}},
        {"match":{"path":"/api/v2/itemusages"},"action":{"cursor_reject":{"older_than_s":60}}}
    ]}))
    .await;
    let first = sim.post(AUDIT, &flat(5)).await.json();
    assert_eq!(
        first["items"].as_array().unwrap().len(),
        5,
        "first pages are never rejected"
    );
    let r = sim.post(AUDIT, &json!({"cursor": first["cursor"]})).await;
    assert_eq!(r.status, 400);

    let page = sim.post(SIGNIN, &flat(5)).await.json();
    assert!(page.get("cursor").is_none() && page["items"].as_array().unwrap().len() == 5);
    let page = sim.post(SIGNIN, &flat(5)).await.json();
    assert_eq!(page["cursor"], "");
    let page = sim.post(SIGNIN, &flat(5)).await.json();
    assert_eq!(
        (
            page["has_more"].clone(),
            page["items"].as_array().unwrap().len()
        ),
        (json!(true), 0)
    );
    let stuck = page["cursor"].clone();
    let again = sim.post(SIGNIN, &json!({"cursor": stuck})).await.json();
    assert_eq!(
        again["cursor"], stuck,
        "no progress: the same cursor comes back"
    );
    assert_eq!(again["items"].as_array().unwrap().len(), 0);

    let page = sim.post("/api/v2/itemusages", &flat(5)).await.json();
    assert_eq!(
        sim.post("/api/v2/itemusages", &json!({"cursor": page["cursor"]}))
            .await
            .status,
        200
    );
    sim.advance(61).await;
    assert_eq!(
        sim.post("/api/v2/itemusages", &json!({"cursor": page["cursor"]}))
            .await
            .status,
        400
    );
    let page = sim
        .post("/api/v2/itemusages", &json!({"cursor": "x"}))
        .await;
    assert_eq!(
        page.status, 400,
        "an undecodable cursor is refused by cursor validation anyway"
    );
}

#[tokio::test]
async fn cursor_match_after_clock_and_drop_connection() {
    let sim = Sim::start(frozen(30)).await;
    let page = sim.post(AUDIT, &flat(5)).await.json();
    let cursor = page["cursor"].as_str().unwrap().to_owned();
    sim.faults(json!({"faults":[
        {"match":{"cursor":cursor},"action":{"status":400}},
        {"match":{"path":SIGNIN,"after_clock":"2026-03-31T12:05:00Z"},"action":{"drop_connection":true}}
    ]}))
    .await;
    assert_eq!(
        sim.post(AUDIT, &json!({"cursor": cursor})).await.status,
        400
    );
    assert_eq!(
        sim.post(SIGNIN, &flat(5)).await.status,
        200,
        "before after_clock"
    );
    sim.advance(300).await;
    let auth = "Bearer sim-token";
    let body = serde_json::to_vec(&flat(5)).unwrap();
    let err = send(
        sim.addr(),
        "POST",
        SIGNIN,
        &[("Authorization", auth)],
        Some(&body),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.kind(),
        std::io::ErrorKind::UnexpectedEof,
        "closed without a response"
    );
    assert_eq!(
        sim.post(AUDIT, &flat(5)).await.status,
        200,
        "the server keeps serving"
    );
    let r = sim.control("DELETE", "/_sim/faults", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(sim.post(SIGNIN, &flat(5)).await.status, 200, "cleared");
    let bad = sim
        .control(
            "POST",
            "/_sim/faults",
            Some(json!({"faults":[{"match":{"paht":"/"},"action":{"status":500}}]})),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"].as_str().unwrap().contains("paht"));
}

#[tokio::test]
async fn token_expiry_applies_to_introspect_and_streams() {
    let sim = sim_with(json!({"faults":[
        {"match":{"tenant":"default"},"action":{"token_expiry":{"at":"2026-03-31T12:01:00Z"}}}
    ]}))
    .await;
    assert_eq!(
        sim.get_as("sim-token", "/api/v2/auth/introspect")
            .await
            .status,
        200
    );
    sim.advance(60).await;
    assert_eq!(
        sim.get_as("sim-token", "/api/v2/auth/introspect")
            .await
            .status,
        401
    );
    assert_eq!(sim.post(AUDIT, &flat(5)).await.status, 401);
    let log = sim.requests().await;
    assert_eq!(log.last().unwrap()["auth"], "expired");
}

#[tokio::test]
async fn late_events_become_visible_later_and_reach_a_held_cursor() {
    let dir = std::env::temp_dir().join(format!("siemtap-sim-late-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.json");
    std::fs::write(
        &plan,
        r#"{"faults":[{"match":{"stream":"signin"},"action":{"late_events":{"fraction":0.3,"delay_s":7200}}}]}"#,
    )
    .unwrap();
    let sim = Sim::start(OnePasswordArgs {
        faults: Some(plan),
        ..frozen(200)
    })
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
    let (ids, cursor) = sim.drain(SIGNIN, flat(9)).await;
    let oracle_now = strings(&sim.oracle("?stream=signin").await["streams"]["signin"]);
    assert_eq!(ids, oracle_now);
    assert!(
        ids.len() < 200,
        "late records in the last 2 h are not visible yet: {}",
        ids.len()
    );
    let all = sim.oracle("?stream=signin&generated=true").await;
    assert_eq!(all["generated"]["signin"].as_array().unwrap().len(), 200);
    // The audit stream is not affected.
    assert_eq!(sim.drain(AUDIT, flat(100)).await.0.len(), 200);

    sim.advance(7200).await;
    let (late, _) = sim.drain(SIGNIN, json!({"cursor": cursor})).await;
    assert_eq!(ids.len() + late.len(), 200);
    let oracle_later = strings(&sim.oracle("?stream=signin").await["streams"]["signin"]);
    assert_eq!(
        oracle_later,
        [ids.clone(), late.clone()].concat(),
        "visibility order, prefix stable"
    );
    let served = sim.oracle("?stream=signin").await["served"]["signin"].clone();
    assert!(
        served.as_object().unwrap().values().all(|c| c == 1),
        "each served once"
    );
}

#[tokio::test]
async fn reset_and_clock_control() {
    let sim = Sim::start(frozen(20)).await;
    let page = sim.post(AUDIT, &flat(5)).await.json();
    let before = strings(&sim.oracle("").await["streams"]["audit"]);
    let r = sim
        .control("POST", "/_sim/reset", Some(json!({"seed": 9})))
        .await;
    assert_eq!(r.json()["seed"], 9);
    assert_eq!(
        sim.post(AUDIT, &json!({"cursor": page["cursor"]}))
            .await
            .status,
        400,
        "pre-reset cursor"
    );
    let after = sim.oracle("").await;
    assert_ne!(strings(&after["streams"]["audit"]), before);
    assert!(after["served"]["audit"].as_object().unwrap().is_empty());
    assert_eq!(
        sim.requests().await.len(),
        1,
        "log cleared (only the 400 since)"
    );
    for bad in [
        json!({"set": "yesterday"}),
        json!({"mode": "slow"}),
        json!({"advance_s": 1, "mode": "frozen"}),
    ] {
        assert_eq!(
            sim.control("POST", "/_sim/clock", Some(bad)).await.status,
            400
        );
    }
    let c = sim
        .control(
            "POST",
            "/_sim/clock",
            Some(json!({"set": "2026-04-01T00:00:00Z"})),
        )
        .await
        .json();
    assert_eq!(c, json!({"now": "2026-04-01T00:00:00Z", "mode": "frozen"}));
    let c = sim
        .control("POST", "/_sim/clock", Some(json!({"mode": "realtime"})))
        .await
        .json();
    assert_eq!(c["mode"], "realtime");
    assert_eq!(
        sim.control("GET", "/_sim/health", None).await.json()["status"],
        "ok"
    );
}
