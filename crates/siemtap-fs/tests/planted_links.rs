//! Planted links, hard links, FIFOs and foreign owners are refused, and the victim is never
//! touched.

#![allow(clippy::print_stdout)] // the skipped sub-case says so

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use siemtap_fs::{
    Expect, FsError, WriteMode, check_dir, create_temp_beside, euid, open_dir, open_for_read,
    open_for_write,
};

const SECRET: &[u8] = b"root:$6$hash:19000:0:99999:7:::\n";

fn victim(dir: &Path) -> std::path::PathBuf {
    let v = dir.join("shadow");
    fs::write(&v, SECRET).unwrap();
    v
}

#[test]
fn a_symlink_is_never_written_through_in_any_mode() {
    let dir = tempfile::tempdir().unwrap();
    let victim = victim(dir.path());
    let link = dir.path().join("x.lock");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    for how in [WriteMode::Keep, WriteMode::Append, WriteMode::Truncate] {
        let err = open_for_write(&link, how, 0o640).unwrap_err();
        assert!(matches!(err, FsError::Symlink { .. }), "{how:?}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&link.display().to_string()) && msg.contains("remove the link"),
            "{msg}"
        );
    }
    assert_eq!(fs::read(&victim).unwrap(), SECRET);
}

#[test]
fn a_dangling_symlink_is_not_created_through() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new-victim");
    let link = dir.path().join("out.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = open_for_write(&link, WriteMode::Append, 0o640).unwrap_err();
    assert!(matches!(err, FsError::Symlink { .. }), "{err}");
    assert!(!target.exists(), "nothing created at the link's target");
}

#[test]
fn a_hard_link_is_refused_and_not_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let victim = victim(dir.path());
    let link = dir.path().join("x.lock");
    fs::hard_link(&victim, &link).unwrap();
    for how in [WriteMode::Truncate, WriteMode::Keep, WriteMode::Append] {
        let err = open_for_write(&link, how, 0o640).unwrap_err();
        assert!(
            matches!(err, FsError::HardLinked { links: 2, .. }),
            "{how:?}: {err}"
        );
        assert!(err.to_string().contains("rm "), "{err}");
    }
    assert_eq!(fs::read(&victim).unwrap(), SECRET);
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("log");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    // O_WRONLY on a FIFO without a reader blocks forever without O_NONBLOCK.
    let err = open_for_write(&fifo, WriteMode::Append, 0o640).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&fifo.display().to_string()), "{msg}");
    let err = open_for_write(&fifo, WriteMode::Keep, 0o640).unwrap_err();
    assert!(
        matches!(err, FsError::WrongType { kind: "a FIFO", .. }),
        "{err}"
    );
}

#[test]
fn a_file_of_another_owner_is_refused_with_the_chown_fix() {
    if euid() != 0 {
        println!("note: not root, cannot make a file owned by another user; sub-case skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json.lock");
    fs::write(&path, b"123\n").unwrap();
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    let err = open_for_write(&path, WriteMode::Truncate, 0o640).unwrap_err();
    assert!(
        matches!(
            err,
            FsError::WrongOwner {
                owner: 65534,
                euid: 0,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("chown root {}", path.display())),
        "{msg}"
    );
    assert_eq!(fs::read(&path).unwrap(), b"123\n", "not truncated");
    // Reading it is fine when the owner does not matter.
    open_for_read(&path, Expect::READ).unwrap();
    assert!(open_for_read(&path, Expect::WRITE).is_err());
}

#[test]
fn a_regular_file_of_ours_opens_and_truncates_only_after_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.xml");
    fs::write(&path, b"old contents").unwrap();
    let file = open_for_write(&path, WriteMode::Truncate, 0o640).unwrap();
    assert_eq!(file.metadata().unwrap().len(), 0);
    let created = dir.path().join("new.log");
    let file = open_for_write(&created, WriteMode::Append, 0o640).unwrap();
    let meta = file.metadata().unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640 & !umask());
    assert_eq!(meta.uid(), euid());
    // O_NONBLOCK was cleared on the handle.
    let flags = rustix::fs::fcntl_getfl(&file).unwrap();
    assert!(!flags.contains(rustix::fs::OFlags::NONBLOCK));
}

fn umask() -> u32 {
    let probe = tempfile::tempdir().unwrap();
    let p = probe.path().join("p");
    let f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&p)
        .unwrap();
    let mode = f.metadata().unwrap().permissions().mode() & 0o777;
    0o666 & !mode
}

#[test]
fn a_planted_temp_name_is_skipped_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let victim = victim(dir.path());
    let target = dir.path().join("state.json");
    let pid = std::process::id();
    // Plant every name this process could pick first (the counter is per process).
    for n in 0..200 {
        let name = dir.path().join(format!(".state.json.{pid}.{n}.tmp"));
        std::os::unix::fs::symlink(&victim, &name).unwrap();
    }
    let (tmp, file) = create_temp_beside(&target, 0o640).unwrap();
    drop(file);
    assert!(fs::symlink_metadata(&tmp).unwrap().file_type().is_file());
    assert_eq!(fs::read(&victim).unwrap(), SECRET);
}

#[test]
fn a_symlinked_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = dir.path().join("state");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let err = check_dir(&link).unwrap_err();
    assert!(matches!(err, FsError::DirSymlink { .. }), "{err}");
    assert!(err.to_string().contains(&link.display().to_string()));
    check_dir(&real).unwrap();
    open_dir(&real).unwrap().sync_all().unwrap();
    let file = dir.path().join("f");
    fs::write(&file, b"").unwrap();
    assert!(matches!(
        check_dir(&file).unwrap_err(),
        FsError::WrongType { .. }
    ));
}
