//! A misbehaving vendor: a tiny HTTP server that answers every request with an error (or a
//! broken 200) whose body echoes the request headers back — `Authorization`, `x-xdr-auth-id`
//! and all — so the credentials reach siemtap inside the response body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How the echo is served.
#[derive(Clone, Copy, Debug)]
pub enum EchoMode {
    /// 401 with a JSON body holding every header as `{"name": "value"}`.
    Json401,
    /// 400 with an HTML page quoting the raw request head.
    Html400,
    /// 500 (retried, then an error) with the raw request head as text/plain.
    Text500,
    /// 200 with valid JSON whose fields carry the header values with the wrong types, so a
    /// parser error message would quote them.
    WrongTypes200,
    /// 200 with the raw request head as text/plain.
    Text200,
}

/// Every mode.
pub const ECHO_MODES: [EchoMode; 5] = [
    EchoMode::Json401,
    EchoMode::Html400,
    EchoMode::Text500,
    EchoMode::WrongTypes200,
    EchoMode::Text200,
];

/// A running echo server.
pub struct Echo {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    stop: Arc<AtomicBool>,
    /// Raw request heads received.
    heads: Arc<Mutex<Vec<String>>>,
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn respond(mode: EchoMode, head: &str) -> (u16, &'static str, String) {
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let auth = headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match mode {
        EchoMode::Json401 => {
            let fields: Vec<String> = headers
                .iter()
                .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
                .collect();
            let body = format!(
                r#"{{"error":"invalid credentials","message":"rejected {auth}","request_headers":{{{}}}}}"#,
                fields.join(",")
            );
            (401, "application/json", body)
        }
        EchoMode::Html400 => (
            400,
            "text/html",
            format!("<html><body><h1>Bad Request</h1><pre>{head}</pre></body></html>"),
        ),
        EchoMode::Text500 => (500, "text/plain", format!("upstream failed for:\n{head}")),
        EchoMode::WrongTypes200 => {
            let a = json_string(&auth);
            let all = json_string(head);
            // Keys of the three vendors' pages, each with a string where another type belongs.
            let body = format!(
                r#"{{"has_more":{a},"cursor":{{"x":{a}}},"items":{a},"queryEndTime":{{"t":{a}}},"messagesDelivered":{a},"clicksBlocked":{all},"data":{a},"total":{a},"reply":{{"total_count":{a},"result_count":{a},"alerts":{a},"incidents":{a}}},"features":{a},"uuid":{a}}}"#
            );
            (200, "application/json", body)
        }
        EchoMode::Text200 => (200, "text/plain", head.to_string()),
    }
}

fn serve(mut stream: TcpStream, mode: EchoMode, heads: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    heads.lock().unwrap().push(head.clone());
    let (status, content_type, text) = respond(mode, &head);
    let reply = format!(
        "HTTP/1.1 {status} Echo\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}

impl Echo {
    /// Binds 127.0.0.1:0 and serves until dropped.
    pub fn start(mode: EchoMode) -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind echo server");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (stop2, heads2) = (stop.clone(), heads.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::Acquire) {
                    break;
                }
                if let Ok(conn) = conn {
                    let heads = heads2.clone();
                    std::thread::spawn(move || serve(conn, mode, &heads));
                }
            }
        });
        Echo { base, stop, heads }
    }

    /// Whether some request carried one of `needles` (so the echoed bodies held it).
    pub fn saw_credentials(&self, needles: &[String]) -> bool {
        self.heads.lock().unwrap().iter().any(|h| {
            needles
                .iter()
                .any(|n| n != "k4v8" && h.contains(n.as_str()))
        })
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}
