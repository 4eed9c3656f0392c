//! Retry behaviour against a real loopback server (sleeping disabled; computed delays asserted).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{Reply, client, serve};
use siemtap_http::{HttpError, RateLimiter, RequestContext};
use tokio::time::Instant;

fn ctx(label: &str) -> RequestContext<'_> {
    RequestContext::new(label)
}

#[tokio::test]
async fn retry_429_with_retry_after_seconds() {
    let server = serve(vec![
        Reply::new(429, "slow down").header("retry-after", "7"),
        Reply::new(200, "ok"),
    ])
    .await;
    let url = server.url("/api");
    let resp = client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect("2nd attempt ok");
    assert_eq!((resp.status, resp.attempts), (200, 2));
    assert_eq!(resp.body, b"ok");
    assert_eq!(resp.waited, Duration::from_secs(7));
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn retry_429_with_retry_after_http_date() {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30);
    let date = jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&at)
        .expect("format HTTP-date");
    let server = serve(vec![
        Reply::new(429, "slow down").header("retry-after", &date),
        Reply::new(200, "ok"),
    ])
    .await;
    let url = server.url("/api");
    let resp = client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect("ok");
    assert_eq!(resp.attempts, 2);
    // Second granularity, and the clock moves between formatting and parsing.
    assert!(
        resp.waited > Duration::from_secs(20) && resp.waited <= Duration::from_secs(30),
        "waited {:?} for {date}",
        resp.waited
    );
}

#[tokio::test]
async fn garbage_retry_after_falls_back_to_backoff_and_huge_is_capped() {
    let server = serve(vec![
        Reply::new(503, "busy").header("retry-after", "soon-ish"),
        Reply::new(503, "busy").header("retry-after", "99999999999999999999"),
        Reply::new(200, "ok"),
    ])
    .await;
    let url = server.url("/api");
    let resp = client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect("ok");
    assert_eq!(resp.attempts, 3);
    // Garbage = absent: first-retry backoff is at most base_delay (1 s); huge is capped at 60 s.
    assert!(
        resp.waited >= Duration::from_secs(60) && resp.waited <= Duration::from_secs(61),
        "waited {:?}",
        resp.waited
    );
}

#[tokio::test]
async fn burst_of_5xx_then_success() {
    let server = serve(vec![
        Reply::new(503, "a"),
        Reply::new(502, "b"),
        Reply::new(500, "c"),
        Reply::new(504, "d"),
        Reply::new(200, "{\"ok\":true}"),
    ])
    .await;
    let url = server.url("/api");
    let resp = client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect("5th attempt ok");
    assert_eq!(resp.attempts, 5);
    assert_eq!(server.hits(), 5);
    // Backoff ceilings 1+2+4+8 s with full jitter.
    assert!(
        resp.waited <= Duration::from_secs(15),
        "waited {:?}",
        resp.waited
    );
}

#[tokio::test]
async fn five_attempts_then_status_error_and_build_runs_per_attempt() {
    let server = serve(vec![Reply::new(503, "still busy")]).await;
    let url = server.url("/api");
    let builds = AtomicU32::new(0);
    let err = client()
        .send(&ctx("POST /api"), |c| {
            let n = builds.fetch_add(1, Ordering::SeqCst);
            c.post(&url).header("x-nonce", format!("nonce-{n}"))
        })
        .await
        .expect_err("always 503");
    match &err {
        HttpError::Status {
            status,
            body_excerpt,
            attempts,
            ..
        } => {
            assert_eq!((*status, *attempts), (503, 5));
            assert_eq!(body_excerpt, "still busy");
        }
        other => panic!("expected Status, got {other:?}"),
    }
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.hits(), 5);
    assert_eq!(builds.load(Ordering::SeqCst), 5);
    let nonces = server.seen("x-nonce");
    assert_eq!(
        nonces,
        ["nonce-0", "nonce-1", "nonce-2", "nonce-3", "nonce-4"]
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400u16, 401, 403, 404] {
        let server = serve(vec![Reply::new(status, "nope"), Reply::new(200, "ok")]).await;
        let url = server.url("/api");
        let err = client()
            .send(&ctx("GET /api"), |c| c.get(&url))
            .await
            .expect_err("4xx");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.attempts(), Some(1));
        assert_eq!(server.hits(), 1, "status {status} must not be retried");
    }
}

#[tokio::test]
async fn deadline_stops_retries_early() {
    let server = serve(vec![Reply::new(429, "later").header("retry-after", "5")]).await;
    let url = server.url("/api");
    let ctx = RequestContext {
        label: "GET /api",
        limiter: None,
        deadline: Some(Instant::now() + Duration::from_secs(2)),
    };
    let err = client()
        .send(&ctx, |c| c.get(&url))
        .await
        .expect_err("budget too short");
    assert!(err.is_deadline(), "{err:?}");
    assert_eq!(err.status(), Some(429));
    match &err {
        HttpError::Deadline { last } => assert!(
            matches!(**last, HttpError::Status { retry_after: Some(d), attempts: 1, .. } if d == Duration::from_secs(5)),
            "{last:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn deadline_cuts_a_slow_attempt() {
    let server = serve(vec![Reply::new(200, "late").delay(Duration::from_secs(30))]).await;
    let url = server.url("/slow");
    let ctx = RequestContext {
        label: "GET /slow",
        limiter: None,
        deadline: Some(Instant::now() + Duration::from_millis(300)),
    };
    let err = client()
        .send(&ctx, |c| c.get(&url))
        .await
        .expect_err("deadline");
    match err {
        HttpError::Deadline { last } => assert!(
            matches!(*last, HttpError::Timeout { attempts: 1 }),
            "{last:?}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn limiter_is_awaited_and_refuses_past_the_deadline() {
    let server = serve(vec![Reply::new(200, "ok")]).await;
    let url = server.url("/api");
    let limiter = RateLimiter::new(0.01, 1, None);
    let http = client();
    let first = RequestContext {
        label: "GET /api",
        limiter: Some(&limiter),
        deadline: None,
    };
    http.send(&first, |c| c.get(&url))
        .await
        .expect("first token is free");
    let second = RequestContext {
        deadline: Some(Instant::now() + Duration::from_millis(200)),
        ..first
    };
    let err = http
        .send(&second, |c| c.get(&url))
        .await
        .expect_err("next token in 100 s");
    match err {
        HttpError::Deadline { last } => {
            assert!(matches!(*last, HttpError::RateLimited { .. }), "{last:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), 1, "no request without a token");
}

/// A raw HTTP/1.1 server on 127.0.0.1: connection `i` (0-based) answers `bodies[i]` (the last
/// one repeats); when `cut[i]` it declares the full `Content-Length` but sends only half of the
/// body, then closes the socket. Returns the base URL and the connection counter.
async fn raw_server(
    bodies: Vec<&'static str>,
    cut: Vec<bool>,
) -> (String, std::sync::Arc<AtomicU32>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let count = std::sync::Arc::new(AtomicU32::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let i = seen.fetch_add(1, Ordering::SeqCst) as usize;
            let body = bodies[i.min(bodies.len() - 1)];
            let cut_here = cut.get(i).copied().unwrap_or(false);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let sent = if cut_here {
                    &body[..body.len() / 2]
                } else {
                    body
                };
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(sent.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

#[tokio::test]
async fn body_cut_off_mid_read_is_retried_as_a_transport_error() {
    let page = r#"{"items":[1,2,3,4,5,6,7,8,9,10],"cursor":"next"}"#;
    // The first answer is cut in half (Content-Length says more), the second is whole.
    let (base, connections) = raw_server(vec![page], vec![true, false]).await;
    let url = format!("{base}/api");
    let resp = client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect("the cut body is retried and the second answer is read whole");
    assert_eq!(resp.body, page.as_bytes());
    assert_eq!(resp.attempts, 2);
    assert_eq!(connections.load(Ordering::SeqCst), 2);

    // Every answer cut: the attempt budget is kept and the error is a transport error.
    let (base, connections) = raw_server(vec![page], vec![true; 10]).await;
    let url = format!("{base}/api");
    let err = client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect_err("all cut");
    let max = common::config().retry.max_attempts;
    assert!(
        matches!(err, HttpError::Connect { attempts, .. } if attempts == max),
        "{err:?}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), max);
}
