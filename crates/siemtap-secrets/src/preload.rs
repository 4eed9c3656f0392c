//! Reading secrets before a privilege drop.
//!
//! siemtap started as root reads the files only root may read (the secrets file, the systemd
//! credentials, a tokens file), then drops to an unprivileged user before it opens the network
//! or writes anything. The chain itself is built later, after the drop, so this module keeps
//! what was read for the process's lifetime: [`crate::CredentialChain::new`] and
//! [`read_file`] consult it first and only fall back to the disk for a path never preloaded.
//!
//! What is kept is the *result* of the same checked read the chain does (permission checks,
//! UTF-8, parsing), errors included, so an unusable file is reported exactly as it would have
//! been without the drop, never as a misleading "permission denied" of the unprivileged user.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::files::{load_secrets_file, read_credential};
use crate::{Secret, SecretsError};

type FileResult = Result<Option<Vec<(String, Secret)>>, SecretsError>;
type CredentialResult = Result<Option<Secret>, SecretsError>;
/// A raw read: the bytes, or the error's kind and message.
type RawResult = Result<Zeroizing<Vec<u8>>, (io::ErrorKind, String)>;

/// Everything preloaded, keyed by the path it was asked for.
#[derive(Default)]
struct Store {
    secrets_files: HashMap<PathBuf, FileResult>,
    /// The credentials directory and, per file name in it, its read result.
    credentials: Option<(PathBuf, HashMap<String, CredentialResult>)>,
    raw: HashMap<PathBuf, RawResult>,
}

static STORE: Mutex<Option<Store>> = Mutex::new(None);

fn with_store<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    let mut guard = STORE.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(Store::default))
}

/// Reads and checks the secrets file at `path` now (as [`crate::CredentialChain::new`] would)
/// and keeps the result for every chain built later with that path.
pub fn preload_secrets_file(path: &Path) {
    let result = load_secrets_file(path);
    with_store(|s| s.secrets_files.insert(path.to_path_buf(), result));
}

/// Reads every regular file of a systemd credentials directory now. A credential looked up
/// later under `dir` comes from this snapshot; a name not in it counts as absent.
pub fn preload_credentials_directory(dir: &Path) -> io::Result<usize> {
    let mut found = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        found.insert(name, read_credential(&entry.path()));
    }
    let count = found.len();
    with_store(|s| s.credentials = Some((dir.to_path_buf(), found)));
    Ok(count)
}

/// Reads a whole file (e.g. a tokens file) now and keeps its bytes for [`read_file`].
pub fn preload_file(path: &Path) {
    let result = std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| (e.kind(), e.to_string()));
    with_store(|s| s.raw.insert(path.to_path_buf(), result));
}

/// The contents of `path`: the preloaded bytes if [`preload_file`] read it, else read now.
pub fn read_file(path: &Path) -> io::Result<Zeroizing<Vec<u8>>> {
    let kept = with_store(|s| {
        s.raw.get(path).map(|r| match r {
            Ok(bytes) => Ok(bytes.clone()),
            Err((kind, message)) => Err(io::Error::new(*kind, message.clone())),
        })
    });
    match kept {
        Some(result) => result,
        None => std::fs::read(path).map(Zeroizing::new),
    }
}

/// The preloaded result for a secrets file, if [`preload_secrets_file`] read it.
pub(crate) fn secrets_file(path: &Path) -> Option<FileResult> {
    with_store(|s| {
        s.secrets_files.get(path).map(|r| match r {
            Ok(pairs) => Ok(pairs.clone()),
            Err(e) => Err(duplicate(e)),
        })
    })
}

/// The preloaded result for `dir/name`, if `dir` is the preloaded credentials directory.
pub(crate) fn credential(dir: &Path, name: &str) -> Option<CredentialResult> {
    with_store(|s| {
        let (kept_dir, files) = s.credentials.as_ref()?;
        if kept_dir != dir {
            return None;
        }
        Some(match files.get(name) {
            None => Ok(None),
            Some(Ok(v)) => Ok(v.clone()),
            Some(Err(e)) => Err(duplicate(e)),
        })
    })
}

/// A copy of a kept error (I/O errors keep their kind and message).
fn duplicate(e: &SecretsError) -> SecretsError {
    let io = |source: &io::Error| io::Error::new(source.kind(), source.to_string());
    match e {
        SecretsError::WorldReadable { path, mode } => SecretsError::WorldReadable {
            path: path.clone(),
            mode: *mode,
        },
        SecretsError::WorldWritable { path, mode } => SecretsError::WorldWritable {
            path: path.clone(),
            mode: *mode,
        },
        SecretsError::Unreadable { path, source } => SecretsError::Unreadable {
            path: path.clone(),
            source: io(source),
        },
        SecretsError::CredentialUnreadable { path, source } => SecretsError::CredentialUnreadable {
            path: path.clone(),
            source: io(source),
        },
        SecretsError::NotUtf8 { path, line } => SecretsError::NotUtf8 {
            path: path.clone(),
            line: *line,
        },
        SecretsError::NulByte { path, line } => SecretsError::NulByte {
            path: path.clone(),
            line: *line,
        },
        SecretsError::InvalidKey {
            cred_name,
            env_name,
        } => SecretsError::InvalidKey {
            cred_name: cred_name.clone(),
            env_name: env_name.clone(),
        },
        SecretsError::Missing {
            env_name,
            cred_name,
            looked_in,
        } => SecretsError::Missing {
            env_name: env_name.clone(),
            cred_name: cred_name.clone(),
            looked_in: looked_in.clone(),
        },
        // A variant added later keeps its message.
        #[allow(unreachable_patterns)]
        other => SecretsError::Unreadable {
            path: PathBuf::new(),
            source: io::Error::other(other.to_string()),
        },
    }
}
