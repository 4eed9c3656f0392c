//! The `stdout` sink kind: one compact line per event, written and flushed per page. Under
//! the Wazuh command wodle this is the event channel, so nothing else ever writes to stdout,
//! and every line is held to the wodle's line budget ([`crate::LineSizeGuard`]).

use std::io::Write;

use siemtap_core::{
    Batch, BoxFuture, Delivery, OutputSpec, Sink, SinkContext, SinkError, SinkKind,
};

use crate::LineSizeGuard;

/// The registry entry: `stdout`.
pub const KIND: SinkKind = SinkKind {
    name: "stdout",
    forms: "stdout",
    parse,
};

/// `--output stdout`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StdoutSpec;

fn parse(spec: &str) -> Option<Result<Box<dyn OutputSpec>, String>> {
    (spec == "stdout").then(|| Ok(Box::new(StdoutSpec) as Box<dyn OutputSpec>))
}

impl OutputSpec for StdoutSpec {
    fn describe(&self) -> String {
        "stdout".into()
    }

    fn writes_stdout(&self) -> bool {
        true
    }

    /// Under the command wodle every stdout line is one analysisd datagram: lines over the
    /// 65,535-byte budget are shrunk, all others pass byte for byte (docs/wazuh.md).
    fn open(&self, _ctx: &SinkContext<'_>) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(LineSizeGuard::new(StdoutSink::new())))
    }
}

/// Writes each batch to standard output and flushes it before reporting acceptance.
#[derive(Debug, Default)]
pub struct StdoutSink {
    _private: (),
}

impl StdoutSink {
    /// The stdout sink.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Sink for StdoutSink {
    fn output_id(&self) -> Option<&str> {
        None
    }

    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        Box::pin(async move {
            let mut out = std::io::stdout().lock();
            // Rust ignores SIGPIPE, so a closed reader (the wodle's 64 MiB cap) arrives as EPIPE
            // here: a sink failure, and the cursor stays put.
            out.write_all(batch.bytes())
                .and_then(|()| out.flush())
                .map_err(|e| SinkError {
                    sink: "stdout".into(),
                    message: format!(
                        "writing events failed ({e}); the reader closed the pipe or the output is full"
                    ),
                })?;
            Ok(Delivery::default())
        })
    }
}
