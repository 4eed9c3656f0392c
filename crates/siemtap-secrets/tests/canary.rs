//! A distinctive canary value must never appear in Debug output, error messages or logs.

mod common;

use common::{CANARY, OP, capture_logs, sources, write};
use siemtap_secrets::{CredentialChain, Secret, SecretsError, parse_secrets};
use tempfile::TempDir;

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(CANARY), "{what} leaked the secret: {text}");
    assert!(
        !text.contains("7f3a9e"),
        "{what} leaked part of the secret: {text}"
    );
}

#[test]
fn secret_debug_never_shows_value() {
    let s = Secret::new(CANARY);
    assert_clean("Secret {:?}", &format!("{s:?}"));
    assert_clean("Secret {:#?}", &format!("{s:#?}"));
    assert_clean(
        "parse_secrets {:?}",
        &format!("{:?}", parse_secrets(&format!("K={CANARY}\n"))),
    );
    // expose: prove the canary really is inside, so the checks above can fail
    assert_eq!(s.expose(), CANARY);
}

#[test]
fn chain_and_sources_debug_never_show_values() {
    let tmp = TempDir::new().unwrap();
    write(tmp.path(), "op_bearer_token", CANARY.as_bytes(), 0o400);
    let file = write(
        tmp.path(),
        ".secrets",
        format!("OP_BEARER_TOKEN={CANARY}\nPP_SECRET={CANARY}\n").as_bytes(),
        0o600,
    );
    let env = [("OP_BEARER_TOKEN", CANARY), ("XDR_API_KEY", CANARY)];
    let src = sources(Some(tmp.path()), Some(&file), &env);
    assert_clean("ChainSources", &format!("{src:?} {src:#?}"));

    let (chain, logs) = capture_logs(|| {
        let chain = CredentialChain::new(src).unwrap();
        let (secret, tier) = chain.get_with_tier(OP).unwrap();
        tracing::info!(?secret, %tier, "resolved");
        chain
    });
    assert_clean("logs", &logs);
    assert!(
        logs.contains("credential resolved"),
        "log capture must work for this test to mean anything: {logs}"
    );
    let dbg = format!("{chain:?} {chain:#?}");
    assert_clean("CredentialChain", &dbg);
    assert!(dbg.contains("PP_SECRET"), "Debug lists key names: {dbg}");
}

#[test]
fn every_error_variant_hides_values() {
    let tmp = TempDir::new().unwrap();
    let body = format!("OP_BEARER_TOKEN={CANARY}\n");
    let mut errors: Vec<SecretsError> = Vec::new();
    let (_, logs) = capture_logs(|| {
        for (name, mode) in [("r", 0o644), ("w", 0o602)] {
            let f = write(tmp.path(), name, body.as_bytes(), mode);
            errors.push(CredentialChain::new(sources(None, Some(&f), &[])).unwrap_err());
        }
        let f = write(
            tmp.path(),
            "u",
            &[format!("K={CANARY}").as_bytes(), b"\xff"].concat(),
            0o600,
        );
        errors.push(CredentialChain::new(sources(None, Some(&f), &[])).unwrap_err());
        let d = tmp.path().join("dir");
        std::fs::create_dir(&d).unwrap();
        errors.push(CredentialChain::new(sources(None, Some(&d), &[])).unwrap_err());
        std::fs::create_dir(d.join("op_bearer_token")).unwrap();
        let chain = CredentialChain::new(sources(Some(&d), None, &[])).unwrap();
        errors.push(chain.get(OP).unwrap_err());
        let bad_key = siemtap_secrets::CredentialKey {
            cred_name: "..",
            env_name: "X",
        };
        errors.push(chain.get(bad_key).unwrap_err());
        // Missing: the canary sits under other keys and in blank-valued places only.
        let f = write(
            tmp.path(),
            "m",
            format!("OTHER={CANARY}\nOP_BEARER_TOKEN=\n").as_bytes(),
            0o600,
        );
        let env = [("ELSE", CANARY), ("OP_BEARER_TOKEN", "")];
        let chain = CredentialChain::new(sources(None, Some(&f), &env)).unwrap();
        errors.push(chain.get(OP).unwrap_err());
    });
    assert_eq!(errors.len(), 7);
    for e in &errors {
        assert_clean("error Display", &e.to_string());
        assert_clean("error Debug", &format!("{e:?} {e:#?}"));
    }
    assert_clean("logs", &logs);
}
