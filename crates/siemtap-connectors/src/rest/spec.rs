//! The connector file format: the serde types of one TOML connector file. Every table denies
//! unknown keys; `docs/connectors.md` documents each field and `connectors/schema.json` is
//! generated from these types (see [`super::json_schema`]).

use std::time::Duration;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::template::Template;

/// One connector file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorFile {
    /// Connector name: `[a-z0-9_]`, used in logs and as the default `integration` value.
    pub name: String,
    /// What the connector collects (free text).
    #[serde(default)]
    pub description: Option<String>,
    /// Value of the top-level `integration` key of every event (default: `name`).
    #[serde(default)]
    pub integration: Option<String>,
    /// The namespace key holding the vendor record (`okta`, `graph`, `op`).
    pub namespace: String,
    /// The discriminator key inside the namespace (default `event_type`). A vendor value under
    /// the same key moves to `vendor_<key>`.
    #[serde(default = "default_event_type_key")]
    pub event_type_key: String,
    /// Where the discriminator goes inside the namespace (default `first`).
    #[serde(default)]
    pub discriminator_position: DiscriminatorPos,
    /// JSON separators of output lines (default `compact`).
    #[serde(default)]
    pub style: Style,
    /// The Wazuh rule id block reserved for this connector's events.
    #[serde(default)]
    pub rules: Option<RuleBlock>,
    /// Settings a source sets in `[source.settings]`, used as `{var.NAME}`.
    #[serde(default)]
    pub variables: IndexMap<String, Variable>,
    /// Secrets by name, resolved through the credential chain; used by `auth` and as
    /// `{secret.NAME}`.
    #[serde(default)]
    pub secrets: IndexMap<String, SecretRef>,
    /// How requests authenticate (default: none).
    #[serde(default)]
    pub auth: Auth,
    /// Client-side request budget, shared by every stream using the same credential.
    #[serde(default)]
    pub limits: Limits,
    /// Origins besides the first request's (`https://cdn.example.com`) that next-page URLs
    /// may name: requests there carry the credential too. Any other origin is an error.
    #[serde(default)]
    pub trusted_origins: Vec<String>,
    /// The feeds, in run order.
    pub streams: Vec<StreamSpec>,
}

fn default_event_type_key() -> String {
    "event_type".to_owned()
}

/// Where the discriminator goes.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DiscriminatorPos {
    /// First key of the namespace object.
    #[default]
    First,
    /// Last key (the 1Password reference shape).
    Last,
}

/// Output separators.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// `{"a":1,"b":2}`
    #[default]
    Compact,
    /// `{"a": 1, "b": 2}` (Python `json.dumps` defaults, as the 1Password reference).
    Python,
}

/// A Wazuh rule id block.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBlock {
    /// First rule id of the block.
    pub first: u32,
    /// Last rule id of the block (inclusive).
    pub last: u32,
}

/// A variable the source sets.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// What it is.
    #[serde(default)]
    pub description: Option<String>,
    /// Value when `[source.settings]` does not set it; without one the setting is required.
    #[serde(default)]
    pub default: Option<String>,
}

/// A secret, by name only.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Environment variable and secrets-file key (default: the name upper-cased).
    #[serde(default)]
    pub env: Option<String>,
    /// systemd credential name under `$CREDENTIALS_DIRECTORY` (default: the name).
    #[serde(default)]
    pub credential: Option<String>,
    /// What it is.
    #[serde(default)]
    pub description: Option<String>,
}

/// Authentication schemes.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// Name of the secret holding the token.
        secret: String,
    },
    /// HTTP Basic.
    Basic {
        /// User name (may use `{var.NAME}` or `{secret.NAME}`).
        username: Template,
        /// Name of the secret holding the password.
        password_secret: String,
    },
    /// An API key in a header or a query parameter.
    ApiKey {
        /// Name of the secret holding the key.
        secret: String,
        /// `header` (default) or `query`.
        #[serde(rename = "in", default)]
        location: KeyLocation,
        /// Header or query parameter name.
        name: String,
        /// Text before the key (`"SSWS "`, `"Token "`).
        #[serde(default)]
        prefix: String,
    },
    /// OAuth2 client credentials (RFC 6749 §4.4).
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials {
        /// Token endpoint (may use `{var.NAME}`).
        token_url: Template,
        /// Client id (may use `{var.NAME}` or `{secret.NAME}`).
        client_id: Template,
        /// Name of the secret holding the client secret.
        client_secret: String,
        /// Scopes, sent space-separated as `scope`.
        #[serde(default)]
        scopes: Vec<String>,
        /// `body` (default: id and secret as form fields) or `basic` (HTTP Basic).
        #[serde(default)]
        client_auth: ClientAuth,
        /// Extra form fields of the token request (`resource`, `audience`).
        #[serde(default)]
        extra_params: IndexMap<String, Template>,
        /// Fetch a new token this long before the old one expires (default `60s`).
        #[serde(default)]
        refresh_before: Option<HumanDuration>,
    },
    /// A computed signature (hash or HMAC over declared parts), fresh on every attempt.
    Signature {
        /// Name of the secret that signs (the HMAC key, or `{secret}` in `input`).
        secret: String,
        /// `sha256`, `sha512`, `hmac_sha256` or `hmac_sha512`.
        algorithm: SignatureAlgorithm,
        /// Parts concatenated into the signed text, in order; placeholders `{secret}`,
        /// `{nonce}`, `{timestamp_ms}`, `{timestamp_s}`, `{method}`, `{path}`, `{query}`,
        /// `{body}`, `{var.NAME}`.
        input: Vec<Template>,
        /// `hex` (default, lower case) or `base64`.
        #[serde(default)]
        encoding: SignatureEncoding,
        /// Length of `{nonce}` (random `[A-Za-z0-9]`, default 64).
        #[serde(default)]
        nonce_length: Option<usize>,
        /// Headers to send; may use `{signature}`, `{nonce}`, `{timestamp_ms}`,
        /// `{timestamp_s}`, `{var.NAME}`.
        headers: IndexMap<String, Template>,
    },
}

/// Where an API key goes.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyLocation {
    /// A request header.
    #[default]
    Header,
    /// A query parameter.
    Query,
}

/// How an OAuth2 client authenticates to the token endpoint.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` form fields.
    #[default]
    Body,
    /// HTTP Basic with the id and the secret.
    Basic,
}

/// Signature algorithms.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SignatureAlgorithm {
    /// Plain SHA-256 of the input (Cortex XDR advanced keys).
    Sha256,
    /// Plain SHA-512 of the input.
    Sha512,
    /// HMAC-SHA256 keyed with the secret.
    HmacSha256,
    /// HMAC-SHA512 keyed with the secret.
    HmacSha512,
}

/// Signature encodings.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    /// Lower-case hex.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// Client-side request budget.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Sustained requests per second.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// At most this many in any 60 s.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// At most this many in any rolling hour.
    #[serde(default)]
    pub requests_per_hour: Option<u32>,
    /// At most this many in any 24 h.
    #[serde(default)]
    pub requests_per_day: Option<u32>,
    /// Requests allowed back to back (default 1).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// One feed.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    /// Stream name (`[a-z0-9_]`): `--source` value, state key, summary field prefix.
    pub name: String,
    /// What it collects.
    #[serde(default)]
    pub description: Option<String>,
    /// Discriminator value of its records (default: the stream name).
    #[serde(default)]
    pub event_type: Option<String>,
    /// First-run window (default `24h`; the source's lookback overrides it).
    #[serde(default)]
    pub lookback: Option<HumanDuration>,
    /// The first request of a walk.
    pub request: RequestSpec,
    /// Fields that replace the first request's on later pages (e.g. a body with
    /// `{page.token}`).
    #[serde(default)]
    pub next_request: Option<NextRequestSpec>,
    /// How pages follow each other (default: one request, no paging).
    #[serde(default)]
    pub pagination: Pagination,
    /// Where the records are and what identifies them.
    pub extract: Extract,
    /// What position is stored between runs.
    pub cursor: CursorSpec,
}

/// HTTP methods.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET
    #[default]
    Get,
    /// POST
    Post,
}

impl Method {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// A request.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// `GET` (default) or `POST`.
    #[serde(default)]
    pub method: Method,
    /// Absolute URL (`{var.base_url}/api/v1/logs`).
    pub url: Template,
    /// Query parameters, in order; an empty rendered value leaves the parameter out.
    #[serde(default)]
    pub query: IndexMap<String, Template>,
    /// Headers, in order.
    #[serde(default)]
    pub headers: IndexMap<String, Template>,
    /// JSON body (a table); strings are templates, a string that is one placeholder keeps
    /// the value's type.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// Page size, available as `{page.limit}` (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Later-page overrides.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextRequestSpec {
    /// Method of later pages.
    #[serde(default)]
    pub method: Option<Method>,
    /// URL of later pages (not with `next_url` / `link_header` paging).
    #[serde(default)]
    pub url: Option<Template>,
    /// Query of later pages (replaces the first request's).
    #[serde(default)]
    pub query: Option<IndexMap<String, Template>>,
    /// Headers of later pages (replace the first request's).
    #[serde(default)]
    pub headers: Option<IndexMap<String, Template>>,
    /// Body of later pages.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

/// Pagination kinds.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// One request per walk.
    #[default]
    None,
    /// A token/cursor in the body (`token`), sent back as `{page.token}`.
    BodyToken,
    /// The next page's URL in the body (`next_url`).
    NextUrl,
    /// RFC 8288 `Link: <url>; rel="next"`.
    LinkHeader,
    /// `{page.offset}` advanced by the records received.
    Offset,
    /// `{page.number}` advanced by one.
    PageNumber,
}

/// How pages follow each other, and when a walk stops.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    /// The kind.
    #[serde(rename = "type", default)]
    pub kind: PageKind,
    /// `body_token`: JSON pointer to the next token.
    #[serde(default)]
    pub token: Option<Pointer>,
    /// `next_url`: JSON pointer to the next page's URL.
    #[serde(default)]
    pub next_url: Option<Pointer>,
    /// JSON pointer to a boolean "more pages" flag; `false` stops the walk.
    #[serde(default)]
    pub has_more: Option<Pointer>,
    /// `offset`: JSON pointer to the total record count.
    #[serde(default)]
    pub total: Option<Pointer>,
    /// `page_number`: JSON pointer to the page count.
    #[serde(default)]
    pub total_pages: Option<Pointer>,
    /// First offset (default 0) or page number (default 1).
    #[serde(default)]
    pub start: Option<u64>,
    /// Stop at a page with no records (default true).
    #[serde(default)]
    pub stop_on_empty: Option<bool>,
    /// Stop at a page with fewer records than `{page.limit}` (default true for `offset` and
    /// `page_number`, false otherwise).
    #[serde(default)]
    pub stop_on_short: Option<bool>,
    /// Pages per stream per run (default 1000). Reaching it checkpoints, emits a health
    /// event and continues on the next run: data is never skipped.
    #[serde(default)]
    pub max_pages: Option<u32>,
}

/// Timestamp formats of records.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// RFC 3339 string.
    #[default]
    Rfc3339,
    /// Epoch seconds (number or numeric string).
    EpochS,
    /// Epoch milliseconds (number or numeric string).
    EpochMs,
}

/// Where records are.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extract {
    /// JSON pointer to the records array (`""` = the body is the array).
    #[serde(default)]
    pub records: Option<Pointer>,
    /// Several arrays, each with its own event type (instead of `records`).
    #[serde(default)]
    pub arrays: Vec<ArraySpec>,
    /// JSON pointer (inside a record) to its id, for dedupe.
    #[serde(default)]
    pub id: Option<Pointer>,
    /// JSON pointer (inside a record) to its event time.
    #[serde(default)]
    pub timestamp: Option<Pointer>,
    /// Format of that time.
    #[serde(default)]
    pub timestamp_format: TimestampFormat,
}

/// One records array with its event type.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArraySpec {
    /// JSON pointer to the array.
    pub pointer: Pointer,
    /// Discriminator value of its records.
    pub event_type: String,
}

/// Position kinds.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CursorKind {
    /// The last page's continuation (token or next URL), resumed as is next run.
    LastToken,
    /// The newest record time; the next walk starts `overlap` before it.
    MaxTimestamp,
    /// The end of the last completed time window; windows are at most `max_window` wide.
    WindowEnd,
}

/// What is stored between runs.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CursorSpec {
    /// The kind.
    #[serde(rename = "type")]
    pub kind: CursorKind,
    /// Windows end this long before now, so records still settling are read next time.
    #[serde(default)]
    pub settle_lag: Option<HumanDuration>,
    /// Each walk re-reads this far before the stored position (duplicates are suppressed by
    /// the id ledger).
    #[serde(default)]
    pub overlap: Option<HumanDuration>,
    /// `window_end`: widest window per request walk.
    #[serde(default)]
    pub max_window: Option<HumanDuration>,
}

/// A JSON pointer (RFC 6901): `""` or `/a/0/b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer(pub String);

impl<'de> Deserialize<'de> for Pointer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || s.starts_with('/') {
            Ok(Self(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not a JSON pointer; write \"/{s}\" (pointers start with `/`; \"\" is the whole document)"
            )))
        }
    }
}

impl JsonSchema for Pointer {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Pointer".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(/.*)?$",
            "description": "JSON pointer (RFC 6901): \"\" for the whole document, else /key/0/key"
        })
    }
}

/// A duration written `"500ms"`, `"30s"`, `"5m"`, `"24h"` or `"7d"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses the text form.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| {
            format!("{s:?} is not a duration; write a whole number and a unit: \"500ms\", \"30s\", \"5m\", \"24h\", \"7d\"")
        })?;
        let secs = match unit {
            "ms" => return Ok(Self(Duration::from_millis(n))),
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86_400,
            _ => {
                return Err(format!(
                    "{s:?} has no known unit; use ms, s, m, h or d (\"5m\", \"24h\")"
                ));
            }
        };
        Ok(Self(Duration::from_secs(secs)))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(ms|s|m|h|d)$",
            "description": "A duration: \"500ms\", \"30s\", \"5m\", \"24h\", \"7d\""
        })
    }
}
