//! The test-only sink driven through `run::execute` (the drop-in run path), beside a file
//! output: fan-out, positions in state, recovery and a refusing output.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use clap::Parser;
use siemtap_core::parse_output;
use siemtap_core::runner::StopSignal;

use crate::demo::{SimCli, fetch_oracle, read_events};
use crate::run::{self, Exit, RunRequest};

const TOKEN: &str = "sink-seam-token";

async fn simulator(events: u32) -> siemtap_sim::SimHandle {
    let args = SimCli::try_parse_from([
        "sim",
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "5",
        "--events",
        &events.to_string(),
        "--token",
        TOKEN,
    ])
    .unwrap()
    .args;
    siemtap_sim::spawn_onepassword(args).await.unwrap()
}

fn request(base_url: &str, dir: &Path, outputs: &[String]) -> RunRequest {
    let registry = super::registry();
    let env: HashMap<String, String> = [
        ("OP_BASE_URL", base_url.to_owned()),
        ("OP_BEARER_TOKEN", TOKEN.to_owned()),
        (
            "OP_STATE_FILE",
            dir.join("state.json").display().to_string(),
        ),
        ("OP_SECRETS_FILE", dir.join("absent").display().to_string()),
        ("OP_PAGE_LIMIT", "20".to_owned()),
        ("OP_REQUESTS_PER_SECOND", "200".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    RunRequest {
        connector: &siemtap_connectors::onepassword::CONNECTOR,
        env,
        source: None,
        lookback_hours: None,
        all: false,
        max_runtime: None,
        outputs: outputs
            .iter()
            .map(|o| parse_output(&registry, o).unwrap())
            .collect(),
        exe_dir: dir.to_path_buf(),
        state_dir: dir.to_path_buf(),
    }
}

/// Every oracle id exactly once in `emitted`.
fn assert_exact(
    emitted: &HashMap<&'static str, Vec<String>>,
    oracle: &std::collections::BTreeMap<String, Vec<String>>,
) {
    for (stream, want) in oracle {
        let got = emitted.get(stream.as_str()).cloned().unwrap_or_default();
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "{stream}: duplicates");
        assert_eq!(unique, want.iter().collect::<HashSet<_>>(), "{stream}");
    }
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn state(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn test_only_sink_runs_through_the_run_path_beside_a_file() {
    let sim = simulator(50).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let outputs = [
        "memory:seam-a".to_owned(),
        format!("file:{}", file.display()),
    ];
    let first = run::execute(
        request(&sim.base_url(), dir.path(), &outputs),
        StopSignal::new(),
    )
    .await;
    assert_eq!(first.exit, Exit::Ok);
    let memory = super::contents("seam-a");
    let written = std::fs::read(&file).unwrap();
    assert_eq!(memory, written, "both outputs got the same bytes");
    let oracle = fetch_oracle(&sim.base_url()).await.unwrap();
    let copy = write_temp(dir.path(), "memory.jsonl", &memory);
    assert_exact(&read_events(&copy).unwrap(), &oracle);
    // Each output's position is kept in state under its own id.
    let outputs_state = &state(dir.path())["siemtap"]["outputs"];
    assert_eq!(
        outputs_state["memory:seam-a"],
        memory.len() as u64,
        "{outputs_state}"
    );
    assert_eq!(
        outputs_state[format!("file:{}", file.display())],
        written.len() as u64,
        "{outputs_state}"
    );
    let second = run::execute(
        request(&sim.base_url(), dir.path(), &outputs),
        StopSignal::new(),
    )
    .await;
    assert_eq!(second.exit, Exit::Ok);
    assert_eq!(
        second
            .reports
            .iter()
            .map(|(_, r)| r.delivered())
            .sum::<u64>(),
        0
    );
    assert_eq!(super::contents("seam-a"), std::fs::read(&file).unwrap());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refusing_test_sink_holds_the_cursor_and_the_file_reports_it_then_both_are_exact() {
    let sim = simulator(40).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let file_spec = format!("file:{}", file.display());
    let refusing = [file_spec.clone(), "memory:seam-b?refuse".to_owned()];
    let first = run::execute(
        request(&sim.base_url(), dir.path(), &refusing),
        StopSignal::new(),
    )
    .await;
    assert_eq!(first.exit, Exit::Delivery);
    // The file had accepted the first page; it was taken back, and the refusal reported.
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["op"]["event_type"], "error");
    let message = lines[0]["op"]["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("memory:seam-b"), "{text}");
    let st = state(dir.path());
    for s in ["audit", "signin", "itemusage"] {
        assert!(st[format!("{s}_cursor")].is_null(), "cursor held: {st}");
    }
    assert_eq!(
        st["siemtap"]["outputs"][format!("file:{}", file.display())],
        text.len() as u64
    );

    let cleared = [file_spec, "memory:seam-b".to_owned()];
    let second = run::execute(
        request(&sim.base_url(), dir.path(), &cleared),
        StopSignal::new(),
    )
    .await;
    assert_eq!(second.exit, Exit::Ok);
    let oracle = fetch_oracle(&sim.base_url()).await.unwrap();
    assert_exact(&read_events(&file).unwrap(), &oracle);
    let copy = write_temp(dir.path(), "memory.jsonl", &super::contents("seam-b"));
    assert_exact(&read_events(&copy).unwrap(), &oracle);
    sim.shutdown().await;
}
