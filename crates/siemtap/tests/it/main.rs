//! End-to-end tests: the real `siemtap` binary as a subprocess against the real simulator
//! (`siemtap sim 1password`) over loopback HTTP, with real files and signals.
//!
//! | module        | what it proves                                                         |
//! |---------------|------------------------------------------------------------------------|
//! | `bad_input`   | malformed config/connector/secrets files, huge (1 GiB), nested, non-UTF-8 |
//! |               | and non-JSON responses: clear errors, recovery, bounded memory; fuzz seeds |
//! | `budget`      | --max-runtime and SIGTERM stop at a checkpoint, exit 0, resume exactly   |
//! | `drain`       | full drain equals the oracle; a second run adds nothing; shapes         |
//! | `faults`      | each injected fault → one error event, no cursor advance, recovery      |
//! | `campaign`    | every connector: SIGKILL under live arrivals (no gaps; file sink no      |
//! |               | duplicates; stdout ≤ 1 page per kill), kills inside the state write,    |
//! |               | the fault matrix (a table in code), canaries in every tier and level,   |
//! |               | a vendor echoing the Authorization header                               |
//! | `lock`        | a concurrent run exits 3 naming the holder's pid; state intact          |
//! | `canary`      | a canary secret in every tier appears in no output channel              |
//! | `checklist`   | static checklist proofs: install modes, secrets template, ignore file,  |
//! |               | no child processes in product code                                      |
//! | `cortex_xdr`  | XDR: drain = oracle, late alerts, mid-paging incident updates, kills,   |
//! |               | 429/401/invalid body → one event and no cursor advance, key canaries    |
//! | `tenants`     | multi-tenant isolation, per-tenant state and events                      |
//! | `config_file` | `run --config` with a built-in source; `validate` names file:line:key   |
//! | `config`      | configuration and state errors: error event, exit code, message        |
//! | `docs`        | the examples in docs/configuration.md work as documented                |
//! | `demo`        | `siemtap demo` works                                                    |
//! | `wazuh`       | generated rules pass check and their INI tests; simulator events of all |
//! |               | three connectors end on their rules; checker errors; install --prefix    |
//! | `wazuh_cli`   | CLI contracts: ossec-conf refusals, test --rules order, rules from a     |
//! |               | connector file, block overlaps refused by validate and check            |
//! | `wazuh_delivery`| stdout size guard (oversize event shrunk + health rule), `wazuh logtest`  |
//! |               | over a fake socket, systemd units, ossec-conf/docs consistency           |
//! | `wazuh_socket`| `--output wazuh-socket:PATH`: one datagram per oracle id in analysisd's   |
//! |               | format; no listener → exit 1, no cursor advance; then full delivery      |
//! | `wazuh5`      | `wazuh bundle --target 5` passes `check5`; simulator events of all three |
//! |               | connectors give the findings of their 4.x rules' Sigma migrations        |
//! | `proxy_env`   | HTTP_PROXY / NO_PROXY from the environment are honoured                 |
//! | `proofpoint`  | Proofpoint: drain = oracle, late events, 7-day catch-up under kills, faults, gaps, canaries |

// Campaign tests print their figures (docs/reliability.md quotes them) on stderr.
#![allow(clippy::print_stderr)]

mod harness;

mod bad_input;
mod budget;
mod campaign;
mod canary;
mod checklist;
mod config;
mod config_file;
mod config_secrets;
mod cortex_xdr;
mod demo;
mod docs;
mod drain;
mod faults;
mod lock;
mod proofpoint;
mod proxy_env;
mod tenants;
mod wazuh;
mod wazuh5;
mod wazuh_cli;
mod wazuh_delivery;
mod wazuh_socket;
