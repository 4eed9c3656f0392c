//! 1Password Events API (spec/vendors.md §2): audit events, sign-in attempts and item usages,
//! single- or multi-tenant, as a drop-in replacement for the reference integration.

mod api;
mod failures;
mod settings;
mod shape;
mod stream;
mod tenants;

use std::path::PathBuf;
use std::sync::Arc;

use siemtap_core::shape::Shaper;
use siemtap_core::{
    BoxFuture, ErrorCode, Failure, FetchContext, Opened, Source, Stream, StreamState,
};
use siemtap_http::{HttpClient, RateLimiter, RequestContext};
use siemtap_secrets::{ChainSources, CredentialChain, CredentialKey, Secret};

pub use api::{RequestBody, format_start_time, parse_page};
pub use settings::{InvalidSetting, Settings, from_env as settings_from_env, parse_streams};
pub use shape::OnePasswordShaper;

use crate::registry::{Connector, DropIn, DropInContext, DropInError};
use stream::{OnePasswordStream, TenantContext, attempt_timeout};

/// Stream names in run order.
pub const STREAMS: &[&str] = &settings::ALL_STREAMS;

/// The registry entry.
pub const CONNECTOR: Connector = Connector {
    name: "1password",
    env_prefix: "OP",
    settings: SETTINGS,
    credentials: &[TOKEN_KEY],
    warnings: crate::registry::no_warnings,
    streams: STREAMS,
    drop_in,
};

/// Drop-in variables a config file may set as `[source.settings]` (lower case, no `OP_`).
pub const SETTINGS: &[&str] = &[
    "base_url",
    "page_limit",
    "lookback_hours",
    "tokens_file",
    "requests_per_second",
    "overlap_minutes",
];

/// The token's names: systemd credential and env var / secrets-file key.
pub const TOKEN_KEY: CredentialKey = CredentialKey {
    cred_name: "op_bearer_token",
    env_name: "OP_BEARER_TOKEN",
};

/// `(stream, path, event_type, introspect feature)`.
const ENDPOINTS: [(&str, &str, &str, &str); 3] = [
    ("audit", "/api/v2/auditevents", "audit_event", "auditevents"),
    (
        "signin",
        "/api/v2/signinattempts",
        "signin_attempt",
        "signinattempts",
    ),
    (
        "itemusage",
        "/api/v2/itemusages",
        "item_usage",
        "itemusages",
    ),
];
const INTROSPECT: &str = "/api/v2/auth/introspect";

/// One tenant (or the single account) of a run.
pub struct OnePasswordSource {
    label: String,
    prefix: String,
    shaper: OnePasswordShaper,
    tenant: Arc<TenantContext>,
}

impl OnePasswordSource {
    /// A source for `token`; `tenant` names it in events and prefixes its state keys.
    pub fn new(
        settings: Arc<Settings>,
        http: HttpClient,
        token: Secret,
        tenant: Option<String>,
    ) -> Self {
        let limiter = RateLimiter::new(
            settings.requests_per_second,
            settings.requests_per_second.ceil().max(1.0) as u32,
            Some(settings.requests_per_hour),
        );
        let (label, prefix) = match &tenant {
            Some(t) => (format!("1password/{t}"), format!("{t}.")),
            None => ("1password".to_string(), String::new()),
        };
        Self {
            label,
            prefix,
            shaper: OnePasswordShaper::new(tenant),
            tenant: Arc::new(TenantContext {
                http,
                base_url: settings.base_url.clone(),
                token,
                limiter,
                settings,
            }),
        }
    }

    /// Introspect: which features the token may read. `Ok(None)`: the check failed for a
    /// reason other than authentication (the streams then run and report for themselves).
    async fn introspect(&self, ctx: FetchContext) -> Result<Option<Vec<String>>, Failure> {
        let t = &self.tenant;
        let url = format!("{}{INTROSPECT}", t.base_url);
        let request = RequestContext {
            label: "GET /api/v2/auth/introspect",
            limiter: Some(&t.limiter),
            deadline: ctx.deadline,
        };
        let result = t
            .http
            .send(&request, |client| {
                client
                    .get(&url)
                    // The token goes only into the Authorization header.
                    .bearer_auth(t.token.expose())
                    .header("Accept", "application/json")
                    .timeout(attempt_timeout(&t.http, ctx.deadline))
            })
            .await;
        match result {
            Ok(resp) => {
                let doc: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
                let features = doc.get("features").and_then(|f| f.as_array()).map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                });
                Ok(features.filter(|f| !f.is_empty()))
            }
            Err(e) if matches!(e.status(), Some(401 | 403)) => Err(failures::from_http(
                "orchestrator",
                &t.base_url,
                INTROSPECT,
                &e,
            )),
            Err(e) => {
                tracing::warn!(source = %self.label, "introspect failed ({e}); running the selected streams anyway");
                Ok(None)
            }
        }
    }
}

impl Source for OnePasswordSource {
    fn label(&self) -> &str {
        &self.label
    }

    fn state_prefix(&self) -> &str {
        &self.prefix
    }

    fn shaper(&self) -> &dyn Shaper {
        &self.shaper
    }

    fn selected_streams(&self) -> Vec<&'static str> {
        self.tenant.settings.streams.clone()
    }

    fn check_position(&self, stream: &str, state: &StreamState) -> Result<(), String> {
        stream::check_cursor(stream, state)
    }

    fn open(&mut self, ctx: FetchContext) -> BoxFuture<'_, Result<Opened, Failure>> {
        Box::pin(async move {
            let features = self.introspect(ctx).await?;
            let mut streams: Vec<Box<dyn Stream>> = Vec::new();
            for (name, path, event_type, feature) in ENDPOINTS {
                if !self.tenant.settings.streams.contains(&name) {
                    continue;
                }
                if let Some(f) = &features
                    && !f.iter().any(|x| x == feature)
                {
                    tracing::info!(source = %self.label, stream = name, "token lacks feature {feature}; stream skipped");
                    continue;
                }
                streams.push(Box::new(OnePasswordStream::new(
                    name,
                    path,
                    event_type,
                    Arc::clone(&self.tenant),
                )));
            }
            Ok(Opened { streams })
        })
    }
}

fn config_error(failure: Failure) -> DropInError {
    DropInError {
        failure,
        shaper: Box::new(OnePasswordShaper::new(None)),
    }
}

/// `siemtap run 1password` without a config file: the reference integration's environment.
fn drop_in(ctx: &DropInContext<'_>) -> Result<DropIn, DropInError> {
    let env = ctx.env;
    let settings = settings::from_env(env, ctx.source, ctx.lookback_hours).map_err(|e| {
        config_error(Failure::new(
            ErrorCode::ConfigInvalid,
            "orchestrator",
            e.to_string(),
        ))
    })?;
    let settings = Arc::new(settings);
    let path_var = |k: &str| {
        env.get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let state_file =
        path_var("OP_STATE_FILE").unwrap_or_else(|| ctx.state_dir.join("1password.state.json"));
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    let mut failures = Vec::new();
    if let Some(tokens_file) = path_var("OP_TOKENS_FILE") {
        let tenants = tenants::read(&tokens_file).map_err(config_error)?;
        failures.extend(tenants.rejected);
        if tenants.valid.is_empty() {
            return Err(config_error(Failure::new(
                ErrorCode::ConfigMissingCredential,
                "orchestrator",
                format!(
                    "tokens file {} has no valid tenant entry",
                    tokens_file.display()
                ),
            )));
        }
        for t in tenants.valid {
            sources.push(Box::new(OnePasswordSource::new(
                Arc::clone(&settings),
                ctx.http.clone(),
                t.token,
                Some(t.name),
            )));
        }
    } else {
        let secrets_file =
            path_var("OP_SECRETS_FILE").unwrap_or_else(|| ctx.exe_dir.join(".secrets"));
        let chain = CredentialChain::new(ChainSources {
            credentials_directory: path_var("CREDENTIALS_DIRECTORY"),
            secrets_file: Some(secrets_file),
            env: env.clone(),
            renames: ctx.secret_names.clone(),
        })
        .and_then(|chain| chain.get(TOKEN_KEY))
        .map_err(|e| {
            config_error(Failure::new(
                ErrorCode::ConfigMissingCredential,
                "orchestrator",
                e.to_string(),
            ))
        })?;
        sources.push(Box::new(OnePasswordSource::new(
            settings,
            ctx.http.clone(),
            chain,
            None,
        )));
    }
    Ok(DropIn {
        state_file,
        sources,
        failures,
        shaper: Box::new(OnePasswordShaper::new(None)),
    })
}
