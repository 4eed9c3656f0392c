//! Shared helpers of the declarative-connector tests: load a shipped connector, run it through
//! the real runner into a real file with a real state file, and talk to a simulator. The
//! file is written by [`AppendSink`], the tests' own sink: connectors never depend on sinks,
//! not even in tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use siemtap_connectors::rest::{ConnectorSpec, RestSource, SourceOptions, load_file, load_str};
use siemtap_core::runner::{RunOptions, Runner, SourceReport};
use siemtap_core::{Batch, BoxFuture, Delivery, Sink, SinkError, Source};
use siemtap_http::{HttpClient, HttpConfig, RequestContext, RetryPolicy};
use siemtap_secrets::{ChainSources, CredentialChain};
use siemtap_state::StateStore;

/// `connectors/NAME` at the repository root.
pub fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../connectors")
        .join(name)
}

/// A shipped connector, optionally with text replacements (e.g. a smaller `max_pages`).
pub fn connector(name: &str, edits: &[(&str, &str)]) -> ConnectorSpec {
    if edits.is_empty() {
        return load_file(&shipped(name)).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut text = std::fs::read_to_string(shipped(name)).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{name} has no {from:?}");
        text = text.replace(from, to);
    }
    load_str(&text, name).unwrap_or_else(|e| panic!("{e}"))
}

/// A client that does not sleep between retries.
pub fn http() -> HttpClient {
    HttpClient::new(HttpConfig {
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            sleep: false,
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    })
    .unwrap()
}

/// A credential chain with only environment values.
pub fn chain(env: &[(&str, &str)]) -> CredentialChain {
    CredentialChain::new(ChainSources {
        credentials_directory: None,
        secrets_file: None,
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        renames: Default::default(),
    })
    .unwrap()
}

/// `[source.settings]`.
pub fn settings(pairs: &[(&str, &str)]) -> toml::Table {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), toml::Value::String((*v).to_owned())))
        .collect()
}

/// A work directory with a state file and an output file.
pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("events.jsonl")
    }
    pub fn lines(&self) -> Vec<Value> {
        read_lines(&self.out())
    }
    pub fn raw(&self) -> String {
        std::fs::read_to_string(self.out()).unwrap_or_default()
    }
    pub fn state_text(&self) -> String {
        std::fs::read_to_string(self.state()).unwrap_or_default()
    }
}

/// Every line of a JSON-lines file, parsed.
pub fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

/// Runs `source` once into `work` (state + file sink), like `siemtap run --config`.
pub async fn run_source(work: &Work, source: &mut dyn Source) -> SourceReport {
    let mut store = StateStore::open(&work.state()).unwrap();
    let mut sink = AppendSink(work.out());
    let mut runner = Runner::new(&mut sink, RunOptions::default());
    runner.run_source(&mut store, source, None).await.unwrap()
}

/// Appends every batch to a JSON-lines file and flushes it (the tests run one after another
/// and never kill a run, so no recovery is needed).
pub struct AppendSink(pub PathBuf);

impl Sink for AppendSink {
    fn output_id(&self) -> Option<&str> {
        None
    }

    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        Box::pin(async move {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.0)
                .and_then(|mut f| f.write_all(batch.bytes()).and_then(|()| f.sync_data()))
                .map_err(|e| SinkError {
                    sink: format!("test file {}", self.0.display()),
                    message: e.to_string(),
                })?;
            Ok(Delivery::default())
        })
    }
}

/// Builds a source of `spec` and runs it once.
pub async fn run(
    work: &Work,
    spec: &ConnectorSpec,
    settings: &toml::Table,
    env: &[(&str, &str)],
) -> SourceReport {
    let mut source = build(spec, settings, env);
    run_source(work, &mut source).await
}

/// The concrete source (tests read its token counter).
pub fn build(spec: &ConnectorSpec, settings: &toml::Table, env: &[(&str, &str)]) -> RestSource {
    let chain = chain(env);
    spec.build_rest_source(SourceOptions {
        source_name: "test",
        settings,
        chain: &chain,
        http: http(),
        streams: None,
        lookback: None,
    })
    .unwrap_or_else(|f| panic!("{f:?}"))
}

/// Vendor events of `ns` (not errors, summaries or health events).
pub fn vendor(lines: &[Value], ns: &str) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| {
            !matches!(
                l[ns]["event_type"].as_str(),
                Some("error" | "run_summary" | "health")
            )
        })
        .cloned()
        .collect()
}

/// Lines of `ns` with `event_type == kind`.
pub fn of_type(lines: &[Value], ns: &str, kind: &str) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| l[ns]["event_type"] == kind)
        .cloned()
        .collect()
}

/// The ids at `pointer` of vendor events, as strings.
pub fn ids(lines: &[Value], ns: &str, pointer: &str) -> Vec<String> {
    vendor(lines, ns)
        .iter()
        .map(|l| match l[ns].pointer(pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            other => panic!("no id at {pointer}: {other:?}"),
        })
        .collect()
}

/// Asserts `got` has no duplicates and equals `want` as a set.
pub fn assert_exact(got: &[String], want: &[String]) {
    let set: std::collections::BTreeSet<&String> = got.iter().collect();
    assert_eq!(set.len(), got.len(), "duplicates emitted");
    let want_set: std::collections::BTreeSet<&String> = want.iter().collect();
    let missing: Vec<_> = want_set.difference(&set).collect();
    let extra: Vec<_> = set.difference(&want_set).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
}

/// Talks to a simulator's control plane.
pub struct Control {
    pub base: String,
    http: HttpClient,
}

impl Control {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: http(),
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .send(&RequestContext::new("GET /_sim"), |c| c.get(&url))
            .await
            .unwrap();
        serde_json::from_slice(&resp.body).unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let text = body.to_string();
        let resp = self
            .http
            .send(&RequestContext::new("POST /_sim"), |c| {
                c.post(&url)
                    .header("Content-Type", "application/json")
                    .body(text.clone())
            })
            .await
            .unwrap();
        serde_json::from_slice(&resp.body).unwrap()
    }

    /// Oracle ids of one stream.
    pub async fn oracle(&self, stream: &str) -> Vec<String> {
        let o = self.get("/_sim/oracle").await;
        o["streams"][stream]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn stats(&self) -> Value {
        self.get("/_sim/stats").await
    }

    pub async fn requests(&self) -> Vec<Value> {
        self.get("/_sim/requests").await["requests"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub async fn faults(&self, plan: Value) {
        self.post("/_sim/faults", plan).await;
    }
}

/// Env for OAuth etc.: the secrets of the shipped examples, with the simulator defaults.
pub const OKTA_ENV: &[(&str, &str)] = &[("OKTA_API_TOKEN", "sim-okta-token")];
pub const GRAPH_ENV: &[(&str, &str)] = &[("GRAPH_CLIENT_SECRET", "sim-client-secret")];
pub const PAGED_ENV: &[(&str, &str)] = &[("PAGED_API_KEY", "sim-api-key")];
pub const OP_ENV: &[(&str, &str)] = &[("OP_BEARER_TOKEN", "sim-token")];
