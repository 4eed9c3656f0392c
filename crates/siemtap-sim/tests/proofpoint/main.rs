//! Integration tests of the Proofpoint TAP simulator over real loopback HTTP.
//!
//! | module | covers |
//! |---|---|
//! | `siem` | hour-by-hour paging = oracle exactly once, `[start, end)`, `--inclusive-end`, shuffling determinism, 204 / `--empty-as-200`, filters, time forms |
//! | `validation` | every SIEM 400 case, Basic auth, routes and methods, quota 429, `--quota-scale`, buckets |
//! | `people` | People paging, validation, daily regeneration, the `people` oracle |
//! | `faults` | `quota_exhausted`, `lookback_400`, `duplicate_across_windows`, `late_events`, common knobs |

mod client;
mod faults;
mod people;
mod siem;
mod validation;
