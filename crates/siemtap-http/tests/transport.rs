//! Timeouts, refused connections, body caps, TLS, redirects and client setup, over real sockets.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{Reply, config, serve};
use siemtap_http::{HttpClient, HttpConfig, HttpError, RequestContext, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn ctx(label: &str) -> RequestContext<'_> {
    RequestContext::new(label)
}

#[tokio::test]
async fn slow_server_times_out_after_retries() {
    let server = serve(vec![Reply::new(200, "late").delay(Duration::from_secs(30))]).await;
    let url = server.url("/slow");
    let http = HttpClient::new(HttpConfig {
        request_timeout: Duration::from_millis(200),
        retry: RetryPolicy {
            max_attempts: 3,
            sleep: false,
            ..RetryPolicy::default()
        },
        ..config()
    })
    .expect("client");
    let err = http
        .send(&ctx("GET /slow"), |c| c.get(&url))
        .await
        .expect_err("timeout");
    assert!(matches!(err, HttpError::Timeout { attempts: 3 }), "{err:?}");
}

#[tokio::test]
async fn refused_connection_is_connect_error_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/api?token=hunter2");
    let err = common::client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect_err("nothing listens");
    match &err {
        HttpError::Connect { detail, attempts } => {
            assert_eq!(*attempts, 5);
            assert!(!detail.is_empty());
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("/api"),
        "{shown}"
    );
}

fn capped(max_body_bytes: u64) -> HttpClient {
    HttpClient::new(HttpConfig {
        max_body_bytes,
        ..config()
    })
    .expect("client")
}

#[tokio::test]
async fn body_over_the_cap_with_content_length() {
    let big = "x".repeat(2048);
    let server = serve(vec![Reply::new(200, &big)]).await;
    let url = server.url("/big");
    let err = capped(1024)
        .send(&ctx("GET /big"), |c| c.get(&url))
        .await
        .expect_err("too big");
    assert!(
        matches!(err, HttpError::BodyTooLarge { limit: 1024 }),
        "{err:?}"
    );
    assert_eq!(server.hits(), 1, "not retried");
    let ok = capped(2048)
        .send(&ctx("GET /big"), |c| c.get(&url))
        .await
        .expect("exactly at cap");
    assert_eq!(ok.body.len(), 2048);
}

#[tokio::test]
async fn per_request_cap_lowers_but_never_raises_the_global_cap() {
    let big = "x".repeat(2048);
    let server = serve(vec![
        Reply::new(200, &big),
        Reply::new(200, &big),
        Reply::new(200, &big),
    ])
    .await;
    let url = server.url("/big");
    let client = capped(4096);
    let err = client
        .send_capped(&ctx("GET /big"), Some(1024), |c| c.get(&url))
        .await
        .expect_err("over the per-request cap");
    assert!(
        matches!(err, HttpError::BodyTooLarge { limit: 1024 }),
        "{err:?}"
    );
    assert_eq!(server.hits(), 1, "not retried");
    let ok = client
        .send_capped(&ctx("GET /big"), Some(2048), |c| c.get(&url))
        .await
        .expect("exactly at the per-request cap");
    assert_eq!(ok.body.len(), 2048);
    // A per-request cap above the global one is clamped to it.
    let err = capped(1000)
        .send_capped(&ctx("GET /big"), Some(1 << 30), |c| c.get(&url))
        .await
        .expect_err("the global cap still applies");
    assert!(
        matches!(err, HttpError::BodyTooLarge { limit: 1000 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn per_request_cap_stops_an_endless_body() {
    let (url, written) = endless_chunked_server().await;
    let err = capped(64 * 1024 * 1024)
        .send_capped(&ctx("GET /stream"), Some(256 * 1024), |c| c.get(&url))
        .await
        .expect_err("cap");
    assert!(
        matches!(err, HttpError::BodyTooLarge { limit: 262_144 }),
        "{err:?}"
    );
    assert!(written.load(Ordering::SeqCst) >= 256 * 1024);
}

/// A raw server that answers with an endless chunked body and counts what it wrote.
async fn endless_chunked_server() -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 4096];
        let _ = socket.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "y".repeat(16 * 1024));
        while socket.write_all(chunk.as_bytes()).await.is_ok() {
            counter.fetch_add(16 * 1024, Ordering::SeqCst);
        }
    });
    (format!("http://{addr}/stream"), written)
}

#[tokio::test]
async fn endless_body_stops_at_the_cap_without_reading_it_all() {
    let (url, written) = endless_chunked_server().await;
    // If the client tried to read everything, it would end with Timeout, not BodyTooLarge.
    let err = capped(1024 * 1024)
        .send(&ctx("GET /stream"), |c| c.get(&url))
        .await
        .expect_err("cap");
    assert!(
        matches!(err, HttpError::BodyTooLarge { limit: 1_048_576 }),
        "{err:?}"
    );
    assert!(written.load(Ordering::SeqCst) >= 1024 * 1024);
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_sending() {
    let err = common::client()
        .send(&ctx("GET /x"), |c| {
            c.get("http://user:pw1234@example.com/x?key=s3cr3t")
        })
        .await
        .expect_err("insecure");
    assert!(matches!(err, HttpError::InsecureUrl { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("http://example.com/x?key=REDACTED"),
        "{shown}"
    );
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("pw1234"),
        "{shown}"
    );
}

#[tokio::test]
async fn tls_failure_is_not_retried() {
    // https to a plain-http server: the handshake fails; retrying would not help.
    let server = serve(vec![Reply::new(200, "plain")]).await;
    let url = server.url("/api").replace("http://", "https://");
    let err = common::client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect_err("tls");
    assert!(
        matches!(err, HttpError::Connect { attempts: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn redirect_to_an_insecure_host_is_not_followed() {
    let server = serve(vec![
        Reply::new(302, "moved").header("location", "http://example.com/steal"),
    ])
    .await;
    let url = server.url("/api");
    let err = common::client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect_err("3xx");
    assert_eq!(err.status(), Some(302));
    assert_eq!(server.hits(), 1);
}

#[test]
fn ca_file_errors_name_the_file() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let missing = dir.join("siemtap-http-no-such-ca.pem");
    let err = HttpClient::new(HttpConfig {
        ca_file: Some(missing.clone()),
        ..config()
    })
    .expect_err("missing file");
    assert!(matches!(err, HttpError::Setup { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );

    let garbage = dir.join("siemtap-http-garbage-ca.pem");
    std::fs::write(&garbage, "this is not a certificate\n").expect("write temp file");
    let err = HttpClient::new(HttpConfig {
        ca_file: Some(garbage.clone()),
        ..config()
    })
    .expect_err("no certificate");
    assert!(err.to_string().contains("BEGIN CERTIFICATE"), "{err}");
    assert!(
        err.to_string().contains(&garbage.display().to_string()),
        "{err}"
    );
}

#[test]
fn ca_file_with_real_roots_builds() {
    let bundle = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    if !bundle.exists() {
        return; // no system bundle on this machine; the error paths are covered above
    }
    HttpClient::new(HttpConfig {
        ca_file: Some(bundle.to_path_buf()),
        ..config()
    })
    .expect("a real PEM bundle is accepted");
}

#[tokio::test]
async fn redirect_to_another_origin_is_not_followed_with_a_custom_credential_header() {
    // reqwest strips only Authorization/Cookie on a cross-host redirect: an API key in a
    // custom header would follow it. The other origin must never be contacted.
    let other = serve(vec![Reply::new(200, "stolen")]).await;
    let vendor = serve(vec![
        Reply::new(302, "moved").header("location", &other.url("/steal")),
    ])
    .await;
    let url = vendor.url("/api");
    let err = common::client()
        .send(&ctx("GET /api"), |c| {
            c.get(&url).header("x-api-key", "CANARY-redirect-k4v8")
        })
        .await
        .expect_err("3xx to another origin is the answer");
    assert_eq!(err.status(), Some(302), "{err:?}");
    assert_eq!(other.hits(), 0, "seen: {:?}", other.seen("x-api-key"));
    // A redirect on the same origin is still followed.
    let same = serve(vec![
        Reply::new(302, "moved").header("location", "/v2/api"),
        Reply::new(200, "ok"),
    ])
    .await;
    let url = same.url("/api");
    let resp = common::client()
        .send(&ctx("GET /api"), |c| c.get(&url))
        .await
        .expect("same-origin redirect followed");
    assert_eq!(resp.body, b"ok");
}
