//! `[source.secrets]`: several tenants of one built-in connector in one configuration file,
//! each reading its own secret names from the shared credential chain.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::harness::*;

fn siemtap(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    siemtap_clean(args, env)
}

fn source(name: &str, base: &str, token_name: &str) -> String {
    format!(
        "[[source]]\nname = \"{name}\"\nconnector = \"1password\"\n[source.settings]\nbase_url = \"{base}\"\n[source.secrets]\nOP_BEARER_TOKEN = \"{token_name}\"\n"
    )
}

#[test]
fn two_tenants_of_one_connector_read_their_own_secret_names() {
    let acme = Sim::start(&["--seed", "41", "--events", "40", "--token", "acme-token"]);
    let beta = Sim::start(&["--seed", "42", "--events", "40", "--token", "beta-token"]);
    let work = Workdir::new();
    let secrets = work.path("secrets");
    std::fs::write(
        &secrets,
        "ACME_OP_TOKEN=acme-token\nBETA_OP_TOKEN=beta-token\n",
    )
    .unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = work.path("siemtap.toml");
    std::fs::write(
        &config,
        format!(
            "log_file = \"siemtap.log\"\nstate_dir = \"state\"\noutput = \"file:events.jsonl\"\nsecrets_file = \"secrets\"\n{}{}",
            source("acme", &acme.base, "ACME_OP_TOKEN"),
            source("beta", &beta.base, "BETA_OP_TOKEN"),
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    assert_eq!(siemtap(&["validate", cfg], &[]).status.code(), Some(0));
    // The standard name in the environment must not win over a source's own name.
    let out = siemtap(&["run", "--config", cfg], &[("OP_BEARER_TOKEN", "wrong")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&work.read("events.jsonl"));
    assert!(errors(&events).is_empty(), "{:?}", errors(&events));
    let mut oracle: BTreeMap<String, Vec<String>> = acme.oracle(None);
    for (stream, ids) in beta.oracle(None) {
        oracle.entry(stream).or_default().extend(ids);
    }
    assert_exact(&ids_by_stream(&events), &oracle);
}

#[test]
fn secret_names_are_checked_and_a_missing_one_is_named() {
    let work = Workdir::new();
    let unknown_key = work.path("unknown_key.toml");
    std::fs::write(
        &unknown_key,
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\n[source.secrets]\nOP_TOKEN = \"ACME\"\n",
    )
    .unwrap();
    let out = siemtap(&["validate", unknown_key.to_str().unwrap()], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("OP_TOKEN") && text.contains("known: OP_BEARER_TOKEN"),
        "{text}"
    );

    let bad_name = work.path("bad_name.toml");
    std::fs::write(
        &bad_name,
        "[[source]]\nname = \"a\"\nconnector = \"1password\"\n[source.secrets]\nOP_BEARER_TOKEN = \"acme/token\"\n",
    )
    .unwrap();
    let out = siemtap(&["validate", bad_name.to_str().unwrap()], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("{}:5:", bad_name.display())) && text.contains("acme/token"),
        "{text}"
    );

    // A renamed secret that exists nowhere: the error event names the name looked for.
    let sim = Sim::start(&["--seed", "43", "--events", "5"]);
    let missing = work.path("missing.toml");
    std::fs::write(
        &missing,
        format!(
            "log_file = \"siemtap.log\"\noutput = \"file:events.jsonl\"\n{}",
            source("a", &sim.base, "NOPE_OP_TOKEN")
        ),
    )
    .unwrap();
    let out = siemtap(
        &["run", "--config", missing.to_str().unwrap()],
        &[("OP_BEARER_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(2));
    let events = lines(&work.read("events.jsonl"));
    let errs = errors(&events);
    assert_eq!(errs.len(), 1, "{events:?}");
    let text = errs[0].to_string();
    assert!(
        text.contains("NOPE_OP_TOKEN") && text.contains("nope_op_token"),
        "{text}"
    );
}
