//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong opening, reading or writing a state file.
///
/// Messages name the file involved and say how to fix the problem. They never contain a
/// cursor or any other state value.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another process (or another [`crate::StateStore`] in this process) holds the lock.
    #[error(
        "state is locked by another siemtap run ({holder}) via {}; wait for it to finish, \
         or if no such process exists, find the process holding the lock with `fuser {}` \
         (the kernel releases the lock when its holder exits; do not delete the lock file)",
        lock_path.display(),
        lock_path.display(),
        holder = holder_text(*holder_pid)
    )]
    Locked {
        /// The lock file (`<state file>.lock`).
        lock_path: PathBuf,
        /// The holder's pid as written into the lock file, `None` if unreadable.
        holder_pid: Option<u32>,
    },
    /// The state file exists but cannot be understood. Never silently reset.
    #[error(
        "state file {} is corrupt: {reason}; inspect it, or run \
         `siemtap state reset --state-file {}` to start over from the lookback window",
        path.display(),
        path.display()
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong (names the offending key, never its value).
        reason: String,
    },
    /// The state file was written by a newer siemtap with an incompatible format.
    #[error(
        "state file {} has format {found}, but this siemtap understands format {supported} only; \
         upgrade siemtap, or point --state-file at another file",
        path.display()
    )]
    UnsupportedFormat {
        /// The state file.
        path: PathBuf,
        /// The `siemtap.format` value found.
        found: u64,
        /// The newest format this build understands.
        supported: u64,
    },
    /// Reading the state file failed.
    #[error("cannot read state file {}: {source}; check that it is readable by this user", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing the state file (or its directory, or its temp file) failed.
    #[error(
        "cannot write state {}: {source}; check that the directory exists, is writable by this \
         user and the disk is not full",
        path.display()
    )]
    Write {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Creating or locking the lock file failed (not because another run holds it).
    #[error(
        "cannot lock state via {}: {source}; check that its directory is writable by this user \
         and the file system supports file locks",
        path.display()
    )]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The state file, its lock, a temp file or the directory was refused: a symbolic link,
    /// a hard link, not a regular file, or owned by another user (the message says which, and
    /// the fix).
    #[error(transparent)]
    Refused(siemtap_fs::FsError),
    /// A stream key that cannot be stored (empty).
    #[error("invalid stream key {key:?}: {reason}")]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

impl StateError {
    /// `err` for `path`: a refusal as [`StateError::Refused`], an I/O error through `io`.
    pub(crate) fn from_fs(err: siemtap_fs::FsError, io: impl FnOnce(io::Error) -> Self) -> Self {
        match err {
            siemtap_fs::FsError::Io { source, .. } => io(source),
            refused => Self::Refused(refused),
        }
    }
}

fn holder_text(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_owned(),
    }
}
