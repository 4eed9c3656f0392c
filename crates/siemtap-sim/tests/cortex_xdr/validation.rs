//! Request-body validation and the 10 requests/s limit.

use serde_json::json;
use siemtap_sim::{CortexXdrArgs, RetryAfterForm};

use crate::client::*;

#[tokio::test]
async fn bodies_outside_the_spec_are_rejected() {
    let sim = Sim::start(CortexXdrArgs {
        no_rate_limit: true,
        ..frozen(150)
    })
    .await;
    let cases: Vec<(&str, serde_json::Value, u16, &str)> = vec![
        (ALERTS, json!({}), 400, "request_data"),
        (ALERTS, json!({"filters": []}), 400, "request_data"),
        (
            ALERTS,
            json!({"request_data": {"search_from": 0, "search_to": 101}}),
            400,
            "maximum",
        ),
        (
            ALERTS,
            json!({"request_data": {"search_from": -1, "search_to": 10}}),
            400,
            "negative",
        ),
        (
            ALERTS,
            json!({"request_data": {"search_from": 10, "search_to": 5}}),
            400,
            "smaller",
        ),
        (ALERTS, json!({"request_data": {"limit": 5}}), 400, "limit"),
        (
            ALERTS,
            json!({"request_data": {"filters": [{"field": "modification_time", "operator": "gte", "value": 5}]}}),
            400,
            "modification_time",
        ),
        (
            ALERTS,
            json!({"request_data": {"filters": [{"field": "creation_time", "operator": "in", "value": [5]}]}}),
            400,
            "operator",
        ),
        (
            ALERTS,
            json!({"request_data": {"sort": {"field": "local_insert_ts", "keyword": "asc"}}}),
            400,
            "sort field",
        ),
        (
            ALERTS,
            json!({"request_data": {"sort": {"field": "severity", "keyword": "up"}}}),
            400,
            "keyword",
        ),
        (
            INCIDENTS,
            json!({"request_data": {"filters": [{"field": "severity", "operator": "in", "value": ["low"]}]}}),
            400,
            "severity",
        ),
        (
            INCIDENTS,
            json!({"request_data": {"filters": [{"field": "status", "operator": "gte", "value": "new"}]}}),
            400,
            "operator",
        ),
        (
            INCIDENTS,
            json!({"request_data": {"sort": {"field": "severity", "keyword": "asc"}}}),
            400,
            "sort field",
        ),
        (
            ALERTS,
            json!({"request_data": {"filters": [{"field": "server_creation_time", "operator": "gte", "value": 0}]}}),
            500,
            "value param is missing",
        ),
        (
            INCIDENTS,
            json!({"request_data": {"filters": [{"field": "modification_time", "operator": "lte", "value": 0}]}}),
            500,
            "value param is missing",
        ),
    ];
    for (path, body, status, needle) in cases {
        let r = sim.post(path, &body).await;
        assert_eq!(r.status, status, "{path} {body}: {}", r.text());
        let reply = &r.json()["reply"];
        assert_eq!(reply["err_code"], status);
        assert!(
            reply["err_msg"].as_str().unwrap().contains(needle),
            "{body}: {reply}"
        );
    }
    // Every operator of §4.3 is accepted.
    let ok = [
        (
            ALERTS,
            json!([{"field": "alert_id_list", "operator": "in", "value": [1, "2"]},
                   {"field": "alert_source", "operator": "in", "value": ["XDR Agent"]},
                   {"field": "severity", "operator": "in", "value": ["high"]},
                   {"field": "creation_time", "operator": "gte", "value": 1},
                   {"field": "server_creation_time", "operator": "lte", "value": t0_ms()}]),
        ),
        (
            INCIDENTS,
            json!([{"field": "incident_id_list", "operator": "in", "value": ["1"]},
                   {"field": "creation_time", "operator": "lte", "value": t0_ms()},
                   {"field": "status", "operator": "neq", "value": "new"},
                   {"field": "status", "operator": "in", "value": ["new", "under_investigation"]}]),
        ),
    ];
    for (path, filters) in ok {
        let r = sim
            .post(path, &json!({"request_data": {"filters": filters}}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

#[tokio::test]
async fn clamp_page_serves_100_instead_of_400() {
    let sim = Sim::start(CortexXdrArgs {
        clamp_page: true,
        ..frozen(150)
    })
    .await;
    let r = sim
        .post(
            ALERTS,
            &json!({"request_data": {"search_from": 0, "search_to": 500}}),
        )
        .await;
    assert_eq!(r.status, 200);
    let reply = &r.json()["reply"];
    assert_eq!(reply["result_count"], 100);
    assert_eq!(reply["total_count"], 150);
}

#[tokio::test]
async fn ten_requests_per_second_then_429_with_retry_after() {
    let sim = Sim::start(frozen(1)).await;
    let body = json!({"request_data": {}});
    for i in 0..10 {
        // Alternate endpoints: the bucket is per key id, not per endpoint.
        let path = if i % 2 == 0 { ALERTS } else { INCIDENTS };
        assert_eq!(sim.post(path, &body).await.status, 200, "request {i}");
    }
    let r = sim.post(ALERTS, &body).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.json()["reply"]["err_code"], 429);
    let log = sim.control("GET", "/_sim/requests", None).await.json();
    assert_eq!(log["self_inflicted_429"], 1);
    sim.advance(1).await;
    assert_eq!(sim.post(ALERTS, &body).await.status, 200, "refilled");

    let dated = Sim::start(CortexXdrArgs {
        retry_after_form: RetryAfterForm::HttpDate,
        ..frozen(1)
    })
    .await;
    for _ in 0..10 {
        assert_eq!(dated.post(ALERTS, &body).await.status, 200);
    }
    let r = dated.post(ALERTS, &body).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("retry-after"),
        Some("Tue, 31 Mar 2026 12:00:01 GMT")
    );

    let free = Sim::start(CortexXdrArgs {
        no_rate_limit: true,
        ..frozen(1)
    })
    .await;
    for _ in 0..25 {
        assert_eq!(free.post(ALERTS, &body).await.status, 200);
    }
}
