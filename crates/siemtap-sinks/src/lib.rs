//! Sinks: where envelopes go. A sink knows nothing of vendors; it accepts batches of complete
//! JSON lines and says when they are accepted.
//!
//! - [`StdoutSink`]: one compact line per event, written and flushed per page. Under the Wazuh
//!   command wodle this is the event channel, so nothing else ever writes to stdout.
//! - [`FileSink`]: JSON lines appended to a file, exactly once: the file length after each
//!   page is committed with the cursor, and [`FileSink::open`] truncates whatever an
//!   interrupted run wrote after its last commit.

mod file;
mod stdout;

pub use file::FileSink;
pub use stdout::StdoutSink;
