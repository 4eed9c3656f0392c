//! Declarative REST connectors: any vendor API from one TOML file, no code.
//!
//! A connector file ([`spec`], documented in `docs/connectors.md`) declares identity, auth,
//! requests, pagination, extraction, the stored position and limits. [`load_file`] parses and
//! checks it (errors name `FILE:LINE:COL` and the key), [`ConnectorSpec::build_source`]
//! turns it into a [`siemtap_core::Source`] the runner drives like a built-in connector, and
//! [`ConnectorSpec::plan`] is the dry run behind `siemtap plan`.
//!
//! Module map: `spec` (types), `load` (parse + checks), `template` + `body` (placeholders),
//! `request` (rendering), `auth`, `paginate`, `extract`, `position` (cursor ↔ walk),
//! `stream` + `source` (runtime, shaper), `plan`, `schema`, `failures`.

mod auth;
mod body;
mod check;
mod extract;
mod failures;
mod load;
mod origin;
mod paginate;
mod plan;
mod position;
mod request;
mod schema;
mod source;
pub mod spec;
mod stream;
pub mod template;

use std::path::Path;
use std::sync::Arc;

use siemtap_core::shape::Shaper;
use siemtap_core::{Failure, Source};

pub use load::SpecError;
pub use plan::PlannedRequest;
pub use request::REDACTED;
pub use schema::json_schema;
pub use source::{RestShaper, RestSource};

/// A parsed file with its compiled body templates.
pub(crate) struct Compiled {
    pub file: spec::ConnectorFile,
    pub bodies: Vec<(Option<body::BodyTemplate>, Option<body::BodyTemplate>)>,
}

/// A validated connector file. Cheap to clone.
#[derive(Clone)]
pub struct ConnectorSpec {
    inner: Arc<Compiled>,
    origin: String,
}

impl std::fmt::Debug for ConnectorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorSpec")
            .field("name", &self.inner.file.name)
            .field("origin", &self.origin)
            .finish()
    }
}

/// What the binary hands a connector for one configured source.
pub struct SourceOptions<'a> {
    /// The source's name in the config: its label in logs (state keys are the stream names;
    /// each source has its own state file).
    pub source_name: &'a str,
    /// `[source.settings]`: values of the variables the connector file declares.
    pub settings: &'a toml::Table,
    /// Secrets by name.
    pub chain: &'a siemtap_secrets::CredentialChain,
    /// The shared HTTP client.
    pub http: siemtap_http::HttpClient,
    /// Streams to run (`None` = all); `all` selects all.
    pub streams: Option<Vec<String>>,
    /// First-run window, overriding each stream's `lookback`.
    pub lookback: Option<std::time::Duration>,
}

/// Reads and validates a connector file.
pub fn load_file(path: &Path) -> Result<ConnectorSpec, SpecError> {
    let (loaded, origin) = load::load_file(path)?;
    Ok(ConnectorSpec::from_loaded(loaded, origin))
}

/// Validates connector text; `origin` names it in errors.
pub fn load_str(text: &str, origin: &str) -> Result<ConnectorSpec, SpecError> {
    let loaded = load::load_str(text, origin)?;
    Ok(ConnectorSpec::from_loaded(loaded, origin.to_owned()))
}

impl ConnectorSpec {
    fn from_loaded(loaded: load::Loaded, origin: String) -> Self {
        Self {
            inner: Arc::new(Compiled {
                file: loaded.file,
                bodies: loaded.bodies,
            }),
            origin,
        }
    }

    /// The connector name.
    pub fn name(&self) -> &str {
        &self.inner.file.name
    }

    /// Where it was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The parsed file.
    pub fn file(&self) -> &spec::ConnectorFile {
        &self.inner.file
    }

    /// Stream names in run order.
    pub fn stream_names(&self) -> Vec<String> {
        self.inner
            .file
            .streams
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// The file's `trusted_origins`: origins besides the first request's that next-page URLs
    /// may name, and that then receive the credential.
    pub fn trusted_origins(&self) -> &[String] {
        &self.inner.file.trusted_origins
    }

    /// What `siemtap validate` shows about a loaded file besides "ok" (one line each).
    pub fn notes(&self) -> Vec<String> {
        let trusted = self.trusted_origins();
        if trusted.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "trusted_origins: {} (next-page URLs there receive the credential, like the first request's origin)",
            trusted.join(", ")
        )]
    }

    /// Every declared secret (for `validate` to check presence), by name.
    pub fn secret_names(&self) -> Vec<String> {
        self.inner.file.secrets.keys().cloned().collect()
    }

    /// The credential-chain names of a declared secret (`cred_name`, `env_name`).
    pub fn secret_key(&self, name: &str) -> Option<siemtap_secrets::CredentialKey> {
        self.inner
            .file
            .secrets
            .contains_key(name)
            .then(|| source::credential_key(&self.inner.file, name))
    }

    /// Builds the source: settings checked, secrets resolved, limiter and auth ready.
    pub fn build_source(&self, opts: SourceOptions<'_>) -> Result<Box<dyn Source>, Failure> {
        self.build_rest_source(opts)
            .map(|s| Box::new(s) as Box<dyn Source>)
    }

    /// Like [`ConnectorSpec::build_source`], keeping the concrete type (tests read its
    /// counters).
    pub fn build_rest_source(&self, opts: SourceOptions<'_>) -> Result<RestSource, Failure> {
        source::build(&self.inner, opts)
    }

    /// The shaper, for failures before a source exists.
    pub fn shaper(&self) -> Box<dyn Shaper> {
        Box::new(RestShaper::new(&self.inner.file))
    }

    /// Dry run for `siemtap plan`: the first request each stream would make from `state`
    /// (secrets redacted as `REDACTED`) and the cursor it would store — no network. Secrets
    /// need not be present.
    pub fn plan(
        &self,
        opts: SourceOptions<'_>,
        state: &siemtap_state::StateStore,
    ) -> Result<Vec<PlannedRequest>, Failure> {
        plan::plan(&self.inner, opts, state)
    }
}
