//! `preload`: what was read before a privilege drop is what the chain uses afterwards, even
//! when the files can no longer be read (here: they are gone). Its own test binary, because
//! the preload store is process-wide.

mod common;

use common::{OP, sources, write};
use siemtap_secrets::{CredentialChain, SecretsError, preload};

#[test]
fn preloaded_files_are_used_after_they_become_unreadable() {
    let tmp = tempfile::tempdir().unwrap();
    let secrets = write(
        tmp.path(),
        "op.secrets",
        b"OP_BEARER_TOKEN=from-file\n",
        0o600,
    );
    let creds = tmp.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    write(&creds, "other_cred", b"x\n", 0o600);
    let tokens = write(tmp.path(), "tokens.json", b"{\"tenants\": []}", 0o600);
    preload::preload_secrets_file(&secrets);
    preload::preload_credentials_directory(&creds).unwrap();
    preload::preload_file(&tokens);
    // As if the process had dropped to a user that cannot read them.
    std::fs::remove_file(&secrets).unwrap();
    std::fs::remove_file(&tokens).unwrap();
    let chain = CredentialChain::new(sources(Some(&creds), Some(&secrets), &[])).unwrap();
    // expose: the test checks the preloaded value
    assert_eq!(chain.get(OP).unwrap().expose(), "from-file");
    assert_eq!(
        &**preload::read_file(&tokens).unwrap(),
        b"{\"tenants\": []}"
    );
    // A credential added after the preload is not seen: the snapshot is what counts.
    write(&creds, "op_bearer_token", b"late\n", 0o600);
    // expose: the test checks which tier won
    assert_eq!(chain.get(OP).unwrap().expose(), "from-file");
}

#[test]
fn a_preloaded_error_is_reported_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let open = write(tmp.path(), "open.secrets", b"OP_BEARER_TOKEN=x\n", 0o644);
    preload::preload_secrets_file(&open);
    std::fs::remove_file(&open).unwrap();
    let err = CredentialChain::new(sources(None, Some(&open), &[])).unwrap_err();
    assert!(matches!(err, SecretsError::WorldReadable { .. }), "{err}");
    // Twice: every chain built with that path gets the error.
    assert!(CredentialChain::new(sources(None, Some(&open), &[])).is_err());
}
