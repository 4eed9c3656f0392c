//! Drop-in wiring: variables, credential chain, startup failures.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use super::*;
use siemtap_http::HttpConfig;

fn ctx_run(
    pairs: &[(&str, &str)],
    dir: &std::path::Path,
    source: Option<&str>,
) -> Result<DropIn, DropInError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let http = HttpClient::new(HttpConfig::default()).unwrap();
    let ctx = DropInContext {
        env: &env,
        http,
        source,
        lookback_hours: None,
        exe_dir: dir.to_path_buf(),
        state_dir: dir.to_path_buf(),
        secret_names: Default::default(),
    };
    drop_in(&ctx)
}

fn err(r: Result<DropIn, DropInError>) -> Failure {
    match r {
        Ok(_) => panic!("expected a startup failure"),
        Err(e) => e.failure,
    }
}

const FULL: [(&str, &str); 3] = [
    ("XDR_FQDN", "CANARYtenant.xdr.us.paloaltonetworks.com"),
    ("XDR_API_KEY", "CANARY-key-0123456789"),
    ("XDR_API_KEY_ID", "42"),
];

#[test]
fn env_only_run_builds_one_source_with_both_streams() {
    let dir = tempfile::tempdir().unwrap();
    let plan = ctx_run(&FULL, dir.path(), None).unwrap_or_else(|e| panic!("{:?}", e.failure));
    assert_eq!(plan.state_file, dir.path().join("cortex_xdr.state.json"));
    assert_eq!(plan.sources.len(), 1);
    assert_eq!(
        plan.sources[0].selected_streams(),
        vec!["alerts", "incidents"]
    );
    assert_eq!(plan.sources[0].label(), "cortex_xdr");
    let plan =
        ctx_run(&FULL, dir.path(), Some("incidents")).unwrap_or_else(|e| panic!("{:?}", e.failure));
    assert_eq!(plan.sources[0].selected_streams(), vec!["incidents"]);
}

#[test]
fn secrets_file_alone_is_enough() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".secrets");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        "XDR_API_KEY=\"CANARY-k\"\nXDR_API_KEY_ID=7\nXDR_BASE_URL=http://127.0.0.1:9\nXDR_SOURCE=alerts\nXDR_STATE_FILE={}/s.json",
        dir.path().display()
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let plan = ctx_run(&[], dir.path(), None).unwrap_or_else(|e| panic!("{:?}", e.failure));
    assert_eq!(plan.state_file, dir.path().join("s.json"));
    assert_eq!(plan.sources[0].selected_streams(), vec!["alerts"]);
}

#[test]
fn startup_failures_name_the_variable_and_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    type Case<'a> = (Vec<(&'a str, &'a str)>, ErrorCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            FULL.iter()
                .copied()
                .filter(|(k, _)| *k != "XDR_API_KEY")
                .collect(),
            ErrorCode::ConfigMissingCredential,
            "XDR_API_KEY",
        ),
        (
            FULL.iter()
                .copied()
                .filter(|(k, _)| *k != "XDR_FQDN")
                .collect(),
            ErrorCode::ConfigMissingCredential,
            "XDR_FQDN",
        ),
        (
            vec![FULL[0], FULL[1], ("XDR_API_KEY_ID", "CANARY42")],
            ErrorCode::ConfigInvalid,
            "XDR_API_KEY_ID",
        ),
        (
            vec![("XDR_FQDN", "CANARY bad host"), FULL[1], FULL[2]],
            ErrorCode::ConfigInvalid,
            "XDR_FQDN",
        ),
        (
            vec![FULL[0], FULL[1], FULL[2], ("XDR_SECURITY_LEVEL", "max")],
            ErrorCode::ConfigInvalid,
            "XDR_SECURITY_LEVEL",
        ),
        (
            vec![
                FULL[0],
                FULL[1],
                FULL[2],
                ("XDR_BASE_URL", "http://CANARY.example.com"),
            ],
            ErrorCode::ConfigInvalid,
            "XDR_BASE_URL",
        ),
    ];
    for (pairs, code, var) in cases {
        let f = err(ctx_run(&pairs, dir.path(), None));
        assert_eq!(f.code, code, "{f:?}");
        assert_eq!(f.origin, "startup");
        assert!(f.message.contains(var), "{}", f.message);
        assert!(!format!("{f:?}").contains("CANARY"), "{f:?}");
    }
    let f = err(ctx_run(&FULL, dir.path(), Some("endpoints")));
    assert_eq!(f.code, ErrorCode::ConfigInvalid);
    assert!(f.message.contains("--source"), "{}", f.message);
}

#[test]
fn world_readable_secrets_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".secrets");
    std::fs::write(&path, "XDR_API_KEY=CANARY-k\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let f = err(ctx_run(&FULL, dir.path(), None));
    assert_eq!(f.code, ErrorCode::ConfigMissingCredential);
    assert!(f.message.contains(".secrets"), "{}", f.message);
    assert!(!format!("{f:?}").contains("CANARY"));
}
