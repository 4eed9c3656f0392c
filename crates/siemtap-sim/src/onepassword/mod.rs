//! The 1Password Events API simulator (spec §2 and §5.2).
//!
//! Module map: `args` (flags, validation), `stream` (the three streams), `timeline` (event and
//! visibility times, lazy paging), `records` + `pools` (record JSON), `cursor` (signed
//! cursors), `body` (request bodies), `api` (the vendor endpoints), `state` (per-run state,
//! oracle, reset).

mod api;
mod args;
mod body;
mod cursor;
mod pools;
mod records;
mod state;
mod stream;
mod timeline;

use std::sync::Arc;

pub use args::OnePasswordArgs;

use crate::common::control;
use crate::common::server::{self, SimHandle};

/// Binds `args.listen` and serves the 1Password simulator on the current tokio runtime.
///
/// Fails with `InvalidInput` (message naming the flag and the fix) for bad arguments, or with
/// the bind / file error.
pub async fn spawn_onepassword(args: OnePasswordArgs) -> std::io::Result<SimHandle> {
    let sim = Arc::new(state::OpSim::new(&args)?);
    let router = control::routes::<state::OpSim>()
        .fallback(api::handle)
        .with_state(sim);
    server::serve(args.listen, router).await
}
