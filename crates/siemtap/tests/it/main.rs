//! End-to-end tests: the real `siemtap` binary as a subprocess against the real simulator
//! (`siemtap sim 1password`) over loopback HTTP, with real files and signals.
//!
//! | module        | what it proves                                                         |
//! |---------------|------------------------------------------------------------------------|
//! | `budget`      | --max-runtime and SIGTERM stop at a checkpoint, exit 0, resume exactly   |
//! | `drain`       | full drain equals the oracle; a second run adds nothing; shapes         |
//! | `faults`      | each injected fault → one error event, no cursor advance, recovery      |
//! | `kill`        | SIGKILL at random points: no gaps; file sink no duplicates              |
//! | `lock`        | a concurrent run exits 3 naming the holder's pid; state intact          |
//! | `canary`      | a canary secret in every tier appears in no output channel              |
//! | `tenants`     | multi-tenant isolation, per-tenant state and events                      |
//! | `config`      | configuration and state errors: error event, exit code, message        |
//! | `docs`        | the examples in docs/configuration.md work as documented                |
//! | `demo`        | `siemtap demo` works                                                    |

mod harness;

mod budget;
mod canary;
mod config;
mod demo;
mod docs;
mod drain;
mod faults;
mod kill;
mod lock;
mod tenants;
