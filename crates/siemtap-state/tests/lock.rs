//! The state lock, within one process and across processes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use siemtap_state::{StateError, StateStore, lock_path};

const CHILD_STATE: &str = "SIEMTAP_STATE_TEST_CHILD_STATE";
const CHILD_REPORT: &str = "SIEMTAP_STATE_TEST_CHILD_REPORT";
const CHILD_HOLD: &str = "SIEMTAP_STATE_TEST_CHILD_HOLD";

/// Serializes tests that spawn children with tests that drop and re-take a lock: between fork
/// and exec a child briefly shares our open lock files (closed on exec), which could make an
/// immediate re-open see the lock still held.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Not a test of its own: the body of a child process (this test binary re-invoked with the
/// env vars above). Opens the state, writes the outcome to the report file, and with
/// `CHILD_HOLD` keeps the store open until its stdin closes.
#[test]
fn child_helper() {
    let (Ok(state), Ok(report)) = (std::env::var(CHILD_STATE), std::env::var(CHILD_REPORT)) else {
        return;
    };
    let outcome = match StateStore::open(Path::new(&state)) {
        Ok(store) => {
            fs::write(&report, "opened").unwrap();
            if std::env::var_os(CHILD_HOLD).is_some() {
                let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            }
            drop(store);
            return;
        }
        Err(StateError::Locked {
            lock_path,
            holder_pid,
        }) => {
            format!(
                "locked {} {}",
                holder_pid.map_or(-1, i64::from),
                lock_path.display()
            )
        }
        Err(e) => format!("error {e}"),
    };
    fs::write(&report, outcome).unwrap();
}

fn spawn_child(state: &Path, report: &Path, hold: bool) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_helper", "--exact", "--test-threads=1"])
        .env(CHILD_STATE, state)
        .env(CHILD_REPORT, report)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if hold {
        cmd.env(CHILD_HOLD, "1");
    }
    cmd.spawn().unwrap()
}

/// Wait (with a generous hang guard, not a timing assertion) until the child reports.
fn wait_for_report(report: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(text) = fs::read_to_string(report)
            && !text.is_empty()
        {
            return text;
        }
        assert!(Instant::now() < deadline, "child never reported");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn paths() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state.json");
    let report = tmp.path().join("report");
    (tmp, state, report)
}

#[test]
fn second_open_in_same_process_is_locked_with_our_pid() {
    let (_tmp, state, _) = paths();
    let _first = StateStore::open(&state).unwrap();
    let lock = lock_path(&state);
    assert_eq!(
        fs::read_to_string(&lock).unwrap().trim(),
        std::process::id().to_string()
    );
    let err = StateStore::open(&state).unwrap_err();
    let StateError::Locked {
        lock_path: lp,
        holder_pid,
    } = &err
    else {
        panic!("expected Locked, got {err:?}");
    };
    assert_eq!(lp, &lock);
    assert_eq!(*holder_pid, Some(std::process::id()));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert!(msg.contains(&lock.display().to_string()), "{msg}");
}

#[test]
fn lock_is_released_on_drop_and_file_kept() {
    let _serial = serial();
    let (_tmp, state, _) = paths();
    let mut first = StateStore::open(&state).unwrap();
    first.commit("signin", Default::default(), None).unwrap();
    drop(first);
    assert!(lock_path(&state).exists(), "the lock file is never deleted");
    let _second = StateStore::open(&state).unwrap();
}

#[test]
fn unreadable_pid_is_reported_as_unknown() {
    let (_tmp, state, _) = paths();
    let _first = StateStore::open(&state).unwrap();
    fs::write(lock_path(&state), "garbage").unwrap();
    let err = StateStore::open(&state).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::Locked {
                holder_pid: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("pid unknown"));
}

#[test]
fn child_process_sees_our_lock_and_pid() {
    let _serial = serial();
    let (_tmp, state, report) = paths();
    let _held = StateStore::open(&state).unwrap();
    let status = spawn_child(&state, &report, false).wait().unwrap();
    assert!(status.success());
    let expected = format!(
        "locked {} {}",
        std::process::id(),
        lock_path(&state).display()
    );
    assert_eq!(fs::read_to_string(&report).unwrap(), expected);
}

#[test]
fn lock_held_by_child_blocks_us_until_it_exits() {
    let _serial = serial();
    let (_tmp, state, report) = paths();
    let mut child = spawn_child(&state, &report, true);
    assert_eq!(wait_for_report(&report), "opened");

    let err = StateStore::open(&state).unwrap_err();
    assert!(
        matches!(err, StateError::Locked { holder_pid: Some(pid), .. } if pid == child.id()),
        "{err:?}"
    );

    let mut stdin = child.stdin.take().unwrap();
    stdin.flush().unwrap();
    drop(stdin); // the child exits on EOF
    assert!(child.wait().unwrap().success());
    let _ours = StateStore::open(&state).unwrap();
}
