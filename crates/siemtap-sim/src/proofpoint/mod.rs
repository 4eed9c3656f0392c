//! The Proofpoint TAP simulator (spec §3 and §5.3): `siemtap sim proofpoint`.
//!
//! Module map: `args` (flags, validation), `category` (categories, routes, quota buckets),
//! `timeline` (event and visibility times, window selection), `records` (record JSON),
//! `people` (People reports), `query` (query parsing and validation), `quota` (daily buckets),
//! `api` (the vendor endpoints), `state` (per-run state, oracle, reset).
//!
//! ## Flags (see [`ProofpointArgs`])
//!
//! | Flag | Default | Meaning |
//! |---|---|---|
//! | `--listen ADDR` | `127.0.0.1:0` | bind address (port 0 = any free port) |
//! | `--seed N` | 0 | dataset seed |
//! | `--events N` | 100 | records **per category** (`messagesBlocked`, `messagesDelivered`, `clicksBlocked`, `clicksPermitted`), event times evenly over [t0 − 24 h + 15 min, t0 − 10 min], t0 = clock at start |
//! | `--rate R` | off | live arrivals, R records/s per category after t0 (virtual clock) |
//! | `--principal P` / `--secret S` | `sim-principal` / `sim-secret` | the Basic-auth credentials |
//! | `--max-lookback D` | `7d` | a window starting before now − D gets 400 (`12h`, `7d`, `90m`, seconds) |
//! | `--quota-scale F` | 1 | each bucket holds ceil(1,800 × F) requests per rolling 24 h |
//! | `--quota-retry-after` | off | quota 429s carry `Retry-After` (seconds until a slot frees) |
//! | `--empty-as-200` | off | an empty SIEM window answers 200 with empty arrays instead of 204 |
//! | `--inclusive-end` | off | windows also return records exactly at their end (boundary duplicates) |
//! | `--strict-future` | off | a window end in the future is 400 instead of clamped to now |
//! | `--faults FILE` | none | fault plan installed at start |
//! | `--clock-start T` / `--frozen-clock` | system time / running | virtual clock start and mode |
//! | `--people-users N` | 50 | users in each People report |
//! | `--no-rate-limit` | off | disables the quota (benchmarks) |
//!
//! ## Vendor API
//!
//! All routes are `GET` (other methods 405 with `Allow: GET`), need `Authorization: Basic
//! base64(principal:secret)` (else 401), and answer errors with short `text/plain` bodies.
//! Unknown paths are 404.
//!
//! **SIEM** — `/v2/siem/all` (`queryEndTime` + all four categories), `/v2/siem/messages/blocked`,
//! `/v2/siem/messages/delivered`, `/v2/siem/clicks/blocked`, `/v2/siem/clicks/permitted` (one
//! category each) and `/v2/siem/issues` (`clicksPermitted`, `messagesDelivered`).
//! - Query: `format=json` (required; anything else 400) and exactly one of `sinceSeconds=N`
//!   (1–3600; the window is `[m − N s, m)` with m = now rounded down to the minute),
//!   `sinceTime=T` (`[T, now)`), `interval=S/E` (`[S, E)`; either side may be an ISO-8601
//!   duration such as `PT30M`). Times are ISO-8601 with an offset; percent-encoded and raw
//!   `:` `/` `+` are accepted (`+` is not read as a space). Optional `threatType`
//!   (`url|attachment|messageText`) and `threatStatus` (`active|cleared|falsePositive`),
//!   case-insensitive; a message passes when one `threatsInfoMap` entry matches both, a click
//!   is a `url` threat with its own `threatStatus`.
//! - 400 for: no or several time parameters, a repeated parameter, `sinceSeconds` outside
//!   1–3600, an unparsable time, `end ≤ start`, a window longer than 1 h, a start older than
//!   `--max-lookback`, a start in the future, an end in the future with `--strict-future`
//!   (otherwise the end is clamped to now), a missing or non-`json` `format`, a bad filter.
//! - Body: the endpoint's keys in vendor order after `queryEndTime` = the (clamped) window
//!   end rounded down to the minute, formatted `2072-03-30T13:00:00Z`. A category holds the
//!   records whose event time (`messageTime` / `clickTime`, milliseconds) lies in `[start,
//!   end)` — `[start, end]` with `--inclusive-end` — and which are visible now, shuffled with a
//!   PRNG keyed by (seed, category, window), so the same request gets the same order. When
//!   every category is empty: 204 with no body (or 200 with empty arrays, `--empty-as-200`).
//! - Data: record `i` of a category is generated on demand from `(seed, category, i)`; about
//!   5 % of event times sit exactly on a minute boundary so window edges are exercised. Shapes
//!   follow spec §3.8 with vendor casing (`GUID`, `threatId` vs `threatID`, `threatUrl` vs
//!   `threatURL`, `"completelyRewritten":"true"`); messages have 1–5 `messageParts` and 1–3
//!   `threatsInfoMap` entries; delivered messages carry `id` and `GUID`; every click carries
//!   the `GUID` of a delivered message (several clicks may share one).
//!
//! **People** — `/v2/people/vap` and `/v2/people/top-clickers` with `window` (required: 14, 30
//! or 90), `size` (1–200, default 100) and `page` (≥ 1, default 1); anything else 400. Users
//! (`--people-users`) are ranked and paged `size` at a time; a page past the end has no users.
//! The report is generated once per simulated day: day `k = floor((now − t0)/24 h)`, generated
//! at `g = t0 + k·24 h`, `interval = "<g − window days>/<g>"` (whole seconds). Within a day
//! every page comes from the same report.
//!
//! **Quota** — two buckets of ceil(1,800 × `--quota-scale`) requests per rolling 24 h (virtual
//! clock): `clicks/permitted` alone, every other endpoint (including `/all`, `/issues` and the
//! People API) shared. Every authenticated request counts, valid or not. Exhausted → 429
//! (`rate_limited` in the log, counted in `self_inflicted_429`), with `Retry-After` only under
//! `--quota-retry-after`.
//!
//! ## Control plane (`/_sim/`, shared with every simulator — see the crate docs)
//!
//! - `GET /_sim/oracle[?stream=siem|people&category=C&from=T&to=T&generated=true]` →
//!   `{"now","streams":{"siem":[…],"people":[…]},"served":{"siem":{id:count},"people":{…}}}`.
//!   - `siem`: `"<category>:<GUID>"` for messages, `"<category>:<id>"` for clicks — every
//!     record visible now (all four categories, in category order then event order;
//!     `from`/`to` filter on event time, `[from, to)`). A late record enters only once
//!     visible. `generated=true` adds `"generated":{"siem":[{id,event_time,visible_at}]}`
//!     with not-yet-visible records too.
//!   - `people`: `"vap:<guid>@<interval>"` / `"top_clickers:<guid>@<interval>"` — every row of
//!     every **opened** report. A report (kind, window, day) is opened when any of its pages
//!     is answered with 200; from then on all its rows (all pages) are expected, so a client
//!     that stops paging early shows a gap. Reports never asked for are not listed.
//!   - `served` counts every record or row put in a 200 body, including bodies a fault then
//!     truncated.
//! - `GET /_sim/quota` → `{"enabled","buckets":{"clicks_permitted":{used,limit,remaining,
//!   rejected,window_s},"shared":{…}}}`.
//! - `/_sim/requests`, `/_sim/stats` (adds `served_items`, `opened_reports`, `epoch`,
//!   `quota`), `/_sim/faults`, `/_sim/clock`, `/_sim/reset` (new dataset anchor, served
//!   counts, opened reports and quota cleared), `/_sim/health`.
//!
//! ## Faults (spec §5.5)
//!
//! All common knobs (`status` + `retry_after`, `burst`, `delay_ms`, `drop_connection`,
//! `truncate_body_at`, `cut_body_at`, `invalid_json`, `html_body`, `wrong_content_type`, `empty_200`,
//! `token_expiry`) apply; match `stream` is `siem` or `people`, `tenant` is `default`. Body
//! knobs apply to SIEM 200s and 204s and to People pages. Proofpoint knobs:
//! - `quota_exhausted: true` (per request) — 429 as if the bucket were empty (not counted as
//!   self-inflicted; `Retry-After: 3600` under `--quota-retry-after`).
//! - `lookback_400: true` (standing) — matching SIEM windows that start more than 12 h before
//!   now get 400, emulating the strict help page.
//! - `duplicate_across_windows: true` (standing) — matching SIEM windows also return the
//!   minute before their start, so the boundary minute is served by both adjacent windows.
//! - `late_events {fraction, delay_s}` (standing, `stream` `siem` or unset) — each record is
//!   late with probability `fraction` (a pure function of seed, category and index) and
//!   becomes visible `delay_s` after its event time.

mod api;
mod args;
mod category;
mod people;
mod query;
mod quota;
mod records;
mod state;
mod timeline;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

pub use args::{Lookback, ProofpointArgs};

use crate::common::control;
use crate::common::respond::json;
use crate::common::server::{self, SimHandle};

async fn quota(State(sim): State<Arc<state::PpSim>>) -> Response {
    let now = sim.core.clock.now_ns();
    let view = sim.state().quota.view(now);
    json(
        StatusCode::OK,
        serde_json::to_vec(&view).unwrap_or_default(),
    )
}

/// Binds `args.listen` and serves the Proofpoint TAP simulator on the current tokio runtime.
///
/// Fails with `InvalidInput` (message naming the flag and the fix) for bad arguments, or with
/// the bind / file error.
pub async fn spawn_proofpoint(args: ProofpointArgs) -> std::io::Result<SimHandle> {
    let sim = Arc::new(state::PpSim::new(&args)?);
    let router = control::routes::<state::PpSim>()
        .route("/_sim/quota", get(quota))
        .fallback(api::handle)
        .with_state(sim);
    server::serve(args.listen, router).await
}
