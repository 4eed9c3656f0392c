//! Authentication at run time: static headers and query keys, OAuth2 client credentials with
//! a cached token, and per-attempt signatures.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use ring::{digest, hmac};
use siemtap_core::{ErrorCode, Failure, FetchContext};
use siemtap_http::{HttpClient, RequestContext};
use siemtap_secrets::Secret;
use tokio::time::Instant;

use super::failures;
use super::request::{BuiltRequest, REDACTED};
use super::spec::{Auth, ClientAuth, KeyLocation, SignatureAlgorithm, SignatureEncoding};
use super::template::Template;

const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(60);
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
const NONCE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Name/value pairs (headers or query parameters).
pub(crate) type Pairs = Vec<(String, String)>;

/// The auth of one source.
pub(crate) enum AuthRuntime {
    None,
    Header { name: String, value: Secret },
    Query { name: String, value: Secret },
    Basic { username: String, password: Secret },
    OAuth2(Arc<OAuth2>),
    Signature(Signature),
}

/// OAuth2 client credentials with a cached token.
pub(crate) struct OAuth2 {
    token_url: String,
    client_id: String,
    client_secret: Secret,
    secret_name: String,
    scopes: Vec<String>,
    client_auth: ClientAuth,
    extra: Vec<(String, String)>,
    refresh_before: Duration,
    cache: tokio::sync::Mutex<Option<(Secret, Instant)>>,
    fetches: AtomicU64,
}

/// A declared signature recipe.
pub(crate) struct Signature {
    secret: Secret,
    algorithm: SignatureAlgorithm,
    input: Vec<Template>,
    encoding: SignatureEncoding,
    nonce_length: usize,
    headers: Vec<(String, Template)>,
    vars: HashMap<String, String>,
}

fn render_plain(
    t: &Template,
    vars: &HashMap<String, String>,
    secrets: &HashMap<String, Secret>,
) -> String {
    t.render(&mut |p| {
        Ok::<_, std::convert::Infallible>(match p.scope.as_str() {
            "var" => vars
                .get(&p.name)
                .cloned()
                .map_or(serde_json::Value::Null, Into::into),
            // expose: an auth field (user name, client id) built from a declared secret.
            "secret" => secrets
                .get(&p.name)
                .map_or(serde_json::Value::Null, |s| s.expose().into()),
            _ => serde_json::Value::Null,
        })
    })
    .unwrap_or_default()
}

impl AuthRuntime {
    /// Builds the runtime from the spec, with secrets already resolved.
    pub(crate) fn new(
        auth: &Auth,
        vars: &HashMap<String, String>,
        secrets: &HashMap<String, Secret>,
    ) -> Self {
        let get = |name: &str| {
            secrets
                .get(name)
                .cloned()
                .unwrap_or_else(|| Secret::new(""))
        };
        match auth {
            Auth::None => Self::None,
            Auth::Bearer { secret } => Self::Header {
                name: "Authorization".into(),
                // expose: building the Authorization header value.
                value: Secret::new(format!("Bearer {}", get(secret).expose())),
            },
            Auth::Basic {
                username,
                password_secret,
            } => Self::Basic {
                username: render_plain(username, vars, secrets),
                password: get(password_secret),
            },
            Auth::ApiKey {
                secret,
                location,
                name,
                prefix,
            } => {
                // expose: the API key with its declared prefix.
                let value = Secret::new(format!("{prefix}{}", get(secret).expose()));
                match location {
                    KeyLocation::Header => Self::Header {
                        name: name.clone(),
                        value,
                    },
                    KeyLocation::Query => Self::Query {
                        name: name.clone(),
                        value,
                    },
                }
            }
            Auth::OAuth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scopes,
                client_auth,
                extra_params,
                refresh_before,
            } => Self::OAuth2(Arc::new(OAuth2 {
                token_url: render_plain(token_url, vars, secrets),
                client_id: render_plain(client_id, vars, secrets),
                client_secret: get(client_secret),
                secret_name: client_secret.clone(),
                scopes: scopes.clone(),
                client_auth: *client_auth,
                extra: extra_params
                    .iter()
                    .map(|(k, t)| (k.clone(), render_plain(t, vars, secrets)))
                    .collect(),
                refresh_before: refresh_before.map_or(DEFAULT_REFRESH_BEFORE, |d| d.0),
                cache: tokio::sync::Mutex::new(None),
                fetches: AtomicU64::new(0),
            })),
            Auth::Signature {
                secret,
                algorithm,
                input,
                encoding,
                nonce_length,
                headers,
            } => Self::Signature(Signature {
                secret: get(secret),
                algorithm: *algorithm,
                input: input.clone(),
                encoding: *encoding,
                nonce_length: nonce_length.unwrap_or(64),
                headers: headers
                    .iter()
                    .map(|(k, t)| (k.clone(), t.clone()))
                    .collect(),
                vars: vars.clone(),
            }),
        }
    }

    /// The OAuth2 client, when that is the scheme.
    pub(crate) fn oauth2(&self) -> Option<&Arc<OAuth2>> {
        match self {
            Self::OAuth2(o) => Some(o),
            _ => None,
        }
    }

    /// Adds the credential to one attempt (called per attempt: signatures are fresh).
    pub(crate) fn apply(
        &self,
        builder: reqwest::RequestBuilder,
        req: &BuiltRequest,
        token: Option<&Secret>,
    ) -> reqwest::RequestBuilder {
        match self {
            Self::None => builder,
            // expose: the credential goes into its header.
            Self::Header { name, value } => builder.header(name.as_str(), value.expose()),
            // expose: the API key goes into its query parameter.
            Self::Query { name, value } => builder.query(&[(name.as_str(), value.expose())]),
            // expose: HTTP Basic password.
            Self::Basic { username, password } => {
                builder.basic_auth(username, Some(password.expose()))
            }
            Self::OAuth2(_) => match token {
                // expose: the access token goes into the Authorization header.
                Some(t) => builder.bearer_auth(t.expose()),
                None => builder,
            },
            Self::Signature(sig) => {
                let mut b = builder;
                for (k, v) in
                    sig.headers_for(req, jiff::Timestamp::now(), &random_nonce(sig.nonce_length))
                {
                    b = b.header(k, v);
                }
                b
            }
        }
    }

    /// What `plan` shows: the auth headers and query parameters with values redacted.
    pub(crate) fn redacted(&self) -> (Pairs, Pairs) {
        match self {
            Self::None => (vec![], vec![]),
            Self::Header { name, .. } => (vec![(name.clone(), REDACTED.into())], vec![]),
            Self::Query { name, .. } => (vec![], vec![(name.clone(), REDACTED.into())]),
            Self::Basic { .. } | Self::OAuth2(_) => {
                (vec![("Authorization".into(), REDACTED.into())], vec![])
            }
            Self::Signature(sig) => (
                sig.headers
                    .iter()
                    .map(|(k, _)| (k.clone(), REDACTED.into()))
                    .collect(),
                vec![],
            ),
        }
    }
}

/// `n` characters from `[A-Za-z0-9]`, from the OS random generator.
fn random_nonce(n: usize) -> String {
    use ring::rand::SecureRandom;
    let rng = ring::rand::SystemRandom::new();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        if rng.fill(&mut buf).is_err() {
            // The OS generator failing is not recoverable; fall back to the clock so the
            // request still carries a nonce (servers reject reuse anyway).
            let t = jiff::Timestamp::now().as_nanosecond().unsigned_abs();
            buf.iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = (t >> (i % 16)) as u8 ^ i as u8);
        }
        for b in buf {
            // 248 = 62 * 4: rejection sampling keeps the alphabet uniform.
            if b < 248 && out.len() < n {
                out.push(NONCE_ALPHABET[usize::from(b) % 62] as char);
            }
        }
    }
    out
}

impl Signature {
    /// The signed headers for one attempt.
    pub(crate) fn headers_for(
        &self,
        req: &BuiltRequest,
        now: jiff::Timestamp,
        nonce: &str,
    ) -> Vec<(String, String)> {
        let ts_ms = now.as_millisecond().to_string();
        let ts_s = now.as_second().to_string();
        let body = req
            .body
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let mut input = String::new();
        for part in &self.input {
            input.push_str(
                &part
                    .render(&mut |p| {
                        Ok::<_, std::convert::Infallible>(serde_json::Value::String(
                            match (p.scope.as_str(), p.name.as_str()) {
                                // expose: the signing recipe includes the secret.
                                ("", "secret") => self.secret.expose().to_owned(),
                                ("", "nonce") => nonce.to_owned(),
                                ("", "timestamp_ms") => ts_ms.clone(),
                                ("", "timestamp_s") => ts_s.clone(),
                                ("", "method") => req.method.as_str().to_owned(),
                                ("", "path") => req.url.path().to_owned(),
                                ("", "query") => req.url.query().unwrap_or("").to_owned(),
                                ("", "body") => body.to_string(),
                                ("var", name) => self.vars.get(name).cloned().unwrap_or_default(),
                                _ => String::new(),
                            },
                        ))
                    })
                    .unwrap_or_default(),
            );
        }
        let raw: Vec<u8> = match self.algorithm {
            SignatureAlgorithm::Sha256 => digest::digest(&digest::SHA256, input.as_bytes())
                .as_ref()
                .to_vec(),
            SignatureAlgorithm::Sha512 => digest::digest(&digest::SHA512, input.as_bytes())
                .as_ref()
                .to_vec(),
            SignatureAlgorithm::HmacSha256 | SignatureAlgorithm::HmacSha512 => {
                let alg = if self.algorithm == SignatureAlgorithm::HmacSha256 {
                    hmac::HMAC_SHA256
                } else {
                    hmac::HMAC_SHA512
                };
                // expose: the HMAC key.
                let key = hmac::Key::new(alg, self.secret.expose().as_bytes());
                hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
            }
        };
        let signature = match self.encoding {
            SignatureEncoding::Hex => raw.iter().map(|b| format!("{b:02x}")).collect(),
            SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(&raw),
        };
        self.headers
            .iter()
            .map(|(k, t)| {
                let v = t
                    .render(&mut |p| {
                        Ok::<_, std::convert::Infallible>(serde_json::Value::String(
                            match (p.scope.as_str(), p.name.as_str()) {
                                ("", "signature") => signature.clone(),
                                ("", "nonce") => nonce.to_owned(),
                                ("", "timestamp_ms") => ts_ms.clone(),
                                ("", "timestamp_s") => ts_s.clone(),
                                ("var", name) => self.vars.get(name).cloned().unwrap_or_default(),
                                _ => String::new(),
                            },
                        ))
                    })
                    .unwrap_or_default();
                (k.clone(), v)
            })
            .collect()
    }
}

impl OAuth2 {
    /// Token requests made so far (tests and logs).
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one until `refresh_before` its expiry, else a new one.
    pub(crate) async fn token(
        &self,
        http: &HttpClient,
        ctx: FetchContext,
        origin: &str,
    ) -> Result<Secret, Failure> {
        let mut cache = self.cache.lock().await;
        if let Some((token, refresh_at)) = cache.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch(http, ctx, origin).await?;
        let refresh_at = Instant::now() + lifetime.saturating_sub(self.refresh_before);
        *cache = Some((token.clone(), refresh_at));
        Ok(token)
    }

    /// Drops the cached token if it is still `used` (after a 401), so the next call fetches.
    pub(crate) async fn invalidate(&self, used: &Secret) {
        let mut cache = self.cache.lock().await;
        // expose: comparing the rejected token with the cached one.
        if cache
            .as_ref()
            .is_some_and(|(t, _)| t.expose() == used.expose())
        {
            *cache = None;
        }
    }

    async fn fetch(
        &self,
        http: &HttpClient,
        ctx: FetchContext,
        origin: &str,
    ) -> Result<(Secret, Duration), Failure> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let endpoint = reqwest::Url::parse(&self.token_url)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| "<token_url>".into());
        let label = format!("POST {endpoint}");
        let request = RequestContext {
            label: &label,
            limiter: None,
            deadline: ctx.deadline,
        };
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        let scope = self.scopes.join(" ");
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        for (k, v) in &self.extra {
            form.push((k, v));
        }
        if self.client_auth == ClientAuth::Body {
            form.push(("client_id", &self.client_id));
            // expose: the client secret goes into the token request body.
            form.push(("client_secret", self.client_secret.expose()));
        }
        let resp = http
            .send(&request, |client| {
                let b = client
                    .post(&self.token_url)
                    .header("Accept", "application/json")
                    .form(&form);
                match self.client_auth {
                    // expose: HTTP Basic client authentication.
                    ClientAuth::Basic => {
                        b.basic_auth(&self.client_id, Some(self.client_secret.expose()))
                    }
                    ClientAuth::Body => b,
                }
            })
            .await
            .map_err(|e| {
                let mut f =
                    failures::from_http(origin, &endpoint, &e, &[self.secret_name.as_str()]);
                f.message = format!("OAuth2 token request failed: {}", f.message);
                f
            })?;
        let doc: serde_json::Value = serde_json::from_slice(&resp.body).map_err(|e| {
            Failure::new(
                ErrorCode::ApiInvalidResponse,
                origin,
                format!("OAuth2 token endpoint returned a body that is not JSON ({e})"),
            )
            .with_detail(format!("endpoint={endpoint} status={}", resp.status))
        })?;
        let Some(token) = doc
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
        else {
            return Err(Failure::new(
                ErrorCode::ApiInvalidResponse,
                origin,
                "OAuth2 token endpoint returned no access_token",
            )
            .with_detail(format!("endpoint={endpoint} status={}", resp.status)));
        };
        let lifetime = doc
            .get("expires_in")
            .and_then(|e| {
                e.as_u64()
                    .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
            })
            .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
        tracing::debug!(lifetime_s = lifetime.as_secs(), "OAuth2 token fetched");
        Ok((Secret::new(token), lifetime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::spec::Method;

    #[test]
    fn cortex_xdr_advanced_test_vector() {
        let sig = Signature {
            secret: Secret::new("KEY"),
            algorithm: SignatureAlgorithm::Sha256,
            input: ["{secret}", "{nonce}", "{timestamp_ms}"]
                .iter()
                .map(|t| Template::parse(t).unwrap())
                .collect(),
            encoding: SignatureEncoding::Hex,
            nonce_length: 64,
            headers: vec![
                (
                    "Authorization".into(),
                    Template::parse("{signature}").unwrap(),
                ),
                ("x-xdr-nonce".into(), Template::parse("{nonce}").unwrap()),
                (
                    "x-xdr-timestamp".into(),
                    Template::parse("{timestamp_ms}").unwrap(),
                ),
                (
                    "x-xdr-auth-id".into(),
                    Template::parse("{var.key_id}").unwrap(),
                ),
            ],
            vars: HashMap::from([("key_id".to_string(), "7".to_string())]),
        };
        let req = BuiltRequest {
            method: Method::Post,
            url: reqwest::Url::parse(
                "https://api-x.xdr.us.paloaltonetworks.com/public_api/v1/alerts/get_alerts",
            )
            .unwrap(),
            headers: vec![],
            body: Some(b"{}".to_vec()),
        };
        let now = jiff::Timestamp::from_millisecond(1_700_000_000_000).unwrap();
        let h = sig.headers_for(&req, now, "n0nce");
        assert_eq!(
            h,
            vec![
                (
                    "Authorization".to_string(),
                    "09761d1823315402bc27eef542fa3493d1dc5fb5b379fc24d5d8273a053e831a".to_string()
                ),
                ("x-xdr-nonce".to_string(), "n0nce".to_string()),
                ("x-xdr-timestamp".to_string(), "1700000000000".to_string()),
                ("x-xdr-auth-id".to_string(), "7".to_string()),
            ]
        );
    }

    #[test]
    fn nonce_is_alphanumeric_and_fresh() {
        let a = random_nonce(64);
        let b = random_nonce(64);
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
