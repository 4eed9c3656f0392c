//! Credentials follow only their own origin (issue 10, items 1 and 3): a next-page URL on
//! another scheme/host/port is an error event and no request, unless the connector file lists
//! that origin in `trusted_origins`; vendor data inserted into a URL path is percent-encoded
//! per segment and cannot change the origin.

mod rest_support;

use std::sync::{Arc, Mutex};

use rest_support::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request a [`Mock`] received: the request target and the header lines.
#[derive(Clone, Debug)]
struct Seen {
    target: String,
    head: String,
}

/// A raw HTTP/1.1 server on 127.0.0.1 answering with `reply(target, base)`; records requests.
struct Mock {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

type Reply = fn(&str, &str) -> (u16, Vec<(String, String)>, String);

impl Mock {
    async fn start(reply: Reply) -> Mock {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (b, s) = (base.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (b, s) = (b.clone(), s.clone());
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&got).to_string();
                    let target = head.split(' ').nth(1).unwrap_or("").to_string();
                    s.lock().unwrap().push(Seen {
                        target: target.clone(),
                        head: head.clone(),
                    });
                    let (status, headers, body) = reply(&target, &b);
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&body);
                    let _ = sock.write_all(out.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Mock { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// The second origin: records everything, answers an empty last page.
fn other_reply(_: &str, _: &str) -> (u16, Vec<(String, String)>, String) {
    (200, vec![], r#"{"items":[],"next":null}"#.into())
}

const SECRET: &str = "CANARY-origin-k4v8";

/// A connector file: `auth` and `pagination` tables as given, records at `/items`.
fn file(auth: &str, pagination: &str, extra: &str) -> String {
    format!(
        r#"name = "origin_test"
namespace = "t"
{extra}
[variables.base_url]
[secrets.api_token]
env = "ORIGIN_TOKEN"
[auth]
{auth}
[[streams]]
name = "logs"
[streams.request]
url = "{{var.base_url}}/api/v1/logs"
[streams.pagination]
{pagination}
[streams.extract]
records = "/items"
id = "/id"
[streams.cursor]
type = "last_token"
"#
    )
}

const AUTHS: [(&str, &str); 3] = [
    (
        "header",
        "type = \"api_key\"\nsecret = \"api_token\"\nname = \"X-Api-Key\"",
    ),
    (
        "query",
        "type = \"api_key\"\nsecret = \"api_token\"\nin = \"query\"\nname = \"api_key\"",
    ),
    (
        "basic",
        "type = \"basic\"\nusername = \"svc\"\npassword_secret = \"api_token\"",
    ),
];

const PAGINATIONS: [&str; 2] = [
    "type = \"next_url\"\nnext_url = \"/next\"",
    "type = \"link_header\"",
];

/// Whether a request head carries the credential in any of the three forms.
fn carries_credential(s: &Seen) -> bool {
    // base64("svc:CANARY-origin-k4v8")
    s.head.contains(SECRET) || s.head.contains("c3ZjOkNBTkFSWS1vcmlnaW4tazR2OA==")
}

async fn run_against(
    vendor: &Mock,
    text: &str,
) -> (siemtap_core::runner::SourceReport, Vec<Value>) {
    let spec = siemtap_connectors::rest::load_str(text, "origin_test.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    let work = Work::new();
    let s = settings(&[("base_url", &vendor.base)]);
    let report = run(&work, &spec, &s, &[("ORIGIN_TOKEN", SECRET)]).await;
    (report, work.lines())
}

/// The vendor names its next page on the origin in [`OTHER`].
fn vendor_reply(target: &str, _base: &str) -> (u16, Vec<(String, String)>, String) {
    let other = OTHER.lock().unwrap().clone().unwrap_or_default();
    if target.starts_with("/api/v1/logs") && !target.contains("page=2") {
        let next = format!("{other}/api/v1/logs?page=2&sig=abc");
        (
            200,
            vec![("link".into(), format!("<{next}>; rel=\"next\""))],
            format!(r#"{{"items":[{{"id":"a1"}},{{"id":"a2"}}],"next":"{next}"}}"#),
        )
    } else {
        (200, vec![], r#"{"items":[],"next":null}"#.into())
    }
}

#[tokio::test]
async fn next_page_on_another_origin_gets_no_request_and_no_credential() {
    let other = Mock::start(other_reply).await;
    let _guard = ENV_LOCK.lock().await;
    set_other(&other.base);
    let vendor = Mock::start(vendor_reply).await;
    for (kind, auth) in AUTHS {
        for pagination in PAGINATIONS {
            let (report, lines) = run_against(&vendor, &file(auth, pagination, "")).await;
            assert!(
                other.seen().is_empty(),
                "{kind} / {pagination}: the other origin was contacted: {:?}",
                other.seen()
            );
            let errors: Vec<&Value> = lines
                .iter()
                .filter(|l| l["t"]["event_type"] == "error")
                .collect();
            assert_eq!(errors.len(), 1, "{kind}: {lines:?}");
            let e = &errors[0]["t"];
            assert_eq!(e["error_code"], "API_INVALID_RESPONSE", "{e}");
            let text = e.to_string();
            let redacted = format!("{}/api/v1/logs?page=REDACTED&sig=REDACTED", other.base);
            assert!(text.contains(&redacted), "names the redacted URL: {text}");
            assert!(!text.contains("abc"), "{text}");
            assert!(text.contains("trusted_origins"), "says the fix: {text}");
            assert!(!report.streams[0].success);
            assert_eq!(report.streams[0].delivered, 2, "page 1 is delivered");
            // The vendor's own origin did get the credential.
            assert!(vendor.seen().iter().any(carries_credential), "{kind}");
        }
    }
}

#[tokio::test]
async fn trusted_origins_receive_the_credential() {
    let other = Mock::start(other_reply).await;
    let _guard = ENV_LOCK.lock().await;
    set_other(&other.base);
    let vendor = Mock::start(vendor_reply).await;
    let extra = format!("trusted_origins = [\"{}\"]", other.base);
    for (kind, auth) in AUTHS {
        let before = other.seen().len();
        let (report, lines) = run_against(&vendor, &file(auth, PAGINATIONS[0], &extra)).await;
        assert!(report.streams[0].success, "{kind}: {lines:?}");
        let seen = other.seen();
        assert_eq!(
            seen.len(),
            before + 1,
            "{kind}: the trusted origin served page 2"
        );
        assert!(
            carries_credential(&seen[before]),
            "{kind}: {:?}",
            seen[before]
        );
    }
}

/// Serialises the tests that set [`OTHER`].
static ENV_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The origin the vendor mock names its next pages on.
static OTHER: Mutex<Option<String>> = Mutex::new(None);

fn set_other(base: &str) {
    OTHER.lock().unwrap().replace(base.to_string());
}

#[test]
fn trusted_origins_must_be_absolute_https_origins() {
    for (bad, want) in [
        ("https://cdn.example.com/path", "no path"),
        ("ftp://cdn.example.com", "https"),
        ("http://cdn.example.com", "https"),
        ("cdn.example.com", "absolute"),
        ("https://user:pw@cdn.example.com", "user"),
        ("https://cdn.example.com?x=1", "no path"),
    ] {
        let text = file(
            AUTHS[0].1,
            PAGINATIONS[0],
            &format!("trusted_origins = [\"{bad}\"]"),
        );
        let err = siemtap_connectors::rest::load_str(&text, "o.toml")
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        let msg = err.to_string();
        assert!(msg.contains("trusted_origins[0]"), "{bad}: {msg}");
        assert!(msg.contains(want), "{bad}: {msg}");
    }
    for good in [
        "https://cdn.example.com",
        "https://cdn.example.com:8443/",
        "http://127.0.0.1:9",
    ] {
        let text = file(
            AUTHS[0].1,
            PAGINATIONS[0],
            &format!("trusted_origins = [\"{good}\"]"),
        );
        siemtap_connectors::rest::load_str(&text, "o.toml")
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

/// The vendor hands out a page token that tries to climb out of the path.
fn token_reply(target: &str, _base: &str) -> (u16, Vec<(String, String)>, String) {
    if target.starts_with("/api/v1/logs") {
        (
            200,
            vec![],
            r#"{"items":[{"id":"a1"}],"next":"../../admin/secret?x=1#f"}"#.into(),
        )
    } else {
        (200, vec![], r#"{"items":[],"next":null}"#.into())
    }
}

#[tokio::test]
async fn vendor_token_in_a_url_path_is_encoded_per_segment() {
    let vendor = Mock::start(token_reply).await;
    let pagination = "type = \"body_token\"\ntoken = \"/next\"\n[streams.next_request]\nurl = \"{var.base_url}/api/page/{page.token}\"";
    let (report, lines) = run_against(&vendor, &file(AUTHS[0].1, pagination, "")).await;
    assert!(report.streams[0].success, "{lines:?}");
    let targets: Vec<String> = vendor.seen().iter().map(|s| s.target.clone()).collect();
    assert_eq!(
        targets[1], "/api/page/..%2F..%2Fadmin%2Fsecret%3Fx=1%23f",
        "{targets:?}"
    );
    assert!(
        !targets.iter().any(|t| t.starts_with("/admin")),
        "{targets:?}"
    );
}

/// A token that is a dot segment, or one that moves the authority.
fn dots_reply(target: &str, _base: &str) -> (u16, Vec<(String, String)>, String) {
    let token = if target.contains("dots") {
        ".."
    } else {
        "@127.0.0.1:9/x"
    };
    if target.starts_with("/api/v1/logs") {
        (
            200,
            vec![],
            format!(r#"{{"items":[{{"id":"a1"}}],"next":"{token}"}}"#),
        )
    } else {
        (200, vec![], r#"{"items":[],"next":null}"#.into())
    }
}

#[tokio::test]
async fn a_template_whose_expansion_changes_the_origin_or_climbs_is_refused() {
    let vendor = Mock::start(dots_reply).await;
    for (case, next_url) in [
        ("authority", "{var.base_url}{page.token}"),
        ("dots", "{var.base_url}/api/page/{page.token}"),
    ] {
        let pagination = format!(
            "type = \"body_token\"\ntoken = \"/next\"\n[streams.next_request]\nurl = \"{next_url}\""
        );
        let text = file(AUTHS[0].1, &pagination, "")
            .replace("/api/v1/logs\"", &format!("/api/v1/logs?case={case}\""));
        let before = vendor.seen().len();
        let (report, lines) = run_against(&vendor, &text).await;
        assert!(!report.streams[0].success, "{case}: {lines:?}");
        let errors: Vec<&Value> = lines
            .iter()
            .filter(|l| l["t"]["event_type"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "{case}: {lines:?}");
        assert_eq!(errors[0]["t"]["error_code"], "API_INVALID_RESPONSE");
        assert_eq!(
            vendor.seen().len(),
            before + 1,
            "{case}: no second request: {:?}",
            vendor.seen()
        );
    }
}
