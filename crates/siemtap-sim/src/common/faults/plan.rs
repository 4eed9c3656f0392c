//! The fault plan JSON format (`POST /_sim/faults`, `--faults FILE`).
//!
//! ```json
//! {"faults":[
//!  {"match":{"path":"/api/v2/signinattempts","nth":[3,4]},
//!   "action":{"status":429,"retry_after":{"form":"seconds","value":2}}},
//!  {"match":{"stream":"audit"},"action":{"late_events":{"fraction":0.1,"delay_s":3600}}}
//! ]}
//! ```
//!
//! Unknown keys are rejected, so a typo fails loudly instead of silently never matching.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::common::retry_after::FaultRetryForm;

/// An ordered list of rules; for per-request actions the first matching rule applies.
#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// The rules, in priority order.
    pub faults: Vec<FaultRule>,
}

/// One rule: when `match` holds, do `action`.
#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Conditions, AND-ed. An empty match matches every vendor request.
    #[serde(rename = "match", default)]
    pub matcher: Match,
    /// What to do.
    pub action: Action,
}

/// Match keys (all optional, AND-ed).
#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Exact request path.
    pub path: Option<String>,
    /// Request path prefix.
    pub path_prefix: Option<String>,
    /// HTTP method (case-insensitive).
    pub method: Option<String>,
    /// Tenant name (1Password: the `--token name=...` name).
    pub tenant: Option<String>,
    /// Stream name as `--source` spells it (`audit`, `signin`, `itemusage`).
    pub stream: Option<String>,
    /// 1-based ordinals, counted per rule over the requests that satisfy this rule's filter
    /// keys (every key except `nth`, `every` and `probability`).
    pub nth: Option<Vec<u64>>,
    /// Every N-th such request (N, 2N, ...).
    pub every: Option<u64>,
    /// Seeded probability in `[0, 1]` (same seed and request order → same decisions).
    pub probability: Option<f64>,
    /// Exact cursor string in the request body.
    pub cursor: Option<String>,
    /// Only once the virtual clock is at or after this time.
    pub after_clock: Option<Timestamp>,
    /// XDR: the body's `search_from` offset (a filter key; ignored by the other simulators).
    pub search_from: Option<u64>,
}

/// `retry_after` of a `status` action.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryAfterSpec {
    /// `seconds`, `http-date`, `absent`, `garbage` or `huge`.
    pub form: FaultRetryForm,
    /// Delta-seconds for `seconds` / `huge`.
    pub value: Option<u64>,
    /// Offset from the virtual clock for `http-date`.
    pub offset_s: Option<i64>,
}

/// `cursor_reject`: `true` (every continuing cursor) or `{"older_than_s": S}`.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq)]
#[serde(untagged)]
pub enum CursorReject {
    /// `true`: reject every request that carries a cursor.
    Always(bool),
    /// Reject cursors issued more than `older_than_s` seconds ago (virtual clock).
    OlderThan {
        /// Age limit in seconds.
        older_than_s: u64,
    },
}

/// `late_events`: a `fraction` of records become visible `delay_s` after their event time.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LateEvents {
    /// Share of records that arrive late, in `[0, 1]`.
    pub fraction: f64,
    /// Delay between event time and visibility, seconds.
    pub delay_s: u64,
}

/// `token_expiry`: matching credentials are rejected (401) from `at` on.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TokenExpiry {
    /// Virtual clock time from which the credentials are invalid.
    pub at: Timestamp,
}

/// What a matching rule does. Several knobs may be combined (e.g. `delay_ms` + `status`),
/// except `late_events` and `token_expiry`, which must stand alone.
#[derive(Deserialize, Serialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Respond with this status and a JSON error body instead of the real response.
    pub status: Option<u16>,
    /// `Retry-After` for `status`.
    pub retry_after: Option<RetryAfterSpec>,
    /// After this rule fires, the next `burst` requests that satisfy its filter keys get the
    /// same action regardless of `nth` / `every` / `probability`.
    pub burst: Option<u32>,
    /// Sleep this long (wall time) before answering.
    pub delay_ms: Option<u64>,
    /// Cut the (otherwise correct) body to this fraction of its bytes.
    pub truncate_body_at: Option<f64>,
    /// Declare the whole body's `Content-Length` but send only this fraction of its bytes,
    /// then close the connection: a body cut off mid-read (the client sees "end of file
    /// before message length reached").
    pub cut_body_at: Option<f64>,
    /// Replace the body with invalid JSON.
    #[serde(default)]
    pub invalid_json: bool,
    /// Replace the body with an HTML error page (`text/html`).
    #[serde(default)]
    pub html_body: bool,
    /// Keep the body but send `Content-Type: text/plain`.
    #[serde(default)]
    pub wrong_content_type: bool,
    /// 200 with an empty body.
    #[serde(default)]
    pub empty_200: bool,
    /// 400 on a continuing cursor (see [`CursorReject`]); never applies to first pages.
    pub cursor_reject: Option<CursorReject>,
    /// Page without the `cursor` key.
    #[serde(default)]
    pub missing_cursor: bool,
    /// Page with `"cursor": ""`.
    #[serde(default)]
    pub empty_cursor: bool,
    /// `{"cursor": <the cursor sent>, "has_more": true, "items": []}`.
    #[serde(default)]
    pub has_more_stuck: bool,
    /// Late arrivals (a standing rule applied to data generation, see the crate docs).
    pub late_events: Option<LateEvents>,
    /// Credential expiry (a standing rule applied to authentication).
    pub token_expiry: Option<TokenExpiry>,
    /// Close the connection without sending a response.
    #[serde(default)]
    pub drop_connection: bool,
    /// Proofpoint: answer 429 as if the request's quota bucket were empty.
    #[serde(default)]
    pub quota_exhausted: bool,
    /// Proofpoint (standing): SIEM windows starting more than 12 h ago get 400.
    #[serde(default)]
    pub lookback_400: bool,
    /// Proofpoint (standing): each SIEM window also returns the minute before its start, so
    /// the boundary minute is served by both adjacent windows.
    #[serde(default)]
    pub duplicate_across_windows: bool,
    /// XDR incidents (standing): once page `after_page` of a window has been served, set
    /// `modification_time` = now on `count` incidents already served in that window.
    pub mutate_mid_pagination: Option<MidPagination>,
    /// XDR alerts (standing): once page `after_page` of a window has been served, insert
    /// `count` alerts with an old `creation_time` (inserted now).
    pub insert_mid_pagination: Option<MidPagination>,
    /// XDR: add this non-zero delta to the page's `total_count`.
    pub total_count_drift: Option<i64>,
}

/// `mutate_mid_pagination` / `insert_mid_pagination` (XDR): fire once per window, after the
/// window's `after_page`-th page, on `count` records.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MidPagination {
    /// 1-based page of the window after which the change happens (default 1).
    #[serde(default = "one")]
    pub after_page: u32,
    /// Records changed (default 1).
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl Action {
    /// Standing rules are not "first match wins" request actions.
    pub(crate) fn is_standing(&self) -> bool {
        self.late_events.is_some()
            || self.token_expiry.is_some()
            || self.lookback_400
            || self.duplicate_across_windows
            || self.mutate_mid_pagination.is_some()
            || self.insert_mid_pagination.is_some()
    }

    /// Number of standing knobs set.
    fn standing_knobs(&self) -> usize {
        usize::from(self.late_events.is_some())
            + usize::from(self.token_expiry.is_some())
            + usize::from(self.lookback_400)
            + usize::from(self.duplicate_across_windows)
            + usize::from(self.mutate_mid_pagination.is_some())
            + usize::from(self.insert_mid_pagination.is_some())
    }

    fn is_empty(&self) -> bool {
        *self == Action::default()
    }
}

impl FaultPlan {
    /// Parses and validates a plan; the error says which rule and key is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let plan: FaultPlan = serde_json::from_slice(bytes).map_err(|e| {
            format!("{e} (expected {{\"faults\":[{{\"match\":{{...}},\"action\":{{...}}}}]}})")
        })?;
        plan.validate()?;
        Ok(plan)
    }

    /// Checks value ranges and combinations.
    pub fn validate(&self) -> Result<(), String> {
        for (i, rule) in self.faults.iter().enumerate() {
            let err = |msg: &str| Err(format!("faults[{i}]: {msg}"));
            let (m, a) = (&rule.matcher, &rule.action);
            if a.is_empty() {
                return err("the action is empty; give at least one knob, e.g. {\"status\":503}");
            }
            if a.is_standing() {
                let mut rest = a.clone();
                rest.late_events = None;
                rest.token_expiry = None;
                rest.lookback_400 = false;
                rest.duplicate_across_windows = false;
                rest.mutate_mid_pagination = None;
                rest.insert_mid_pagination = None;
                if !rest.is_empty() || a.standing_knobs() > 1 {
                    return err(
                        "late_events, token_expiry, lookback_400, duplicate_across_windows, \
                         mutate_mid_pagination and insert_mid_pagination must be the only knob \
                         of their rule",
                    );
                }
            }
            if m.nth.as_ref().is_some_and(|n| n.contains(&0)) {
                return err("match.nth ordinals are 1-based; 0 never matches");
            }
            if m.every == Some(0) {
                return err("match.every must be at least 1");
            }
            if m.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
                return err("match.probability must be within 0..=1");
            }
            if a.status.is_some_and(|s| !(100..=599).contains(&s)) {
                return err("action.status must be an HTTP status 100..=599");
            }
            if a.truncate_body_at.is_some_and(|f| !(0.0..1.0).contains(&f)) {
                return err("action.truncate_body_at must be a fraction within 0..1");
            }
            if a.cut_body_at.is_some_and(|f| !(0.0..1.0).contains(&f)) {
                return err("action.cut_body_at must be a fraction within 0..1");
            }
            if a.late_events
                .is_some_and(|l| !(0.0..=1.0).contains(&l.fraction))
            {
                return err("action.late_events.fraction must be within 0..=1");
            }
            if [a.mutate_mid_pagination, a.insert_mid_pagination]
                .iter()
                .flatten()
                .any(|mp| mp.after_page == 0 || mp.count == 0)
            {
                return err("after_page and count of *_mid_pagination must be at least 1");
            }
            if a.total_count_drift == Some(0) {
                return err("action.total_count_drift must not be 0");
            }
            if a.retry_after.is_some() && a.status.is_none() {
                return err("action.retry_after needs action.status");
            }
            if let Some(CursorReject::Always(false)) = a.cursor_reject {
                return err("action.cursor_reject: false is meaningless; remove the rule");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_parses() {
        let plan = FaultPlan::from_json(
            br#"{"faults":[
 {"match":{"path":"/api/v2/signinattempts","nth":[3,4]},"action":{"status":429,"retry_after":{"form":"seconds","value":2}}},
 {"match":{"path_prefix":"/public_api/","every":5},"action":{"status":429,"retry_after":{"form":"http-date","offset_s":3}}},
 {"match":{"path_prefix":"/v2/siem/","probability":0.05},"action":{"status":503,"burst":3}},
 {"match":{"cursor":"<opaque>"},"action":{"status":400}},
 {"match":{"nth":[7]},"action":{"delay_ms":35000}},
 {"match":{"nth":[9]},"action":{"truncate_body_at":0.5}},
 {"action":{"cursor_reject":{"older_than_s":60}}}
]}"#,
        )
        .unwrap();
        assert_eq!(plan.faults.len(), 7);
        assert_eq!(
            plan.faults[6].action.cursor_reject,
            Some(CursorReject::OlderThan { older_than_s: 60 })
        );
    }

    #[test]
    fn typos_and_bad_ranges_are_rejected_with_the_rule_index() {
        let e =
            FaultPlan::from_json(br#"{"faults":[{"match":{"pth":"/x"},"action":{"status":500}}]}"#)
                .unwrap_err();
        assert!(e.contains("pth"), "{e}");
        let e = FaultPlan::from_json(
            br#"{"faults":[{"action":{"status":500}},{"action":{"truncate_body_at":1.5}}]}"#,
        )
        .unwrap_err();
        assert!(e.starts_with("faults[1]"), "{e}");
        let e = FaultPlan::from_json(
            br#"{"faults":[{"action":{"status":500,"late_events":{"fraction":0.1,"delay_s":5}}}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("only knob"), "{e}");
    }
}
