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
    /// For sinks that can roll back (the file sink): the output length that includes this
    /// batch, committed with the cursor.
    pub committed_length: Option<u64>,
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

/// Where envelopes go. Sinks know nothing of vendors.
pub trait Sink: Send {
    /// Identity used in logs and as the key of the committed output length in state
    /// (`Some` only for sinks that support exactly-once recovery).
    fn output_id(&self) -> Option<&str>;
    /// Delivers a batch; returns only once the batch is accepted as far as this sink can
    /// tell (written and flushed).
    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>>;
}
