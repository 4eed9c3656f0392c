//! Sinks: where envelopes go. A sink knows nothing of vendors; it accepts batches of complete
//! JSON lines and says when they are accepted. Each sink kind is one module directory with its
//! configuration (the `--output` form it parses) and its registry entry ([`REGISTRY`]):
//!
//! - [`stdout`]: one compact line per event, written and flushed per page, held to the
//!   command wodle's line budget ([`LineSizeGuard`]).
//! - [`file`]: JSON lines appended to a file, exactly once: the file length after each page is
//!   its output position, committed with the cursor, and recovery truncates whatever an
//!   interrupted run wrote after its last commit.
//! - [`wazuh`]: one datagram per event to analysisd's queue socket, with reconnects, pacing,
//!   Wazuh-safe shaping ([`wazuh_shape`]) and the 65,535-byte size rule ([`wazuh_size`]).
//!   [`WazuhSafeSink`] applies the shaping and size rule to any other sink.

pub mod file;
mod registry;
pub mod stdout;
pub mod wazuh;

pub use file::FileSink;
pub use registry::{REGISTRY, parse};
pub use stdout::StdoutSink;
pub use wazuh::shape as wazuh_shape;
pub use wazuh::size as wazuh_size;
pub use wazuh::{
    AgentAttribution, DEFAULT_QUEUE_SOCKET, LineSizeGuard, Location, MAX_LOCATION_BYTES,
    MAX_WODLE_TAG_BYTES, PreparedLine, STDOUT_LINE_BUDGET, SocketStats, WazuhPrep, WazuhSafeSink,
    WazuhSocketConfig, WazuhSocketSink, WazuhStats, escape_location,
};
