//! The Cortex XDR public API simulator (spec §4 and §5.4), `siemtap sim cortex_xdr`.
//!
//! Module map: `args` (flags, validation), `auth` (advanced / standard key checks), `body`
//! (request bodies), `data` (the materialised dataset: alerts, incident versions, live
//! arrivals, fault inserts and mutations), `records` (record JSON), `api` (the vendor
//! endpoints), `state` (rate bucket, window tracking, oracle, reset).
//!
//! ## Flags (see [`CortexXdrArgs`])
//!
//! | Flag | Default | Meaning |
//! |---|---|---|
//! | `--listen ADDR` | `127.0.0.1:0` | bind address |
//! | `--seed N` | 0 | dataset seed |
//! | `--events N` | 100 | alerts and incidents (each); server insertion / last modification in [t0 − 24 h + 15 min, t0 − 10 min], t0 = clock at start |
//! | `--rate R` | off | live arrivals per second (alerts, and incidents of which every fourth is an update of an existing incident) |
//! | `--api-key K` | `sim-api-key` | the accepted key (never printed) |
//! | `--api-key-id N` | 1 | the accepted `x-xdr-auth-id` |
//! | `--security-level L` | `advanced` | `advanced` (hash of key + nonce + timestamp) or `standard` (raw key) |
//! | `--strict-nonce` | off | advanced: nonce must be exactly 64 `[A-Za-z0-9]` |
//! | `--auth-skew S` | 300 | advanced: accepted |timestamp − sim clock| in seconds |
//! | `--reject-nonce-reuse` | off | advanced: a repeated nonce → 401 |
//! | `--clamp-page` | off | `search_to − search_from > 100` is clamped to 100 instead of 400 |
//! | `--no-creation-time-fraction F` | 0.1 | share of alerts without `creation_time` |
//! | `--late-fraction F` | 0.1 | share of alerts detected 1–6 h before their server insertion (late uploads; still visible on schedule) |
//! | `--retry-after-form F` | `seconds` | `Retry-After` on rate-limit 429s: `seconds`, `http-date`, `mixed`, `absent` |
//! | `--no-rate-limit` | off | disables 10 requests/s |
//! | `--faults FILE` | none | fault plan installed at start |
//! | `--clock-start T` / `--frozen-clock` | system time / running | virtual clock |
//!
//! ## Vendor API
//!
//! `POST /public_api/v1/alerts/get_alerts`, `POST /public_api/v1/incidents/get_incidents`,
//! `POST /public_api/v2/alerts/get_alerts_multi_events` (alerts whose `events[]` hold 1–3
//! events of 5–20 KB each). Other methods 405, other paths 404. Every error body is
//! `{"reply":{"err_code":N,"err_msg":"...","err_extra":...}}`.
//!
//! - **Auth** (checked before anything else): `x-xdr-auth-id` must equal `--api-key-id`.
//!   Advanced: non-empty `x-xdr-nonce`, decimal-ms `x-xdr-timestamp` within `--auth-skew` of
//!   the sim clock, `Authorization` = `hex(sha256(key + nonce + timestamp))` recomputed from
//!   those headers, any hex case. Standard: `Authorization` = the raw key; `sha256(key)` is
//!   refused with its own `err_extra`. Failures: 401, `err_msg` "Public API request
//!   unauthorized", `err_extra` the reason (never a credential); the log's `auth` is
//!   `missing`, `invalid`, `stale`, `replayed`, `wrong_key_id` or `expired`.
//! - **Rate**: a 10-token bucket refilled at 10/s on the virtual clock, per key id; empty →
//!   429 with `Retry-After` (`self_inflicted_429`).
//! - **Bodies** `{"request_data":{filters, sort, search_from, search_to}}`: 400 for a missing
//!   `request_data`, unknown keys, negative or inverted offsets, a page over 100 (unless
//!   `--clamp-page`), filter fields / operators / sort fields outside spec §4.3; a time filter
//!   value `0` or missing → 500 `"value param is missing"`. Defaults: `search_from` 0,
//!   `search_to` `search_from + 100`. The log's `limit` is the page size asked for.
//! - **Semantics**: filters AND-ed, time bounds inclusive. Alerts: `server_creation_time` is the
//!   server insertion time, returned as `local_insert_ts`; `creation_time` filters and sorts on
//!   the detection time even when the field is omitted from the record. Sort by the given field,
//!   then by id ascending (numeric); without `sort`, by id. `total_count` = all matches,
//!   `result_count` = this page. Only records visible at the sim clock are served: alerts once
//!   inserted, the incident version whose `modification_time` is the latest not after now.
//!
//! ## Control plane
//!
//! The shared `/_sim/` endpoints (see the crate docs). `GET /_sim/oracle[?stream=&from=&to=
//! &generated=true]` → `{"now","streams":{"alerts":[alert_id…],"incidents":["<id>@<mod ms>"…]},
//! "served":{…}}`: visible alerts in insertion order; every incident version visible at some
//! time since the dataset anchor (start or `/_sim/reset`), in `modification_time` order;
//! `from`/`to` (RFC 3339, inclusive) filter on insertion / modification time. `served` counts
//! records put in a 200 page (before body-breaking faults). `generated=true` adds every
//! materialised record with `event_time` (detection / modification) and `visible_at`.
//! `/_sim/stats` adds `alerts`, `incidents`, `incident_versions`, `served_items`.
//!
//! ## Faults
//!
//! All shared per-request knobs (`status` + `retry_after`, `burst`, `delay_ms`,
//! `drop_connection`, `truncate_body_at`, `cut_body_at`, `invalid_json`, `html_body`, `wrong_content_type`,
//! `empty_200`), with match keys `path`, `path_prefix`, `method`, `stream` (`alerts` for both
//! alert endpoints, `incidents`), `search_from`, `after_clock` and the triggers; the tenant is
//! unset, so a `tenant` key never matches. XDR additions:
//! - `total_count_drift: D` (per request): the page's `total_count` is off by `D`.
//! - `mutate_mid_pagination {after_page, count}` (standing, incidents): in every window
//!   (same endpoint, filters and sort), once `after_page` pages have been served, the first
//!   `count` incidents served in it get a new version with `modification_time` = now (at least
//!   1 ms after their last version; `new` → `under_investigation` → `resolved_*`). Fires once
//!   per window, so a re-page sees a stable result.
//! - `insert_mid_pagination {after_page, count}` (standing, alert endpoints): likewise inserts
//!   `count` alerts inserted now whose detection time is the oldest served in the window.
//! - `late_events {fraction, delay_s}` (standing, alerts): the chosen alerts are inserted
//!   `delay_s` after detection and invisible until then.
//! - `token_expiry {at}`: from `at`, 401 for matching requests.
//!
//! Not implemented: gzip, TLS, `clock_skew_s`, `stall_after_bytes`, `--oversize-fraction`.

mod api;
mod args;
mod auth;
mod body;
mod data;
mod records;
mod state;

use std::sync::Arc;

pub use args::{CortexXdrArgs, SecurityLevel};

use crate::common::control;
use crate::common::server::{self, SimHandle};

/// Binds `args.listen` and serves the Cortex XDR simulator on the current tokio runtime.
///
/// Fails with `InvalidInput` (message naming the flag and the fix) for bad arguments, or with
/// the bind / file error.
pub async fn spawn_cortex_xdr(args: CortexXdrArgs) -> std::io::Result<SimHandle> {
    let sim = Arc::new(state::XdrSim::new(&args)?);
    let router = control::routes::<state::XdrSim>()
        .fallback(api::handle)
        .with_state(sim);
    server::serve(args.listen, router).await
}
