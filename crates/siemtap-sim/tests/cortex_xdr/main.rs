//! Integration tests of the Cortex XDR simulator over real loopback HTTP.
//!
//! | module | covers |
//! |---|---|
//! | `auth` | advanced keys (fresh, stale, wrong hash, wrong key id, nonce rules, spec vector), standard keys (raw ok, sha256 rejected), routes |
//! | `validation` | request bodies outside spec §4.3, `--clamp-page`, 10 requests/s with 429 |
//! | `paging` | drain = oracle, sort, filters, late alerts, v2 events, determinism, live arrivals |
//! | `faults` | mutate / insert mid-pagination, total_count drift, late events, token expiry, shared knobs, `--faults`, reset |

mod auth;
mod client;
mod faults;
mod paging;
mod validation;
