//! siemtap's core runtime: the contracts between connectors and sinks, event shaping, and the
//! runner that moves pages from streams to a sink with per-page checkpoints.
//!
//! Layering: connectors implement [`Source`]/[`Stream`] and a [`Shaper`]; sinks implement
//! [`Sink`]; the [`runner`] joins them and is the only code that commits state (through
//! `siemtap-state`). Connectors never see the sink, sinks never see the vendor.

mod error_code;
mod failure;
mod page;
pub mod runner;
pub mod shape;
mod sink;
mod source;

pub use error_code::ErrorCode;
pub use failure::Failure;
pub use page::{Page, Record, VendorEvent};
pub use sink::{
    Batch, Delivery, Health, OutputSpec, ParseOutput, Sink, SinkContext, SinkError, SinkKind,
    parse_output,
};
pub use source::{BoxFuture, FetchContext, Opened, Source, Stream};

/// Re-exported so connectors and the binary name one state type.
pub use siemtap_state::{StateError, StateStore, StreamState, StreamUpdate};
