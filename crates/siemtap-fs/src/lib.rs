//! siemtap-fs: opening files for writing without following a link someone else planted.
//!
//! siemtap runs as root (or as the `wazuh` user) in directories other accounts may be able to
//! write. A plain `open(path, O_WRONLY|O_CREAT)` follows a symbolic link planted at `path`, so
//! whoever can write the directory could make siemtap truncate `/etc/shadow`. Every file
//! siemtap opens for writing goes through this crate instead:
//!
//! - opened with `O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK` (a symlink is refused by the kernel, a
//!   planted FIFO cannot block the open; `O_NONBLOCK` is cleared again once the handle is
//!   checked);
//! - then the *opened handle* is checked with `fstat` (no second lookup of the path that could
//!   be raced): it must be a regular file with exactly one hard link, owned by the running
//!   effective user;
//! - anything else is a refusal ([`FsError`]) naming the path and the fix (remove the link,
//!   `chown` the file).
//!
//! Temp files are created the same way beside their target ([`create_temp_beside`], always
//! `O_EXCL`), and directories are opened with `O_DIRECTORY | O_NOFOLLOW` ([`open_dir`]) so
//! their mode and owner can be set through the handle, never through a planted link.

mod dir;
mod error;
mod open;
mod temp;
mod user;

pub use dir::{check_dir, open_dir};
pub use error::FsError;
pub use open::{Expect, WriteMode, open_for_read, open_for_write, verify};
pub use temp::{TEMP_SUFFIX, create_temp_beside, temp_prefix};
pub use user::{Account, euid, find_account, user_name};
