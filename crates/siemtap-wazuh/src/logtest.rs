//! A client for analysisd's logtest socket (wazuh.md §6.2), to run the same INI rule tests
//! that the offline evaluator runs ([`crate::ini`]) through a real Wazuh 4.x manager.
//!
//! Protocol: `queue/sockets/logtest`, AF_UNIX stream; every message in both directions is a
//! 4-byte little-endian length followed by that many bytes of UTF-8 JSON. Like the stock
//! client, one connection per request. A `log_processing` request without `token` opens a
//! session (which loads decoders and rules when created); the reply returns its token, and
//! `remove_session` ends it. Requests over 65,535 bytes are refused by the server (error 5),
//! so the client refuses them first.
//!
//! This is optional tooling: analysisd cannot be built offline, so the test suite runs the
//! client against a small fake server speaking the same framing, never a real manager.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::ini::{LineResult, Section};

/// Default socket path under a 4.x prefix.
pub const DEFAULT_LOGTEST_SOCKET: &str = "/var/ossec/queue/sockets/logtest";

/// Largest request the server accepts (bytes of JSON).
pub const MAX_REQUEST_BYTES: usize = 65_535;

/// Largest reply the client reads (alerts carry the whole event; generous).
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// Rule-loading warnings that make a run fail although analysisd accepts the rules
/// (wazuh.md §5.1): duplicated id, `if_sid` to a missing rule, empty `if_sid`.
pub const FATAL_WARNINGS: [&str; 3] = ["7612", "7617", "7619"];

/// What went wrong talking to the logtest socket.
#[derive(Debug, thiserror::Error)]
pub enum LogtestError {
    /// Connecting, writing or reading failed.
    #[error(
        "logtest socket {path}: {what}: {source} (is wazuh-manager running, is <rule_test> \
         enabled, and is this user root or in group wazuh?)"
    )]
    Io {
        /// Socket path.
        path: String,
        /// The operation.
        what: &'static str,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The request is over the server's limit.
    #[error(
        "logtest request of {0} bytes is over the {MAX_REQUEST_BYTES}-byte limit of the logtest socket"
    )]
    TooLarge(usize),
    /// The reply was not the documented JSON.
    #[error("logtest socket {path}: unexpected reply: {message}")]
    Protocol {
        /// Socket path.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The server answered with `error` ≠ 0.
    #[error("logtest socket {path}: error {code}: {message}")]
    Server {
        /// Socket path.
        path: String,
        /// `error` (1 unparsable, 2 fields, 3 command, 4 token, 5 too large).
        code: i64,
        /// `message`.
        message: String,
    },
}

/// Frames a payload: 4-byte little-endian length, then the bytes.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Reads one framed message of at most `max` bytes.
pub fn read_frame(r: &mut impl Read, max: usize) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("message of {len} bytes is over the {max}-byte limit"),
        ));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// The `data` of a `log_processing` reply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Processed {
    /// Session token.
    pub token: Option<String>,
    /// `codemsg` (0 success, 1 success with warnings, negative errors).
    pub codemsg: i64,
    /// `messages` (`INFO: …`, `WARNING: …`).
    pub messages: Vec<String>,
    /// `output`: the alert-shaped JSON (wazuh.md §7.5).
    pub output: Value,
    /// `alert`.
    pub alert: bool,
}

impl Processed {
    /// `output.rule.id` (empty when no rule matched).
    pub fn rule_id(&self) -> String {
        match &self.output["rule"]["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }
    }
    /// `output.rule.level` as text (empty when no rule matched).
    pub fn level(&self) -> String {
        match &self.output["rule"]["level"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        }
    }
    /// `output.decoder.name` (empty when nothing decoded).
    pub fn decoder(&self) -> String {
        self.output["decoder"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    /// `output.rule.description`.
    pub fn description(&self) -> String {
        self.output["rule"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    /// Messages carrying one of [`FATAL_WARNINGS`].
    pub fn fatal_warnings(&self) -> Vec<String> {
        self.messages
            .iter()
            .filter(|m| FATAL_WARNINGS.iter().any(|c| m.contains(&format!("({c})"))))
            .cloned()
            .collect()
    }
}

/// A logtest client for one socket.
#[derive(Clone, Debug)]
pub struct LogtestClient {
    path: PathBuf,
    timeout: Duration,
    location: String,
}

impl LogtestClient {
    /// A client for `path`; location `stdin` (as `wazuh-logtest` without `-l`) and a 60 s
    /// timeout per request (a new session loads the whole ruleset).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            timeout: Duration::from_secs(60),
            location: crate::ini::LOCATION.into(),
        }
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the event location.
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = location.into();
        self
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, what: &'static str) -> impl FnOnce(std::io::Error) -> LogtestError + '_ {
        move |source| LogtestError::Io {
            path: self.path.display().to_string(),
            what,
            source,
        }
    }

    fn protocol(&self, message: impl Into<String>) -> LogtestError {
        LogtestError::Protocol {
            path: self.path.display().to_string(),
            message: message.into(),
        }
    }

    /// Sends one request on a new connection and returns the reply's `data` (error ≠ 0
    /// becomes [`LogtestError::Server`]).
    pub fn request(&self, command: &str, parameters: Value) -> Result<Value, LogtestError> {
        let body = json!({
            "version": 1,
            "origin": {"name": "siemtap", "module": "siemtap"},
            "command": command,
            "parameters": parameters,
        })
        .to_string();
        if body.len() > MAX_REQUEST_BYTES {
            return Err(LogtestError::TooLarge(body.len()));
        }
        let mut stream = UnixStream::connect(&self.path).map_err(self.io("connect"))?;
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(self.io("set timeouts"))?;
        stream
            .write_all(&frame(body.as_bytes()))
            .and_then(|()| stream.flush())
            .map_err(self.io("send"))?;
        let reply = read_frame(&mut stream, MAX_REPLY_BYTES).map_err(self.io("read reply"))?;
        let reply: Value = serde_json::from_slice(&reply)
            .map_err(|e| self.protocol(format!("reply is not JSON ({e})")))?;
        let code = reply["error"]
            .as_i64()
            .ok_or_else(|| self.protocol("reply has no numeric `error`"))?;
        if code != 0 {
            return Err(LogtestError::Server {
                path: self.path.display().to_string(),
                code,
                message: reply["message"]
                    .as_str()
                    .unwrap_or("(no message)")
                    .to_string(),
            });
        }
        Ok(reply.get("data").cloned().unwrap_or(Value::Null))
    }

    /// Runs one event; `token` reuses a session, `None` opens one (returned in the reply).
    pub fn process(&self, event: &str, token: Option<&str>) -> Result<Processed, LogtestError> {
        let mut params = json!({
            "location": self.location,
            "log_format": "syslog",
            "event": event,
        });
        if let Some(t) = token {
            params["token"] = json!(t);
        }
        let data = self.request("log_processing", params)?;
        if !data.is_object() {
            return Err(self.protocol("reply has no `data` object"));
        }
        Ok(Processed {
            token: data["token"].as_str().map(str::to_string),
            codemsg: data["codemsg"].as_i64().unwrap_or(0),
            messages: data["messages"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            output: data.get("output").cloned().unwrap_or(Value::Null),
            alert: data["alert"].as_bool().unwrap_or(false),
        })
    }

    /// Ends a session.
    pub fn remove_session(&self, token: &str) -> Result<(), LogtestError> {
        self.request("remove_session", json!({"token": token}))
            .map(|_| ())
    }

    /// Runs INI test sections as [`crate::ini::run`] does offline: each `log` in a fresh
    /// session (removed afterwards), or all logs of a `session = shared` section in one.
    /// Returns the per-line results and the fatal rule-loading warnings seen.
    pub fn run_sections(
        &self,
        sections: &[Section],
    ) -> Result<(Vec<LineResult>, Vec<String>), LogtestError> {
        let mut results = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        for s in sections {
            let expected = format!("{}:{}:{}", s.rule, s.alert, s.decoder);
            let mut shared: Option<String> = None;
            for l in &s.logs {
                let token = if s.shared { shared.as_deref() } else { None };
                let p = self.process(&l.event, token)?;
                for w in p.fatal_warnings() {
                    if !warnings.contains(&w) {
                        warnings.push(w);
                    }
                }
                if s.shared {
                    if shared.is_none() {
                        shared = p.token.clone();
                    }
                } else if let Some(t) = &p.token {
                    self.remove_session(t)?;
                }
                let got = format!("{}:{}:{}", p.rule_id(), p.level(), p.decoder());
                results.push(LineResult {
                    section: s.name.clone(),
                    key: l.key.clone(),
                    line: l.line,
                    ok: (got == expected) == l.pass,
                    got,
                    expected: expected.clone(),
                    description: p.description(),
                });
            }
            if let Some(t) = shared {
                self.remove_session(&t)?;
            }
        }
        Ok((results, warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_little_endian_length_prefixed() {
        let f = frame(b"{\"a\":1}");
        assert_eq!(&f[..4], &[7, 0, 0, 0]);
        let back = read_frame(&mut &f[..], 100).unwrap();
        assert_eq!(back, b"{\"a\":1}");
        let big = frame(&[b'x'; 300]);
        assert_eq!(&big[..4], &[44, 1, 0, 0]);
        assert!(read_frame(&mut &big[..], 100).is_err());
        assert!(read_frame(&mut &f[..5], 100).is_err(), "short message");
    }

    #[test]
    fn reply_fields_and_fatal_warnings() {
        let p = Processed {
            messages: vec![
                "INFO: (7202): Session initialized with token '1a2b3c4d'".into(),
                "WARNING: (7617): Signature ID '100999' was not found and will be ignored in the 'if_sid' option of rule '100701'".into(),
            ],
            output: json!({"rule": {"id": "100701", "level": 8, "description": "d"}, "decoder": {"name": "json"}}),
            ..Processed::default()
        };
        assert_eq!(p.rule_id(), "100701");
        assert_eq!(p.level(), "8");
        assert_eq!(p.decoder(), "json");
        assert_eq!(p.fatal_warnings().len(), 1);
        assert_eq!(Processed::default().rule_id(), "");
    }

    #[test]
    fn oversize_request_is_refused_before_connecting() {
        let c = LogtestClient::new("/nonexistent/logtest");
        let e = c.process(&"x".repeat(70_000), None).unwrap_err();
        assert!(matches!(e, LogtestError::TooLarge(_)), "{e}");
        let e = c.process("{}", None).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/logtest"), "{e}");
    }
}
