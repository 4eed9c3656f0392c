//! End-to-end tests: the real `siemtap` binary as a subprocess against the real simulator
//! (`siemtap sim 1password`) over loopback HTTP, with real files and signals.
//!
//! | module        | what it proves                                                         |
//! |---------------|------------------------------------------------------------------------|
//! | `bad_input`   | malformed config/connector/secrets files, huge (1 GiB), nested, non-UTF-8 |
//! |               | and non-JSON responses: clear errors, recovery, bounded memory; fuzz seeds |
//! | `budget`      | --max-runtime and SIGTERM stop at a checkpoint, exit 0, resume exactly   |
//! | `drain`       | full drain equals the oracle; a second run adds nothing; shapes         |
//! | `fan_out`     | several outputs: each exact; a refusing output holds the cursor, is    |
//! |               | reported on the others, then every output gets everything once         |
//! | `faults`      | each injected fault → one error event, no cursor advance, recovery      |
//! | `campaign`    | every connector: SIGKILL under live arrivals (no gaps; file sink no      |
//! |               | duplicates; stdout ≤ 1 page per kill), kills inside the state write,    |
//! |               | the fault matrix (a table in code), canaries in every tier and level,   |
//! |               | a vendor echoing the Authorization header                               |
//! | `cut_body`    | a body cut off mid-read is retried; the run delivers everything         |
//! | `lock`        | a concurrent run exits 3 naming the holder's pid; state intact          |
//! | `planted_links`| a symlink planted at the log, lock or output file: refused, target intact |
//! | `canary`      | a canary secret in every tier appears in no output channel              |
//! | `checklist`   | static checklist proofs: install modes, secrets template, ignore file,  |
//! |               | no child processes in product code                                      |
//! | `cortex_xdr`  | XDR: drain = oracle, late alerts, mid-paging incident updates, kills,   |
//! |               | 429/401/invalid body → one event and no cursor advance, key canaries    |
//! | `trusted_origins` | `validate` shows a connector file's trusted origins, refuses bad ones |
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
//! | `wrong_type_state`| a state value of the wrong type: STATE_READ_ERROR, exit 4, file untouched |
//! | `exits`       | every exit 2 says why: one stderr line and, in wodle mode, a            |
//! |               | CONFIG_INVALID event; misleading messages fixed; max_runtime bounds     |
//! | `privilege`   | as root: secrets read, then runs as the configured user (throwaway user |
//! |               | in CI); refuses root unless `--user root`; missing user → exit 2        |
//! | `state_dir`   | --state-dir holds the drop-in default state file                        |
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
mod cut_body;
mod demo;
mod docs;
mod drain;
mod exits;
mod fan_out;
mod faults;
mod lock;
mod planted_links;
mod privilege;
mod proofpoint;
mod proxy_env;
mod shipped;
mod state_dir;
mod tenants;
mod trusted_origins;
mod wazuh;
mod wazuh5;
mod wazuh_cli;
mod wazuh_delivery;
mod wazuh_socket;
mod wrong_type_state;
