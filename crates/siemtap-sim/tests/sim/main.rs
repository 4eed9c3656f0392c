//! Integration tests of the 1Password simulator over real loopback HTTP.
//!
//! | module | covers |
//! |---|---|
//! | `paging` | exhaustion = oracle, tenants, determinism, 1M-event smoke test, live arrivals |
//! | `validation` | auth, routes, bodies, limits, cursors, rate limit |
//! | `faults` | every fault knob, late events, token expiry, control plane |

mod client;
mod faults;
mod paging;
mod validation;
