//! Parts every vendor simulator shares: virtual clock, counter-based PRNG, fault plan and
//! engine, request log, sliding-window limits, `Retry-After` forms, response helpers, the
//! control plane and the server/handle.

pub(crate) mod clock;
pub(crate) mod control;
pub mod faults;
pub(crate) mod prng;
pub(crate) mod ratelimit;
pub(crate) mod reqlog;
pub(crate) mod respond;
pub(crate) mod retry_after;
pub(crate) mod server;
