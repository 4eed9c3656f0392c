//! The file sink never writes (or cuts) through a link planted at its path (issue 10 item 2).

use std::fs;

use siemtap_sinks::FileSink;

const SECRET: &[u8] = b"root:$6$hash:19000:0:99999:7:::\n";

#[test]
fn a_planted_output_symlink_is_never_appended_to_or_cut() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("shadow");
    fs::write(&victim, SECRET).unwrap();
    let out = dir.path().join("events.json");
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    // A committed length of 0 would make recovery cut the file to 0 bytes.
    let err = FileSink::open(&out, Some(0)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&out.display().to_string()) && msg.contains("remove the link"),
        "{msg}"
    );
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
}

#[test]
fn a_hard_linked_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("shadow");
    fs::write(&victim, SECRET).unwrap();
    let out = dir.path().join("events.json");
    fs::hard_link(&victim, &out).unwrap();
    let err = FileSink::open(&out, Some(0)).unwrap_err();
    assert!(err.to_string().contains("hard links"), "{err}");
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
}
