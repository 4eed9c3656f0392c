//! Proofpoint TAP (spec/vendors.md §3): the SIEM API (`siem`: messages blocked/delivered,
//! clicks blocked/permitted) and the People API (`people`: VAP and top clickers), as a drop-in
//! `siemtap run proofpoint` (docs/connectors/proofpoint.md).
//!
//! **Endpoint choice.** The `siem` stream reads `GET /v2/siem/all` — one request per window
//! returns all four categories, so a window costs one request of the 1,800/day budget instead
//! of four (the per-category endpoints would also split one window's checkpoint over four
//! requests). Events are emitted in the category order `messagesBlocked`,
//! `messagesDelivered`, `clicksBlocked`, `clicksPermitted`.
//!
//! **Windows (§3.7).** Each page is one window of at most one hour, from the cursor to
//! `min(cursor + width, floor_minute(now - settle))`; the width is one hour unless dense data
//! narrowed it (window bodies sized against `PP_WINDOW_TARGET_BYTES`, the width remembered in
//! `siem_cursor`, see `siem.rs` and `cursor.rs`); a run's first window starts `overlap`
//! before the cursor to catch late events, later windows are contiguous. The page's cursor is
//! the window end (or an earlier `queryEndTime`), committed with the page; 204 and empty arrays
//! are an empty window. Re-read records are suppressed by the runner's ledger, keyed by
//! `<category>:<GUID>` (messages) or `<category>:<id>` (clicks) plus a hash of the record, so
//! a record whose content changed is emitted again. A cursor older than the maximum look-back
//! (`PP_MAX_LOOKBACK_HOURS`) — or a 400 for a window starting more than 12 h ago — is a
//! `COLLECTION_GAP` error event and a jump, never silent. A 429 (rate or quota) ends the
//! stream with one `API_HTTP_429` event and the cursor at the last delivered window.

mod api;
mod canonical;
mod client;
mod cursor;
mod failures;
mod people;
mod quota;
mod settings;
mod shape;
mod siem;
mod window;

use std::path::PathBuf;
use std::sync::Arc;

use siemtap_core::shape::Shaper;
use siemtap_core::{
    BoxFuture, ErrorCode, Failure, FetchContext, Opened, Source, Stream, StreamState,
};
use siemtap_http::HttpClient;
use siemtap_secrets::{ChainSources, CredentialChain, CredentialKey, Secret};

pub use api::{content_hash, ledger_id, oracle_id, parse_people, parse_siem};
pub use people::{PeopleCursor, reference_time};
pub use quota::{
    DAILY_BUDGET, Schedule, budget_warning, catch_up_requests, estimate_requests_per_day,
};
pub use settings::{Settings, from_env as settings_from_env, parse_streams};
pub use shape::ProofpointShaper;
pub use window::{Plan, WindowSettings, plan};

use crate::registry::{Connector, DropIn, DropInContext, DropInError};
use client::Api;

/// Stream names in run order.
pub const STREAMS: &[&str] = &settings::ALL_STREAMS;

/// The registry entry.
pub const CONNECTOR: Connector = Connector {
    name: "proofpoint",
    env_prefix: "PP",
    settings: SETTINGS,
    credentials: &[PRINCIPAL_KEY, SECRET_KEY],
    warnings: quota_warnings,
    streams: STREAMS,
    drop_in,
};

/// Drop-in variables a config file may set as `[source.settings]` (lower case, no `PP_`).
pub const SETTINGS: &[&str] = &[
    "base_url",
    "lookback_hours",
    "max_lookback_hours",
    "settle_seconds",
    "overlap_seconds",
    "people_interval",
    "people_window",
    "people_page_size",
    "requests_per_second",
    "run_interval",
    "window_target_bytes",
];

/// The service principal: systemd credential and env var / secrets-file key.
pub const PRINCIPAL_KEY: CredentialKey = CredentialKey {
    cred_name: "pp_principal",
    env_name: "PP_PRINCIPAL",
};

/// The service secret: systemd credential and env var / secrets-file key.
pub const SECRET_KEY: CredentialKey = CredentialKey {
    cred_name: "pp_secret",
    env_name: "PP_SECRET",
};

/// One Proofpoint TAP account.
pub struct ProofpointSource {
    api: Arc<Api>,
    shaper: ProofpointShaper,
}

impl ProofpointSource {
    /// A source for one principal/secret pair.
    pub fn new(
        settings: Arc<Settings>,
        http: HttpClient,
        principal: Secret,
        secret: Secret,
    ) -> Self {
        Self {
            api: Arc::new(Api::new(http, principal, secret, settings)),
            shaper: ProofpointShaper::default(),
        }
    }

    fn settings(&self) -> &Settings {
        &self.api.settings
    }
}

impl Source for ProofpointSource {
    fn label(&self) -> &str {
        "proofpoint"
    }

    fn state_prefix(&self) -> &str {
        ""
    }

    fn shaper(&self) -> &dyn Shaper {
        &self.shaper
    }

    fn selected_streams(&self) -> Vec<&'static str> {
        let s = self.settings();
        s.streams
            .iter()
            .copied()
            .filter(|name| *name != "people" || s.people_interval.is_some())
            .collect()
    }

    /// `siem_cursor`/`siem_tuning` and `people_cursor`, read by the same parsers the streams use.
    fn check_position(&self, stream: &str, state: &StreamState) -> Result<(), String> {
        match stream {
            "siem" => cursor::parse(state.cursor.as_ref(), state.tuning.as_ref()).map(drop),
            "people" => people::PeopleCursor::from_value(state.cursor.as_ref())
                .map(drop)
                .map_err(|what| format!("state key people_cursor is unusable ({what})")),
            _ => Ok(()),
        }
    }

    fn open(&mut self, _ctx: FetchContext) -> BoxFuture<'_, Result<Opened, Failure>> {
        Box::pin(async move {
            let mut streams: Vec<Box<dyn Stream>> = Vec::new();
            for name in self.selected_streams() {
                match name {
                    "siem" => streams.push(Box::new(siem::SiemStream::new(Arc::clone(&self.api)))),
                    "people" => {
                        if let Some(interval) = self.settings().people_interval {
                            streams.push(Box::new(people::PeopleStream::new(
                                Arc::clone(&self.api),
                                interval,
                            )));
                        }
                    }
                    _ => {}
                }
            }
            Ok(Opened { streams })
        })
    }
}

fn config_error(code: ErrorCode, message: String) -> DropInError {
    DropInError {
        failure: Failure::new(code, "orchestrator", message),
        shaper: Box::new(ProofpointShaper::default()),
    }
}

/// `siemtap run proofpoint` without a config file: the `PP_*` environment (spec §3.6).
/// The collection schedule the settings declare (`PP_RUN_INTERVAL`), for the quota estimate.
fn schedule_of(settings: &Settings) -> Option<Schedule> {
    settings.run_interval.map(|run_interval| Schedule {
        run_interval,
        overlap: settings.overlap,
        siem: settings.streams.contains(&"siem"),
        people_interval: settings
            .people_interval
            .filter(|_| settings.streams.contains(&"people")),
        people_pages: 1,
        // The density (and so any narrowing) is unknown before a run: one-hour windows.
        window: window::MAX_WINDOW,
    })
}

/// The registry's `warnings` hook: the daily-quota estimate of the configured schedule.
fn quota_warnings(env: &std::collections::HashMap<String, String>) -> Vec<String> {
    match settings::from_env(env, None, None) {
        Ok(s) => match schedule_of(&s) {
            Some(schedule) => budget_warning(&schedule).into_iter().collect(),
            None => vec![
                "PP_RUN_INTERVAL (setting run_interval) is not set, so the daily quota of 1,800 requests cannot be checked before the first runs; set it to the wodle or timer interval in seconds".into(),
            ],
        },
        Err(_) => Vec::new(),
    }
}

fn drop_in(ctx: &DropInContext<'_>) -> Result<DropIn, DropInError> {
    let env = ctx.env;
    let settings = settings::from_env(env, ctx.source, ctx.lookback_hours)
        .map_err(|e| config_error(ErrorCode::ConfigInvalid, e.to_string()))?;
    if let Some(warning) = schedule_of(&settings).as_ref().and_then(budget_warning) {
        tracing::warn!("{warning}");
    }

    let path_var = |k: &str| {
        env.get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let state_file =
        path_var("PP_STATE_FILE").unwrap_or_else(|| ctx.state_dir.join("proofpoint.state.json"));
    let secrets_file = path_var("PP_SECRETS_FILE").unwrap_or_else(|| ctx.exe_dir.join(".secrets"));
    let missing = |e: siemtap_secrets::SecretsError| {
        config_error(ErrorCode::ConfigMissingCredential, e.to_string())
    };
    let chain = CredentialChain::new(ChainSources {
        credentials_directory: path_var("CREDENTIALS_DIRECTORY"),
        secrets_file: Some(secrets_file),
        env: env.clone(),
        renames: ctx.secret_names.clone(),
    })
    .map_err(missing)?;
    let principal = chain.get(PRINCIPAL_KEY).map_err(missing)?;
    let secret = chain.get(SECRET_KEY).map_err(missing)?;
    Ok(DropIn {
        state_file,
        sources: vec![Box::new(ProofpointSource::new(
            Arc::new(settings),
            ctx.http.clone(),
            principal,
            secret,
        ))],
        failures: Vec::new(),
        shaper: Box::new(ProofpointShaper::default()),
    })
}
