//! A canary credential echoed back by the server never shows up in any error.

mod common;

use common::{Reply, client, serve};
use siemtap_http::{HttpError, RequestContext};

const CANARY: &str = "CANARY-b6e1d07f-do-not-leak";
const KEY_CANARY: &str = "KEYCANARY-91c2";

fn assert_clean(err: &HttpError) {
    for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!shown.contains(CANARY), "canary leaked: {shown}");
        assert!(!shown.contains(KEY_CANARY), "key canary leaked: {shown}");
        assert!(
            !shown.contains("b6e1d07f"),
            "canary fragment leaked: {shown}"
        );
    }
}

#[tokio::test]
async fn echoed_bearer_token_is_redacted_from_status_errors() {
    for status in [401u16, 503] {
        let mut reply = Reply::new(status, "{\"error\":\"invalid credentials\"}");
        reply.echo_credentials = true;
        let server = serve(vec![reply]).await;
        let url = server.url("/api/v2/auditevents");
        let err = client()
            .send(&RequestContext::new("POST /api/v2/auditevents"), |c| {
                c.post(&url)
                    .bearer_auth(CANARY)
                    .header("x-api-key", KEY_CANARY)
                    .body(format!("{{\"token\":\"{CANARY}\"}}"))
            })
            .await
            .expect_err("server refuses");
        assert_eq!(err.status(), Some(status));
        assert_clean(&err);
        let HttpError::Status { body_excerpt, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(
            body_excerpt.contains("invalid credentials"),
            "{body_excerpt}"
        );
        assert!(body_excerpt.contains("[REDACTED]"), "{body_excerpt}");
    }
}

#[tokio::test]
async fn echoed_basic_credentials_are_redacted() {
    // The server echoes the sent header and the decoded `principal:secret`.
    let mut reply = Reply::new(403, &format!("denied for principal:{CANARY} (decoded)"));
    reply.echo_credentials = true;
    let server = serve(vec![reply]).await;
    let url = server.url("/v2/siem/all");
    let err = client()
        .send(&RequestContext::new("GET /v2/siem/all"), |c| {
            c.get(&url).basic_auth("principal", Some(CANARY))
        })
        .await
        .expect_err("denied");
    assert_clean(&err);
    let sent = server.seen("authorization");
    let encoded = sent[0].trim_start_matches("Basic ");
    assert!(encoded.len() > 20, "{sent:?}");
    assert!(!format!("{err} {err:?}").contains(encoded), "{err}");
}
