//! 1Password output shapes: the reference integration's lines, byte for byte
//! (spec/vendors.md §1.1, §1.5, §1.6).

use serde_json::{Map, Value};
use siemtap_core::shape::{
    DiscriminatorPosition, Envelope, JsonStyle, RunSummary, Shaper, utc_seconds,
};
use siemtap_core::{Failure, VendorEvent};

use super::STREAMS;

/// Shapes 1Password lines for one tenant (or none in single-tenant mode).
#[derive(Clone, Debug)]
pub struct OnePasswordShaper {
    envelope: Envelope,
}

impl OnePasswordShaper {
    /// A shaper; `tenant` adds `op.tenant` to every line.
    pub fn new(tenant: Option<String>) -> Self {
        Self {
            envelope: Envelope {
                integration: "1password",
                namespace: "op",
                discriminator: "event_type",
                position: DiscriminatorPosition::Last,
                style: JsonStyle::Python,
                tenant,
            },
        }
    }
}

impl Shaper for OnePasswordShaper {
    fn vendor_event(&self, event: VendorEvent, out: &mut Vec<u8>) {
        self.envelope
            .write_vendor(&event.event_type, event.record, out);
    }

    fn error_event(&self, failure: &Failure, now: jiff::Timestamp, out: &mut Vec<u8>) {
        let mut fields = Map::new();
        fields.insert("source".into(), failure.origin.clone().into());
        fields.insert("error_code".into(), failure.code.as_str().into());
        fields.insert("error_message".into(), failure.message.clone().into());
        fields.insert("timestamp".into(), utc_seconds(now).into());
        if let Some(detail) = &failure.detail {
            fields.insert("error_detail".into(), detail.clone().into());
        }
        if let Some((start, end)) = failure.gap.as_deref() {
            fields.insert("gap_start".into(), start.clone().into());
            fields.insert("gap_end".into(), end.clone().into());
        }
        self.envelope.write_internal("error", fields, out);
    }

    fn run_summary(&self, summary: &RunSummary, out: &mut Vec<u8>) {
        let mut fields = Map::new();
        fields.insert("source".into(), "orchestrator".into());
        fields.insert("timestamp".into(), utc_seconds(summary.timestamp).into());
        for name in STREAMS {
            let outcome = summary.streams.iter().find(|s| s.name == *name);
            let ran = outcome.is_some_and(|o| o.ran);
            fields.insert(format!("{name}_ran"), Value::Bool(ran));
            if let Some(o) = outcome.filter(|o| o.ran) {
                fields.insert(format!("{name}_success"), Value::Bool(o.success));
            }
        }
        self.envelope.write_internal("run_summary", fields, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use siemtap_core::ErrorCode;
    use siemtap_core::shape::StreamOutcome;

    fn ts() -> jiff::Timestamp {
        "2026-11-22T09:23:43Z".parse().unwrap()
    }

    #[test]
    fn error_event_matches_reference_bytes() {
        let f = Failure::new(
            ErrorCode::ApiHttp400,
            "signin",
            "Bad request \u{2014} cursor may be expired or request body malformed",
        )
        .with_detail("endpoint=/api/v2/signinattempts status=400");
        let mut out = Vec::new();
        OnePasswordShaper::new(None).error_event(&f, ts(), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"integration": "1password", "op": {"source": "signin", "error_code": "API_HTTP_400", "error_message": "Bad request \u2014 cursor may be expired or request body malformed", "timestamp": "2026-11-22T09:23:43Z", "error_detail": "endpoint=/api/v2/signinattempts status=400", "event_type": "error"}}"#
        );
    }

    #[test]
    fn summary_matches_reference_bytes() {
        let summary = RunSummary {
            timestamp: "2026-11-22T09:23:30Z".parse().unwrap(),
            streams: vec![StreamOutcome {
                name: "signin",
                ran: true,
                success: true,
                delivered: 3,
                duplicates: 0,
                budget_stopped: false,
            }],
        };
        let mut out = Vec::new();
        OnePasswordShaper::new(None).run_summary(&summary, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"integration": "1password", "op": {"source": "orchestrator", "timestamp": "2026-11-22T09:23:30Z", "audit_ran": false, "signin_ran": true, "signin_success": true, "itemusage_ran": false, "event_type": "run_summary"}}"#
        );
    }

    #[test]
    fn tenant_summary_is_flat_with_tenant() {
        let summary = RunSummary {
            timestamp: ts(),
            streams: vec![],
        };
        let mut out = Vec::new();
        OnePasswordShaper::new(Some("client-a".into())).run_summary(&summary, &mut out);
        let line = String::from_utf8(out).unwrap();
        assert!(
            line.ends_with(
                r#""itemusage_ran": false, "tenant": "client-a", "event_type": "run_summary"}}"#
            ),
            "{line}"
        );
    }
}
