//! siemtap-secrets: the credential chain and the [`Secret`] type.
//!
//! Per credential, the first **non-empty** value wins:
//! 1. `$CREDENTIALS_DIRECTORY/<cred_name>` (systemd `LoadCredential=` / `LoadCredentialEncrypted=`);
//! 2. the `KEY=VALUE` secrets file ([`parse_secrets`]), looked up by the environment variable's name; the
//!    file must not be readable or writable by "other";
//! 3. the environment variable.
//!
//! Empty or whitespace-only values count as absent at every tier. A process that starts as root
//! and drops privileges reads the file tiers first with [`preload`]; chains built afterwards use
//! what was read then. Secret values never appear in `Debug`
//! output, error messages or logs.
//!
//! ```no_run
//! use siemtap_secrets::{ChainSources, CredentialChain, CredentialKey};
//!
//! const OP_TOKEN: CredentialKey = CredentialKey { cred_name: "op_bearer_token", env_name: "OP_BEARER_TOKEN" };
//! let chain = CredentialChain::new(ChainSources::from_process(Some("/var/ossec/wodles/onepassword/.secrets".into())))?;
//! let token = chain.get(OP_TOKEN)?;
//! # Ok::<(), siemtap_secrets::SecretsError>(())
//! ```

mod chain;
mod error;
mod files;
mod parse;
pub mod preload;
mod secret;

pub use chain::{ChainSources, CredentialChain, CredentialKey, Tier};
pub use error::SecretsError;
pub use parse::parse_secrets;
pub use secret::Secret;
