//! A minimal raw HTTP/1.1 client (one connection per request) plus XDR auth helpers. The
//! advanced-key hash is computed here with ring, independently of the simulator.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::digest;
use serde_json::{Value, json};
use siemtap_sim::{CortexXdrArgs, SecurityLevel, SimHandle, spawn_cortex_xdr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const T0: &str = "2026-03-31T12:00:00Z";
pub const ALERTS: &str = "/public_api/v1/alerts/get_alerts";
pub const ALERTS_V2: &str = "/public_api/v2/alerts/get_alerts_multi_events";
pub const INCIDENTS: &str = "/public_api/v1/incidents/get_incidents";

pub fn t0_ms() -> i64 {
    let t: jiff::Timestamp = T0.parse().unwrap();
    t.as_millisecond()
}

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

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request. `Err` when the server closed the connection without a response.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
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
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Resp {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

pub fn sha256_hex(s: &str) -> String {
    digest::digest(&digest::SHA256, s.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

static NONCE: AtomicU64 = AtomicU64::new(1);

/// A fresh 64-character alphanumeric nonce.
pub fn nonce() -> String {
    let n = NONCE.fetch_add(1, Ordering::Relaxed);
    format!("N{n:063}")
}

/// Advanced-key headers for `key` / `key_id` with the given nonce and timestamp.
pub fn advanced(key: &str, key_id: &str, nonce: &str, ts_ms: i64) -> Vec<(String, String)> {
    let ts = ts_ms.to_string();
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("x-xdr-auth-id".into(), key_id.into()),
        ("x-xdr-nonce".into(), nonce.into()),
        ("x-xdr-timestamp".into(), ts.clone()),
        (
            "Authorization".into(),
            sha256_hex(&format!("{key}{nonce}{ts}")),
        ),
    ]
}

/// A running simulator with a frozen clock and helpers.
pub struct Sim {
    pub handle: SimHandle,
    pub args: CortexXdrArgs,
}

/// Args with a frozen clock at [`T0`].
pub fn frozen(events: u64) -> CortexXdrArgs {
    CortexXdrArgs {
        events,
        clock_start: Some(T0.to_owned()),
        frozen_clock: true,
        ..Default::default()
    }
}

impl Sim {
    pub async fn start(args: CortexXdrArgs) -> Sim {
        Sim {
            handle: spawn_cortex_xdr(args.clone())
                .await
                .expect("simulator starts"),
            args,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle.addr()
    }

    /// The sim clock in epoch ms.
    pub async fn now_ms(&self) -> i64 {
        let c = self.control("GET", "/_sim/clock", None).await.json();
        let t: jiff::Timestamp = c["now"].as_str().unwrap().parse().unwrap();
        t.as_millisecond()
    }

    /// Valid credentials for the configured security level.
    pub async fn auth(&self) -> Vec<(String, String)> {
        let id = self.args.api_key_id.to_string();
        match self.args.security_level {
            SecurityLevel::Advanced => {
                advanced(&self.args.api_key, &id, &nonce(), self.now_ms().await)
            }
            SecurityLevel::Standard => vec![
                ("x-xdr-auth-id".into(), id),
                ("Authorization".into(), self.args.api_key.clone()),
            ],
        }
    }

    pub async fn post_with(&self, headers: &[(String, String)], path: &str, body: &Value) -> Resp {
        let bytes = serde_json::to_vec(body).unwrap();
        send(self.addr(), "POST", path, headers, Some(&bytes))
            .await
            .expect("response")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        let h = self.auth().await;
        self.post_with(&h, path, body).await
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
            .control("POST", "/_sim/clock", Some(json!({ "advance_s": secs })))
            .await;
        assert_eq!(r.status, 200);
    }

    pub async fn requests(&self) -> Vec<Value> {
        let log = self.control("GET", "/_sim/requests", None).await.json();
        log["requests"].as_array().unwrap().clone()
    }

    /// Pages `path` with `filters` / `sort` by 100 until a short page; returns the records
    /// and the `total_count` of every page.
    pub async fn drain(&self, path: &str, filters: Value, sort: Value) -> (Vec<Value>, Vec<u64>) {
        let key = if path == INCIDENTS {
            "incidents"
        } else {
            "alerts"
        };
        let (mut items, mut totals) = (Vec::new(), Vec::new());
        for page in 0..10_000u64 {
            let body = json!({"request_data": {"filters": filters, "sort": sort,
                "search_from": page * 100, "search_to": page * 100 + 100}});
            let r = self.post(path, &body).await;
            assert_eq!(r.status, 200, "{}", r.text());
            let reply = &r.json()["reply"];
            let got = reply[key].as_array().unwrap().clone();
            assert_eq!(reply["result_count"].as_u64().unwrap(), got.len() as u64);
            totals.push(reply["total_count"].as_u64().unwrap());
            let done = got.len() < 100;
            items.extend(got);
            if done {
                return (items, totals);
            }
        }
        panic!("{path} never finished paging");
    }
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// `"<incident_id>@<modification_time>"` of an incident record.
pub fn version_id(inc: &Value) -> String {
    format!(
        "{}@{}",
        inc["incident_id"].as_str().unwrap(),
        inc["modification_time"].as_i64().unwrap()
    )
}

/// A `server_creation_time` window covering the whole initial dataset.
pub fn alert_window() -> Value {
    json!([
        {"field": "server_creation_time", "operator": "gte", "value": t0_ms() - 25 * 3_600_000},
        {"field": "server_creation_time", "operator": "lte", "value": t0_ms() - 300_000}
    ])
}

/// A `modification_time` window covering the whole initial dataset.
pub fn incident_window() -> Value {
    json!([
        {"field": "modification_time", "operator": "gte", "value": t0_ms() - 25 * 3_600_000},
        {"field": "modification_time", "operator": "lte", "value": t0_ms() - 300_000}
    ])
}
