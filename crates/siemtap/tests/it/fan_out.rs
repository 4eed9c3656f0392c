//! Fan-out: `--output` given several times (and the config's `output` list) sends every event
//! to each output; a cursor moves only once all of them accepted the page. One output refusing
//! holds the cursor and is reported as an error event on the others; the next run delivers
//! exactly once to every exactly-once output.

use serde_json::Value;

use crate::harness::*;
use crate::wazuh_socket::{Listener, split};

fn file_arg(path: &std::path::Path) -> String {
    format!("file:{}", path.display())
}

#[test]
fn two_file_outputs_each_hold_every_event_exactly_once() {
    let sim = Sim::start(&["--seed", "41", "--events", "90"]);
    let work = Workdir::new();
    let (a, b) = (work.path("a.jsonl"), work.path("b.jsonl"));
    let run = || {
        RunCmd::new(&sim, &work)
            .env("OP_PAGE_LIMIT", "20")
            .args(["--output", &file_arg(&a), "--output", &file_arg(&b)])
            .output()
    };
    let first = run();
    assert_eq!(
        first.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(first.stdout.is_empty(), "no output on stdout");
    let oracle = sim.oracle(None);
    for f in ["a.jsonl", "b.jsonl"] {
        assert_exact(&ids_by_stream(&lines(&work.read(f))), &oracle);
    }
    assert_eq!(
        work.read("a.jsonl"),
        work.read("b.jsonl"),
        "same events, same bytes"
    );
    // Each file's committed length is kept in state under its own id.
    let state = state_json(&work);
    for path in [&a, &b] {
        let len = std::fs::metadata(path).unwrap().len();
        assert_eq!(state["siemtap"]["outputs"][file_arg(path)], len, "{state}");
    }
    let again = run();
    assert_eq!(again.status.code(), Some(0));
    for f in ["a.jsonl", "b.jsonl"] {
        let all = lines(&work.read(f));
        assert_exact(&ids_by_stream(&all), &oracle);
        assert_eq!(
            summaries(&all).len(),
            2,
            "{f}: the second run added its summary only"
        );
    }
}

#[test]
fn stdout_and_file_outputs_get_the_same_lines() {
    let sim = Sim::start(&["--seed", "42", "--events", "60"]);
    let work = Workdir::new();
    let file = work.path("archive.jsonl");
    let out = RunCmd::new(&sim, &work)
        .env("OP_PAGE_LIMIT", "25")
        .args(["--output", "stdout", "--output", &file_arg(&file)])
        .output();
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, work.read("archive.jsonl"));
    assert_exact(&ids_by_stream(&lines(&stdout)), &sim.oracle(None));
}

#[test]
fn config_output_list_fans_out_relative_to_the_file() {
    let sim = Sim::start(&["--seed", "43", "--events", "50"]);
    let work = Workdir::new();
    let config = work.path("siemtap.toml");
    std::fs::write(
        &config,
        format!(
            "log_file = \"siemtap.log\"\noutput = [\"file:one.jsonl\", \"file:out/two.jsonl\"]\n\
             [[source]]\nname = \"op\"\nconnector = \"1password\"\n[source.settings]\nbase_url = \"{}\"\n",
            sim.base
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = siemtap_clean(&["run", "--config", cfg], &[("OP_BEARER_TOKEN", TOKEN)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let oracle = sim.oracle(None);
    for f in ["one.jsonl", "out/two.jsonl"] {
        assert_exact(&ids_by_stream(&lines(&work.read(f))), &oracle);
    }
    assert_eq!(
        siemtap_clean(&["validate", cfg], &[]).status.code(),
        Some(0)
    );
}

#[test]
fn config_output_that_is_not_a_string_or_list_of_strings_names_the_key() {
    let work = Workdir::new();
    for (value, line) in [("[1]", 1), ("[]", 1), ("[\"stdout\", \"nosuch\"]", 1)] {
        let config = work.path("bad.toml");
        std::fs::write(
            &config,
            format!("output = {value}\n[[source]]\nname = \"a\"\nconnector = \"1password\"\n"),
        )
        .unwrap();
        let out = siemtap_clean(&["validate", config.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2), "{value}");
        let err = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(err.contains("`output`"), "{value}: {err}");
        assert!(err.contains(&format!("bad.toml:{line}:")), "{value}: {err}");
    }
}

#[test]
fn refusing_socket_holds_the_cursor_reports_on_the_file_then_both_get_everything_once() {
    let sim = Sim::start(&["--seed", "44", "--events", "60"]);
    let work = Workdir::new();
    let file = work.path("archive.jsonl");
    let socket = work.path("queue");
    let run = || {
        RunCmd::new(&sim, &work)
            .env("OP_PAGE_LIMIT", "20")
            .env("SIEMTAP_WAZUH_RETRY_SECS", "0.5")
            .args(["--output", &file_arg(&file)])
            .arg("--output")
            .arg(format!("wazuh-socket:{}", socket.display()))
    };
    // No listener: the file accepts the first page, the socket refuses it.
    let first = run().output();
    assert_eq!(
        first.status.code(),
        Some(1),
        "log: {}",
        work.read("siemtap.log")
    );
    let text = work.read("archive.jsonl");
    let events = lines(&text);
    assert!(
        ids_by_stream(&events).is_empty(),
        "the refused page was taken back: {text}"
    );
    let errs = errors(&events);
    assert_eq!(errs.len(), 1, "{text}");
    let message = errs[0]["op"]["error_message"].as_str().unwrap();
    assert!(
        message.contains(&format!("wazuh-socket:{}", socket.display())),
        "{message}"
    );
    let state = state_json(&work);
    for s in ["audit", "signin", "itemusage"] {
        assert!(
            state[format!("{s}_cursor")].is_null(),
            "{s} cursor held: {state}"
        );
    }
    assert_eq!(
        state["siemtap"]["outputs"][file_arg(&file)],
        text.len() as u64
    );

    // The socket is back: both outputs get every event, the file without duplicates.
    let listener = Listener::bind(&socket);
    let second = run().output();
    let datagrams = listener.finish();
    assert_eq!(
        second.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let oracle = sim.oracle(None);
    let archived = lines(&work.read("archive.jsonl"));
    assert_exact(&ids_by_stream(&archived), &oracle);
    assert_eq!(errors(&archived).len(), 1, "only the first run's report");
    let delivered: Vec<Value> = datagrams.iter().map(|d| split(d).2).collect();
    assert_exact(&ids_by_stream(&delivered), &oracle);
}

#[test]
fn output_that_cannot_open_is_reported_on_the_others_and_nothing_is_committed() {
    let sim = Sim::start(&["--seed", "45", "--events", "30"]);
    let work = Workdir::new();
    let good = work.path("archive.jsonl");
    // A regular file where the other output's directory should be: it cannot be opened.
    std::fs::write(work.path("blocker"), "").unwrap();
    let bad = work.path("blocker/events.jsonl");
    let out = RunCmd::new(&sim, &work)
        .args(["--output", &file_arg(&good), "--output", &file_arg(&bad)])
        .output();
    assert_eq!(
        out.status.code(),
        Some(1),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&work.read("archive.jsonl"));
    assert!(
        ids_by_stream(&events).is_empty(),
        "nothing delivered: {events:?}"
    );
    let errs = errors(&events);
    assert_eq!(errs.len(), 1, "{events:?}");
    let message = errs[0]["op"]["error_message"].as_str().unwrap();
    assert!(message.contains("blocker/events.jsonl"), "{message}");
    let state: Value = serde_json::from_str(&work.read("state.json")).unwrap_or(Value::Null);
    for s in ["audit", "signin", "itemusage"] {
        assert!(state[format!("{s}_cursor")].is_null(), "{state}");
    }
}

#[test]
fn the_same_output_twice_is_a_usage_error() {
    let work = Workdir::new();
    let file = work.path("a.jsonl");
    for (first, second) in [
        ("stdout".to_owned(), "stdout".to_owned()),
        (
            file_arg(&file),
            format!("file:{}/./a.jsonl", work.dir.path().display()),
        ),
    ] {
        let out = siemtap_clean(
            &["run", "1password", "--output", &first, "--output", &second],
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "{first} + {second}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("given twice"), "{stderr}");
        assert!(!file.exists(), "nothing opened");
    }
}
