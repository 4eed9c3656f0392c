//! [`SecretsError`]: every way loading or looking up a credential can fail.
//!
//! Messages name the file, key or environment variable involved and the fix. They never contain a secret
//! value or any byte of a secrets file's content.

use std::path::PathBuf;

/// Errors of the credential chain.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The secrets file is readable by "other" (mode & 0o004). It is refused without being read.
    #[error(
        "secrets file {} is readable by other users (mode {mode:04o}); refusing to use it. \
         Fix: `chmod o-rwx {}` (0640 or 0600 recommended)",
        path.display(),
        path.display()
    )]
    WorldReadable {
        /// The secrets file.
        path: PathBuf,
        /// Its permission bits (`mode & 0o7777`).
        mode: u32,
    },
    /// The secrets file is writable by "other" (mode & 0o002): anyone on the host could replace the token or
    /// redirect a base URL kept in it. It is refused without being read.
    #[error(
        "secrets file {} is writable by other users (mode {mode:04o}); refusing to use it. \
         Fix: `chmod o-rwx {}` (0640 or 0600 recommended)",
        path.display(),
        path.display()
    )]
    WorldWritable {
        /// The secrets file.
        path: PathBuf,
        /// Its permission bits (`mode & 0o7777`).
        mode: u32,
    },
    /// The secrets file exists but could not be opened or read.
    #[error(
        "cannot read secrets file {}: {source}. Fix: check the path and that the user running siemtap may read it",
        path.display()
    )]
    Unreadable {
        /// The secrets file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A systemd credential file exists but could not be read (it is not skipped silently).
    #[error(
        "cannot read systemd credential {}: {source}. Fix: check the unit's LoadCredential=/LoadCredentialEncrypted= \
         setting and that the file is readable by the service user",
        path.display()
    )]
    CredentialUnreadable {
        /// `$CREDENTIALS_DIRECTORY/<cred_name>`.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A secrets file or credential file is not valid UTF-8. Names the line, never the content.
    #[error(
        "{} is not valid UTF-8 at line {line}. Fix: re-save the file as UTF-8 (plain `KEY=VALUE` text)",
        path.display()
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the first invalid byte.
        line: usize,
    },
    /// The secrets file holds a NUL byte: it is UTF-16 or binary, not `KEY=VALUE` text. Names the line, never
    /// the content.
    #[error(
        "{} contains a NUL byte at line {line}; it looks like UTF-16 or binary data. Fix: re-save the file as \
         UTF-8 (plain `KEY=VALUE` text)",
        path.display()
    )]
    NulByte {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the first NUL byte.
        line: usize,
    },
    /// A [`crate::CredentialKey`] whose `cred_name` is not a plain file name (empty, `.`, `..`, or contains `/`
    /// or a NUL byte). Looking it up could escape `$CREDENTIALS_DIRECTORY`.
    #[error(
        "invalid systemd credential name {cred_name:?} for {env_name}: it must be a plain file name"
    )]
    InvalidKey {
        /// The rejected credential name.
        cred_name: String,
        /// The key's environment variable name.
        env_name: String,
    },
    /// The credential was not found (or was empty) at every tier.
    #[error(
        "credential {env_name} (systemd credential `{cred_name}`) is missing or empty; looked in: {}. \
         Fix: provide it in one of these places",
        looked_in.join("; ")
    )]
    Missing {
        /// Environment variable / secrets-file key.
        env_name: String,
        /// systemd credential name.
        cred_name: String,
        /// The three places looked in, in chain order.
        looked_in: Vec<String>,
    },
}
