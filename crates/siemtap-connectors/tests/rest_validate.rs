//! Connector files: the shipped ones load, the schema matches the types, a catalogue of broken
//! files each fails with the file, line, column and key to fix, and `plan` output is pinned.

mod rest_support;

use rest_support::*;
use siemtap_connectors::rest::{PlannedRequest, SourceOptions, json_schema, load_str};
use siemtap_state::StateStore;

const GOOD: &str = r#"name = "demo"
namespace = "demo"

[variables.base_url]
description = "API base"

[secrets.demo_token]

[auth]
type = "bearer"
secret = "demo_token"

[[streams]]
name = "events"

[streams.request]
url = "{var.base_url}/events"
query = { since = "{window.start}" }

[streams.pagination]
type = "body_token"
token = "/next"

[streams.next_request]
query = { cursor = "{page.token}" }

[streams.extract]
records = "/data"
id = "/id"
timestamp = "/time"

[streams.cursor]
type = "max_timestamp"
overlap = "5m"
"#;

fn err(edit: impl Fn(&str) -> String) -> String {
    let text = edit(GOOD);
    match load_str(&text, "demo.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// One broken file per test: the exact `FILE:LINE:COL: `key`: message`.
macro_rules! invalid {
    ($($name:ident: |$t:ident| $edit:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(err(|$t: &str| $edit), $want);
        }
    )*};
}

invalid! {
    unknown_top_level_key: |t| t.replace("namespace = \"demo\"", "namespace = \"demo\"\nnamspace = \"x\"")
        => "demo.toml:3:1: `namspace`: unknown field `namspace`, expected one of `name`, `description`, `integration`, `namespace`, `event_type_key`, `discriminator_position`, `style`, `rules`, `variables`, `secrets`, `auth`, `limits`, `trusted_origins`, `streams`";
    unknown_key_in_a_stream_table: |t| t.replace("token = \"/next\"", "token = \"/next\"\nmax_page = 3")
        => "demo.toml:23:1: `streams[0].pagination.max_page`: unknown field `max_page`, expected one of `type`, `token`, `next_url`, `has_more`, `total`, `total_pages`, `start`, `stop_on_empty`, `stop_on_short`, `max_pages`";
    unknown_key_in_auth: |t| t.replace("secret = \"demo_token\"\n", "secret = \"demo_token\"\nheader = \"X\"\n")
        => "demo.toml:12:1: `auth.header`: unknown field `header`, expected `secret`";
    missing_namespace: |t| t.replace("namespace = \"demo\"\n", "")
        => "demo.toml:1:1: `namespace`: missing field `namespace`";
    unclosed_placeholder: |t| t.replace("{var.base_url}/events", "{var.base_url/events")
        => "demo.toml:17:7: `streams[0].request.url`: unclosed `{` at character 0; close the placeholder with `}` or write `{{` for a literal brace";
    undeclared_variable: |t| t.replace("{var.base_url}/events", "{var.host}/events")
        => "demo.toml:17:1: `streams[0].request.url`: {var.host}: variable \"host\" is not declared; add a [variables.host] table";
    undeclared_secret: |t| t.replace("secret = \"demo_token\"\n", "secret = \"demo_tok\"\n")
        => "demo.toml:11:1: `auth.secret`: secret \"demo_tok\" is not declared; add a [secrets.demo_tok] table (secrets are referenced by name, never written here)";
    page_token_in_the_first_request: |t| t.replace("since = \"{window.start}\"", "since = \"{page.token}\"")
        => "demo.toml:18:11: `streams[0].request.query.since`: {page.token} cannot be used here; requests may use {var.NAME}, {secret.NAME}, {window.start}, {window.end}, {cursor}, {page.limit} ({page.token} only in [streams.next_request])";
    body_token_without_next_request: |t| t.replace("[streams.next_request]\nquery = { cursor = \"{page.token}\" }\n", "")
        => "demo.toml:13:1: `streams[0].next_request`: body_token paging sends the token back: add [streams.next_request] with {page.token} in its body, query, headers or url";
    last_token_with_offset_paging: |t| t
            .replace("type = \"body_token\"\ntoken = \"/next\"", "type = \"offset\"")
            .replace("[streams.next_request]\nquery = { cursor = \"{page.token}\" }\n", "")
            .replace("type = \"max_timestamp\"", "type = \"last_token\"")
        => "demo.toml:30:1: `streams[0].cursor.type`: type = \"last_token\" stores the pagination continuation; it needs pagination type body_token, next_url or link_header (use max_timestamp or window_end otherwise)";
    max_timestamp_without_a_timestamp: |t| t.replace("timestamp = \"/time\"\n", "")
        => "demo.toml:27:10: `streams[0].extract.timestamp`: cursor type = \"max_timestamp\" needs the record time: timestamp = \"/published\"";
    duration_without_a_unit: |t| t.replace("overlap = \"5m\"", "overlap = \"5 minutes\"")
        => "demo.toml:34:11: `streams[0].cursor.overlap`: \"5 minutes\" has no known unit; use ms, s, m, h or d (\"5m\", \"24h\")";
    pointer_without_a_slash: |t| t.replace("records = \"/data\"", "records = \"data\"")
        => "demo.toml:28:11: `streams[0].extract.records`: \"data\" is not a JSON pointer; write \"/data\" (pointers start with `/`; \"\" is the whole document)";
    toml_syntax_error: |t| t.replace("name = \"events\"", "name = \"events")
        => "demo.toml:14:15: `streams[0].name`: invalid basic string, expected `\"`";
    a_line_without_a_key: |t| t.replace("namespace = \"demo\"\n", "namespace = \"demo\"\n= \"x\"\n")
        => "demo.toml:3:1: `<document>`: unquoted keys cannot be empty, expected letters, numbers, `-`, `_`";
    duplicate_stream_name: |t| format!("{t}\n[[streams]]\nname = \"events\"\nrequest = {{ url = \"https://x\" }}\nextract = {{ records = \"\" }}\ncursor = {{ type = \"window_end\" }}\n")
        => "demo.toml:37:1: `streams[1].name`: stream \"events\" is defined twice; stream names must be unique";
    unknown_time_format: |t| t.replace("{window.start}", "{window.start:iso}")
        => "demo.toml:18:11: `streams[0].request.query.since`: {window.start:iso}: unknown format \"iso\"; use rfc3339, rfc3339_ms, epoch_s or epoch_ms";
    unknown_cursor_type: |t| t.replace("type = \"max_timestamp\"", "type = \"max_time\"")
        => "demo.toml:33:8: `streams[0].cursor.type`: unknown variant `max_time`, expected one of `last_token`, `max_timestamp`, `window_end`";
    field_of_another_pagination_type: |t| t.replace("token = \"/next\"", "token = \"/next\"\ntotal_pages = \"/pages\"")
        => "demo.toml:23:1: `streams[0].pagination.total_pages`: `total_pages` only applies to type = \"page_number\"; remove it";
}

#[test]
fn the_good_file_loads() {
    let spec = load_str(GOOD, "demo.toml").unwrap();
    assert_eq!(spec.name(), "demo");
    assert_eq!(spec.stream_names(), ["events"]);
    assert_eq!(spec.secret_names(), ["demo_token"]);
    let key = spec.secret_key("demo_token").unwrap();
    assert_eq!((key.cred_name, key.env_name), ("demo_token", "DEMO_TOKEN"));
}

#[test]
fn load_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, GOOD.replace("namespace = \"demo\"\n", "")).unwrap();
    let e = siemtap_connectors::rest::load_file(&path)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{}:1:1: `namespace`: missing field `namespace`",
            path.display()
        )
    );
}

#[test]
fn every_shipped_connector_loads() {
    let mut names: Vec<String> = std::fs::read_dir(shipped(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "graph_oauth2.toml",
            "okta_system_log.toml",
            "onepassword_audit.toml",
            "page_number.toml"
        ]
    );
    for n in names {
        connector(&n, &[]);
    }
}

#[test]
fn shipped_schema_equals_the_generated_one() {
    let generated = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    let path = shipped("schema.json");
    if std::env::var_os("SIEMTAP_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "connectors/schema.json is stale; regenerate with SIEMTAP_BLESS=1 cargo test -p siemtap-connectors --test rest_validate"
    );
    // It is a real schema of the file format: closed tables, the auth variants, durations.
    let v = json_schema();
    assert_eq!(v["additionalProperties"], false);
    let text = v.to_string();
    for needle in [
        "oauth2_client_credentials",
        "link_header",
        "window_end",
        "(ms|s|m|h|d)",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
}

fn plan(name: &str, settings: &toml::Table, state: &StateStore) -> Vec<PlannedRequest> {
    let spec = connector(name, &[]);
    let chain = chain(&[]);
    spec.plan(
        SourceOptions {
            source_name: "plan",
            settings,
            chain: &chain,
            http: http(),
            streams: None,
            lookback: None,
        },
        state,
    )
    .unwrap()
}

fn render(p: &[PlannedRequest]) -> String {
    let mut out = String::new();
    for r in p {
        out.push_str(&format!("[{}] {} {}\n", r.stream, r.method, r.url));
        for (k, v) in &r.headers {
            out.push_str(&format!("  {k}: {v}\n"));
        }
        if let Some(b) = &r.body {
            out.push_str(&format!("  body: {b}\n"));
        }
        out.push_str(&format!("  cursor: {}\n", r.cursor_note));
    }
    out
}

fn state_with(key: &str, cursor: serde_json::Value) -> (tempfile::TempDir, StateStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, serde_json::json!({ key: cursor }).to_string()).unwrap();
    let store = StateStore::open(&path).unwrap();
    (dir, store)
}

#[test]
fn plan_resuming_a_stored_token_needs_no_secret() {
    let (_d, state) = state_with("audit_cursor", serde_json::json!("c:123"));
    let got = render(&plan(
        "onepassword_audit.toml",
        &settings(&[("base_url", "https://events.1password.com")]),
        &state,
    ));
    assert_eq!(
        got,
        "[audit] POST https://events.1password.com/api/v2/auditevents\n  Authorization: REDACTED\n  body: {\"cursor\":\"c:123\"}\n  cursor: resumes a walk from the stored continuation; stores the token at `/cursor` as the cursor (last_token)\n"
    );
}

#[test]
fn plan_mid_window_follows_the_stored_link_with_the_key_redacted() {
    let (_d, state) = state_with(
        "system_log_cursor",
        serde_json::json!({"position": "2026-03-01T10:00:00Z", "window": {"start": "2026-03-01T09:45:00Z", "end": "2026-03-01T11:59:00Z"}, "next": {"url": "https://example.okta.com/api/v1/logs?after=abc&limit=100"}}),
    );
    let got = render(&plan(
        "okta_system_log.toml",
        &settings(&[("base_url", "https://example.okta.com")]),
        &state,
    ));
    assert_eq!(
        got,
        "[system_log] GET https://example.okta.com/api/v1/logs?after=abc&limit=100\n  Authorization: REDACTED\n  cursor: resumes a walk from the stored continuation; stores {\"position\": newest `/published` seen} (max_timestamp), with the window and the Link rel=\"next\" URL while more pages remain; a next-page URL is followed (with the credential) only on the first request's origin, any other is an API_INVALID_RESPONSE error and no request\n"
    );
}

#[test]
fn plan_shows_query_keys_redacted_and_oauth_tokens_noted() {
    let (_d, state) = state_with(
        "items_cursor",
        serde_json::json!({"position": "2026-03-01T10:00:00Z", "window": {"start": "2026-03-01T09:55:00Z", "end": "2026-03-01T12:00:00Z"}, "next": {"page": 3}}),
    );
    let got = render(&plan(
        "page_number.toml",
        &settings(&[("base_url", "https://api.example.com")]),
        &state,
    ));
    assert_eq!(
        got,
        "[items] GET https://api.example.com/api/items?since=1772358900&page=3&per_page=25&api_key=REDACTED\n  cursor: resumes a walk from the stored continuation; stores {\"position\": newest `/created_at` seen} (max_timestamp), with the window and the next page number while more pages remain\n"
    );
    let (_d, state) = state_with(
        "security_alerts_cursor",
        serde_json::json!({"position": "2026-03-01T06:00:00Z", "window": {"start": "2026-03-01T05:50:00Z", "end": "2026-03-01T11:50:00Z"}, "next": {"url": "https://graph.microsoft.com/v1.0/security/alerts_v2?$skiptoken=x"}}),
    );
    let s = settings(&[
        ("token_url", "https://login.example/t/oauth2/v2.0/token"),
        ("client_id", "app"),
    ]);
    let got = render(&plan("graph_oauth2.toml", &s, &state));
    assert!(got.starts_with("[security_alerts] GET https://graph.microsoft.com/v1.0/security/alerts_v2?$skiptoken=x\n  Authorization: REDACTED\n"), "{got}");
    assert!(got.contains("OAuth2 token endpoint"), "{got}");
}

#[test]
fn plan_of_a_fresh_stream_starts_at_the_lookback() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateStore::open(&dir.path().join("s.json")).unwrap();
    let p = plan(
        "okta_system_log.toml",
        &settings(&[("base_url", "https://example.okta.com")]),
        &state,
    );
    assert_eq!(p.len(), 1);
    assert!(
        p[0].url
            .starts_with("https://example.okta.com/api/v1/logs?since="),
        "{}",
        p[0].url
    );
    assert!(p[0].url.contains("&until=") && p[0].url.ends_with("&limit=100&sortOrder=ASCENDING"));
    assert!(
        p[0].cursor_note
            .starts_with("no stored cursor: starts window ["),
        "{}",
        p[0].cursor_note
    );
}

#[test]
fn plan_with_a_missing_setting_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateStore::open(&dir.path().join("s.json")).unwrap();
    let spec = connector("okta_system_log.toml", &[]);
    let chain = chain(&[]);
    let f = spec
        .plan(
            SourceOptions {
                source_name: "okta-prod",
                settings: &toml::Table::new(),
                chain: &chain,
                http: http(),
                streams: None,
                lookback: None,
            },
            &state,
        )
        .unwrap_err();
    assert_eq!(f.code.as_str(), "CONFIG_INVALID");
    assert!(
        f.message
            .contains("source okta-prod: connector okta_system_log needs setting `base_url`"),
        "{}",
        f.message
    );
}
