//! Test harness: the simulator and the binary as subprocesses, a tiny HTTP client for the
//! simulator's control plane, and helpers to read what a run emitted.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_siemtap")
}

/// `siemtap` as a command that opts in to running as root (`SIEMTAP_USER=root`): the tests
/// run as root in CI, and `siemtap run` / `state reset|rewind` refuse root unless told so
/// (they drop to the `wazuh` user). Every spawn of the binary goes through here or
/// [`siemtap_cmd_clean`]; `privilege.rs` tests the drop itself.
pub fn siemtap_cmd() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env("SIEMTAP_USER", "root");
    cmd
}

/// [`siemtap_cmd`] with a clean environment: nothing but PATH and `SIEMTAP_USER=root`.
pub fn siemtap_cmd_clean() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIEMTAP_USER", "root");
    cmd
}

/// The default simulator token.
pub const TOKEN: &str = "sim-token";

/// A running `siemtap sim VENDOR`.
pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Sim {
    /// Starts the 1Password simulator with extra arguments.
    pub fn start(args: &[&str]) -> Sim {
        Sim::vendor("1password", args)
    }

    /// Starts `siemtap sim VENDOR --listen 127.0.0.1:0 ARGS` and waits for its
    /// `listening on` line.
    pub fn vendor(vendor: &str, args: &[&str]) -> Sim {
        let mut child = siemtap_cmd()
            .args(["sim", vendor, "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn simulator");
        let stdout = child.stdout.take().expect("sim stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("sim first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Sim { child, base }
    }

    /// `GET /_sim/oracle` (optionally for a tenant): stream → ids.
    pub fn oracle(&self, tenant: Option<&str>) -> BTreeMap<String, Vec<String>> {
        let path = match tenant {
            Some(t) => format!("/_sim/oracle?tenant={t}"),
            None => "/_sim/oracle".to_string(),
        };
        let (status, body) = http(&self.base, "GET", &path, None);
        assert_eq!(status, 200, "oracle: {body}");
        let v: Value = serde_json::from_str(&body).expect("oracle json");
        serde_json::from_value(v["streams"].clone()).expect("oracle streams")
    }

    /// Installs a fault plan.
    pub fn faults(&self, plan: Value) {
        let (status, body) = http(&self.base, "POST", "/_sim/faults", Some(&plan.to_string()));
        assert!((200..300).contains(&status), "faults: {status} {body}");
    }

    /// Clears the fault plan.
    pub fn clear_faults(&self) {
        let (status, body) = http(&self.base, "DELETE", "/_sim/faults", None);
        assert!(
            (200..300).contains(&status),
            "clear faults: {status} {body}"
        );
    }

    /// `POST /_sim/clock`.
    pub fn clock(&self, body: Value) {
        let (status, text) = http(&self.base, "POST", "/_sim/clock", Some(&body.to_string()));
        assert!((200..300).contains(&status), "clock: {status} {text}");
    }

    /// The request log.
    pub fn requests(&self) -> Value {
        let (status, body) = http(&self.base, "GET", "/_sim/requests", None);
        assert_eq!(status, 200, "requests: {body}");
        serde_json::from_str(&body).expect("requests json")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 client (Connection: close; handles chunked bodies).
pub fn http(base: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect to simulator");
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut payload = raw[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        payload = dechunk(&payload);
    }
    (status, String::from_utf8_lossy(&payload).to_string())
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    out
}

/// A scratch directory with the files one connector run uses.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn state(&self) -> PathBuf {
        self.path("state.json")
    }
    pub fn out(&self) -> PathBuf {
        self.path("events.jsonl")
    }
    pub fn log(&self) -> PathBuf {
        self.path("siemtap.log")
    }
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// Copies the shipped `connectors/<name>.toml` into this directory's `connectors/`, where
    /// a config file beside it finds declarative connectors.
    pub fn install_shipped_connector(&self, name: &str) {
        std::fs::create_dir_all(self.path("connectors")).unwrap();
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../connectors")
            .join(format!("{name}.toml"));
        std::fs::copy(shipped, self.path(&format!("connectors/{name}.toml"))).unwrap();
    }
}

/// A `siemtap run 1password` invocation with the drop-in environment.
pub struct RunCmd {
    pub cmd: Command,
}

impl RunCmd {
    /// `siemtap run 1password` against `sim`, state/log in `work`, no real retry sleeps,
    /// a clean environment (nothing inherited but PATH).
    pub fn new(sim: &Sim, work: &Workdir) -> RunCmd {
        let mut cmd = siemtap_cmd_clean();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("OP_BASE_URL", &sim.base)
            .env("OP_BEARER_TOKEN", TOKEN)
            .env("OP_STATE_FILE", work.state())
            .env("OP_SECRETS_FILE", work.path("absent.secrets"))
            .env("OP_REQUESTS_PER_SECOND", "200")
            .env("SIEMTAP_NO_RETRY_SLEEP", "1")
            .args(["run", "1password", "--log-file"])
            .arg(work.log())
            .stdin(Stdio::null());
        RunCmd { cmd }
    }
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, a: I) -> Self {
        self.cmd.args(a);
        self
    }
    /// `--output file:PATH`.
    pub fn into_file(self, path: &Path) -> Self {
        self.arg("--output").arg(format!("file:{}", path.display()))
    }
    pub fn output(mut self) -> Output {
        self.cmd.output().expect("run siemtap")
    }
    pub fn spawn(mut self) -> Child {
        self.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn siemtap")
    }
}

/// Parses JSON lines; panics on a line that is not JSON (nothing but events may appear).
pub fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect()
}

/// Lenient parse: skips a torn last line (after a SIGKILL mid-write).
pub fn lines_lenient(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Stream name of a 1Password vendor event, by its `op.event_type`.
pub fn stream_of(event: &Value) -> Option<&'static str> {
    match event["op"]["event_type"].as_str()? {
        "audit_event" => Some("audit"),
        "signin_attempt" => Some("signin"),
        "item_usage" => Some("itemusage"),
        _ => None,
    }
}

/// Vendor uuids per stream, in order (duplicates kept).
pub fn ids_by_stream(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        if let (Some(s), Some(id)) = (stream_of(e), e["op"]["uuid"].as_str()) {
            out.entry(s.to_string()).or_default().push(id.to_string());
        }
    }
    out
}

/// Error events (`op.event_type == "error"`).
pub fn errors(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["op"]["event_type"] == "error")
        .collect()
}

/// Run summaries.
pub fn summaries(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["op"]["event_type"] == "run_summary")
        .collect()
}

/// Asserts `emitted` holds every oracle id exactly once and nothing else.
pub fn assert_exact(
    emitted: &BTreeMap<String, Vec<String>>,
    oracle: &BTreeMap<String, Vec<String>>,
) {
    for (stream, want) in oracle {
        let got = emitted.get(stream).cloned().unwrap_or_default();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in &got {
            *counts.entry(id).or_default() += 1;
        }
        let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(dupes.is_empty(), "{stream}: duplicates {dupes:?}");
        let missing: Vec<_> = want
            .iter()
            .filter(|id| !counts.contains_key(id.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{stream}: {} of {} missing, e.g. {:?}",
            missing.len(),
            want.len(),
            missing.first()
        );
        assert_eq!(
            got.len(),
            want.len(),
            "{stream}: extra ids not in the oracle"
        );
    }
}

/// The state file as JSON.
pub fn state_json(work: &Workdir) -> Value {
    serde_json::from_str(&work.read("state.json")).expect("state json")
}

/// `siemtap ARGS` with a clean environment (PATH, no retry sleeps) plus `env`.
pub fn siemtap_clean(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = siemtap_cmd_clean();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}
