//! `--state-dir`: the drop-in default state file goes to the named directory instead of beside
//! the binary (the Wazuh stanza passes `var/wodles/siemtap`, writable by the `wazuh` user, so
//! the binary's directory never has to be).

use crate::harness::*;

#[test]
fn state_dir_holds_the_default_state_file_and_the_next_run_resumes_from_it() {
    let sim = Sim::start(&["--events", "30"]);
    let work = Workdir::new();
    let dir = work.path("var-wodles");
    std::fs::create_dir(&dir).unwrap();
    let run = || {
        RunCmd::new(&sim, &work)
            .env_remove("OP_STATE_FILE")
            .arg("--state-dir")
            .arg(&dir)
            .output()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", work.read("siemtap.log"));
    let state = dir.join("1password.state.json");
    assert!(state.is_file(), "no state in --state-dir");
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(
        text.contains("audit_cursor") || text.contains("signin_cursor"),
        "{text}"
    );
    let events = lines(&String::from_utf8_lossy(&first.stdout));
    assert_exact(&ids_by_stream(&events), &sim.oracle(None));

    // Resumes from that state: nothing new, nothing repeated.
    let second = run();
    assert_eq!(second.status.code(), Some(0));
    let again = lines(&String::from_utf8_lossy(&second.stdout));
    assert!(
        ids_by_stream(&again).values().all(Vec::is_empty),
        "{again:?}"
    );
}

/// An upgrade from a version that kept state beside the binary: the install names the files
/// and the move, so the first run as `wazuh` does not start from an empty state.
#[test]
fn install_names_state_left_beside_the_binary_with_the_move() {
    let work = Workdir::new();
    let prefix = work.path("ossec");
    std::fs::create_dir_all(prefix.join("wodles/siemtap")).unwrap();
    std::fs::write(prefix.join("wodles/siemtap/1password.state.json"), "{}").unwrap();
    let out = siemtap_cmd()
        .args(["wazuh", "install", "--skip-chown", "--prefix"])
        .arg(&prefix)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1password.state.json")
            && text.contains("mv ")
            && text.contains("var/wodles/siemtap/"),
        "{text}"
    );
    // A fresh install says nothing of the kind.
    let fresh = work.path("fresh");
    let out = siemtap_cmd()
        .args(["wazuh", "install", "--skip-chown", "--prefix"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("older version"));
}
