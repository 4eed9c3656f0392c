//! Built-in connectors. Each is one module directory plus one line in [`REGISTRY`]; nothing
//! here knows which sink runs.

pub mod common;
pub mod cortex_xdr;
mod http_failure;
pub mod onepassword;
pub mod proofpoint;
mod registry;
pub mod rest;

pub use registry::{
    Connector, DropIn, DropInContext, DropInError, REGISTRY, find, no_warnings, settings_for,
};
