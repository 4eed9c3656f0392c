//! Authentication: advanced and standard keys, exactly per spec §4.2 / §5.4.

use serde_json::json;
use siemtap_sim::{CortexXdrArgs, SecurityLevel};

use crate::client::*;

fn body() -> serde_json::Value {
    json!({"request_data": {"search_from": 0, "search_to": 1}})
}

fn last_auth(log: &[serde_json::Value]) -> String {
    log.last().unwrap()["auth"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn advanced_key_accepts_a_fresh_hash_and_rejects_stale_wrong_and_foreign_ones() {
    let sim = Sim::start(frozen(5)).await;
    let now = t0_ms();
    let ok = sim
        .post_with(
            &advanced("sim-api-key", "1", &nonce(), now),
            ALERTS,
            &body(),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());

    // Case-insensitive hash compare.
    let mut upper = advanced("sim-api-key", "1", &nonce(), now);
    upper[4].1 = upper[4].1.to_uppercase();
    assert_eq!(sim.post_with(&upper, ALERTS, &body()).await.status, 200);

    // Whole-second timestamps (the vendor example) are valid too.
    let secs = advanced("sim-api-key", "1", &nonce(), now / 1000 * 1000);
    assert_eq!(sim.post_with(&secs, INCIDENTS, &body()).await.status, 200);

    let stale = sim
        .post_with(
            &advanced("sim-api-key", "1", &nonce(), now - 301_000),
            ALERTS,
            &body(),
        )
        .await;
    assert_eq!(stale.status, 401);
    let reply = &stale.json()["reply"];
    assert_eq!(reply["err_code"], 401);
    assert!(
        reply["err_extra"].as_str().unwrap().contains("clock"),
        "{reply}"
    );
    assert_eq!(last_auth(&sim.requests().await), "stale");
    let edge = advanced("sim-api-key", "1", &nonce(), now + 300_000);
    assert_eq!(
        sim.post_with(&edge, ALERTS, &body()).await.status,
        200,
        "±300 s is accepted"
    );

    let wrong = sim
        .post_with(&advanced("other-key", "1", &nonce(), now), ALERTS, &body())
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(last_auth(&sim.requests().await), "invalid");
    assert!(!wrong.text().contains("sim-api-key"), "no secret echoed");

    // The hash must be recomputed from the request's own headers: a valid hash for another
    // timestamp fails.
    let mut moved = advanced("sim-api-key", "1", &nonce(), now);
    moved[3].1 = (now + 1).to_string();
    assert_eq!(sim.post_with(&moved, ALERTS, &body()).await.status, 401);

    let foreign = sim
        .post_with(
            &advanced("sim-api-key", "2", &nonce(), now),
            ALERTS,
            &body(),
        )
        .await;
    assert_eq!(foreign.status, 401);
    assert_eq!(last_auth(&sim.requests().await), "wrong_key_id");

    let mut no_nonce = advanced("sim-api-key", "1", "", now);
    no_nonce.retain(|(k, _)| k != "x-xdr-nonce");
    assert_eq!(sim.post_with(&no_nonce, ALERTS, &body()).await.status, 401);
    assert_eq!(last_auth(&sim.requests().await), "missing");

    // A short nonce is fine unless --strict-nonce.
    let short = advanced("sim-api-key", "1", "abc", now);
    assert_eq!(sim.post_with(&short, ALERTS, &body()).await.status, 200);
    // Raw key under an advanced configuration: rejected.
    let raw = vec![
        ("x-xdr-auth-id".to_owned(), "1".to_owned()),
        ("Authorization".to_owned(), "sim-api-key".to_owned()),
    ];
    assert_eq!(sim.post_with(&raw, ALERTS, &body()).await.status, 401);
}

#[tokio::test]
async fn spec_test_vector_is_accepted_verbatim() {
    assert_eq!(
        sha256_hex("KEYn0nce1700000000000"),
        "09761d1823315402bc27eef542fa3493d1dc5fb5b379fc24d5d8273a053e831a"
    );
    let sim = Sim::start(CortexXdrArgs {
        api_key: "KEY".into(),
        api_key_id: 7,
        clock_start: Some("2023-11-14T22:13:20Z".into()),
        frozen_clock: true,
        events: 1,
        ..Default::default()
    })
    .await;
    let h: Vec<(String, String)> = [
        ("x-xdr-auth-id", "7"),
        ("x-xdr-nonce", "n0nce"),
        ("x-xdr-timestamp", "1700000000000"),
        (
            "Authorization",
            "09761d1823315402bc27eef542fa3493d1dc5fb5b379fc24d5d8273a053e831a",
        ),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let r = sim.post_with(&h, INCIDENTS, &body()).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn strict_nonce_and_replay_rejection() {
    let sim = Sim::start(CortexXdrArgs {
        strict_nonce: true,
        reject_nonce_reuse: true,
        ..frozen(1)
    })
    .await;
    let now = t0_ms();
    let short = advanced("sim-api-key", "1", "abc", now);
    assert_eq!(sim.post_with(&short, ALERTS, &body()).await.status, 401);
    let bad_chars = advanced("sim-api-key", "1", &"-".repeat(64), now);
    assert_eq!(sim.post_with(&bad_chars, ALERTS, &body()).await.status, 401);
    let n = nonce();
    let first = advanced("sim-api-key", "1", &n, now);
    assert_eq!(sim.post_with(&first, ALERTS, &body()).await.status, 200);
    let again = advanced("sim-api-key", "1", &n, now);
    assert_eq!(sim.post_with(&again, ALERTS, &body()).await.status, 401);
    assert_eq!(last_auth(&sim.requests().await), "replayed");
}

#[tokio::test]
async fn standard_key_is_the_raw_key_and_its_sha256_is_rejected() {
    let sim = Sim::start(CortexXdrArgs {
        api_key: "KEY".into(),
        security_level: SecurityLevel::Standard,
        ..frozen(1)
    })
    .await;
    let h = |v: &str| {
        vec![
            ("x-xdr-auth-id".to_owned(), "1".to_owned()),
            ("Authorization".to_owned(), v.to_owned()),
        ]
    };
    assert_eq!(sim.post_with(&h("KEY"), ALERTS, &body()).await.status, 200);
    let hashed = sim
        .post_with(
            &h("5ca24005b740717ba4f3f6bc48a230700e68c2a4b11ecedb96f169f4efaf1f21"),
            ALERTS,
            &body(),
        )
        .await;
    assert_eq!(hashed.status, 401);
    assert!(
        hashed.json()["reply"]["err_extra"]
            .as_str()
            .unwrap()
            .contains("raw API key")
    );
    assert_eq!(sim.post_with(&h("key"), ALERTS, &body()).await.status, 401);
    let no_id = vec![("Authorization".to_owned(), "KEY".to_owned())];
    assert_eq!(sim.post_with(&no_id, ALERTS, &body()).await.status, 401);
}

#[tokio::test]
async fn routes_and_methods() {
    let sim = Sim::start(frozen(1)).await;
    let h = sim.auth().await;
    let r = send(sim.addr(), "GET", ALERTS, &h, None).await.unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = sim
        .post("/public_api/v1/endpoints/get_endpoints", &body())
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["reply"]["err_code"], 404);
    let health = sim.control("GET", "/_sim/health", None).await.json();
    assert_eq!(health["vendor"], "cortex_xdr");
}
