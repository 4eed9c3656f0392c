//! A misbehaving vendor: a tiny HTTP server that answers every request with an error (or a
//! broken 200) whose body echoes the request headers back — `Authorization`, `x-xdr-auth-id`
//! and all — so the credentials reach siemtap inside the response body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{ALL, Conn};
use crate::harness::{Workdir, lines};

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
    /// 401 whose JSON body quotes the credential of `Authorization` (for Basic: the decoded
    /// secret too) in every transformed form of [`transformed`].
    Transformed401,
}

/// Every mode.
pub const ECHO_MODES: [EchoMode; 6] = [
    EchoMode::Json401,
    EchoMode::Html400,
    EchoMode::Text500,
    EchoMode::WrongTypes200,
    EchoMode::Text200,
    EchoMode::Transformed401,
];

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            s.push(if i <= chunk.len() {
                B64[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    s
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.trim_end_matches('=').bytes() {
        acc = (acc << 6) | B64.iter().position(|&a| a == c)? as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The forms of `secret` a careless server may quote: lower and upper case, base64 and
/// base64url with and without padding, hex in both cases, percent-encoded (both hex cases),
/// and a run of all but its first and last two characters (at least 12 of them).
pub fn transformed(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let std = b64(b);
    let url = std.replace('+', "-").replace('/', "_");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let pct: String = b
        .iter()
        .map(|&x| {
            if x.is_ascii_alphanumeric() || b"-._~".contains(&x) {
                (x as char).to_string()
            } else {
                format!("%{x:02X}")
            }
        })
        .collect();
    let mut out = vec![
        secret.to_lowercase(),
        secret.to_uppercase(),
        std.trim_end_matches('=').to_string(),
        url.trim_end_matches('=').to_string(),
        std,
        url,
        hex.to_uppercase(),
        hex,
        pct.to_lowercase(),
        pct,
    ];
    if secret.len() >= 16 {
        out.push(secret[2..secret.len() - 2].to_string());
    }
    out
}

/// The credentials inside an `Authorization` value: the part after the scheme, and for Basic
/// the decoded `user:secret` and the secret.
pub fn credentials_of(authorization: &str) -> Vec<String> {
    let Some((scheme, cred)) = authorization.split_once(' ') else {
        return vec![authorization.to_string()];
    };
    let mut out = vec![cred.to_string()];
    if scheme.eq_ignore_ascii_case("basic")
        && let Some(decoded) = unb64(cred).and_then(|d| String::from_utf8(d).ok())
    {
        if let Some((_, secret)) = decoded.split_once(':') {
            out.push(secret.to_string());
        }
        out.push(decoded);
    }
    out
}

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
        EchoMode::Transformed401 => {
            let quoted: Vec<String> = credentials_of(&auth)
                .iter()
                .flat_map(|c| transformed(c))
                .map(|f| json_string(&format!("got<{f}>")))
                .collect();
            let body = format!(
                r#"{{"error":"invalid credentials","you_sent":[{}]}}"#,
                quoted.join(",")
            );
            (401, "application/json", body)
        }
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

    /// The `Authorization` values received.
    pub fn authorizations(&self) -> Vec<String> {
        self.heads
            .lock()
            .unwrap()
            .iter()
            .flat_map(|h| h.lines().map(str::to_string).collect::<Vec<_>>())
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("authorization")
                    .then(|| v.trim().to_string())
            })
            .collect()
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

/// A credential with reserved characters and mixed case, so that every transformed form
/// differs from the value itself.
fn special(conn: &Conn) -> Vec<(&'static str, &'static str)> {
    match conn.name {
        "1password" => vec![("OP_BEARER_TOKEN", "Canary+Op/Tok=en:Q7~zz%41x")],
        "proofpoint" => vec![
            ("PP_PRINCIPAL", "Canary-Principal-Q7"),
            ("PP_SECRET", "Canary+Pp/Sec=ret:Q7~zz%41x"),
        ],
        _ => vec![
            ("XDR_API_KEY", "Canary+Xdr/Key=val:Q7~zz%41x"),
            ("XDR_API_KEY_ID", "31415926535"),
        ],
    }
}

/// A 401/403 body quoting the credential in every transformed form: none of the forms
/// reaches stdout, stderr, the log (at `--debug 3`), the state file or the output file.
#[test]
fn transformed_secret_forms_echoed_in_a_401_never_leak() {
    for conn in ALL {
        let echo = Echo::start(EchoMode::Transformed401);
        let work = Workdir::new();
        let mut run = conn.run(&echo.base, &work).args(["--debug", "3"]);
        if conn.name == "cortex_xdr" {
            run = run.env("XDR_SECURITY_LEVEL", "standard");
        }
        let creds = special(&conn);
        for (k, v) in &creds {
            run = run.env(k, v);
        }
        let out = run
            .env("SIEMTAP_USER", "root")
            .into_file(&work.out())
            .output();
        let events = lines(&work.read("events.jsonl"));
        assert!(
            !conn.errors(&events).is_empty(),
            "{}: an error event",
            conn.name
        );
        let mut needles: Vec<String> = Vec::new();
        for (_, v) in &creds {
            needles.push(v.to_string());
            needles.extend(transformed(v));
        }
        needles.retain(|n| n.len() >= 12);
        // The secret (the last credential) reached the echo server, so its bodies quoted it.
        let secret = creds
            .iter()
            .rev()
            .find(|(k, _)| !k.ends_with("_ID"))
            .unwrap()
            .1;
        assert!(
            echo.authorizations()
                .iter()
                .any(|a| credentials_of(a).iter().any(|c| c == secret)),
            "{}: the echo server received {secret}",
            conn.name
        );
        let channels = [
            ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
            ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
            ("log", work.read("siemtap.log")),
            ("state", work.read("state.json")),
            ("output file", work.read("events.jsonl")),
        ];
        for (name, text) in &channels {
            for n in &needles {
                assert!(
                    !text.contains(n.as_str()),
                    "{}: {n} leaked into {name}: {text}",
                    conn.name
                );
            }
        }
        // The echoed body did reach siemtap (the log or an error_detail quotes it), redacted.
        assert!(
            channels
                .iter()
                .any(|(_, text)| text.contains("got<[REDACTED]>")),
            "{}: the echo was redacted, not lost",
            conn.name
        );
    }
}
