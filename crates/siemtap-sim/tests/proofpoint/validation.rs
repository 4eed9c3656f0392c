use siemtap_sim::{Lookback, ProofpointArgs};

use crate::client::{Sim, at, basic, frozen, interval, send};

const HOUR: i64 = 3600;

async fn expect_400(sim: &Sim, query: &str) -> String {
    let r = sim.get(&format!("/v2/siem/all?{query}")).await;
    assert_eq!(r.status, 400, "{query}: {}", r.text());
    assert!(
        r.header("content-type").unwrap().starts_with("text/plain"),
        "{query}"
    );
    assert!(
        !r.body.is_empty() && r.body.len() < 200,
        "{query}: short text body"
    );
    r.text()
}

#[tokio::test]
async fn every_invalid_siem_window_is_400() {
    let sim = Sim::start(ProofpointArgs {
        max_lookback: "12h".parse::<Lookback>().unwrap(),
        ..frozen(10)
    })
    .await;
    let iv = |s: i64, e: i64| format!("interval={}/{}", at(s), at(e));
    let cases = [
        ("format=json".to_owned(), "Exactly one"),
        (
            format!("format=json&sinceSeconds=60&{}", iv(-HOUR, 0)),
            "Exactly one",
        ),
        (
            format!("format=json&sinceTime={}&sinceSeconds=60", at(-60)),
            "Exactly one",
        ),
        ("format=json&sinceSeconds=0".to_owned(), "sinceSeconds"),
        ("format=json&sinceSeconds=3601".to_owned(), "sinceSeconds"),
        ("format=json&sinceSeconds=abc".to_owned(), "sinceSeconds"),
        (
            format!("format=json&sinceTime={}", at(-HOUR - 1)),
            "too long",
        ),
        (
            format!("format=json&{}", iv(-2 * HOUR, -HOUR + 1)),
            "too long",
        ),
        (
            format!("format=json&{}", iv(-HOUR, -HOUR)),
            "after its start",
        ),
        (
            format!("format=json&{}", iv(-HOUR, -2 * HOUR)),
            "after its start",
        ),
        (
            format!("format=json&{}", iv(-13 * HOUR, -12 * HOUR)),
            "look-back",
        ),
        (format!("format=json&{}", iv(60, 120)), "future"),
        (iv(-HOUR, 0), "format"),
        (format!("format=syslog&{}", iv(-HOUR, 0)), "format"),
        (
            format!("format=json&format=json&{}", iv(-HOUR, 0)),
            "only once",
        ),
        ("format=json&interval=yesterday".to_owned(), "interval"),
        (
            "format=json&interval=2026-03-31T10:00:00/2026-03-31T11:00:00".to_owned(),
            "parse",
        ),
        (
            format!("format=json&threatStatus=gone&{}", iv(-HOUR, 0)),
            "threatStatus",
        ),
    ];
    for (q, needle) in cases {
        let msg = expect_400(&sim, &q).await;
        assert!(
            msg.contains(needle),
            "{q}: {msg:?} should mention {needle:?}"
        );
    }
    // Just inside the limits.
    assert_ne!(sim.get(&interval(-HOUR, 0)).await.status, 400);
    assert_ne!(sim.get(&interval(-12 * HOUR, -11 * HOUR)).await.status, 400);
    assert_ne!(
        sim.get("/v2/siem/all?format=json&sinceSeconds=3600")
            .await
            .status,
        400
    );
    // A future end is clamped unless --strict-future.
    assert_ne!(sim.get(&interval(-1800, 1800)).await.status, 400);
    sim.handle.shutdown().await;
    let strict = Sim::start(ProofpointArgs {
        strict_future: true,
        ..frozen(10)
    })
    .await;
    expect_400(
        &strict,
        &format!("format=json&interval={}/{}", at(-1800), at(1800)),
    )
    .await;
    strict.handle.shutdown().await;
}

#[tokio::test]
async fn basic_auth_routes_and_methods() {
    let sim = Sim::start(ProofpointArgs {
        principal: "svc-123".into(),
        secret: "pa:ss+word".into(),
        ..frozen(10)
    })
    .await;
    let path = interval(-HOUR, 0);
    let bearer = "Bearer pa:ss+word".to_owned();
    for auth in [
        None,
        Some(basic("svc-123", "wrong")),
        Some(basic("sim-principal", "sim-secret")),
        Some(bearer),
        Some("Basic !!notbase64".to_owned()),
    ] {
        let h: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let r = send(sim.addr(), "GET", &path, &h, None).await.unwrap();
        assert_eq!(r.status, 401, "{auth:?}");
        assert!(!r.text().contains("pa:ss"), "the secret is never echoed");
    }
    let r = send(
        sim.addr(),
        "GET",
        &path,
        &[("Authorization", &basic("svc-123", "pa:ss+word"))],
        None,
    )
    .await
    .unwrap();
    assert!(r.status == 200 || r.status == 204, "{}", r.text());
    let r = send(
        sim.addr(),
        "POST",
        &path,
        &[("Authorization", &sim.auth)],
        Some(b"{}"),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));
    assert_eq!(sim.get("/v2/siem/nope").await.status, 404);
    assert_eq!(sim.get("/v1/siem/all").await.status, 404);
    let log = sim.requests().await;
    let auth: Vec<&str> = log.iter().map(|e| e["auth"].as_str().unwrap()).collect();
    assert_eq!(
        auth,
        [
            "missing", "invalid", "invalid", "invalid", "invalid", "ok", "n/a", "n/a", "n/a"
        ]
    );
    assert!(
        log.iter()
            .all(|e| e["stream"] == "siem" || e["status"] == 404)
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn quota_buckets_429_and_scale() {
    // ceil(1800 × 0.002) = 4 requests per bucket.
    let sim = Sim::start(ProofpointArgs {
        quota_scale: 0.002,
        ..frozen(10)
    })
    .await;
    let path = interval(-HOUR, 0);
    let permitted = format!(
        "/v2/siem/clicks/permitted?format=json&interval={}/{}",
        at(-HOUR),
        at(0)
    );
    for _ in 0..2 {
        assert_ne!(sim.get(&path).await.status, 429);
    }
    assert_ne!(
        sim.get("/v2/people/vap?window=30").await.status,
        429,
        "People share the bucket"
    );
    assert_eq!(
        sim.get("/v2/siem/all?format=json").await.status,
        400,
        "invalid requests count too"
    );
    let r = sim.get(&path).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("retry-after"),
        None,
        "no Retry-After without --quota-retry-after"
    );
    assert_eq!(
        sim.get("/v2/siem/messages/blocked?format=json&sinceSeconds=60")
            .await
            .status,
        429
    );
    for _ in 0..4 {
        assert_ne!(
            sim.get(&permitted).await.status,
            429,
            "clicks/permitted has its own bucket"
        );
    }
    assert_eq!(sim.get(&permitted).await.status, 429);
    let q = sim.control("GET", "/_sim/quota", None).await.json();
    assert_eq!(q["buckets"]["shared"]["used"], 4);
    assert_eq!(q["buckets"]["shared"]["limit"], 4);
    assert_eq!(q["buckets"]["shared"]["rejected"], 2);
    assert_eq!(q["buckets"]["clicks_permitted"]["rejected"], 1);
    let log = sim.control("GET", "/_sim/requests", None).await.json();
    assert_eq!(log["self_inflicted_429"], 3);
    // The bucket rolls over 24 h of virtual time.
    sim.advance(86_400).await;
    assert_ne!(sim.get(&path).await.status, 429);
    sim.handle.shutdown().await;

    let sim = Sim::start(ProofpointArgs {
        quota_scale: 0.0001,
        quota_retry_after: true,
        ..frozen(10)
    })
    .await;
    assert_ne!(sim.get(&path).await.status, 429);
    sim.advance(600).await;
    let r = sim.get(&path).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("retry-after"),
        Some("85800"),
        "until the first request leaves the window"
    );
    sim.handle.shutdown().await;

    let sim = Sim::start(ProofpointArgs {
        quota_scale: 0.0001,
        no_rate_limit: true,
        ..frozen(10)
    })
    .await;
    for _ in 0..5 {
        assert_ne!(sim.get(&path).await.status, 429, "--no-rate-limit");
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn bad_arguments_are_refused() {
    for args in [
        ProofpointArgs {
            principal: String::new(),
            ..Default::default()
        },
        ProofpointArgs {
            principal: "a:b".into(),
            ..Default::default()
        },
        ProofpointArgs {
            secret: String::new(),
            ..Default::default()
        },
        ProofpointArgs {
            quota_scale: 0.0,
            ..Default::default()
        },
        ProofpointArgs {
            rate: Some(-1.0),
            ..Default::default()
        },
        ProofpointArgs {
            clock_start: Some("yesterday".into()),
            ..Default::default()
        },
    ] {
        let e = siemtap_sim::spawn_proofpoint(args).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("--"), "names the flag: {e}");
    }
}
