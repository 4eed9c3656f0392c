//! The Wazuh sink kind and the Wazuh-safe line rules every sink bound for Wazuh uses.
//!
//! - `--output wazuh-socket[:PATH]` ([`KIND`]): one datagram per event to analysisd's queue
//!   socket ([`WazuhSocketSink`]), with reconnects, pacing, Wazuh-safe shaping ([`shape`])
//!   and the 65,535-byte size rule ([`size`]); its settings come from the environment
//!   ([`settings`], docs/wazuh.md "Socket sink settings").
//! - [`WazuhSafeSink`] applies the shaping and size rule to any other sink.
//! - [`LineSizeGuard`] holds stdout lines to the command wodle's budget (the `stdout` kind
//!   uses it); lines within it pass byte for byte, longer ones are shrunk and reported.

/// The [`Sink`] methods a line-rewriting wrapper passes to its `inner` sink unchanged:
/// recovery, flush, close and the health probe.
macro_rules! forward_to_inner {
    () => {
        fn recover(
            &mut self,
            committed: Option<u64>,
        ) -> siemtap_core::BoxFuture<'_, Result<Option<u64>, siemtap_core::SinkError>> {
            self.inner.recover(committed)
        }

        fn flush(&mut self) -> siemtap_core::BoxFuture<'_, Result<(), siemtap_core::SinkError>> {
            self.inner.flush()
        }

        fn close(&mut self) -> siemtap_core::BoxFuture<'_, Result<(), siemtap_core::SinkError>> {
            self.inner.close()
        }

        fn health(&mut self) -> siemtap_core::BoxFuture<'_, siemtap_core::Health> {
            self.inner.health()
        }
    };
}
pub(crate) use forward_to_inner;

mod line;
pub mod settings;
pub mod shape;
pub mod size;
mod socket;
mod stdout;

use std::path::PathBuf;

use siemtap_core::{OutputSpec, Sink, SinkContext, SinkError, SinkKind};

pub use line::{PreparedLine, WazuhPrep, WazuhSafeSink, WazuhStats};
pub use socket::{
    AgentAttribution, DEFAULT_QUEUE_SOCKET, Location, MAX_LOCATION_BYTES, SocketStats,
    WazuhSocketConfig, WazuhSocketSink, escape_location,
};
pub use stdout::{LineSizeGuard, MAX_WODLE_TAG_BYTES, STDOUT_LINE_BUDGET};

/// The registry entry: `wazuh-socket` or `wazuh-socket:PATH`.
pub const KIND: SinkKind = SinkKind {
    name: "wazuh-socket",
    forms: "wazuh-socket[:PATH]",
    parse,
};

/// `--output wazuh-socket[:PATH]`; the other settings come from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WazuhSocketSpec {
    /// The queue socket.
    pub path: PathBuf,
}

fn parse(spec: &str) -> Option<Result<Box<dyn OutputSpec>, String>> {
    let path = match spec {
        "wazuh-socket" => DEFAULT_QUEUE_SOCKET,
        s if s.starts_with("wazuh-socket:") && s.len() > 13 => &s[13..],
        _ => return None,
    };
    Some(Ok(Box::new(WazuhSocketSpec {
        path: PathBuf::from(path),
    })))
}

impl OutputSpec for WazuhSocketSpec {
    fn describe(&self) -> String {
        format!("wazuh-socket:{}", self.path.display())
    }

    fn open(&self, ctx: &SinkContext<'_>) -> Result<Box<dyn Sink>, SinkError> {
        let config = settings::config(self, ctx).map_err(|message| SinkError {
            sink: self.describe(),
            message,
        })?;
        Ok(Box::new(WazuhSocketSink::new(config)?))
    }
}
