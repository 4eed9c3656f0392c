//! HTTP outcomes → error events: the structure every connector shares (spec §1.5). Each
//! connector supplies only its operator wording; the code, the `endpoint=… status=…` detail,
//! the redacted body excerpt and the cases (status, timeout, connection, body cap, bad URL)
//! are decided here once.

use siemtap_core::{ErrorCode, Failure};
use siemtap_http::HttpError;

/// How one connector words its failures.
pub(crate) struct Wording<'a> {
    /// The API's name in messages, e.g. `1Password Events API`.
    pub api: &'a str,
    /// The message for a final HTTP status (its code already chosen).
    pub status: &'a dyn Fn(ErrorCode, u16) -> String,
    /// The message for a timeout.
    pub timeout: &'a str,
    /// The message for a connection failure (names the host setting to check).
    pub unreachable: &'a str,
    /// Appended to the body-cap message (e.g. how to lower the page size).
    pub body_cap_hint: &'a str,
}

fn append(detail: &mut String, part: &str) {
    if !part.is_empty() {
        detail.push(' ');
        detail.push_str(part);
    }
}

/// The error event for a failed request to `endpoint` (a path, never a URL). `context` is
/// appended to the detail (e.g. the window); `scrub` cleans text the server or the network
/// stack supplied (identifiers that must not reach an event).
pub(crate) fn from_http(
    origin: &str,
    endpoint: &str,
    context: &str,
    err: &HttpError,
    wording: &Wording<'_>,
    scrub: &dyn Fn(&str) -> String,
) -> Failure {
    let err = match err {
        HttpError::Deadline { last } => last.as_ref(),
        other => other,
    };
    let mut detail = format!("endpoint={endpoint}");
    let failure = match err {
        HttpError::Status {
            status,
            body_excerpt,
            ..
        } => {
            let code = ErrorCode::for_status(*status);
            detail = format!("endpoint={endpoint} status={status}");
            append(&mut detail, context);
            append(&mut detail, &scrub(body_excerpt));
            return Failure::new(code, origin, (wording.status)(code, *status))
                .with_detail(detail)
                .with_status(*status);
        }
        HttpError::Timeout { .. } => Failure::new(ErrorCode::ApiTimeout, origin, wording.timeout),
        HttpError::Connect { detail: d, .. } => {
            append(&mut detail, &scrub(d));
            Failure::new(ErrorCode::ApiConnectionError, origin, wording.unreachable)
        }
        HttpError::BodyTooLarge { limit } => Failure::new(
            ErrorCode::ApiInvalidResponse,
            origin,
            format!(
                "{} response exceeded the {limit}-byte response cap{}",
                wording.api, wording.body_cap_hint
            ),
        ),
        HttpError::InsecureUrl { .. } | HttpError::InvalidUrl { .. } => {
            Failure::new(ErrorCode::ConfigInvalid, origin, err.to_string())
        }
        other => Failure::new(
            ErrorCode::ApiUnexpectedError,
            origin,
            scrub(&format!("request to the {} failed: {other}", wording.api)),
        ),
    };
    append(&mut detail, context);
    failure.with_detail(detail)
}

/// The error event for a successful status whose body is not what the API documents.
pub(crate) fn invalid_response(
    api: &str,
    origin: &str,
    endpoint: &str,
    status: u16,
    context: &str,
    what: &str,
) -> Failure {
    let mut detail = format!("endpoint={endpoint} status={status}");
    append(&mut detail, context);
    Failure::new(
        ErrorCode::ApiInvalidResponse,
        origin,
        format!("{api} returned an invalid response: {what}"),
    )
    .with_detail(detail)
}

/// [`from_http`] with no extra detail and nothing to scrub: what most connectors need.
pub(crate) fn from_http_plain(
    origin: &str,
    endpoint: &str,
    err: &HttpError,
    wording: &Wording<'_>,
) -> Failure {
    from_http(origin, endpoint, "", err, wording, &|text: &str| {
        text.to_string()
    })
}
