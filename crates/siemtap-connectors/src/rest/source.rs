//! A configured declarative connector: settings and secrets resolved, the shared limiter and
//! auth, the [`Source`] the runner drives, and the [`Shaper`] of its events.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};
use siemtap_core::shape::{
    DiscriminatorPosition, Envelope, JsonStyle, RunSummary, Shaper, utc_seconds,
};
use siemtap_core::{
    BoxFuture, ErrorCode, Failure, FetchContext, Opened, Source, Stream, VendorEvent,
};
use siemtap_http::{HttpClient, RateLimiter};
use siemtap_secrets::{CredentialKey, Secret};

use super::auth::AuthRuntime;
use super::position::DEFAULT_LOOKBACK;
use super::spec::{Auth, ConnectorFile, DiscriminatorPos, Limits, Style};
use super::stream::RestStream;
use super::{Compiled, SourceOptions};

/// Interns a string for the `&'static str` the core traits use (connector files are loaded a
/// handful of times per process; each distinct string is kept once).
pub(crate) fn intern(s: &str) -> &'static str {
    static POOL: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut pool = POOL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(found) = pool.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    pool.insert(leaked);
    leaked
}

/// What every stream of a source shares.
pub(crate) struct Shared {
    pub compiled: Arc<Compiled>,
    pub http: HttpClient,
    pub auth: AuthRuntime,
    pub limiter: RateLimiter,
    pub vars: HashMap<String, String>,
    pub secrets: HashMap<String, Secret>,
    /// How to name the secrets in an authentication failure (`api_token (OKTA_API_TOKEN)`).
    pub secret_hints: Vec<&'static str>,
}

/// The credential chain names of a declared secret.
pub(crate) fn credential_key(file: &ConnectorFile, name: &str) -> CredentialKey {
    let r = file.secrets.get(name).cloned().unwrap_or_default();
    CredentialKey {
        cred_name: intern(r.credential.as_deref().unwrap_or(name)),
        env_name: intern(&r.env.unwrap_or_else(|| name.to_ascii_uppercase())),
    }
}

/// Secrets the auth block uses (checked by `validate`, resolved by `build_source`).
pub(crate) fn auth_secrets(auth: &Auth) -> Vec<&str> {
    match auth {
        Auth::None => vec![],
        Auth::Bearer { secret } | Auth::ApiKey { secret, .. } | Auth::Signature { secret, .. } => {
            vec![secret]
        }
        Auth::Basic {
            password_secret, ..
        } => vec![password_secret],
        Auth::OAuth2ClientCredentials { client_secret, .. } => vec![client_secret],
    }
}

/// Declared variables with the source's settings applied; unknown or missing settings fail.
pub(crate) fn resolve_vars(
    file: &ConnectorFile,
    settings: &toml::Table,
    label: &str,
) -> Result<HashMap<String, String>, Failure> {
    let invalid = |m: String| Failure::new(ErrorCode::ConfigInvalid, "startup", m);
    let mut out = HashMap::new();
    for (k, v) in settings {
        if !file.variables.contains_key(k) {
            let known: Vec<&str> = file.variables.keys().map(String::as_str).collect();
            return Err(invalid(format!(
                "source {label}: setting `{k}` is not a variable of connector {}; known: {}",
                file.name,
                if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        let text = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(invalid(format!(
                    "source {label}: setting `{k}` must be a string, number or boolean, not {}",
                    other.type_str()
                )));
            }
        };
        out.insert(k.clone(), text);
    }
    for (k, var) in &file.variables {
        if !out.contains_key(k) {
            match &var.default {
                Some(d) => {
                    out.insert(k.clone(), d.clone());
                }
                None => {
                    return Err(invalid(format!(
                        "source {label}: connector {} needs setting `{k}`; add it to [source.settings]{}",
                        file.name,
                        var.description
                            .as_deref()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default()
                    )));
                }
            }
        }
    }
    Ok(out)
}

/// One limiter per credential: sources of the same connector with the same secret values
/// share it.
fn limiter_for(file: &ConnectorFile, secrets: &HashMap<String, Secret>) -> RateLimiter {
    static LIMITERS: OnceLock<Mutex<HashMap<Vec<u8>, RateLimiter>>> = OnceLock::new();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(file.name.as_bytes());
    for name in auth_secrets(&file.auth) {
        ctx.update(b"\0");
        // expose: hashed (never stored or printed) to key the per-credential limiter.
        ctx.update(
            secrets
                .get(name)
                .map(|s| s.expose())
                .unwrap_or("")
                .as_bytes(),
        );
    }
    let key = ctx.finish().as_ref().to_vec();
    let mut map = LIMITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    map.entry(key)
        .or_insert_with(|| limiter(&file.limits))
        .clone()
}

/// The token bucket for `[limits]`: rate and burst chosen so no rolling minute or day exceeds
/// its cap (burst + window × rate ≤ cap); the hourly cap is enforced exactly.
pub(crate) fn limiter(l: &Limits) -> RateLimiter {
    let any = l.requests_per_second.is_some()
        || l.requests_per_minute.is_some()
        || l.requests_per_hour.is_some()
        || l.requests_per_day.is_some();
    if !any {
        return RateLimiter::unlimited();
    }
    let mut burst = l.burst.unwrap_or(1).max(1);
    for cap in [l.requests_per_minute, l.requests_per_day]
        .into_iter()
        .flatten()
    {
        burst = burst.min((cap / 2).max(1));
    }
    let b = f64::from(burst);
    let mut rate = l.requests_per_second.unwrap_or(f64::INFINITY);
    if let Some(m) = l.requests_per_minute {
        rate = rate.min((f64::from(m) - b).max(0.5) / 60.0);
    }
    if let Some(d) = l.requests_per_day {
        rate = rate.min((f64::from(d) - b).max(0.5) / 86_400.0);
    }
    let rate = if rate.is_finite() { rate } else { 0.0 };
    // Never more than `requests_per_second` in any second, the burst included.
    let per_second_cap = l
        .requests_per_second
        .filter(|r| r.is_finite() && *r > 0.0)
        .map(|r| r.floor().clamp(1.0, f64::from(u32::MAX)) as u32);
    RateLimiter::with_caps(rate, burst, per_second_cap, l.requests_per_hour)
}

/// Builds the source for `opts`.
pub(crate) fn build(
    compiled: &Arc<Compiled>,
    opts: SourceOptions<'_>,
) -> Result<RestSource, Failure> {
    let file = &compiled.file;
    let label = opts.source_name.to_owned();
    let vars = resolve_vars(file, opts.settings, &label)?;
    let mut secrets = HashMap::new();
    let mut hints = Vec::new();
    for name in file.secrets.keys() {
        let key = credential_key(file, name);
        match opts.chain.get(key) {
            Ok(s) => {
                secrets.insert(name.clone(), s);
            }
            Err(e) => {
                return Err(Failure::new(
                    ErrorCode::ConfigMissingCredential,
                    "startup",
                    format!(
                        "source {label}: secret `{name}` of connector {}: {e}",
                        file.name
                    ),
                ));
            }
        }
    }
    for name in auth_secrets(&file.auth) {
        let key = credential_key(file, name);
        hints.push(intern(&format!("{name} ({})", key.env_name)));
    }
    let selected = select(file, opts.streams.as_deref())?;
    let lookback = opts.lookback;
    let auth = AuthRuntime::new(&file.auth, &vars, &secrets);
    let limiter = limiter_for(file, &secrets);
    Ok(RestSource {
        label,
        shaper: RestShaper::new(file),
        selected,
        lookback,
        shared: Arc::new(Shared {
            compiled: Arc::clone(compiled),
            http: opts.http,
            auth,
            limiter,
            vars,
            secrets,
            secret_hints: hints,
        }),
    })
}

/// Stream indexes selected by `streams` (all when `None`).
pub(crate) fn select(
    file: &ConnectorFile,
    streams: Option<&[String]>,
) -> Result<Vec<usize>, Failure> {
    let Some(wanted) = streams else {
        return Ok((0..file.streams.len()).collect());
    };
    let mut out = Vec::new();
    for w in wanted {
        if w.eq_ignore_ascii_case("all") {
            return Ok((0..file.streams.len()).collect());
        }
        match file
            .streams
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(w))
        {
            Some(i) if !out.contains(&i) => out.push(i),
            Some(_) => {}
            None => {
                let names: Vec<&str> = file.streams.iter().map(|s| s.name.as_str()).collect();
                return Err(Failure::new(
                    ErrorCode::ConfigInvalid,
                    "startup",
                    format!(
                        "connector {} has no stream `{w}`; choose from {} or all",
                        file.name,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// A declarative source.
pub struct RestSource {
    label: String,
    shaper: RestShaper,
    selected: Vec<usize>,
    lookback: Option<Duration>,
    shared: Arc<Shared>,
}

impl RestSource {
    /// OAuth2 token requests made so far (0 for other schemes).
    pub fn token_fetches(&self) -> u64 {
        self.shared.auth.oauth2().map_or(0, |o| o.fetches())
    }
}

impl Source for RestSource {
    fn label(&self) -> &str {
        &self.label
    }

    fn state_prefix(&self) -> &str {
        ""
    }

    fn shaper(&self) -> &dyn Shaper {
        &self.shaper
    }

    fn selected_streams(&self) -> Vec<&'static str> {
        let file = &self.shared.compiled.file;
        self.selected
            .iter()
            .map(|i| intern(&file.streams[*i].name))
            .collect()
    }

    fn check_position(
        &self,
        stream: &str,
        state: &siemtap_core::StreamState,
    ) -> Result<(), String> {
        let file = &self.shared.compiled.file;
        match file.streams.iter().find(|s| s.name == stream) {
            Some(spec) => super::position::check(spec, stream, state.cursor.as_ref()),
            None => Ok(()),
        }
    }

    fn open(&mut self, ctx: FetchContext) -> BoxFuture<'_, Result<Opened, Failure>> {
        Box::pin(async move {
            if let Some(oauth) = self.shared.auth.oauth2() {
                // Checks the client credentials once and caches the token for the streams.
                oauth.token(&self.shared.http, ctx, "orchestrator").await?;
            }
            let file = &self.shared.compiled.file;
            let streams: Vec<Box<dyn Stream>> = self
                .selected
                .iter()
                .map(|&i| {
                    let s = &file.streams[i];
                    let lookback = self
                        .lookback
                        .or(s.lookback.map(|l| l.0))
                        .unwrap_or(DEFAULT_LOOKBACK);
                    Box::new(RestStream::new(
                        Arc::clone(&self.shared),
                        i,
                        intern(&s.name),
                        intern(s.event_type.as_deref().unwrap_or(&s.name)),
                        lookback,
                    )) as Box<dyn Stream>
                })
                .collect();
            Ok(Opened { streams })
        })
    }
}

/// Output shapes of a declarative connector: vendor records in the configured envelope, and
/// the framework's error events and run summary (spec/vendors.md §1.5, §1.6).
#[derive(Clone, Debug)]
pub struct RestShaper {
    envelope: Envelope,
    streams: Vec<&'static str>,
}

impl RestShaper {
    /// The shaper of a connector file.
    pub(crate) fn new(file: &ConnectorFile) -> Self {
        Self {
            envelope: Envelope {
                integration: intern(file.integration.as_deref().unwrap_or(&file.name)),
                namespace: intern(&file.namespace),
                discriminator: intern(&file.event_type_key),
                position: match file.discriminator_position {
                    DiscriminatorPos::First => DiscriminatorPosition::First,
                    DiscriminatorPos::Last => DiscriminatorPosition::Last,
                },
                style: match file.style {
                    Style::Compact => JsonStyle::Compact,
                    Style::Python => JsonStyle::Python,
                },
                tenant: None,
            },
            streams: file.streams.iter().map(|s| intern(&s.name)).collect(),
        }
    }
}

impl Shaper for RestShaper {
    fn vendor_event(&self, event: VendorEvent, out: &mut Vec<u8>) {
        self.envelope
            .write_vendor(&event.event_type, event.record, out);
    }

    fn error_event(&self, failure: &Failure, now: jiff::Timestamp, out: &mut Vec<u8>) {
        let mut f = Map::new();
        f.insert("error_source".into(), failure.origin.clone().into());
        f.insert("error_message".into(), failure.message.clone().into());
        f.insert("error_code".into(), failure.code.as_str().into());
        if let Some(s) = failure.http_status {
            f.insert("http_status".into(), s.into());
        }
        f.insert("timestamp".into(), utc_seconds(now).into());
        if let Some(d) = &failure.detail {
            f.insert("error_detail".into(), d.clone().into());
        }
        if let Some((start, end)) = failure.gap.as_deref() {
            f.insert("gap_start".into(), start.clone().into());
            f.insert("gap_end".into(), end.clone().into());
        }
        self.envelope.write_internal("error", f, out);
    }

    fn run_summary(&self, summary: &RunSummary, out: &mut Vec<u8>) {
        let mut f = Map::new();
        f.insert("source".into(), "orchestrator".into());
        f.insert("timestamp".into(), utc_seconds(summary.timestamp).into());
        for name in &self.streams {
            let outcome = summary.streams.iter().find(|s| s.name == *name);
            let ran = outcome.is_some_and(|o| o.ran);
            f.insert(format!("{name}_ran"), Value::Bool(ran));
            if let Some(o) = outcome.filter(|o| o.ran) {
                f.insert(format!("{name}_success"), Value::Bool(o.success));
            }
        }
        self.envelope.write_internal("run_summary", f, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grants in the busiest `window` of a run of `n` back-to-back acquisitions (paused
    /// tokio clock: sleeps advance virtual time, nothing really waits).
    async fn busiest(l: &Limits, n: usize, window: std::time::Duration) -> usize {
        let limiter = limiter(l);
        let mut at = Vec::new();
        for _ in 0..n {
            limiter.acquire(None).await.unwrap();
            at.push(tokio::time::Instant::now());
        }
        (0..at.len())
            .map(|i| at[i..].iter().take_while(|t| **t - at[i] < window).count())
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn minute_and_day_caps_hold_in_every_window() {
        let minute = Limits {
            requests_per_minute: Some(10),
            burst: Some(4),
            ..Limits::default()
        };
        let n = busiest(&minute, 40, std::time::Duration::from_secs(60)).await;
        assert!((9..=10).contains(&n), "{n} in the busiest minute");
        let day = Limits {
            requests_per_day: Some(6),
            requests_per_second: Some(100.0),
            ..Limits::default()
        };
        let n = busiest(&day, 12, std::time::Duration::from_secs(86_400)).await;
        assert!((5..=6).contains(&n), "{n} in the busiest day");
        let second = Limits {
            requests_per_second: Some(2.0),
            burst: Some(1),
            ..Limits::default()
        };
        let n = busiest(&second, 10, std::time::Duration::from_secs(1)).await;
        assert!((1..=2).contains(&n), "{n} in the busiest second");
    }

    #[test]
    fn intern_returns_one_copy() {
        let a = intern("okta_system_log");
        let b = intern(&String::from("okta_system_log"));
        assert!(std::ptr::eq(a, b));
    }
}
