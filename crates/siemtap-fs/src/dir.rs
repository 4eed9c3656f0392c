//! Directories: opened without following a symlink, so mode, owner and fsync go through the
//! handle.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rustix::fs::OFlags;

use crate::FsError;
use crate::open::open_error;

/// Open the directory `path` (read-only, `O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC`). A symlink
/// is [`FsError::DirSymlink`], anything else but a directory [`FsError::WrongType`]. Use the
/// handle for `fchmod` (`set_permissions`), `fchown` and `sync_all`.
pub fn open_dir(path: &Path) -> Result<File, FsError> {
    let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path);
    match opened {
        Ok(dir) => Ok(dir),
        // Linux answers ENOTDIR (not ELOOP) for a symlink under O_DIRECTORY | O_NOFOLLOW.
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOTDIR.raw_os_error()) => {
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if link {
                return Err(FsError::DirSymlink {
                    path: path.to_path_buf(),
                });
            }
            Err(FsError::WrongType {
                path: path.to_path_buf(),
                kind: "a file (or another non-directory)",
                expected: "directory",
            })
        }
        Err(e) => Err(open_error(path, e, true)),
    }
}

/// Whether `path` is a real directory, not a symlink to one ([`open_dir`] without keeping the
/// handle).
pub fn check_dir(path: &Path) -> Result<(), FsError> {
    open_dir(path).map(drop)
}
