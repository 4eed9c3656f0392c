//! The examples in docs/configuration.md work as documented.

use std::os::unix::fs::PermissionsExt;

use crate::harness::*;

/// Code blocks of a markdown file, with their info string.
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.push(current.take().unwrap()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

fn configuration_md() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/configuration.md"
    ))
    .unwrap()
}

#[test]
fn secrets_file_example_parses_as_documented() {
    let doc = configuration_md();
    let (_, example) = code_blocks(&doc)
        .into_iter()
        .find(|(_, body)| body.contains("OP_BEARER_TOKEN=eyJ"))
        .expect("secrets file example");
    let parsed = siemtap_secrets::parse_secrets(&example);
    let keys: Vec<_> = parsed.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["OP_BEARER_TOKEN", "OTHER_KEY"]);
    assert_eq!(parsed[1].1.expose(), "quoted value");
}

#[test]
fn tokens_file_example_runs_both_tenants() {
    let doc = configuration_md();
    let (_, example) = code_blocks(&doc)
        .into_iter()
        .find(|(info, _)| info == "json")
        .expect("tokens example");
    let parsed: serde_json::Value = serde_json::from_str(&example).expect("the example is JSON");
    let tenants = parsed["tenants"].as_array().unwrap();
    let args: Vec<String> = tenants
        .iter()
        .flat_map(|t| {
            [
                "--token".to_string(),
                format!(
                    "{}={}",
                    t["name"].as_str().unwrap(),
                    t["bearer_token"].as_str().unwrap()
                ),
            ]
        })
        .collect();
    let mut sim_args: Vec<&str> = vec!["--events", "5"];
    sim_args.extend(args.iter().map(String::as_str));
    let sim = Sim::start(&sim_args);
    let work = Workdir::new();
    let tokens = work.path("tokens.json");
    std::fs::write(&tokens, &example).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = RunCmd::new(&sim, &work)
        .env("OP_TOKENS_FILE", &tokens)
        .output();
    assert_eq!(out.status.code(), Some(0));
    let events = lines(&String::from_utf8_lossy(&out.stdout));
    assert!(errors(&events).is_empty(), "{:?}", errors(&events));
    for t in ["client-a", "client-b"] {
        let n = events
            .iter()
            .filter(|e| e["op"]["tenant"] == t && stream_of(e).is_some())
            .count();
        assert_eq!(n, 15, "tenant {t}");
    }
}

#[test]
fn configuration_example_validates() {
    let doc = configuration_md();
    let (_, example) = code_blocks(&doc)
        .into_iter()
        .find(|(info, body)| info == "toml" && body.contains("[[source]]"))
        .expect("configuration example");
    let work = Workdir::new();
    // The example's absolute paths become paths in a scratch directory.
    let scratch = work.path("");
    let text = example.replace("/var/ossec/", &format!("{}/", scratch.display()));
    let config = work.path("siemtap.toml");
    std::fs::write(&config, text).unwrap();
    work.install_shipped_connector("okta_system_log");
    let out = crate::harness::siemtap_cmd()
        .arg("validate")
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(": ok"), "{text}");
}
