//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Why a file or directory was refused or could not be opened. Every message names the path
/// and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The path is a symbolic link (`O_NOFOLLOW` refused it).
    #[error(
        "refusing to open {}: it is a symbolic link, and siemtap never writes through a link \
         (someone who can write the directory could point it at any file); remove the link \
         (`rm {}`) and run again",
        path.display(),
        path.display()
    )]
    Symlink {
        /// The refused path.
        path: PathBuf,
    },
    /// The path is a directory link (`O_DIRECTORY | O_NOFOLLOW` refused it).
    #[error(
        "refusing to use directory {}: it is a symbolic link, and siemtap never writes through \
         a link; replace it with a real directory (`rm {}` then `mkdir {}`, owned by the user \
         siemtap runs as) and run again",
        path.display(),
        path.display(),
        path.display()
    )]
    DirSymlink {
        /// The refused directory.
        path: PathBuf,
    },
    /// The opened path is not a regular file (or, for [`crate::open_dir`], not a directory).
    #[error(
        "refusing to open {}: it is {kind}, not a {expected}; remove it (`rm {}`) or choose \
         another path",
        path.display(),
        path.display()
    )]
    WrongType {
        /// The refused path.
        path: PathBuf,
        /// What it is (`a FIFO`, `a directory`, ...).
        kind: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// The file has more than one hard link: writing it would change another name too.
    #[error(
        "refusing to write {}: it has {links} hard links, so writing it would also change the \
         file behind its other names; remove it (`rm {}`: the other names keep their data) and \
         run again",
        path.display(),
        path.display()
    )]
    HardLinked {
        /// The refused path.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// The file is owned by another user than the one siemtap runs as.
    #[error(
        "refusing to write {}: it is owned by {owner_name} (uid {owner}), not by {user} (uid \
         {euid}) that siemtap runs as; {fix}",
        path.display(),
        fix = owner_fix(path, owner_name, user, *euid)
    )]
    WrongOwner {
        /// The refused path.
        path: PathBuf,
        /// The file's owner uid.
        owner: u32,
        /// The owner's name (or the uid as text).
        owner_name: String,
        /// The running effective uid.
        euid: u32,
        /// The running user's name (or the uid as text).
        user: String,
    },
    /// Opening, creating or checking failed for another reason.
    #[error("cannot {what} {}: {source}; check that the path exists and its directory is writable by the user siemtap runs as", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The operation (`open`, `create`, `stat`, ...).
        what: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// The fix for [`FsError::WrongOwner`]: normally give the file to the running user (an older
/// siemtap ran as root and left it root's); when running as root, run as the owner instead.
fn owner_fix(path: &std::path::Path, owner_name: &str, user: &str, euid: u32) -> String {
    let p = path.display();
    if euid == 0 {
        format!(
            "run siemtap as {owner_name}, the user it normally runs as (e.g. `sudo -u \
             {owner_name} siemtap ...`), or if root should own it, `chown {user} {p}`"
        )
    } else {
        format!(
            "if an older siemtap left it owned by root, give it to this user with \
             `chown {user} {p}` and run again"
        )
    }
}

impl FsError {
    /// Whether this is an [`FsError::Io`] with [`io::ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// The error as an [`io::Error`] (kind kept for [`FsError::Io`], `Other` for refusals),
    /// for callers whose error types wrap `io::Error`. The message is this error's.
    pub fn into_io(self) -> io::Error {
        let kind = match &self {
            Self::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_owned_file_after_the_privilege_drop_names_the_chown_fix() {
        let err = FsError::WrongOwner {
            path: PathBuf::from("/var/ossec/var/wodles/siemtap/1password.state.json.lock"),
            owner: 0,
            owner_name: "root".into(),
            euid: 998,
            user: "wazuh".into(),
        };
        let msg = err.to_string();
        assert!(
            msg.contains("owned by root (uid 0), not by wazuh (uid 998)")
                && msg.contains(
                    "`chown wazuh /var/ossec/var/wodles/siemtap/1password.state.json.lock`"
                ),
            "{msg}"
        );
    }
}
