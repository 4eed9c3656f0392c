//! Test events for siemtap's own rules (block 100800–100899), in the shapes the Wazuh sinks
//! emit them (siemtap-sinks `wazuh/line.rs`; docs/wazuh.md "Health events from the sink").

use serde_json::{Value, json};

use super::Case;

fn event(body: Value) -> String {
    json!({"integration": "siemtap", "siemtap": body}).to_string()
}

fn truncated(integration: &str) -> String {
    event(json!({
        "kind": "health", "check": "event_truncated", "integration": integration,
        "original_event_type": "alert",
        "message": "event of 183201 bytes shrunk to 65490 to fit Wazuh's 65515-byte budget",
        "original_size": "183201",
        "original_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "final_size": "65490", "truncated_fields": ["xdr.events"]
    }))
}

/// One case (or more) per rule of the siemtap block.
pub fn cases() -> Vec<Case> {
    vec![
        Case::one(
            "unknown kind (base rule only)",
            100800,
            0,
            event(json!({"kind": "notice", "message": "informational"})),
        ),
        Case::one(
            "health check without a specific rule",
            100801,
            8,
            event(json!({
                "kind": "health", "check": "lag", "integration": "1password",
                "message": "cursor is 3600 s behind"
            })),
        ),
        Case::one("event truncated", 100802, 8, truncated("cortex_xdr")),
        Case::one(
            "field limit",
            100803,
            8,
            event(json!({
                "kind": "health", "check": "field_limit", "integration": "acme",
                "original_event_type": "record",
                "message": "event has 301 fields; the Wazuh JSON decoder keeps the first 256",
                "fields": "301", "limit": "256"
            })),
        ),
        Case::one(
            "unparsable event",
            100804,
            10,
            event(json!({
                "kind": "health", "check": "unparsable_event",
                "message": "an output line was not JSON (expected value at line 1 column 1); it was replaced by this event",
                "original_size": "9",
                "original_sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                "excerpt": "{not json"
            })),
        ),
        Case::one(
            "error",
            100810,
            8,
            event(json!({
                "kind": "error", "source": "acme-prod", "stream": "audit", "error": "http_429",
                "message": "rate limited, retry in 60s", "cursor_lag_s": "420"
            })),
        ),
        Case::sequence(
            "fifth truncation of one integration in 10 minutes",
            100850,
            10,
            (0..5).map(|_| truncated("cortex_xdr")).collect(),
        ),
    ]
}
