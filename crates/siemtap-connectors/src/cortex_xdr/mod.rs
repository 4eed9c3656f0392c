//! Cortex XDR public API (spec/vendors.md §4): alerts and incidents of one tenant, as a
//! drop-in replacement for the reference integration, without its lost or skipped records.
//!
//! # The walk
//!
//! Both streams read **closed time windows** that end at `now − settle lag` (fixed once per
//! run), one request per page, and checkpoint after every page: the cursor is either an
//! integer (epoch ms: everything up to it was delivered — the reference's format, so its state
//! imports as is) or the window in progress with its paging position. A run starts at the
//! stored cursor minus the overlap (first run: `now − lookback`; after `state rewind`: the
//! high-water mark minus the overlap) and walks contiguous windows up to the run end. A
//! dedupe ledger committed with the cursor drops what an overlap re-read returns again.
//!
//! **Alerts** are selected on `server_creation_time` (server-side insertion), never on the
//! endpoint's `creation_time`, so alerts uploaded late by offline agents still fall in a
//! window that has not been read yet. Windows are at most 1 h long; a window whose first page
//! reports more than 1,000 matches is shrunk (to ~900 expected, at most half) before paging.
//! Paging is by offset (`search_from`/`search_to`, 100 per request, sorted on
//! `creation_time`); the cursor records `from`, `to`, `offset`, the pass's `total`, the records
//! `read` and the `pass`. A window is complete only when `total_count` stayed the same on every
//! page and the records read equal it; otherwise it is paged again (at most 3 passes; then
//! what was read is delivered, one `API_INVALID_RESPONSE` event is emitted, and the window is
//! read again next run). Ledger key: `alert_id`; ledger time: `local_insert_ts`.
//!
//! **Incidents** are mutable: an update moves an incident's `modification_time` past the
//! window end, so plain offset paging shifts every later record left by one and skips the one
//! at the page boundary (reference failure mode 2). The walk therefore never trusts offsets:
//! each request asks for `modification_time` between the newest time read so far (`after`)
//! and the window end, sorted ascending, from offset 0. Incidents updated while the walk runs
//! leave the window and come back in a later window as a new version, which is emitted —
//! status changes drive rules. Records sharing the `after` millisecond are read again and
//! dropped by the ledger, keyed on `"<incident_id>@<modification_time epoch ms>"` (the
//! `VendorEvent.id`, the simulator oracle's form). Only when a whole page shares one
//! millisecond does the walk page by offset inside it (`skip`), re-starting that millisecond if
//! its `total_count` changes.
//!
//! Nothing is capped: a backlog drains over as many runs as it needs, each page a checkpoint.
//!
//! # Shape
//!
//! `{"integration":"cortex_xdr","xdr":{"type":"alert"|"incident"|"error"|"run_summary",…}}`,
//! compact, `type` first; see [`XdrShaper`] for the timestamp conversion and where a vendor
//! `type` field goes (`vendor_type`).

mod api;
mod auth;
mod failures;
mod settings;
mod shape;
mod stream;
mod walk;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use siemtap_core::shape::Shaper;
use siemtap_core::{
    BoxFuture, ErrorCode, Failure, FetchContext, Opened, Source, Stream, StreamState,
};
use siemtap_http::{HttpClient, RateLimiter};
use siemtap_secrets::{ChainSources, CredentialChain, CredentialKey, Secret};

pub use api::{ALERTS_PATH, INCIDENTS_PATH, Query, epoch_ms, incident_version_id, parse_reply};
pub use auth::{Credentials, advanced_signature};
pub use settings::{
    InvalidSetting, SecurityLevel, Settings, from_lookup as settings_from_lookup, normalize_fqdn,
    validate_key_id,
};
pub use shape::{TIMESTAMP_FIELDS, XdrShaper, convert_timestamps, iso_ms};
pub use walk::{AlertWindow, Cursor, IncidentWindow};

use crate::registry::{Connector, DropIn, DropInContext, DropInError};
use failures::Scrub;
use stream::{Kind, TenantContext, XdrStream};

/// Stream names in run order.
pub const STREAMS: &[&str] = &settings::ALL_STREAMS;

/// The registry entry.
pub const CONNECTOR: Connector = Connector {
    name: "cortex_xdr",
    env_prefix: "XDR",
    settings: SETTINGS,
    credentials: &[FQDN_KEY, API_KEY, API_KEY_ID],
    warnings: crate::registry::no_warnings,
    streams: STREAMS,
    drop_in,
};

/// Drop-in variables a config file may set as `[source.settings]` (lower case, no `XDR_`).
pub const SETTINGS: &[&str] = &[
    "base_url",
    "security_level",
    "lookback_hours",
    "settle_seconds",
    "overlap_seconds",
    "requests_per_second",
];

/// The tenant host (systemd credential `xdr_fqdn`).
pub const FQDN_KEY: CredentialKey = CredentialKey {
    cred_name: "xdr_fqdn",
    env_name: "XDR_FQDN",
};
/// The API key (systemd credential `xdr_api_key`).
pub const API_KEY: CredentialKey = CredentialKey {
    cred_name: "xdr_api_key",
    env_name: "XDR_API_KEY",
};
/// The numeric API key id (systemd credential `xdr_api_key_id`).
pub const API_KEY_ID: CredentialKey = CredentialKey {
    cred_name: "xdr_api_key_id",
    env_name: "XDR_API_KEY_ID",
};

/// One Cortex XDR tenant.
pub struct XdrSource {
    shaper: XdrShaper,
    tenant: Arc<TenantContext>,
}

impl XdrSource {
    /// A source reading `base_url` (no trailing slash) with `creds`. `fqdn`, when the base URL
    /// was derived from it, is scrubbed from every error event.
    pub fn new(
        settings: Arc<Settings>,
        http: HttpClient,
        base_url: String,
        creds: Credentials,
        fqdn: Option<&str>,
    ) -> Self {
        // One bucket for both streams: the vendor's limit is per tenant (§4.4).
        let limiter = RateLimiter::new(settings.requests_per_second, 1, None);
        Self {
            shaper: XdrShaper::new(None),
            tenant: Arc::new(TenantContext {
                http,
                base_url,
                creds,
                limiter,
                settings,
                scrub: Scrub::new(fqdn),
            }),
        }
    }
}

impl Source for XdrSource {
    fn label(&self) -> &str {
        "cortex_xdr"
    }

    fn state_prefix(&self) -> &str {
        ""
    }

    fn shaper(&self) -> &dyn Shaper {
        &self.shaper
    }

    fn selected_streams(&self) -> Vec<&'static str> {
        self.tenant.settings.streams.clone()
    }

    /// `<stream>_cursor`: epoch ms or the stream's window object, read by the stream's parser.
    fn check_position(&self, stream: &str, state: &StreamState) -> Result<(), String> {
        let cursor = state.cursor.as_ref();
        let checked = match stream {
            "alerts" => walk::parse_cursor::<walk::AlertWindow>(cursor).map(drop),
            "incidents" => walk::parse_cursor::<walk::IncidentWindow>(cursor).map(drop),
            _ => Ok(()),
        };
        checked.map_err(|what| format!("state key {stream}_cursor is {what}"))
    }

    fn open(&mut self, _ctx: FetchContext) -> BoxFuture<'_, Result<Opened, Failure>> {
        // The API has no credential check of its own: each stream reports a refused key.
        let streams: Vec<Box<dyn Stream>> = [Kind::Alerts, Kind::Incidents]
            .into_iter()
            .filter(|k| self.tenant.settings.streams.contains(&k.name()))
            .map(|k| Box::new(XdrStream::new(k, Arc::clone(&self.tenant))) as Box<dyn Stream>)
            .collect();
        Box::pin(async move { Ok(Opened { streams }) })
    }
}

fn startup_error(code: ErrorCode, message: impl Into<String>) -> DropInError {
    DropInError {
        failure: Failure::new(code, "startup", message),
        shaper: Box::new(XdrShaper::new(None)),
    }
}

fn invalid(e: InvalidSetting) -> DropInError {
    startup_error(ErrorCode::ConfigInvalid, e.to_string())
}

fn credential(chain: &CredentialChain, key: CredentialKey) -> Result<Secret, DropInError> {
    chain
        .get(key)
        .map_err(|e| startup_error(ErrorCode::ConfigMissingCredential, e.to_string()))
}

fn env_path(env: &HashMap<String, String>, key: &str) -> Option<PathBuf> {
    env.get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `siemtap run cortex_xdr` without a config file: the reference integration's variables,
/// looked up in the secrets file, then the environment (credentials: systemd first).
fn drop_in(ctx: &DropInContext<'_>) -> Result<DropIn, DropInError> {
    let env = ctx.env;
    let secrets_file =
        env_path(env, "XDR_SECRETS_FILE").unwrap_or_else(|| ctx.exe_dir.join(".secrets"));
    let chain = CredentialChain::new(ChainSources {
        credentials_directory: env_path(env, "CREDENTIALS_DIRECTORY"),
        secrets_file: Some(secrets_file),
        env: env.clone(),
        renames: ctx.secret_names.clone(),
    })
    .map_err(|e| startup_error(ErrorCode::ConfigMissingCredential, e.to_string()))?;
    let settings = settings::from_lookup(|k| chain.setting(k), ctx.source, ctx.lookback_hours)
        .map_err(invalid)?;
    let state_file = chain
        .setting("XDR_STATE_FILE")
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_else(|| ctx.state_dir.join("cortex_xdr.state.json"));
    let key = credential(&chain, API_KEY)?;
    let key_id = credential(&chain, API_KEY_ID)?;
    validate_key_id(key_id.expose()).map_err(invalid)?;
    let (base_url, fqdn) = match &settings.base_url {
        Some(url) => (url.clone(), None),
        None => {
            let raw = credential(&chain, FQDN_KEY)?;
            let fqdn = normalize_fqdn(raw.expose()).map_err(invalid)?;
            (format!("https://api-{fqdn}"), Some(fqdn))
        }
    };
    let creds = Credentials::new(key, key_id, settings.security_level);
    let source = XdrSource::new(
        Arc::new(settings),
        ctx.http.clone(),
        base_url,
        creds,
        fqdn.as_deref(),
    );
    Ok(DropIn {
        state_file,
        sources: vec![Box::new(source)],
        failures: Vec::new(),
        shaper: Box::new(XdrShaper::new(None)),
    })
}

#[cfg(test)]
mod tests;
