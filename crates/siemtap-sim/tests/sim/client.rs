//! A deliberately minimal HTTP/1.1 client (one connection per request, `Connection: close`),
//! so tests see exactly what went over the socket — including truncated bodies and dropped
//! connections — without depending on siemtap's own HTTP stack.

use std::net::SocketAddr;

use serde_json::Value;
use siemtap_sim::{OnePasswordArgs, SimHandle, spawn_onepassword};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const T0: &str = "2026-03-31T12:00:00Z";

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends one request. `Err` when the server closed the connection without a response.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr).await?;
    let body = body.unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).await?;
    s.write_all(body).await?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await?;
    if raw.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed without a response",
        ));
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8(raw[..split].to_vec()).expect("ascii head");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = raw[split + 4..].to_vec();
    let resp = Resp {
        status,
        headers,
        body,
    };
    if let Some(len) = resp.header("content-length") {
        assert_eq!(
            len.parse::<usize>().unwrap(),
            resp.body.len(),
            "Content-Length matches the body"
        );
    }
    Ok(resp)
}

/// A running simulator plus helpers.
pub struct Sim {
    pub handle: SimHandle,
    pub token: String,
}

/// Args with a frozen clock at [`T0`].
pub fn frozen(events: u64) -> OnePasswordArgs {
    OnePasswordArgs {
        events,
        clock_start: Some(T0.to_owned()),
        frozen_clock: true,
        ..Default::default()
    }
}

impl Sim {
    pub async fn start(args: OnePasswordArgs) -> Sim {
        Sim {
            handle: spawn_onepassword(args).await.expect("simulator starts"),
            token: "sim-token".to_owned(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.addr()
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Resp {
        let auth = format!("Bearer {token}");
        let bytes = serde_json::to_vec(body).unwrap();
        let h = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        send(self.addr(), "POST", path, &h, Some(&bytes))
            .await
            .expect("response")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.post_as(&self.token, path, body).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Resp {
        let auth = format!("Bearer {token}");
        send(
            self.addr(),
            "GET",
            path,
            &[("Authorization", auth.as_str())],
            None,
        )
        .await
        .expect("response")
    }

    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        send(self.addr(), method, path, &[], bytes.as_deref())
            .await
            .expect("response")
    }

    pub async fn oracle(&self, query: &str) -> Value {
        let r = self
            .control("GET", &format!("/_sim/oracle{query}"), None)
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()
    }

    pub async fn faults(&self, plan: Value) {
        let r = self.control("POST", "/_sim/faults", Some(plan)).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }

    pub async fn advance(&self, secs: i64) {
        let r = self
            .control(
                "POST",
                "/_sim/clock",
                Some(serde_json::json!({"advance_s": secs})),
            )
            .await;
        assert_eq!(r.status, 200);
    }

    pub async fn requests(&self) -> Vec<Value> {
        let log = self.control("GET", "/_sim/requests", None).await.json();
        log["requests"].as_array().unwrap().clone()
    }

    /// Pages `path` from `first` until `has_more` is false. Returns uuids and the last cursor.
    pub async fn drain_as(&self, token: &str, path: &str, first: Value) -> (Vec<String>, String) {
        let mut ids = Vec::new();
        let mut body = first;
        for _ in 0..100_000 {
            let r = self.post_as(token, path, &body).await;
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            let page = r.json();
            for item in page["items"].as_array().unwrap() {
                ids.push(item["uuid"].as_str().unwrap().to_owned());
            }
            let cursor = page["cursor"].as_str().unwrap().to_owned();
            if !page["has_more"].as_bool().unwrap() {
                return (ids, cursor);
            }
            body = serde_json::json!({ "cursor": cursor });
        }
        panic!("{path} never finished paging");
    }

    pub async fn drain(&self, path: &str, first: Value) -> (Vec<String>, String) {
        self.drain_as(&self.token.clone(), path, first).await
    }
}

/// A flat first-page body covering the whole dataset.
pub fn flat(limit: u64) -> Value {
    serde_json::json!({"limit": limit, "start_time": "2026-03-29T00:00:00.000Z"})
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}
