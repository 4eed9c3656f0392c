//! `siemtap demo` from the README works and reports a complete, duplicate-free result.

use crate::harness::*;

#[test]
fn demo_runs_and_reports_ok() {
    let work = Workdir::new();
    // No SIEMTAP_USER: the demo writes only to its --dir and never switches users, so it runs
    // as root on a machine without a `wazuh` user.
    let out = crate::harness::siemtap_cmd()
        .env_remove("SIEMTAP_USER")
        .args(["demo", "--events", "60", "--dir"])
        .arg(work.path("demo"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        work.read("demo/siemtap.log")
    );
    assert!(text.contains("OK: complete, no duplicates"), "{text}");
    assert!(
        text.contains("run 2") && text.contains("0 new events"),
        "{text}"
    );
    assert!(work.path("demo/events.jsonl").exists());
}
