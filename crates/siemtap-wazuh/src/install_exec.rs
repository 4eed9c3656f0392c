//! Carrying out an install plan without writing, `chmod`ing or `chown`ing through a link a
//! member of group `wazuh` could plant (they can write `etc/`, `etc/rules/` and `logs/` on a
//! Wazuh manager): every file is written to a new `O_EXCL | O_NOFOLLOW` temp file beside its
//! target, given its mode and owner through the handle, then renamed into place; directories
//! are opened with `O_NOFOLLOW` and changed through the handle (siemtap-fs).

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use siemtap_fs::{Expect, FsError, WriteMode};

use crate::install::{Action, InstallError, Outcome, Step, backup_path, io};
use crate::ossec_merge::{Merge, merge};

/// Carries out a plan. Owners are set through each file's or directory's handle as it is
/// written; with `skip_chown` they are left alone. Owners that could not be set are reported
/// together at the end ([`InstallError::Ownership`]), with every file in place.
pub fn execute(steps: &[Step], skip_chown: bool) -> Result<Outcome, InstallError> {
    let mut out = Outcome::default();
    let mut owner_failures = Vec::new();
    for s in steps {
        let path = &s.path;
        let owner = (!skip_chown).then_some(s);
        let mut chown = |handle: &File| {
            if let Some(s) = owner
                && let Err(e) = set_owner(handle, s)
            {
                owner_failures.push(e);
            }
        };
        match &s.action {
            Action::Dir { keep_existing } => {
                let is_dir = fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
                if is_dir && *keep_existing {
                    out.kept.push(path.clone());
                    continue;
                }
                fs::create_dir_all(path).map_err(io(path, "create directory"))?;
                let dir = siemtap_fs::open_dir(path).map_err(refused)?;
                dir.set_permissions(fs::Permissions::from_mode(s.mode))
                    .map_err(io(path, "chmod"))?;
                chown(&dir);
            }
            Action::Copy(from) => {
                let mut src = File::open(from).map_err(io(from, "copy"))?;
                replace(
                    path,
                    s.mode,
                    |f| io::copy(&mut src, f).map(drop),
                    &mut chown,
                )?;
            }
            Action::Write {
                contents,
                only_if_absent,
            } => {
                // A link (even a dangling one) counts as present: kept, never written through.
                if *only_if_absent && fs::symlink_metadata(path).is_ok() {
                    out.kept.push(path.clone());
                    continue;
                }
                let bytes = contents.as_bytes();
                replace(path, s.mode, |f| f.write_all(bytes), &mut chown)?;
            }
            Action::MergeOssecConf { block, tags } => {
                match merge_ossec_conf(path, block, tags)? {
                    Some(backup) => {
                        out.ossec_conf_backup = Some(backup);
                        out.changed.push(path.clone());
                    }
                    None => out.kept.push(path.clone()),
                }
                // Owner and mode are the manager's: never changed.
                continue;
            }
        }
        out.changed.push(path.clone());
    }
    if owner_failures.is_empty() {
        Ok(out)
    } else {
        Err(InstallError::Ownership(owner_failures.join("\n")))
    }
}

fn refused(e: FsError) -> InstallError {
    match e {
        FsError::Io { path, what, source } => InstallError::Io {
            path: path.display().to_string(),
            what,
            source,
        },
        other => InstallError::Refused(other),
    }
}

/// Writes `path` atomically: a new temp file beside it (never an existing name or a link),
/// `write`, mode and owner through the handle, fsync, rename over `path` (a link at `path`
/// is replaced, not followed). The temp file is removed on failure.
fn replace(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut File) -> io::Result<()>,
    chown: &mut dyn FnMut(&File),
) -> Result<(), InstallError> {
    let (tmp, mut file) = siemtap_fs::create_temp_beside(path, mode).map_err(refused)?;
    let staged = write(&mut file)
        .map_err(io(path, "write"))
        .and_then(|()| {
            file.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(io(&tmp, "chmod"))
        })
        .and_then(|()| file.sync_all().map_err(io(&tmp, "sync")))
        .map(|()| chown(&file))
        .and_then(|()| fs::rename(&tmp, path).map_err(io(path, "rename into place")));
    if staged.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    staged
}

/// Merges the block into `conf`: nothing is written when it is already there; otherwise
/// the old file is copied to [`backup_path`] and the file rewritten in place (its owner,
/// group and mode stay: analysisd and wazuh-control read it as group `wazuh`). Neither is
/// written through a link.
fn merge_ossec_conf(
    conf: &Path,
    block: &str,
    tags: &[String],
) -> Result<Option<std::path::PathBuf>, InstallError> {
    let mut file = siemtap_fs::open_for_read(conf, Expect::WRITE).map_err(refused)?;
    let mut existing = String::new();
    io::Read::read_to_string(&mut file, &mut existing).map_err(io(conf, "read"))?;
    let conf_mode = file
        .metadata()
        .map_err(io(conf, "stat"))?
        .permissions()
        .mode()
        & 0o7777;
    drop(file);
    let new = match merge(&conf.display().to_string(), &existing, block, tags)? {
        Merge::Unchanged => return Ok(None),
        Merge::Added(t) | Merge::Replaced(t) => t,
    };
    let backup = backup_path(conf);
    replace(
        &backup,
        conf_mode,
        |f| f.write_all(existing.as_bytes()),
        &mut |_| {},
    )?;
    let mut file =
        siemtap_fs::open_for_write(conf, WriteMode::Truncate, conf_mode).map_err(refused)?;
    file.write_all(new.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(conf, "write"))?;
    Ok(Some(backup))
}

fn lookup(file: &str, name: &str) -> Option<u32> {
    if name == "root" {
        return Some(0);
    }
    let text = fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.split(':');
        (parts.next()? == name).then(|| parts.nth(1)?.parse().ok())?
    })
}

/// `fchown` of an opened file or directory to the step's owner and group; `Err` is the line
/// for [`InstallError::Ownership`].
fn set_owner(handle: &File, s: &Step) -> Result<(), String> {
    let uid = lookup("/etc/passwd", s.owner);
    let gid = lookup("/etc/group", s.group);
    let (Some(uid), Some(gid)) = (uid, gid) else {
        return Err(format!(
            "  chown {}:{} {}  (user or group not found in /etc/passwd, /etc/group: is the Wazuh manager installed?)",
            s.owner,
            s.group,
            s.path.display()
        ));
    };
    std::os::unix::fs::fchown(handle, Some(uid), Some(gid)).map_err(|e| {
        format!(
            "  chown {}:{} {}  ({e})",
            s.owner,
            s.group,
            s.path.display()
        )
    })
}
