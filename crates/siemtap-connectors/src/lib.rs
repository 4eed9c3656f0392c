//! Built-in connectors. Each is one module directory plus one line in [`REGISTRY`]; nothing
//! here knows which sink runs.

pub mod onepassword;
mod registry;

pub use registry::{Connector, DropIn, DropInContext, DropInError, REGISTRY, find};
