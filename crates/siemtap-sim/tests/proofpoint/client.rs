//! A minimal raw HTTP/1.1 client (one connection per request, `Connection: close`), so tests
//! see exactly what went over the socket, plus Proofpoint helpers.

use std::collections::HashMap;
use std::net::SocketAddr;

use base64::Engine as _;
use serde_json::Value;
use siemtap_sim::{ProofpointArgs, SimHandle, spawn_proofpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The frozen clock of most tests.
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

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                self.text()
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
    let resp = Resp {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    };
    if let Some(len) = resp.header("content-length") {
        assert_eq!(
            len.parse::<usize>().unwrap(),
            resp.body.len(),
            "Content-Length"
        );
    }
    Ok(resp)
}

/// Args with a frozen clock at [`T0`].
pub fn frozen(events: u64) -> ProofpointArgs {
    ProofpointArgs {
        events,
        clock_start: Some(T0.to_owned()),
        frozen_clock: true,
        ..Default::default()
    }
}

pub fn basic(principal: &str, secret: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{principal}:{secret}"));
    format!("Basic {b64}")
}

/// RFC 3339 `T0 + secs`.
pub fn at(secs: i64) -> String {
    let t: jiff::Timestamp = T0.parse().unwrap();
    (t + jiff::SignedDuration::from_secs(secs)).to_string()
}

pub fn interval(start: i64, end: i64) -> String {
    format!(
        "/v2/siem/all?format=json&interval={}/{}",
        at(start),
        at(end)
    )
}

/// A running simulator plus helpers (default credentials).
pub struct Sim {
    pub handle: SimHandle,
    pub auth: String,
}

impl Sim {
    pub async fn start(args: ProofpointArgs) -> Sim {
        let auth = basic(&args.principal, &args.secret);
        Sim {
            handle: spawn_proofpoint(args).await.expect("simulator starts"),
            auth,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.addr()
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(
            self.addr(),
            "GET",
            path,
            &[("Authorization", &self.auth)],
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
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    pub async fn faults(&self, plan: Value) {
        let r = self.control("POST", "/_sim/faults", Some(plan)).await;
        assert_eq!(r.status, 200, "{}", r.text());
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

    /// SIEM window `[T0+start, T0+end)` on `/all` → oracle-style ids (empty for 204).
    pub async fn window(&self, start: i64, end: i64) -> Vec<String> {
        let r = self.get(&interval(start, end)).await;
        siem_ids(&r)
    }
}

/// The oracle-style ids of a SIEM response (204 → none).
pub fn siem_ids(r: &Resp) -> Vec<String> {
    if r.status == 204 {
        assert!(r.body.is_empty());
        return Vec::new();
    }
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let mut ids = Vec::new();
    for (k, recs) in v.as_object().unwrap() {
        if k == "queryEndTime" {
            continue;
        }
        let id_key = if k.starts_with("messages") {
            "GUID"
        } else {
            "id"
        };
        for rec in recs.as_array().unwrap() {
            ids.push(format!("{k}:{}", rec[id_key].as_str().unwrap()));
        }
    }
    ids
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// Counts of each id.
pub fn counts(ids: &[String]) -> HashMap<&str, usize> {
    let mut m = HashMap::new();
    for id in ids {
        *m.entry(id.as_str()).or_default() += 1;
    }
    m
}
