//! Helpers every connector shares.

pub mod position;
