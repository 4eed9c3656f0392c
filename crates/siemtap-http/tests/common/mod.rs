//! A scripted loopback HTTP server (axum on 127.0.0.1:0) that counts requests.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response};
use siemtap_http::{HttpClient, HttpConfig, RetryPolicy};

/// One scripted answer.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) delay: Duration,
    /// Append the request's `authorization` and `x-api-key` values to the body.
    pub(crate) echo_credentials: bool,
}

impl Reply {
    pub(crate) fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
            echo_credentials: false,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

struct Shared {
    /// Replies in order; the last one repeats forever.
    script: Mutex<VecDeque<Reply>>,
    hits: AtomicU32,
    seen: Mutex<Vec<HeaderMap>>,
}

/// A running server.
pub(crate) struct Server {
    pub(crate) base: String,
    shared: Arc<Shared>,
}

impl Server {
    pub(crate) fn hits(&self) -> u32 {
        self.shared.hits.load(Ordering::SeqCst)
    }

    /// Values of one request header, in arrival order.
    pub(crate) fn seen(&self, name: &str) -> Vec<String> {
        let seen = self.shared.seen.lock().expect("lock");
        seen.iter()
            .filter_map(|h| {
                h.get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .collect()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

pub(crate) async fn serve(script: Vec<Reply>) -> Server {
    let shared = Arc::new(Shared {
        script: Mutex::new(script.into()),
        hits: AtomicU32::new(0),
        seen: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Server {
        base: format!("http://{addr}"),
        shared,
    }
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response<Body> {
    shared.hits.fetch_add(1, Ordering::SeqCst);
    let reply = {
        let mut script = shared.script.lock().expect("lock");
        if script.len() > 1 {
            script.pop_front().expect("non-empty")
        } else {
            script
                .front()
                .cloned()
                .expect("script has at least one reply")
        }
    };
    let mut body = reply.body.clone();
    if reply.echo_credentials {
        for name in ["authorization", "x-api-key"] {
            if let Some(v) = headers.get(name) {
                body.extend_from_slice(
                    format!(" {name}: {} ;", v.to_str().unwrap_or("")).as_bytes(),
                );
                body.extend_from_slice(format!(" raw={} ;", v.to_str().unwrap_or("")).as_bytes());
            }
        }
    }
    shared.seen.lock().expect("lock").push(headers);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(body)).expect("valid response")
}

/// Test config: no real sleeping between retries, generous timeouts.
pub(crate) fn config() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            sleep: false,
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    }
}

pub(crate) fn client() -> HttpClient {
    HttpClient::new(config()).expect("client builds")
}
