use std::io::Write;

use siemtap_core::{Batch, BoxFuture, Delivery, Sink, SinkError};

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
