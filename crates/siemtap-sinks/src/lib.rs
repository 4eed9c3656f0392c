//! Sinks: where envelopes go. A sink knows nothing of vendors; it accepts batches of complete
//! JSON lines and says when they are accepted.
//!
//! - [`StdoutSink`]: one compact line per event, written and flushed per page. Under the Wazuh
//!   command wodle this is the event channel, so nothing else ever writes to stdout.
//! - [`FileSink`]: JSON lines appended to a file, exactly once: the file length after each
//!   page is committed with the cursor, and [`FileSink::open`] truncates whatever an
//!   interrupted run wrote after its last commit.
//! - [`WazuhSocketSink`]: one datagram per event to analysisd's queue socket, with
//!   reconnects, pacing, Wazuh-safe shaping ([`wazuh_shape`]) and the 65,535-byte size rule
//!   ([`wazuh_size`]). [`WazuhSafeSink`] applies the shaping and size rule to any other sink.
//! - [`LineSizeGuard`]: holds stdout lines to the command wodle's budget; lines within it pass
//!   byte for byte, longer ones are shrunk by the size rule and reported.

mod file;
mod stdout;
mod wazuh_line;
pub mod wazuh_shape;
pub mod wazuh_size;
mod wazuh_socket;
mod wazuh_stdout;

pub use file::FileSink;
pub use stdout::StdoutSink;
pub use wazuh_line::{PreparedLine, WazuhPrep, WazuhSafeSink, WazuhStats};
pub use wazuh_socket::{
    AgentAttribution, DEFAULT_QUEUE_SOCKET, Location, MAX_LOCATION_BYTES, SocketStats,
    WazuhSocketConfig, WazuhSocketSink, escape_location,
};
pub use wazuh_stdout::{LineSizeGuard, MAX_WODLE_TAG_BYTES, STDOUT_LINE_BUDGET};
