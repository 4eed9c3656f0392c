//! Building responses, including the body-breaking fault knobs.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::faults::Action;
use super::server::CutBody;

/// A JSON error body: `{"status":N,"message":"..."}`.
pub(crate) fn error_body(status: u16, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"status": status, "message": message}))
        .unwrap_or_default()
}

/// A response with `body` and `content_type`.
pub(crate) fn raw(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Response {
    raw(status, "application/json", body)
}

/// A JSON error response (`{"status":N,"message":"..."}`).
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    json(status, error_body(status.as_u16(), message))
}

/// Adds a header whose value is known to be valid ASCII.
pub(crate) fn set_header(resp: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
<body><h1>Bad Gateway</h1><p>The upstream server returned an invalid response.</p></body></html>\n";

/// Applies the body knobs of `action` (if any) to a would-be response. Returns the response
/// and the number of body bytes sent.
pub(crate) fn finish(
    status: StatusCode,
    body: Vec<u8>,
    action: Option<&Action>,
) -> (Response, u64) {
    let Some(a) = action else {
        let n = body.len() as u64;
        return (json(status, body), n);
    };
    let (status, content_type, body) = if a.empty_200 {
        (StatusCode::OK, "application/json", Vec::new())
    } else if a.html_body {
        (
            status,
            "text/html; charset=utf-8",
            HTML_PAGE.as_bytes().to_vec(),
        )
    } else if a.invalid_json {
        (
            status,
            "application/json",
            b"{\"cursor\": oops, \"has_more\": tru".to_vec(),
        )
    } else if let Some(f) = a.truncate_body_at {
        let keep = ((body.len() as f64) * f).floor() as usize;
        (
            status,
            "application/json",
            body[..keep.min(body.len())].to_vec(),
        )
    } else if let Some(f) = a.cut_body_at {
        // The whole body goes out with its length; the connection is cut after `keep` bytes.
        let keep = ((body.len() as f64) * f).floor() as u64;
        let mut resp = json(status, body);
        resp.extensions_mut().insert(CutBody(keep));
        return (resp, keep);
    } else {
        (status, "application/json", body)
    };
    let content_type = if a.wrong_content_type {
        "text/plain; charset=utf-8"
    } else {
        content_type
    };
    let n = body.len() as u64;
    (raw(status, content_type, body), n)
}
