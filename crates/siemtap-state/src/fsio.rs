//! File-system primitives: parent directory creation, reading, atomic replacement.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use siemtap_fs::{Expect, TEMP_SUFFIX, temp_prefix};

use crate::StateError;

/// Mode of directories this crate creates.
const DIR_MODE: u32 = 0o750;
/// Mode of state and lock files this crate creates.
pub(crate) const FILE_MODE: u32 = 0o640;
/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Create the parent directory of `path` (mode 0o750) if missing; refuse one that is a
/// symbolic link.
pub(crate) fn ensure_parent_dir(path: &Path) -> Result<(), StateError> {
    let dir = parent_dir(path);
    if dir.is_dir() {
        return check_dir(&dir);
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(&dir).map_err(|source| StateError::Write {
        path: dir.clone(),
        source,
    })?;
    tracing::info!(dir = %dir.display(), "created state directory");
    check_dir(&dir)
}

fn check_dir(dir: &Path) -> Result<(), StateError> {
    siemtap_fs::check_dir(dir).map_err(|e| {
        StateError::from_fs(e, |source| StateError::Write {
            path: dir.to_path_buf(),
            source,
        })
    })
}

/// The file's bytes, `None` if it does not exist. Never through a symlink; `expect` says
/// whether it must also be ours with one link (a store about to rewrite it) or not (a reader).
pub(crate) fn read_if_exists(path: &Path, expect: Expect) -> Result<Option<Vec<u8>>, StateError> {
    let read_err = |source| StateError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match siemtap_fs::open_for_read(path, expect) {
        Ok(file) => file,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(StateError::from_fs(e, read_err)),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_err)?;
    Ok(Some(bytes))
}

/// Replace `path` with `bytes` atomically: temp file in the same directory, write, fsync,
/// rename over `path`, fsync the directory. Readers see the old or the new file, never a mix.
/// The temp file gets the mode of the file it replaces, or [`FILE_MODE`] for a new file.
/// On error the temp file is removed and `path` is untouched (unless only the final directory
/// fsync failed, in which case `path` may already hold the new content).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = parent_dir(path);
    let (tmp_path, file) = create_temp(path)?;
    let staged = stage(&file, path, bytes).and_then(|()| {
        fs::rename(&tmp_path, path).map_err(|source| StateError::Write {
            path: path.to_path_buf(),
            source,
        })
    });
    drop(file);
    if let Err(e) = staged {
        if let Err(rm) = fs::remove_file(&tmp_path) {
            tracing::warn!(tmp = %tmp_path.display(), error = %rm, "cannot remove temp state file");
        }
        return Err(e);
    }
    let write_err = |source| StateError::Write {
        path: dir.clone(),
        source,
    };
    siemtap_fs::open_dir(&dir)
        .map_err(|e| StateError::from_fs(e, write_err))?
        .sync_all()
        .map_err(write_err)
}

/// A new temp file beside `path` (`O_EXCL | O_NOFOLLOW`: a name left by a crashed process
/// with our pid, or planted, is skipped).
fn create_temp(path: &Path) -> Result<(PathBuf, File), StateError> {
    siemtap_fs::create_temp_beside(path, FILE_MODE).map_err(|e| {
        StateError::from_fs(e, |source| StateError::Write {
            path: path.to_path_buf(),
            source,
        })
    })
}

fn stage(mut file: &File, path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let write_err = |source| StateError::Write {
        path: path.to_path_buf(),
        source,
    };
    // The mode of the file being replaced (not of a link's target: a link is replaced itself).
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => file
            .set_permissions(meta.permissions())
            .map_err(write_err)?,
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    file.write_all(bytes).map_err(write_err)?;
    file.sync_all().map_err(write_err)
}

/// Remove temp files a crashed writer left beside `path`. Call only while holding the lock.
pub(crate) fn remove_stale_temps(path: &Path) {
    let dir = parent_dir(path);
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(TEMP_SUFFIX) {
            let stale = entry.path();
            match fs::remove_file(&stale) {
                Ok(()) => tracing::info!(tmp = %stale.display(), "removed stale temp state file"),
                Err(e) => {
                    tracing::warn!(tmp = %stale.display(), error = %e, "cannot remove stale temp state file");
                }
            }
        }
    }
}
