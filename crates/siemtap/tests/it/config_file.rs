//! `siemtap run --config F` and `siemtap validate`: sources from a configuration file, errors
//! naming file, line and key.

use crate::harness::*;

fn write(work: &Workdir, name: &str, text: &str) -> std::path::PathBuf {
    let p = work.path(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn siemtap(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIEMTAP_NO_RETRY_SLEEP", "1")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn config_runs_a_builtin_source_with_settings() {
    let sim = Sim::start(&["--seed", "31", "--events", "70"]);
    let work = Workdir::new();
    let config = write(
        &work,
        "siemtap.toml",
        &format!(
            r#"
log_file = "siemtap.log"
state_dir = "state"
output = "file:events.jsonl"
max_runtime = "60s"

[[source]]
name = "corp-1password"
connector = "1password"
[source.settings]
base_url = "{}"
page_limit = 25
requests_per_second = 100
"#,
            sim.base
        ),
    );
    let cfg = config.to_str().unwrap();
    let out = siemtap(&["run", "--config", cfg], &[("OP_BEARER_TOKEN", TOKEN)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let events = lines(&work.read("events.jsonl"));
    assert_exact(&ids_by_stream(&events), &sim.oracle(None));
    assert!(
        work.path("state/corp-1password.json").exists(),
        "state file named after the source"
    );
    // The page limit from the settings reached the requests.
    let requests = sim.requests();
    let limits: Vec<_> = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["limit"].as_u64())
        .collect();
    assert!(limits.contains(&25), "{limits:?}");
    // Second run: nothing new.
    let again = siemtap(&["run", "--config", cfg], &[("OP_BEARER_TOKEN", TOKEN)]);
    assert_eq!(again.status.code(), Some(0));
    let all = lines(&work.read("events.jsonl"));
    assert_eq!(all.len(), events.len() + 1);

    assert_eq!(siemtap(&["validate", cfg], &[]).status.code(), Some(0));
}

#[test]
fn validate_names_file_line_and_key() {
    let work = Workdir::new();
    let bad_key = write(
        &work,
        "bad_key.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\npage_limit = 5\n",
    );
    let bad_setting = write(
        &work,
        "bad_setting.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\n[source.settings]\npage_limt = 5\n",
    );
    let bad_value = write(
        &work,
        "bad_value.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\n[source.settings]\npage_limit = 5000\n",
    );
    let unknown = write(
        &work,
        "unknown.toml",
        "[[source]]\nname = \"a\"\nconnector = \"nosuch\"\n",
    );
    for (file, line, needle) in [
        (&bad_key, 4, "page_limit"),
        (&bad_setting, 3, "page_limt"),
        (&bad_value, 3, "OP_PAGE_LIMIT"),
        (&unknown, 3, "nosuch"),
    ] {
        let out = siemtap(&["validate", file.to_str().unwrap()], &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let prefix = format!("{}:{line}:", file.display());
        assert!(text.contains(&prefix), "expected {prefix} in {text}");
        assert!(text.contains(needle), "expected {needle} in {text}");
    }
}

#[test]
fn config_errors_exit_2_before_anything_runs() {
    let work = Workdir::new();
    let config = write(
        &work,
        "siemtap.toml",
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\nbogus = true\n",
    );
    let out = siemtap(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--log-file",
            work.log().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        work.read("siemtap.log").contains("siemtap.toml:4:1"),
        "{}",
        work.read("siemtap.log")
    );
}
