//! The credential chain: `$CREDENTIALS_DIRECTORY/<cred_name>` -> secrets file -> environment.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::files::{load_secrets_file, read_credential};
use crate::{Secret, SecretsError};

/// Where one credential is looked up: the systemd credential name and the env-var / secrets-file key.
///
/// Example: `CredentialKey { cred_name: "op_bearer_token", env_name: "OP_BEARER_TOKEN" }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialKey {
    /// File name under `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=` name).
    pub cred_name: &'static str,
    /// Environment variable name, also the key in the secrets file.
    pub env_name: &'static str,
}

/// Which tier supplied a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// `$CREDENTIALS_DIRECTORY/<cred_name>` (systemd credentials).
    CredentialsDirectory,
    /// The `KEY=VALUE` secrets file.
    SecretsFile,
    /// The process environment.
    Environment,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::CredentialsDirectory => "systemd credentials directory",
            Tier::SecretsFile => "secrets file",
            Tier::Environment => "environment",
        })
    }
}

/// The inputs of the chain, captured once (so tests do not depend on the process environment).
///
/// `Debug` shows the paths and only the *number* of environment variables, never their values.
#[derive(Clone, Default)]
pub struct ChainSources {
    /// Value of `$CREDENTIALS_DIRECTORY`; `None` (or an empty path) means not set.
    pub credentials_directory: Option<PathBuf>,
    /// The `KEY=VALUE` secrets file, if one is configured.
    pub secrets_file: Option<PathBuf>,
    /// Snapshot of the relevant environment.
    pub env: HashMap<String, String>,
    /// Per-source secret names: a standard env name (`XDR_API_KEY`) -> the name looked up
    /// instead in every tier (`ACME_XDR_API_KEY` in the environment and the secrets file,
    /// `acme_xdr_api_key` under `$CREDENTIALS_DIRECTORY`). Lets one config run several
    /// tenants of a built-in connector.
    pub renames: HashMap<String, String>,
}

impl ChainSources {
    /// Capture from the real process environment (`CREDENTIALS_DIRECTORY` + all env vars). Variables whose
    /// name or value is not valid UTF-8 are skipped; an empty `CREDENTIALS_DIRECTORY` counts as not set.
    pub fn from_process(secrets_file: Option<PathBuf>) -> Self {
        let credentials_directory = std::env::var_os("CREDENTIALS_DIRECTORY")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from);
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self {
            credentials_directory,
            secrets_file,
            env,
            renames: HashMap::new(),
        }
    }
}

impl fmt::Debug for ChainSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainSources")
            .field("credentials_directory", &self.credentials_directory)
            .field("secrets_file", &self.secrets_file)
            .field("env", &format_args!("<{} variables>", self.env.len()))
            .field("renames", &self.renames)
            .finish()
    }
}

/// The loaded secrets file: its path and, if it existed, its keys.
struct SecretsFileTier {
    path: PathBuf,
    /// `None` when the file does not exist.
    entries: Option<HashMap<String, Secret>>,
}

/// Resolves credentials through the three tiers. Build it once with [`CredentialChain::new`]; the secrets
/// file is read and validated then, credential files at each lookup.
///
/// `Debug` shows paths and key names only.
pub struct CredentialChain {
    credentials_directory: Option<PathBuf>,
    secrets_file: Option<SecretsFileTier>,
    env: HashMap<String, Secret>,
    /// Standard env name -> (env / secrets-file name, credential file name) looked up instead.
    renames: HashMap<String, (String, String)>,
}

/// The names one lookup uses (the key's own, or its per-source rename).
#[derive(Clone, Copy)]
struct Names<'a> {
    env: &'a str,
    cred: &'a str,
}

impl CredentialChain {
    /// Reads and validates the secrets file once (or takes what [`crate::preload`] read before a
    /// privilege drop). A secrets file that does not exist is an empty tier (not an
    /// error; logged at debug). A secrets file readable by "other" (mode & 0o004) is refused with
    /// [`SecretsError::WorldReadable`], one writable by "other" (mode & 0o002) with
    /// [`SecretsError::WorldWritable`]. A group-writable one (mode & 0o020) is accepted with a warning that
    /// names the file and the fix `chmod g-w`.
    pub fn new(sources: ChainSources) -> Result<Self, SecretsError> {
        let secrets_file = match sources.secrets_file {
            Some(path) => {
                // Read before a privilege drop (crate::preload), else now.
                let loaded = match crate::preload::secrets_file(&path) {
                    Some(kept) => kept?,
                    None => load_secrets_file(&path)?,
                };
                let entries = loaded.map(|pairs| pairs.into_iter().collect());
                Some(SecretsFileTier { path, entries })
            }
            None => None,
        };
        let credentials_directory = sources
            .credentials_directory
            .filter(|dir| !dir.as_os_str().is_empty());
        let env = sources
            .env
            .into_iter()
            .map(|(k, v)| (k, Secret::new(v)))
            .collect();
        let mut renames = HashMap::new();
        for (standard, alt) in sources.renames {
            let plain =
                !alt.is_empty() && alt.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain {
                return Err(SecretsError::InvalidKey {
                    cred_name: alt.to_ascii_lowercase(),
                    env_name: alt,
                });
            }
            let cred = alt.to_ascii_lowercase();
            renames.insert(standard, (alt, cred));
        }
        Ok(Self {
            credentials_directory,
            secrets_file,
            env,
            renames,
        })
    }

    /// First non-empty (after trimming whitespace) value wins: `$CREDENTIALS_DIRECTORY/<cred_name>` (trailing
    /// whitespace trimmed) -> secrets file key `<env_name>` -> env var `<env_name>` (surrounding whitespace
    /// trimmed). Empty or whitespace-only counts as absent at every tier. Missing everywhere is
    /// [`SecretsError::Missing`], naming both names and the three places looked in. A credential file that
    /// exists but cannot be read is [`SecretsError::CredentialUnreadable`], not skipped.
    pub fn get(&self, key: CredentialKey) -> Result<Secret, SecretsError> {
        self.get_with_tier(key).map(|(secret, _)| secret)
    }

    /// Like [`CredentialChain::get`], also telling which tier supplied the value.
    pub fn get_with_tier(&self, key: CredentialKey) -> Result<(Secret, Tier), SecretsError> {
        let names = self.names(key);
        validate_cred_name(names)?;
        if let Some(dir) = &self.credentials_directory
            && let Some(secret) = match crate::preload::credential(dir, names.cred) {
                Some(kept) => kept?,
                None => read_credential(&dir.join(names.cred))?,
            }
        {
            return Ok(found(secret, Tier::CredentialsDirectory, names));
        }
        if let Some(secret) = self.file_value(names.env) {
            return Ok(found(secret.clone(), Tier::SecretsFile, names));
        }
        if let Some(secret) = self.env_value(names.env) {
            return Ok(found(secret, Tier::Environment, names));
        }
        Err(SecretsError::Missing {
            env_name: names.env.to_owned(),
            cred_name: names.cred.to_owned(),
            looked_in: self.looked_in(names),
        })
    }

    /// The names `key` is looked up under: its per-source rename, if any.
    fn names(&self, key: CredentialKey) -> Names<'_> {
        match self.renames.get(key.env_name) {
            Some((env, cred)) => Names { env, cred },
            None => Names {
                env: key.env_name,
                cred: key.cred_name,
            },
        }
    }

    /// A non-secret setting (e.g. `OP_BASE_URL`), which the reference integrations may keep in the secrets
    /// file: secrets file, then environment (never the credentials directory). `None` if absent or empty.
    pub fn setting(&self, env_name: &str) -> Option<String> {
        // expose: the caller asked for a non-secret setting by name
        self.file_value(env_name)
            .map(|s| s.expose().to_owned())
            .or_else(|| self.env_value(env_name).map(|s| s.expose().to_owned()))
    }

    /// The secrets-file value of `env_name`, if present and not blank.
    fn file_value(&self, env_name: &str) -> Option<&Secret> {
        let entries = self.secrets_file.as_ref()?.entries.as_ref()?;
        // expose: emptiness check only
        entries
            .get(env_name)
            .filter(|s| !s.expose().trim().is_empty())
    }

    /// The environment value of `env_name`, trimmed, if present and not blank.
    fn env_value(&self, env_name: &str) -> Option<Secret> {
        // expose: trim surrounding whitespace and check for emptiness
        let value = self.env.get(env_name)?.expose().trim();
        (!value.is_empty()).then(|| Secret::new(value))
    }

    /// The three places a lookup went through, for [`SecretsError::Missing`].
    fn looked_in(&self, key: Names<'_>) -> Vec<String> {
        let dir = match &self.credentials_directory {
            Some(dir) => format!("systemd credential {}", dir.join(key.cred).display()),
            None => "CREDENTIALS_DIRECTORY not set".to_owned(),
        };
        let file = match &self.secrets_file {
            Some(SecretsFileTier {
                path,
                entries: Some(_),
            }) => {
                format!("secrets file {} (key {})", path.display(), key.env)
            }
            Some(SecretsFileTier {
                path,
                entries: None,
            }) => {
                format!("secrets file {} (does not exist)", path.display())
            }
            None => "no secrets file".to_owned(),
        };
        vec![dir, file, format!("environment variable {}", key.env)]
    }
}

/// Log (names only) which tier supplied a credential.
fn found(secret: Secret, tier: Tier, key: Names<'_>) -> (Secret, Tier) {
    tracing::debug!(env_name = key.env, cred_name = key.cred, %tier, "credential resolved");
    (secret, tier)
}

/// A credential name must be a plain file name, so the lookup stays inside `$CREDENTIALS_DIRECTORY`.
fn validate_cred_name(key: Names<'_>) -> Result<(), SecretsError> {
    let name = key.cred;
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).is_relative();
    if plain {
        Ok(())
    } else {
        Err(SecretsError::InvalidKey {
            cred_name: name.to_owned(),
            env_name: key.env.to_owned(),
        })
    }
}

impl fmt::Debug for CredentialChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut file_keys: Option<Vec<&str>> = self
            .secrets_file
            .as_ref()
            .and_then(|t| t.entries.as_ref())
            .map(|e| e.keys().map(String::as_str).collect());
        if let Some(keys) = &mut file_keys {
            keys.sort_unstable();
        }
        f.debug_struct("CredentialChain")
            .field("credentials_directory", &self.credentials_directory)
            .field("secrets_file", &self.secrets_file.as_ref().map(|t| &t.path))
            .field("secrets_file_keys", &file_keys)
            .field("env", &format_args!("<{} variables>", self.env.len()))
            .field("renames", &self.renames)
            .finish()
    }
}
