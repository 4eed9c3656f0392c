//! Temp files beside their target, for write-then-rename replacement.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::FsError;
use crate::open::{Expect, open_error, safe_flags, verify};

/// Suffix of temp files: `.<file name>.<pid>.<n>.tmp`.
pub const TEMP_SUFFIX: &str = ".tmp";

/// How many names to try before giving up (each taken name was left by a crash or planted).
const MAX_TRIES: u32 = 1000;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The start of temp file names for `target`: `.<file name>.` (see [`create_temp_beside`]).
pub fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    format!(".{name}.")
}

/// Create a new temp file `.<name>.<pid>.<n>.tmp` in `target`'s directory (mode `mode`),
/// always with `O_CREAT | O_EXCL | O_NOFOLLOW`: a name that exists — a crashed writer's file,
/// or a link someone planted — is skipped, never opened. The new file is checked like
/// [`crate::open_for_write`] does. Write it, then rename it over `target`.
pub fn create_temp_beside(target: &Path, mode: u32) -> Result<(PathBuf, File), FsError> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = temp_prefix(target);
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..MAX_TRIES {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{prefix}{pid}.{n}{TEMP_SUFFIX}"));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(safe_flags())
            .open(&tmp);
        match opened {
            Ok(file) => {
                verify(&file, &tmp, Expect::WRITE)?;
                return Ok((tmp, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(tmp),
            Err(e) => return Err(open_error(&tmp, e, false)),
        }
    }
    Err(FsError::Io {
        path: last.unwrap_or(dir),
        what: "create a temp file",
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{MAX_TRIES} temp file names were all taken; remove the stale `{prefix}*{TEMP_SUFFIX}` files"
            ),
        ),
    })
}
