//! Reading the two file tiers: the secrets file (with its permission check) and systemd credential files.
//!
//! File contents are read into zeroize-on-drop buffers sized up front from the file's metadata, so the raw
//! bytes are wiped once parsed.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use zeroize::Zeroizing;

use crate::{Secret, SecretsError, parse_secrets};

/// The secrets file: `None` when it does not exist (an empty tier), its parsed pairs otherwise.
pub(crate) fn load_secrets_file(
    path: &Path,
) -> Result<Option<Vec<(String, Secret)>>, SecretsError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            tracing::debug!(path = %path.display(), "secrets file does not exist; that tier is empty");
            return Ok(None);
        }
        Err(source) => {
            return Err(SecretsError::Unreadable {
                path: path.to_owned(),
                source,
            });
        }
    };
    // Check the permissions of the file we opened (not of the path again), then read from the same handle.
    let meta = file.metadata().map_err(|source| SecretsError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    check_permissions(path, &meta)?;
    let bytes = read_all(file, meta.len()).map_err(|source| SecretsError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let text = utf8(path, &bytes)?;
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        // UTF-16 text without a byte-order mark is valid UTF-8 full of NULs: its keys would
        // silently never match.
        return Err(SecretsError::NulByte {
            path: path.to_owned(),
            line: line_of(&bytes, at),
        });
    }
    let pairs = parse_secrets(text);
    tracing::debug!(path = %path.display(), keys = pairs.len(), "secrets file loaded");
    Ok(Some(pairs))
}

/// `$CREDENTIALS_DIRECTORY/<cred_name>`: `None` when the file does not exist or is empty after trimming
/// trailing whitespace (so whitespace-only counts as absent too).
pub(crate) fn read_credential(path: &Path) -> Result<Option<Secret>, SecretsError> {
    let cred_err = |source| SecretsError::CredentialUnreadable {
        path: path.to_owned(),
        source,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cred_err(e)),
    };
    let len = file.metadata().map_err(cred_err)?.len();
    let bytes = read_all(file, len).map_err(cred_err)?;
    let value = utf8(path, &bytes)?.trim_end();
    Ok((!value.is_empty()).then(|| Secret::new(value)))
}

/// Read a whole file into a buffer that is wiped on drop. Reserving `len + 1` up front avoids reallocations
/// (which would leave unwiped copies behind) unless the file grows while being read.
fn read_all(mut file: File, len: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    let capacity = usize::try_from(len).unwrap_or(0).saturating_add(1);
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    file.read_to_end(&mut buf)?;
    Ok(buf)
}

/// Validate UTF-8, naming the 1-based line of the first invalid byte (never the bytes themselves).
fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, SecretsError> {
    std::str::from_utf8(bytes).map_err(|e| SecretsError::NotUtf8 {
        path: path.to_owned(),
        line: line_of(bytes, e.valid_up_to()),
    })
}

/// 1-based line of the byte at `offset`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count()
}

/// Refuse a secrets file that "other" may read or write; warn when the group may write it.
#[cfg(unix)]
fn check_permissions(path: &Path, meta: &std::fs::Metadata) -> Result<(), SecretsError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o004 != 0 {
        return Err(SecretsError::WorldReadable {
            path: path.to_owned(),
            mode,
        });
    }
    if mode & 0o002 != 0 {
        return Err(SecretsError::WorldWritable {
            path: path.to_owned(),
            mode,
        });
    }
    warn_if_foreign_owner(path, meta);
    if mode & 0o020 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{mode:04o}"),
            "secrets file {} is writable by its group; fix: `chmod g-w {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// Whether a secrets file owned by `owner` is suspicious for a process running as `euid`:
/// anyone but root (the documented owner, root:wazuh 0640) or the running user could have
/// replaced the credentials (e.g. pointed `OP_BASE_URL` at their own host).
pub(crate) fn foreign_owner(owner: u32, euid: u32) -> bool {
    owner != 0 && owner != euid
}

/// Warn (not refuse: the file may be legitimately managed by a deployment tool's user) when
/// [`foreign_owner`] says so, naming the file, its owner and the fix.
#[cfg(unix)]
fn warn_if_foreign_owner(path: &Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let euid = siemtap_fs::euid();
    if foreign_owner(meta.uid(), euid) {
        tracing::warn!(
            path = %path.display(),
            owner = meta.uid(),
            "secrets file {} is owned by {} (uid {}), not by root or the user siemtap runs as \
             (uid {euid}): that user can change the credentials siemtap sends; fix: \
             `chown root:wazuh {}` (the documented owner, mode 0640)",
            path.display(),
            siemtap_fs::user_name(meta.uid()),
            meta.uid(),
            path.display()
        );
    }
}

/// Non-Unix platforms have no mode bits to check.
#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), SecretsError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_root_or_the_running_user_may_own_the_secrets_file() {
        // root:wazuh is the documented owner; the running user is fine too (a dev setup).
        assert!(!foreign_owner(0, 998));
        assert!(!foreign_owner(998, 998));
        assert!(!foreign_owner(0, 0));
        // Anyone else could have replaced the credentials.
        assert!(foreign_owner(1000, 998));
        assert!(foreign_owner(65534, 0));
    }
}
