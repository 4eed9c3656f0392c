//! The state lock: `<state file>.lock`, held with `File::try_lock`, naming the holder's pid.

use std::ffi::OsString;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::StateError;
use crate::fsio;

/// The lock file path for a state file: the state file's path with `.lock` appended.
pub fn lock_path(state_path: &Path) -> PathBuf {
    let mut s = OsString::from(state_path.as_os_str());
    s.push(".lock");
    PathBuf::from(s)
}

/// An acquired lock; released when dropped (the kernel releases it when the file closes).
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: File,
}

impl StateLock {
    /// Take the lock without waiting and write our pid into the lock file.
    pub(crate) fn acquire(state_path: &Path) -> Result<Self, StateError> {
        let path = lock_path(state_path);
        let lock_err = |source| StateError::Lock {
            path: path.clone(),
            source,
        };
        // Never truncate on open: the file may hold the current holder's pid. Never through a
        // symlink or a hard link, and only a lock file of our own (siemtap-fs).
        let mut file =
            siemtap_fs::open_for_write(&path, siemtap_fs::WriteMode::Keep, fsio::FILE_MODE)
                .map_err(|e| StateError::from_fs(e, lock_err))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder_pid = read_pid(&mut file);
                return Err(StateError::Locked {
                    lock_path: path,
                    holder_pid,
                });
            }
            Err(TryLockError::Error(source)) => return Err(lock_err(source)),
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush())
            .map_err(lock_err)?;
        tracing::debug!(lock = %path.display(), "state lock acquired");
        Ok(Self { _file: file })
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
