//! `siemtap validate` shows a connector file's `trusted_origins` (the origins besides the first
//! request's that receive the credential), and refuses one that is not an https origin.

use crate::harness::*;

const FILE: &str = r#"name = "cdn_paged"
namespace = "c"
trusted_origins = ["https://cdn.example.com"]
[variables.base_url]
[secrets.token]
[auth]
type = "bearer"
secret = "token"
[[streams]]
name = "logs"
[streams.request]
url = "{var.base_url}/logs"
[streams.pagination]
type = "link_header"
[streams.extract]
records = ""
[streams.cursor]
type = "last_token"
"#;

#[test]
fn validate_shows_the_trusted_origins_and_refuses_a_bad_one() {
    let work = Workdir::new();
    let good = work.path("cdn_paged.toml");
    std::fs::write(&good, FILE).unwrap();
    let out = siemtap_clean(
        &["validate", good.to_str().unwrap()],
        &[("SIEMTAP_USER", "root")],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("trusted_origins: https://cdn.example.com"),
        "{text}"
    );
    let bad = work.path("bad.toml");
    std::fs::write(
        &bad,
        FILE.replace("https://cdn.example.com\"", "http://cdn.example.com/x\""),
    )
    .unwrap();
    let out = siemtap_clean(
        &["validate", bad.to_str().unwrap()],
        &[("SIEMTAP_USER", "root")],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("trusted_origins[0]"), "{text}");
}
