//! Opening files: `O_NOFOLLOW`, then checks on the opened handle.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::OFlags;

use crate::FsError;
use crate::user::{euid, user_name};

/// How [`open_for_write`] opens a file. The file is created (with the given mode) when
/// missing in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Read and write, contents kept (lock files, the exactly-once file sink).
    Keep,
    /// Append only (log files).
    Append,
    /// Write, emptied — but only *after* the checks passed, so a refused file is never
    /// truncated (`O_TRUNC` at open time would cut the victim of a hard link).
    Truncate,
}

/// What an opened file must be, beyond being a regular file reached without a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    /// Owned by the running effective uid.
    pub owned_by_running_user: bool,
    /// Exactly one hard link.
    pub single_link: bool,
}

impl Expect {
    /// Every check: what [`open_for_write`] requires.
    pub const WRITE: Expect = Expect {
        owned_by_running_user: true,
        single_link: true,
    };
    /// Only "a regular file, not through a symlink" (reading a file another user may own).
    pub const READ: Expect = Expect {
        owned_by_running_user: false,
        single_link: false,
    };
}

/// The flags added to every open: no symlink at the last component, not inherited by child
/// processes, and a FIFO cannot block the open.
pub(crate) fn safe_flags() -> i32 {
    let flags = OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    // the O_* bits all fit an i32 (custom_flags takes the C int)
    flags.bits() as i32
}

/// Open `path` for writing (created with `create_mode` when missing) without following a
/// symlink, then check the opened handle: a regular file, one hard link, owned by the running
/// user ([`Expect::WRITE`]). A refused file is left exactly as it was.
pub fn open_for_write(path: &Path, how: WriteMode, create_mode: u32) -> Result<File, FsError> {
    let mut options = OpenOptions::new();
    options.create(true).mode(create_mode);
    match how {
        WriteMode::Keep | WriteMode::Truncate => options.read(true).write(true),
        WriteMode::Append => options.append(true),
    };
    let file = open_with(path, &mut options, Expect::WRITE)?;
    if how == WriteMode::Truncate {
        file.set_len(0).map_err(|source| FsError::Io {
            path: path.to_path_buf(),
            what: "truncate",
            source,
        })?;
    }
    Ok(file)
}

/// Open an existing `path` for reading without following a symlink, then check the handle
/// against `expect` (always: a regular file).
pub fn open_for_read(path: &Path, expect: Expect) -> Result<File, FsError> {
    open_with(path, OpenOptions::new().read(true), expect)
}

/// `options` plus [`safe_flags`], then [`verify`] and `O_NONBLOCK` cleared. `options` must not
/// truncate (the truncation would happen before the checks).
pub(crate) fn open_with(
    path: &Path,
    options: &mut OpenOptions,
    expect: Expect,
) -> Result<File, FsError> {
    options.custom_flags(safe_flags());
    let file = options.open(path).map_err(|e| open_error(path, e, false))?;
    verify(&file, path, expect)?;
    clear_nonblock(&file, path)?;
    Ok(file)
}

/// The error for a failed open: `ELOOP` under `O_NOFOLLOW` means the path is a symlink.
pub(crate) fn open_error(path: &Path, source: io::Error, dir: bool) -> FsError {
    if source.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        let path = path.to_path_buf();
        return if dir {
            FsError::DirSymlink { path }
        } else {
            FsError::Symlink { path }
        };
    }
    FsError::Io {
        path: path.to_path_buf(),
        what: "open",
        source,
    }
}

fn clear_nonblock(file: &File, path: &Path) -> Result<(), FsError> {
    let io_err = |e: rustix::io::Errno| FsError::Io {
        path: path.to_path_buf(),
        what: "set flags of",
        source: e.into(),
    };
    let flags = rustix::fs::fcntl_getfl(file).map_err(io_err)?;
    rustix::fs::fcntl_setfl(file, flags - OFlags::NONBLOCK).map_err(io_err)
}

/// Checks an opened handle (`fstat`, no second path lookup): a regular file, and what
/// `expect` asks for.
pub fn verify(file: &File, path: &Path, expect: Expect) -> Result<(), FsError> {
    let meta = file.metadata().map_err(|source| FsError::Io {
        path: path.to_path_buf(),
        what: "stat",
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(FsError::WrongType {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
            expected: "regular file",
        });
    }
    if expect.single_link && meta.nlink() != 1 {
        return Err(FsError::HardLinked {
            path: path.to_path_buf(),
            links: meta.nlink(),
        });
    }
    let me = euid();
    if expect.owned_by_running_user && meta.uid() != me {
        return Err(FsError::WrongOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            owner_name: user_name(meta.uid()),
            euid: me,
            user: user_name(me),
        });
    }
    Ok(())
}

/// A file type in words, for messages.
pub(crate) fn kind_of(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}
