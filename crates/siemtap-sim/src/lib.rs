//! # siemtap-sim — loopback simulators of the vendor APIs siemtap pulls from
//!
//! Faithful, deterministic, fault-injectable emulations used by tests, `siemtap demo`,
//! benchmarks and users who want to exercise a SIEM pipeline without a vendor account. They
//! are written from the vendor spec and share no code with siemtap's clients. This release
//! has the **1Password Events API**, **Proofpoint TAP** (`src/proofpoint/`) and Cortex XDR
//! (`src/cortex_xdr/`) simulators, all reusing [`common`] (clock, PRNG,
//! fault plan, request log, rate windows, control plane, server).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use siemtap_sim::{OnePasswordArgs, spawn_onepassword};
//! let sim = spawn_onepassword(OnePasswordArgs { events: 500, ..Default::default() }).await?;
//! let base = sim.base_url(); // http://127.0.0.1:PORT, token "sim-token"
//! # let _ = base;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The library writes nothing to stdout; `siemtap sim 1password` prints
//! `listening on http://ADDR` itself.
//!
//! ## Flags (`siemtap sim 1password ...`, see [`OnePasswordArgs`])
//!
//! | Flag | Default | Meaning |
//! |---|---|---|
//! | `--listen ADDR` | `127.0.0.1:0` | bind address (port 0 = any free port) |
//! | `--seed N` | 0 | dataset seed |
//! | `--events N` | 100 | records per stream per tenant, event times evenly over [t0 − 24 h + 15 min, t0 − 10 min], t0 = clock at start |
//! | `--token T` / `--token NAME=T` | `sim-token` (tenant `default`) | repeatable; one tenant, with its own dataset, per token |
//! | `--rate R` | off | live arrivals, R events/s per stream per tenant after t0 (virtual clock) |
//! | `--features LIST` | all three | introspect features; a POST to a stream left out gets 403 |
//! | `--cursor-ttl S` | off | cursors issued more than S s ago (virtual clock) get 400 |
//! | `--strict-body` | off | `{"ResetCursor":{...}}`: inner fields ignored, defaults apply |
//! | `--retry-after-form F` | `seconds` | on real-limit 429s: `seconds`, `http-date`, `mixed` (alternating), `absent` |
//! | `--no-rate-limit` | off | disables 600/min and 30,000/h per token |
//! | `--faults FILE` | none | fault plan installed at start |
//! | `--clock-start T` | system time | initial virtual time (RFC 3339) |
//! | `--frozen-clock` | off | start frozen |
//! | `--deterministic-cursors` | off | cursor HMAC key derived from the seed (byte-identical bodies across runs) |
//!
//! ## Vendor API (spec §2, §5.2)
//!
//! `GET /api/v2/auth/introspect` → `{"uuid","issued_at","features","account_uuid"}`;
//! `POST /api/v2/{auditevents,signinattempts,itemusages}` → `{"cursor","has_more","items"}`.
//! Other methods 405 (with `Allow`), other paths 404, bad or missing bearer 401; all errors are
//! `{"status":N,"message":"..."}`.
//!
//! - Bodies: flat `{limit,start_time[,end_time]}`, `{"ResetCursor":{...}}`, or `{cursor}`
//!   (the form is logged as `body_form`). `limit` must be an integer 1–1000 (default 100) and
//!   times RFC 3339, else 400. Without `start_time` the server default is now − 1 h. A start
//!   older than 120 days is clamped to now − 120 d + 1 h. `start_time` / `end_time` filter on
//!   the item's `timestamp` (end exclusive). A `limit` next to `cursor` is ignored and logged.
//! - Pages follow **visibility order** (`visible_at`, then generation index). A held cursor —
//!   including the final one of an exhausted stream — later returns whatever became visible
//!   since, late arrivals included. Cursors are `base64url(payload ‖ HMAC-SHA256)` carrying
//!   tenant, stream, position, limit, time filter and issue time; a forged, other-tenant,
//!   other-stream, pre-reset or (with `--cursor-ttl`) expired cursor gets 400.
//! - Data is lazy: record *i* is generated on demand from a counter-based PRNG keyed by
//!   (seed, tenant, stream, i); nothing is stored per record, so `--events 1000000` starts
//!   instantly. Shapes follow spec §2.9 with §2.10 value pools; ids are 26-char base32.
//! - Rate limits: per token, sliding 60 s / 3600 s windows on the virtual clock; a 429 has
//!   `Retry-After` per `--retry-after-form` and counts as `self_inflicted_429`.
//!
//! ## Control plane (`/_sim/`)
//!
//! | Endpoint | Effect |
//! |---|---|
//! | `GET /_sim/health` | `{"status":"ok","vendor":"1password"}` |
//! | `GET /_sim/oracle[?tenant=&stream=&from=&to=&generated=true]` | `{"tenant","now","streams":{"audit":[uuid…],"signin":[…],"itemusage":[…]},"served":{"<stream>":{"<uuid>":count}}}`: every **visible** id in visibility order (default tenant: the first `--token`). `served` counts every item put in a response, including responses that a fault then truncated or broke. `generated=true` adds every generated id with `event_time` / `visible_at` |
//! | `GET /_sim/requests` | `{"requests":[{seq,time,method,path,query,tenant,stream,body_form,auth,auth_ok,status,fault,rate_limited,limit,limit_with_cursor,items,bytes,latency_us}],"dropped":N,"self_inflicted_429":N}` (keeps the last 200,000) |
//! | `GET /_sim/stats` | requests, by_status, self_inflicted_429, faults_applied, served_items, tenants, epoch |
//! | `GET` / `POST` / `DELETE /_sim/faults` | show / install (replaces) / clear the fault plan |
//! | `GET` / `POST /_sim/clock` | `{"set":"RFC3339"}`, `{"advance_s":N}`, `{"mode":"frozen"\|"realtime"}` |
//! | `POST /_sim/reset` | body empty or `{"seed":N}`: dataset re-anchored at the current clock, log, faults, served counts and rate windows cleared, old cursors refused |
//!
//! ## Fault plans (spec §5.5)
//!
//! `{"faults":[{"match":{...},"action":{...}}, ...]}` — unknown keys are rejected.
//!
//! **Match** keys (AND-ed, all optional): `path`, `path_prefix`, `method`, `tenant`, `stream`,
//! `cursor` (exact body cursor), `after_clock` (RFC 3339), and the triggers `nth` (list of
//! 1-based ordinals), `every` (N) and `probability` (seeded by `--seed`).
//! *Counting:* each rule counts the requests that satisfy its filter keys (everything except
//! the triggers); `nth`/`every` test that count. All rules count every request they filter,
//! even when an earlier rule wins, so ordinals never depend on other rules. With `path` set
//! this is "the N-th request to that path"; with no filter keys, "the N-th vendor request".
//! Only vendor requests that passed auth and the rate limit are counted.
//!
//! **Per-request actions** (the first firing rule applies; knobs combine):
//! `status` (+ `retry_after {form: seconds|http-date|absent|garbage|huge, value, offset_s}`),
//! `burst n` (the next n requests passing the rule's filter fire too), `delay_ms` (wall-clock
//! sleep before answering), `drop_connection` (socket closed with no response bytes),
//! `truncate_body_at` (fraction; the body is cut and `Content-Length` matches the cut body),
//! `cut_body_at` (fraction; `Content-Length` of the whole body, the connection closed after
//! that fraction: a body cut off mid-read),
//! `invalid_json`, `html_body` (`text/html` page), `wrong_content_type` (`text/plain`),
//! `empty_200`, `cursor_reject` (`true`, or `{"older_than_s":S}`; applies only to requests
//! carrying a cursor), `missing_cursor`, `empty_cursor`, `has_more_stuck` (returns the cursor
//! sent, `has_more:true`, no items). Body knobs apply to 200 pages and introspect.
//!
//! **Standing actions** (not first-match; must be alone in their rule):
//! `token_expiry {at}` — from `at` (virtual clock) requests matching the rule's filter get 401,
//! introspect included. `late_events {fraction, delay_s}` — for matching `tenant`/`stream`,
//! each record is late with probability `fraction` (a pure function of seed, tenant, stream,
//! index) and becomes visible `delay_s` after its event time. It is read from the installed
//! plan on every request: install it with `--faults` or before the first page; installing or
//! clearing it after paging has begun shifts which records held cursors have covered.
//!
//! **Not implemented yet:** gzip, TLS, `stall_after_bytes`, `clock_skew_s`, `--oversize-fraction`.
//!
//! ## Proofpoint TAP (`siemtap sim proofpoint ...`, see [`ProofpointArgs`]; spec §3, §5.3)
//!
//! | Flag | Default | Meaning |
//! |---|---|---|
//! | `--listen`, `--seed`, `--rate R`, `--faults`, `--clock-start`, `--frozen-clock` | as above | |
//! | `--events N` | 100 | records per category (`messagesBlocked`, `messagesDelivered`, `clicksBlocked`, `clicksPermitted`) over [t0 − 24 h + 15 min, t0 − 10 min] |
//! | `--principal P` / `--secret S` | `sim-principal` / `sim-secret` | Basic-auth credentials |
//! | `--max-lookback D` | `7d` | older window starts get 400 (`12h`, `7d`, seconds) |
//! | `--quota-scale F`, `--quota-retry-after`, `--no-rate-limit` | 1, off, off | two buckets of ceil(1,800 × F) requests per rolling 24 h; `Retry-After` on quota 429s; quota off |
//! | `--empty-as-200`, `--inclusive-end`, `--strict-future` | off | 200 with empty arrays instead of 204; records at the window end too; future end → 400 |
//! | `--people-users N` | 50 | users per People report |
//!
//! Routes: `GET /v2/siem/{all,messages/blocked,messages/delivered,clicks/blocked,clicks/permitted,issues}`
//! (`format=json` + exactly one of `sinceSeconds`, `sinceTime`, `interval`; records in
//! `[start, end)`, shuffled; 204 when empty) and `GET /v2/people/{vap,top-clickers}` (`window`,
//! `size`, `page`); errors are short `text/plain` bodies. Oracle: `{"streams":{"siem":
//! ["<category>:<GUID|id>"…],"people":["vap:<guid>@<interval>"…]},"served":{…}}` (`people` lists
//! every row of every report that had a page served); `GET /_sim/quota` shows the buckets.
//! Proofpoint fault knobs: `quota_exhausted` (per request), `lookback_400` and
//! `duplicate_across_windows` (standing), plus `late_events` and `token_expiry`. The module
//! docs of `src/proofpoint/mod.rs` give the details.
//!
//! ## Cortex XDR (`siemtap sim cortex_xdr ...`, see [`CortexXdrArgs`]; spec §4, §5.4)
//!
//! | Flag | Default | Meaning |
//! |---|---|---|
//! | `--listen`, `--seed`, `--events N`, `--rate R` | as above | N alerts and N incidents, server insertion / last modification in [t0 − 24 h + 15 min, t0 − 10 min] |
//! | `--api-key K` / `--api-key-id N` | `sim-api-key` / 1 | accepted credentials |
//! | `--security-level advanced\|standard` | `advanced` | hashed key + nonce + timestamp, or the raw key |
//! | `--strict-nonce`, `--auth-skew S` (300), `--reject-nonce-reuse` | off | advanced-key checks |
//! | `--clamp-page` | off | pages over 100 are clamped instead of 400 |
//! | `--no-creation-time-fraction F` (0.1), `--late-fraction F` (0.1) | | alerts without `creation_time`; alerts detected 1–6 h before insertion |
//! | `--retry-after-form`, `--no-rate-limit`, `--faults`, `--clock-start`, `--frozen-clock` | | as above (limit: 10 requests/s per key id, token bucket) |
//!
//! Routes: `POST /public_api/v1/alerts/get_alerts`, `POST /public_api/v1/incidents/get_incidents`,
//! `POST /public_api/v2/alerts/get_alerts_multi_events`; errors are
//! `{"reply":{"err_code","err_msg","err_extra"}}`. Oracle: `{"streams":{"alerts":[alert_id…],
//! "incidents":["<incident_id>@<modification_time ms>"…]},"served":{…}}`, one incident entry per
//! visible version. XDR fault knobs: `total_count_drift` (per request), `mutate_mid_pagination
//! {after_page, count}`, `insert_mid_pagination {after_page, count}` (standing, once per window),
//! plus `late_events` and `token_expiry`. The module docs of `src/cortex_xdr/mod.rs` give the
//! details.

pub mod common;
mod cortex_xdr;
mod error;
mod onepassword;
mod proofpoint;
mod rest_apis;

pub use common::faults::FaultPlan;
pub use common::retry_after::{FaultRetryForm, RetryAfterForm};
pub use common::server::SimHandle;
pub use cortex_xdr::{CortexXdrArgs, SecurityLevel, spawn_cortex_xdr};
pub use error::SimError;
pub use onepassword::{OnePasswordArgs, spawn_onepassword};
pub use proofpoint::{Lookback, ProofpointArgs, spawn_proofpoint};
pub use rest_apis::{RestArgs, spawn_rest};
