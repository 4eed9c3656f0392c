use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use tokio::time::Instant;

use crate::BoxFuture;

/// Encoded events for one delivery: complete lines, each ending in `\n`.
#[derive(Debug, Default)]
pub struct Batch {
    buf: Vec<u8>,
    count: usize,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one event: `write` serialises it (no newline) into the buffer.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.buf);
        self.buf.push(b'\n');
        self.count += 1;
    }

    /// The encoded lines.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Each line without its newline.
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.buf.split(|b| *b == b'\n').take(self.count)
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Empties the batch, keeping its allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.count = 0;
    }
}

/// What a sink reports once it accepted a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// For sinks that keep an output position ([`Sink::output_id`] is `Some`): the position
    /// that includes this batch, committed with the cursor. Its meaning belongs to the sink and
    /// only has to grow with every accepted batch: the file sink's length in bytes today, a
    /// Kafka offset or an indexer sequence number for the sinks to come.
    pub position: Option<u64>,
}

/// A sink failure: the batch was not accepted and the cursor must not move.
#[derive(Debug, thiserror::Error)]
#[error("{sink}: {message}")]
pub struct SinkError {
    /// The sink, e.g. `stdout` or `file:/var/ossec/logs/siemtap.json`.
    pub sink: String,
    /// What failed and what to do about it.
    pub message: String,
}

/// What a health probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// The destination can take events as far as the sink can tell.
    Up,
    /// It cannot now; the reason names the destination and the fix.
    Down(String),
    /// The sink has no way to tell (stdout).
    Unknown,
}

/// Where envelopes go. Sinks know nothing of vendors.
///
/// The contract, in the order the runner uses it:
/// 1. [`Sink::recover`] once after opening, with the committed position state holds for
///    [`Sink::output_id`]; the sink removes (or skips) what a dead run wrote after it and
///    returns its current position, which is recorded as the output's start where state has
///    none yet. The runner calls it again after a fan-out partner refused a page the sink had
///    accepted, with the last committed position: an exactly-once sink drops that page again.
/// 2. [`Sink::send`] per batch; `Ok` means accepted (the cursor may move once every output of
///    the source accepted it).
/// 3. [`Sink::flush`] and [`Sink::close`] at the end of the run.
pub trait Sink: Send {
    /// Identity used in logs and as the key of the committed output position in state
    /// (`Some` only for sinks that keep one, i.e. support exactly-once recovery).
    fn output_id(&self) -> Option<&str>;
    /// Delivers a batch; returns only once the batch is accepted as far as this sink can
    /// tell (written and flushed).
    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>>;
    /// Goes back to `committed`, the position state holds for this output (`None`: nothing
    /// committed yet), and returns the position it is at now. Sinks that keep no position
    /// return `None` and do nothing.
    fn recover(&mut self, committed: Option<u64>) -> BoxFuture<'_, Result<Option<u64>, SinkError>> {
        let _ = committed;
        Box::pin(async { Ok(None) })
    }
    /// Pushes out anything buffered; a sink that accepts only what it wrote has nothing to do.
    fn flush(&mut self) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async { Ok(()) })
    }
    /// Ends the output: flushes and releases connections. Called once, after the last send.
    fn close(&mut self) -> BoxFuture<'_, Result<(), SinkError>> {
        self.flush()
    }
    /// Probes the destination without sending events.
    fn health(&mut self) -> BoxFuture<'_, Health> {
        Box::pin(async { Health::Unknown })
    }
}

/// What a sink kind gets when it opens an output for a run.
#[derive(Clone, Copy, Debug)]
pub struct SinkContext<'a> {
    /// Environment snapshot (sinks whose settings have a documented environment layer).
    pub env: &'a HashMap<String, String>,
    /// What the run is called: the connector in drop-in runs, `config` for `--config` runs
    /// (the Wazuh location defaults to `siemtap-<label>`).
    pub run_label: &'a str,
    /// Run deadline: a sink's retries never go past it.
    pub deadline: Option<Instant>,
}

/// One parsed `--output` value: the sink kind's configuration, before anything is opened.
pub trait OutputSpec: fmt::Debug + Send + Sync {
    /// The value as the user gave it (for messages).
    fn describe(&self) -> String;
    /// The key of this output's committed position in state, when the sink keeps one.
    fn output_id(&self) -> Option<String> {
        None
    }
    /// Whether events go to standard output (where usage errors are written as events too).
    fn writes_stdout(&self) -> bool {
        false
    }
    /// Makes relative paths relative to `base` (an output named in a config file).
    fn resolve_relative(&mut self, base: &Path) {
        let _ = base;
    }
    /// Opens the sink. Recovery is separate ([`Sink::recover`]).
    fn open(&self, ctx: &SinkContext<'_>) -> Result<Box<dyn Sink>, SinkError>;
}

/// A sink kind's parser: `None` when `spec` is not this kind's; `Some(Err)` when it is but
/// malformed.
pub type ParseOutput = fn(spec: &str) -> Option<Result<Box<dyn OutputSpec>, String>>;

/// One sink kind in a registry: the URL forms it parses and how.
#[derive(Clone, Copy)]
pub struct SinkKind {
    /// Short name, e.g. `file`.
    pub name: &'static str,
    /// The `--output` forms, for help and errors, e.g. `file:PATH`.
    pub forms: &'static str,
    /// Parses one `--output` value if it is this kind's.
    pub parse: ParseOutput,
}

impl fmt::Debug for SinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkKind")
            .field("name", &self.name)
            .finish()
    }
}

/// Parses one `--output` value against `registry`: the first kind that recognises it.
pub fn parse_output(registry: &[SinkKind], spec: &str) -> Result<Box<dyn OutputSpec>, String> {
    registry
        .iter()
        .find_map(|kind| (kind.parse)(spec))
        .unwrap_or_else(|| {
            let forms: Vec<&str> = registry.iter().map(|k| k.forms).collect();
            Err(format!(
                "unknown --output {spec:?}; use {}",
                join_or(&forms)
            ))
        })
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
