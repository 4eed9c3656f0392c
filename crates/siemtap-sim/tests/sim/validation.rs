use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use siemtap_sim::{OnePasswordArgs, RetryAfterForm};

use crate::client::{Sim, flat, frozen, send};

#[tokio::test]
async fn auth_routes_and_introspect() {
    let sim = Sim::start(OnePasswordArgs {
        features: Some("auditevents,signinattempts".into()),
        ..frozen(10)
    })
    .await;
    let addr = sim.addr();
    let r = send(addr, "POST", "/api/v2/auditevents", &[], Some(b"{}"))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert!(r.json()["message"].as_str().unwrap().contains("Bearer"));
    let r = sim.post_as("wrong", "/api/v2/auditevents", &flat(5)).await;
    assert_eq!(r.status, 401);
    assert!(
        !String::from_utf8_lossy(&r.body).contains("sim-token"),
        "never echo a token"
    );
    let r = sim.get_as("sim-token", "/api/v2/auth/introspect").await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["features"], json!(["auditevents", "signinattempts"]));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["uuid", "issued_at", "features", "account_uuid"]);
    assert_eq!(sim.post("/api/v2/itemusages", &flat(5)).await.status, 403);
    assert_eq!(sim.post("/api/v2/nothing", &flat(5)).await.status, 404);
    let r = sim.get_as("sim-token", "/api/v2/auditevents").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert_eq!(
        sim.post("/api/v2/auth/introspect", &json!({})).await.status,
        405
    );
    let log = sim.requests().await;
    let auths: Vec<&str> = log.iter().map(|e| e["auth"].as_str().unwrap()).collect();
    assert_eq!(&auths[..3], ["missing", "invalid", "ok"]);
    assert_eq!(log[0]["auth_ok"], false);
}

#[tokio::test]
async fn bodies_limits_and_forms() {
    let sim = Sim::start(OnePasswordArgs {
        strict_body: false,
        ..frozen(150)
    })
    .await;
    let p = "/api/v2/auditevents";
    for bad in [
        json!({"limit": 0, "start_time": "2026-03-30T00:00:00Z"}),
        json!({"limit": 1001, "start_time": "2026-03-30T00:00:00Z"}),
        json!({"limit": "100"}),
        json!({"limit": 10, "start_time": "31/03/2026"}),
        json!({"limit": 10, "start_time": "2026-03-31T00:00:00Z", "end_time": "2026-03-30T00:00:00Z"}),
        json!({"ResetCursor": {"limit": 5000}}),
        json!({"cursor": ""}),
    ] {
        let r = sim.post(p, &bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["message"].is_string());
    }
    // Default limit 100.
    let r = sim
        .post(p, &json!({"start_time": "2026-03-29T00:00:00Z"}))
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 100);
    assert_eq!(r["has_more"], true);
    // A start older than 120 days is clamped, not refused.
    let r = sim
        .post(
            p,
            &json!({"limit": 1000, "start_time": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 150);
    // Wrapper accepted and recorded; limit next to a cursor ignored and recorded.
    let r = sim
        .post(
            p,
            &json!({"ResetCursor": {"limit": 5, "start_time": "2026-03-29T00:00:00Z"}}),
        )
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 5);
    let r2 = sim
        .post(p, &json!({"cursor": r["cursor"], "limit": 50}))
        .await
        .json();
    assert_eq!(
        r2["items"].as_array().unwrap().len(),
        5,
        "the cursor keeps its limit"
    );
    // end_time filters (exclusive).
    let r = sim.post(p, &json!({"limit": 1000, "start_time": "2026-03-29T00:00:00Z", "end_time": "2026-03-31T00:00:00Z"})).await.json();
    let items = r["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() < 150);
    assert!(
        items
            .iter()
            .all(|i| i["timestamp"].as_str().unwrap() < "2026-03-31T00:00:00")
    );
    let log = sim.requests().await;
    let forms: Vec<&str> = log.iter().filter_map(|e| e["body_form"].as_str()).collect();
    assert!(
        forms.contains(&"flat")
            && forms.contains(&"reset_cursor_wrapper")
            && forms.contains(&"cursor")
    );
    let with_cursor = log
        .iter()
        .find(|e| e["body_form"] == "cursor" && e["status"] == 200)
        .unwrap();
    assert_eq!(with_cursor["limit_with_cursor"], 50);
    assert_eq!(with_cursor["items"], 5);
}

#[tokio::test]
async fn strict_body_ignores_the_wrapper_fields() {
    let sim = Sim::start(OnePasswordArgs {
        strict_body: true,
        ..frozen(300)
    })
    .await;
    let body = json!({"ResetCursor": {"limit": 5, "start_time": "2026-03-29T00:00:00Z"}});
    let r = sim.post("/api/v2/auditevents", &body).await.json();
    // Defaults: limit 100, start now − 1 h (≈ 12 of 300 events in 24 h minus the 10-minute settle).
    let n = r["items"].as_array().unwrap().len();
    assert!(n > 5 && n < 100, "server defaults applied, got {n}");
}

#[tokio::test]
async fn cursors_are_tamper_evident_and_bound_to_stream_and_ttl() {
    let sim = Sim::start(OnePasswordArgs {
        cursor_ttl: Some(300),
        ..frozen(50)
    })
    .await;
    let page = sim.post("/api/v2/auditevents", &flat(10)).await.json();
    let cursor = page["cursor"].as_str().unwrap().to_owned();
    let mut raw = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
    // Flip one payload byte (the epoch digit).
    let pos = raw.iter().position(|b| *b == b'|').unwrap() + 1;
    raw[pos] = if raw[pos] == b'7' { b'8' } else { b'7' };
    let forged = URL_SAFE_NO_PAD.encode(&raw);
    for (path, c) in [
        ("/api/v2/auditevents", forged.as_str()),
        ("/api/v2/auditevents", "bm90LWEtY3Vyc29y"),
        ("/api/v2/signinattempts", cursor.as_str()),
    ] {
        let r = sim.post(path, &json!({"cursor": c})).await;
        assert_eq!(r.status, 400, "{path} {c}");
    }
    assert_eq!(
        sim.post("/api/v2/auditevents", &json!({"cursor": cursor}))
            .await
            .status,
        200
    );
    sim.advance(301).await;
    let r = sim
        .post("/api/v2/auditevents", &json!({"cursor": cursor}))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn rate_limit_600_per_minute_on_the_virtual_clock() {
    let sim = Sim::start(OnePasswordArgs {
        retry_after_form: RetryAfterForm::Mixed,
        ..frozen(5)
    })
    .await;
    for i in 0..600 {
        let r = sim.get_as("sim-token", "/api/v2/auth/introspect").await;
        assert_eq!(r.status, 200, "request {i}");
    }
    let r = sim.get_as("sim-token", "/api/v2/auth/introspect").await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("retry-after"),
        Some("60"),
        "frozen clock: the window frees in 60 s"
    );
    let r = sim.post("/api/v2/auditevents", &flat(5)).await;
    assert_eq!(r.status, 429, "one budget per token across endpoints");
    assert!(
        r.header("retry-after").unwrap().ends_with(" GMT"),
        "mixed alternates to HTTP-date"
    );
    let stats = sim.control("GET", "/_sim/stats", None).await.json();
    assert_eq!(stats["self_inflicted_429"], 2);
    assert_eq!(
        sim.requests()
            .await
            .iter()
            .filter(|e| e["rate_limited"] == true)
            .count(),
        2
    );
    sim.advance(60).await;
    assert_eq!(sim.post("/api/v2/auditevents", &flat(5)).await.status, 200);
    // --no-rate-limit
    let free = Sim::start(OnePasswordArgs {
        no_rate_limit: true,
        ..frozen(1)
    })
    .await;
    for _ in 0..601 {
        assert_eq!(
            free.get_as("sim-token", "/api/v2/auth/introspect")
                .await
                .status,
            200
        );
    }
}

#[tokio::test]
async fn bad_arguments_name_the_flag() {
    for (args, needle) in [
        (
            OnePasswordArgs {
                features: Some("audit".into()),
                ..Default::default()
            },
            "--features",
        ),
        (
            OnePasswordArgs {
                rate: Some(-1.0),
                ..Default::default()
            },
            "--rate",
        ),
        (
            OnePasswordArgs {
                clock_start: Some("noon".into()),
                ..Default::default()
            },
            "--clock-start",
        ),
        (
            OnePasswordArgs {
                faults: Some("/nonexistent/plan.json".into()),
                ..Default::default()
            },
            "/nonexistent/plan.json",
        ),
        (
            OnePasswordArgs {
                token: vec!["a=x".into(), "a=y".into()],
                ..Default::default()
            },
            "--token",
        ),
    ] {
        let err = siemtap_sim::spawn_onepassword(args).await.unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}
