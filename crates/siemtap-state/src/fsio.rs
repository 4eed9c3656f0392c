//! File-system primitives: parent directory creation, reading, atomic replacement.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::StateError;

/// Mode of directories this crate creates.
const DIR_MODE: u32 = 0o750;
/// Mode of state and lock files this crate creates.
pub(crate) const FILE_MODE: u32 = 0o640;
/// Suffix of temp files (`.<file name>.<pid>.<n>.tmp`).
const TMP_SUFFIX: &str = ".tmp";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Create the parent directory of `path` (mode 0o750) if missing.
pub(crate) fn ensure_parent_dir(path: &Path) -> Result<(), StateError> {
    let dir = parent_dir(path);
    if dir.is_dir() {
        return Ok(());
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
    Ok(())
}

/// Open options that create a file with [`FILE_MODE`] on unix.
pub(crate) fn create_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, FILE_MODE);
    opts
}

/// The file's bytes, `None` if it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn tmp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    format!(".{name}.")
}

/// Replace `path` with `bytes` atomically: temp file in the same directory, write, fsync,
/// rename over `path`, fsync the directory. Readers see the old or the new file, never a mix.
/// The temp file gets the mode of the file it replaces, or [`FILE_MODE`] for a new file.
/// On error the temp file is removed and `path` is untouched (unless only the final directory
/// fsync failed, in which case `path` may already hold the new content).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = parent_dir(path);
    let (tmp_path, file) = create_temp(path, &dir)?;
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
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StateError::Write { path: dir, source })
}

fn create_temp(path: &Path, dir: &Path) -> Result<(PathBuf, File), StateError> {
    let prefix = tmp_prefix(path);
    let pid = std::process::id();
    loop {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{prefix}{pid}.{n}{TMP_SUFFIX}"));
        match create_options().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            // left behind by a crashed process that had our pid: try the next name
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(StateError::Write { path: tmp, source }),
        }
    }
}

fn stage(mut file: &File, path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let write_err = |source| StateError::Write {
        path: path.to_path_buf(),
        source,
    };
    match fs::metadata(path) {
        Ok(meta) => file
            .set_permissions(meta.permissions())
            .map_err(write_err)?,
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
    let prefix = tmp_prefix(path);
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(TMP_SUFFIX) {
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
