//! The shipped declarative connectors, end to end: each runs through the real runner into a
//! real file with a real state file against its simulator over loopback.

mod rest_support;

use rest_support::*;
use serde_json::json;
use siemtap_sim::{OnePasswordArgs, RestArgs, spawn_onepassword, spawn_rest};

fn rest_args(events: u64) -> RestArgs {
    RestArgs {
        events,
        seed: 7,
        ..RestArgs::default()
    }
}

#[tokio::test]
async fn okta_drains_and_second_run_adds_nothing() {
    let sim = spawn_rest(rest_args(250)).await.unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector("okta_system_log.toml", &[]);
    let s = settings(&[("base_url", &sim.base_url())]);
    let work = Work::new();
    let first = run(&work, &spec, &s, OKTA_ENV).await;
    assert!(first.streams[0].success, "{first:?}");
    let lines = work.lines();
    assert!(of_type(&lines, "okta", "error").is_empty(), "{lines:?}");
    assert_exact(
        &ids(&lines, "okta", "/uuid"),
        &ctl.oracle("system_log").await,
    );
    // The envelope: integration first, discriminator first inside the namespace, nulls dropped.
    let raw = work.raw();
    let line = raw.lines().next().unwrap();
    assert!(
        line.starts_with(r#"{"integration":"okta","okta":{"event_type":"system_log","uuid":""#),
        "{line}"
    );
    assert!(!line.contains("null"), "{line}");
    // Link paging: 250 records, 100 per page, 3 pages; every request authenticated.
    let reqs = ctl.requests().await;
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert!(
        reqs.iter()
            .all(|r| r["auth_ok"] == true && r["status"] == 200)
    );
    assert!(reqs[1]["query"].as_str().unwrap().contains("after="));
    let second = run(&work, &spec, &s, OKTA_ENV).await;
    assert_eq!(second.streams[0].delivered, 0, "{second:?}");
    assert!(
        second.streams[0].duplicates > 0,
        "the overlap re-read was suppressed by the ledger"
    );
    assert_exact(
        &ids(&work.lines(), "okta", "/uuid"),
        &ctl.oracle("system_log").await,
    );
}

#[tokio::test]
async fn okta_resumes_mid_window_after_a_failed_page() {
    let sim = spawn_rest(rest_args(320)).await.unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector("okta_system_log.toml", &[]);
    let s = settings(&[("base_url", &sim.base_url())]);
    let work = Work::new();
    // Page 3 fails on every attempt: the stream stops with one error event, keeping the
    // checkpoint of page 2 (mid-window, with the next link).
    ctl.faults(json!({"faults": [{"match": {"path": "/api/v1/logs", "nth": [3]}, "action": {"status": 503, "burst": 10}}]})).await;
    let first = run(&work, &spec, &s, OKTA_ENV).await;
    assert!(!first.streams[0].success);
    let errors = of_type(&work.lines(), "okta", "error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["okta"]["error_code"], "API_HTTP_UNEXPECTED");
    assert_eq!(errors[0]["okta"]["error_source"], "system_log");
    let state: serde_json::Value = serde_json::from_str(&work.state_text()).unwrap();
    let cursor = &state["system_log_cursor"];
    assert!(
        cursor["next"]["url"].as_str().unwrap().contains("after="),
        "{cursor}"
    );
    assert_eq!(ids(&work.lines(), "okta", "/uuid").len(), 200);
    ctl.post("/_sim/faults", json!({"faults": []})).await;
    let second = run(&work, &spec, &s, OKTA_ENV).await;
    assert!(second.streams[0].success, "{second:?}");
    assert_exact(
        &ids(&work.lines(), "okta", "/uuid"),
        &ctl.oracle("system_log").await,
    );
    // The resumed walk started from the stored next link, not from the window start.
    let reqs = ctl.requests().await;
    let resumed = reqs.iter().rev().find(|r| r["status"] == 200).unwrap();
    assert!(
        resumed["query"].as_str().unwrap().contains("after="),
        "{resumed}"
    );
}

#[tokio::test]
async fn max_pages_checkpoints_emits_health_and_next_run_completes() {
    let sim = spawn_rest(rest_args(450)).await.unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector(
        "okta_system_log.toml",
        &[("max_pages = 200", "max_pages = 2")],
    );
    let s = settings(&[("base_url", &sim.base_url())]);
    let work = Work::new();
    let oracle = ctl.oracle("system_log").await;
    let mut delivered = Vec::new();
    for run_no in 1..=3 {
        run(&work, &spec, &s, OKTA_ENV).await;
        let got = ids(&work.lines(), "okta", "/uuid");
        let health = of_type(&work.lines(), "okta", "health");
        match run_no {
            1 => {
                assert_eq!(got.len(), 200);
                assert_eq!(health.len(), 1);
                assert_eq!(health[0]["okta"]["health_code"], "MAX_PAGES_REACHED");
                assert_eq!(health[0]["okta"]["source"], "system_log");
            }
            2 => assert_eq!((got.len(), health.len()), (400, 2)),
            _ => assert_eq!(
                (got.len(), health.len()),
                (450, 2),
                "third run finishes without the cap"
            ),
        }
        delivered = got;
    }
    assert_exact(&delivered, &oracle);
    assert!(of_type(&work.lines(), "okta", "error").is_empty());
}

#[tokio::test]
async fn late_events_are_caught_by_the_overlap_without_duplicates() {
    // Half of the records become visible 20 minutes after their event time. At the first run
    // the late ones among the last 20 minutes are missing; after the clock moves on, the
    // second run's window starts `overlap` (15 min) before the newest delivered record.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("faults.json");
    std::fs::write(&plan, r#"{"faults":[{"match":{"stream":"system_log"},"action":{"late_events":{"fraction":0.5,"delay_s":1200}}}]}"#).unwrap();
    let sim = spawn_rest(RestArgs {
        faults: Some(plan),
        frozen_clock: true,
        ..rest_args(2000)
    })
    .await
    .unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector("okta_system_log.toml", &[("limit = 100", "limit = 1000")]);
    let s = settings(&[("base_url", &sim.base_url())]);
    let work = Work::new();
    run(&work, &spec, &s, OKTA_ENV).await;
    let first = vendor(&work.lines(), "okta");
    let first_ids = ids(&work.lines(), "okta", "/uuid");
    let newest_first = first
        .iter()
        .filter_map(|l| l["okta"]["published"].as_str())
        .max()
        .unwrap()
        .to_owned();
    let visible_then = ctl.oracle("system_log").await;
    assert_exact(&first_ids, &visible_then);
    assert!(visible_then.len() < 2000, "some records are still late");
    ctl.post("/_sim/clock", json!({"advance_s": 1500})).await;
    let second = run(&work, &spec, &s, OKTA_ENV).await;
    assert!(
        second.streams[0].duplicates > 0,
        "the overlap re-read delivered records: {second:?}"
    );
    let all = ids(&work.lines(), "okta", "/uuid");
    let oracle = ctl.oracle("system_log").await;
    assert_eq!(oracle.len(), 2000);
    assert_exact(&all, &oracle);
    // At least one late record is older than the newest record of the first run: only the
    // overlap could bring it in.
    let late_before: Vec<_> = vendor(&work.lines(), "okta")
        .into_iter()
        .filter(|l| !first_ids.contains(&l["okta"]["uuid"].as_str().unwrap().to_owned()))
        .filter(|l| l["okta"]["published"].as_str().unwrap() < newest_first.as_str())
        .collect();
    assert!(
        !late_before.is_empty(),
        "no late record behind the position; the test proves nothing"
    );
}

#[tokio::test]
async fn okta_compliance_429_malformed_body_and_auth_failure() {
    let sim = spawn_rest(rest_args(150)).await.unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector("okta_system_log.toml", &[]);
    let s = settings(&[("base_url", &sim.base_url())]);
    // Wrong token: one API_HTTP_401 event naming the secret, nothing else but the summary.
    let work = Work::new();
    run(
        &work,
        &spec,
        &s,
        &[("OKTA_API_TOKEN", "CANARY-wrong-token-4711")],
    )
    .await;
    let lines = work.lines();
    let errors = of_type(&lines, "okta", "error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["okta"]["error_code"], "API_HTTP_401");
    assert_eq!(errors[0]["okta"]["http_status"], 401);
    assert!(
        errors[0]["okta"]["error_message"]
            .as_str()
            .unwrap()
            .contains("OKTA_API_TOKEN")
    );
    assert_eq!(vendor(&lines, "okta").len(), 0);
    assert!(!work.raw().contains("CANARY") && !work.state_text().contains("CANARY"));
    // 429 with Retry-After (seconds, then HTTP-date) is retried; a truncated body is one
    // API_INVALID_RESPONSE and the next run completes without duplicates.
    ctl.faults(json!({"faults": [
        {"match": {"path": "/api/v1/logs", "nth": [1]}, "action": {"status": 429, "retry_after": {"form": "seconds", "value": 1}}},
        {"match": {"path": "/api/v1/logs", "nth": [2]}, "action": {"status": 429, "retry_after": {"form": "http-date", "offset_s": 1}}},
        {"match": {"path": "/api/v1/logs", "nth": [4]}, "action": {"truncate_body_at": 0.5}}
    ]})).await;
    let work = Work::new();
    run(&work, &spec, &s, OKTA_ENV).await;
    let errors = of_type(&work.lines(), "okta", "error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["okta"]["error_code"], "API_INVALID_RESPONSE");
    assert_eq!(
        ids(&work.lines(), "okta", "/uuid").len(),
        100,
        "page 1 delivered, page 2 broken"
    );
    run(&work, &spec, &s, OKTA_ENV).await;
    assert_exact(
        &ids(&work.lines(), "okta", "/uuid"),
        &ctl.oracle("system_log").await,
    );
}

#[tokio::test]
async fn graph_oauth2_token_is_cached_and_refreshed_once_after_401() {
    let sim = spawn_rest(rest_args(300)).await.unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector("graph_oauth2.toml", &[]);
    let base = sim.base_url();
    let token_url = format!("{base}/oauth2/v2.0/token");
    let s = settings(&[
        ("base_url", &base),
        ("token_url", &token_url),
        ("client_id", "sim-client"),
    ]);
    let work = Work::new();
    let mut source = build(&spec, &s, GRAPH_ENV);
    let first = run_source(&work, &mut source).await;
    assert!(first.streams[0].success, "{first:?}");
    assert_exact(
        &ids(&work.lines(), "graph", "/id"),
        &ctl.oracle("security_alerts").await,
    );
    let api_calls = ctl
        .requests()
        .await
        .iter()
        .filter(|r| r["path"] == "/v1.0/security/alerts_v2")
        .count();
    assert!(
        api_calls >= 6,
        "300 alerts in pages of 50 over several windows: {api_calls}"
    );
    assert_eq!(
        ctl.stats().await["token_requests"],
        1,
        "one token for the whole drain"
    );
    assert_eq!(source.token_fetches(), 1);
    // The server revokes the token: the next call gets 401, one new token, the call succeeds.
    ctl.post("/_sim/revoke_tokens", json!({})).await;
    // Windows end on whole seconds: let one pass so the second run has a window to read.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = run_source(&work, &mut source).await;
    assert!(second.streams[0].success, "{second:?}");
    assert_eq!(ctl.stats().await["token_requests"], 2);
    assert_eq!(ctl.stats().await["tokens_rejected"], 1);
    assert!(of_type(&work.lines(), "graph", "error").is_empty());
    // Neither the client secret nor any token reaches the output or the state.
    for text in [work.raw(), work.state_text()] {
        assert!(
            !text.contains("sim-client-secret") && !text.contains("simat."),
            "{text}"
        );
    }
}

#[tokio::test]
async fn graph_oauth2_token_is_refreshed_before_it_expires() {
    // Tokens live 120 s, the connector refreshes 5 minutes before expiry: a cached token is
    // never used inside that margin, so every API call is preceded by a new token.
    let sim = spawn_rest(RestArgs {
        token_ttl: 120,
        ..rest_args(60)
    })
    .await
    .unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector("graph_oauth2.toml", &[]);
    let base = sim.base_url();
    let token_url = format!("{base}/oauth2/v2.0/token");
    let s = settings(&[
        ("base_url", &base),
        ("token_url", &token_url),
        ("client_id", "sim-client"),
    ]);
    let work = Work::new();
    run(&work, &spec, &s, GRAPH_ENV).await;
    let api_calls = ctl
        .requests()
        .await
        .iter()
        .filter(|r| r["path"] == "/v1.0/security/alerts_v2")
        .count() as u64;
    // open() fetches one, then one before each call.
    assert_eq!(ctl.stats().await["token_requests"], api_calls + 1);
    assert_eq!(ctl.stats().await["tokens_rejected"], 0);
}

#[tokio::test]
async fn graph_wrong_client_secret_is_one_startup_error() {
    let sim = spawn_rest(rest_args(10)).await.unwrap();
    let spec = connector("graph_oauth2.toml", &[]);
    let base = sim.base_url();
    let token_url = format!("{base}/oauth2/v2.0/token");
    let s = settings(&[
        ("base_url", &base),
        ("token_url", &token_url),
        ("client_id", "sim-client"),
    ]);
    let work = Work::new();
    run(
        &work,
        &spec,
        &s,
        &[("GRAPH_CLIENT_SECRET", "CANARY-secret-0815")],
    )
    .await;
    let errors = of_type(&work.lines(), "graph", "error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["graph"]["error_code"], "API_HTTP_401");
    assert!(
        errors[0]["graph"]["error_message"]
            .as_str()
            .unwrap()
            .starts_with("OAuth2 token request failed")
    );
    assert!(!work.raw().contains("CANARY"));
}

#[tokio::test]
async fn page_number_drains_with_the_key_in_the_query() {
    let sim = spawn_rest(rest_args(130)).await.unwrap();
    let ctl = Control::new(&sim.base_url());
    let spec = connector("page_number.toml", &[]);
    let s = settings(&[("base_url", &sim.base_url())]);
    let work = Work::new();
    let first = run(&work, &spec, &s, PAGED_ENV).await;
    assert!(first.streams[0].success, "{first:?}");
    assert_exact(
        &ids(&work.lines(), "paged", "/id"),
        &ctl.oracle("items").await,
    );
    let reqs = ctl.requests().await;
    assert_eq!(reqs.len(), 6, "130 items, 25 per page");
    assert!(reqs.iter().all(|r| r["auth_ok"] == true));
    // Second run: re-reads the 5-minute overlap, delivers nothing new.
    let second = run(&work, &spec, &s, PAGED_ENV).await;
    assert_eq!(second.streams[0].delivered, 0);
    assert_exact(
        &ids(&work.lines(), "paged", "/id"),
        &ctl.oracle("items").await,
    );
    assert!(!work.raw().contains("sim-api-key") && !work.state_text().contains("sim-api-key"));
}

#[tokio::test]
async fn onepassword_declarative_equals_the_builtin_connector() {
    use siemtap_connectors::onepassword::{OnePasswordSource, settings_from_env};
    use siemtap_secrets::Secret;
    use std::collections::HashMap;
    use std::sync::Arc;

    let sim = spawn_onepassword(OnePasswordArgs {
        seed: 5,
        events: 230,
        ..OnePasswordArgs::default()
    })
    .await
    .unwrap();
    let base = sim.base_url();
    // The built-in connector, audit stream only.
    let env: HashMap<String, String> = [("OP_BASE_URL".to_string(), base.clone())].into();
    let op_settings = Arc::new(settings_from_env(&env, Some("audit"), None).unwrap());
    let mut builtin = OnePasswordSource::new(op_settings, http(), Secret::new("sim-token"), None);
    let builtin_work = Work::new();
    run_source(&builtin_work, &mut builtin).await;
    // The declarative file.
    let spec = connector("onepassword_audit.toml", &[]);
    let decl_work = Work::new();
    run(&decl_work, &spec, &settings(&[("base_url", &base)]), OP_ENV).await;
    let pick = |raw: String| -> Vec<String> {
        raw.lines()
            .filter(|l| l.ends_with(r#""event_type": "audit_event"}}"#))
            .map(str::to_owned)
            .collect()
    };
    let a = pick(builtin_work.raw());
    let b = pick(decl_work.raw());
    assert_eq!(a.len(), 230);
    assert_eq!(a, b, "byte for byte, in order");
    // Both stored the API's cursor string as the audit position.
    let sa: serde_json::Value = serde_json::from_str(&builtin_work.state_text()).unwrap();
    let sb: serde_json::Value = serde_json::from_str(&decl_work.state_text()).unwrap();
    assert!(sa["audit_cursor"].is_string() && sb["audit_cursor"].is_string());
    // A second declarative run resumes from the stored cursor and adds nothing.
    let again = run(&decl_work, &spec, &settings(&[("base_url", &base)]), OP_ENV).await;
    assert_eq!(again.streams[0].delivered, 0);
}

#[tokio::test]
async fn okta_timeouts_become_one_api_timeout_event() {
    use siemtap_connectors::rest::SourceOptions;
    use siemtap_http::{HttpClient, HttpConfig, RetryPolicy};
    let sim = spawn_rest(rest_args(20)).await.unwrap();
    let ctl = Control::new(&sim.base_url());
    ctl.faults(json!({"faults": [{"match": {"path": "/api/v1/logs", "nth": [1]}, "action": {"delay_ms": 700, "burst": 10}}]})).await;
    let spec = connector("okta_system_log.toml", &[]);
    let s = settings(&[("base_url", &sim.base_url())]);
    let quick = HttpClient::new(HttpConfig {
        request_timeout: std::time::Duration::from_millis(250),
        retry: RetryPolicy {
            sleep: false,
            max_attempts: 3,
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    })
    .unwrap();
    let chain = chain(OKTA_ENV);
    let mut source = spec
        .build_source(SourceOptions {
            source_name: "t",
            settings: &s,
            chain: &chain,
            http: quick,
            streams: None,
            lookback: None,
        })
        .unwrap();
    let work = Work::new();
    run_source(&work, source.as_mut()).await;
    let errors = of_type(&work.lines(), "okta", "error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["okta"]["error_code"], "API_TIMEOUT");
    assert_eq!(errors[0]["okta"]["error_detail"], "endpoint=/api/v1/logs");
    assert!(
        work.state_text().find("system_log_cursor").is_none(),
        "no position stored"
    );
}
