//! `siemtap run` never writes through a link planted by someone who can write the state or
//! log directory (issue 10 item 2): the victim (standing for `/etc/shadow`) keeps its bytes,
//! and the refusal names the path and the fix.

use std::fs;
use std::path::Path;

use crate::harness::{RunCmd, Sim, Workdir, lines};

const SECRET: &[u8] = b"root:$6$hash:19000:0:99999:7:::\n";

fn plant(work: &Workdir, at: &Path) -> std::path::PathBuf {
    let victim = work.path("shadow");
    fs::write(&victim, SECRET).unwrap();
    std::os::unix::fs::symlink(&victim, at).unwrap();
    victim
}

fn run(sim: &Sim, work: &Workdir) -> RunCmd {
    RunCmd::new(sim, work).env("SIEMTAP_USER", "root")
}

#[test]
fn a_planted_log_file_symlink_is_refused_not_appended_to() {
    let sim = Sim::start(&["--events", "2"]);
    let work = Workdir::new();
    let victim = plant(&work, &work.log());
    let out = run(&sim, &work).output();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a usage error: the log cannot be opened"
    );
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
    // Where the message goes when no log can be opened is issue 10 item 10; once it reaches
    // stderr it must name the link and the fix (the message itself: siemtap-fs tests).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty()
            || (stderr.contains(&work.log().display().to_string())
                && stderr.contains("remove the link")),
        "{stderr}"
    );
}

#[test]
fn a_planted_state_lock_symlink_is_a_state_error_and_the_target_is_untouched() {
    let sim = Sim::start(&["--events", "2"]);
    let work = Workdir::new();
    let lock = work.path("state.json.lock");
    let victim = plant(&work, &lock);
    let out = run(&sim, &work).output();
    assert_eq!(out.status.code(), Some(4), "{}", work.read("siemtap.log"));
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["op"]["error_code"], "STATE_READ_ERROR");
    let msg = events[0]["op"]["error_message"].as_str().unwrap();
    assert!(
        msg.contains(&lock.display().to_string()) && msg.contains("remove the link"),
        "{msg}"
    );
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
    assert!(!work.state().exists(), "no state written");
}

#[test]
fn a_planted_output_file_symlink_is_refused_not_appended_to() {
    let sim = Sim::start(&["--events", "2"]);
    let work = Workdir::new();
    let victim = plant(&work, &work.out());
    let out = run(&sim, &work).into_file(&work.out()).output();
    assert_eq!(out.status.code(), Some(1), "{}", work.read("siemtap.log"));
    let log = work.read("siemtap.log");
    assert!(
        log.contains(&work.out().display().to_string()) && log.contains("remove the link"),
        "{log}"
    );
    assert_eq!(fs::read(&victim).unwrap(), SECRET, "victim unchanged");
}
