//! Proofpoint output shapes (spec §1.1, §1.5, §1.6): compact JSON, `pp.event_type` first,
//! vendor fields verbatim, nulls dropped at every depth.

use serde_json::{Map, Value};
use siemtap_core::shape::{
    DiscriminatorPosition, Envelope, JsonStyle, RunSummary, Shaper, utc_seconds,
};
use siemtap_core::{Failure, VendorEvent};

use super::settings::ALL_STREAMS;

/// Shapes Proofpoint lines (`pp.tenant` when a source name is configured).
#[derive(Clone, Debug)]
pub struct ProofpointShaper {
    envelope: Envelope,
}

impl ProofpointShaper {
    /// A shaper; `tenant` adds `pp.tenant` to every line.
    pub fn new(tenant: Option<String>) -> Self {
        Self {
            envelope: Envelope {
                integration: "proofpoint",
                namespace: "pp",
                discriminator: "event_type",
                position: DiscriminatorPosition::First,
                style: JsonStyle::Compact,
                tenant,
            },
        }
    }
}

impl Default for ProofpointShaper {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Shaper for ProofpointShaper {
    fn vendor_event(&self, event: VendorEvent, out: &mut Vec<u8>) {
        self.envelope
            .write_vendor(&event.event_type, event.record, out);
    }

    /// The framework error shape: `error_source, error_message, error_code, http_status,
    /// timestamp`, then siemtap's `error_detail` and, for `COLLECTION_GAP`, `gap_start`/`gap_end`.
    fn error_event(&self, failure: &Failure, now: jiff::Timestamp, out: &mut Vec<u8>) {
        let mut fields = Map::new();
        fields.insert("error_source".into(), failure.origin.clone().into());
        fields.insert("error_message".into(), failure.message.clone().into());
        fields.insert("error_code".into(), failure.code.as_str().into());
        if let Some(status) = failure.http_status {
            fields.insert("http_status".into(), Value::from(status));
        }
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

    /// Flat: `source, timestamp, siem_ran, [siem_success], people_ran, [people_success]`.
    fn run_summary(&self, summary: &RunSummary, out: &mut Vec<u8>) {
        let mut fields = Map::new();
        fields.insert("source".into(), "orchestrator".into());
        fields.insert("timestamp".into(), utc_seconds(summary.timestamp).into());
        for name in ALL_STREAMS {
            let outcome = summary.streams.iter().find(|s| s.name == name);
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

    fn line(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn event(category: &'static str, json: &str) -> VendorEvent {
        VendorEvent {
            event_type: category.into(),
            id: None,
            time: None,
            record: serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json)
                .unwrap()
                .into(),
        }
    }

    #[test]
    fn click_sample_byte_for_byte() {
        let got = line(|o| {
            ProofpointShaper::default()
                .vendor_event(event("clicksPermitted", super::super::api::tests::CLICK), o)
        });
        assert_eq!(
            got,
            r#"{"integration":"proofpoint","pp":{"event_type":"clicksPermitted","url":"https://www.example.com/?name=john","classification":"phish","clickTime":"2022-03-21T07:52:11.000Z","threatTime":"2022-03-18T14:54:20.000Z","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) \u2026","campaignId":"46x01x8x-x899-404x-xxx9-111xx393d1x7","id":"8760d0fc-78a4-4ab0-9355-2e3cdd155f1d","clickIP":"89.160.20.112","sender":"abc123@example.com","recipient":"123abc@example.com","senderIP":"81.2.69.143","GUID":"x11xxxx1-12f9-111x-x12x-1x1x123456xx","threatID":"3xx97xx852c66a7xx761450xxxxxx9f4ffab74715b591294f78b5e37a76481xx","threatURL":"https://www.abc.com/?name=john","threatStatus":"active","messageID":"12345678912345.12345.mail@example.com"}}"#
        );
    }

    #[test]
    fn message_sample_byte_for_byte_with_nulls_dropped() {
        let body = super::super::api::tests::MESSAGE;
        let window = super::super::api::parse_siem(Some(body.as_bytes())).unwrap();
        let e = window.events.into_iter().next().unwrap();
        let got = line(|o| ProofpointShaper::default().vendor_event(e, o));
        assert_eq!(
            got,
            r#"{"integration":"proofpoint","pp":{"event_type":"messagesBlocked","GUID":"x11xxxx1-12f9-111x-x12x-1x1x123456xx","QID":"x2XXxXXX111111","ccAddresses":["abc@example.com"],"clusterId":"pharmtech_hosted","completelyRewritten":"true","fromAddress":"abc@example.com","impostorScore":0,"malwareScore":100,"messageID":"12345678912345.12345.mail@example.com","messageParts":[{"contentType":"application/pdf","disposition":"attached","filename":"text.pdf","md5":"b10a8db164e0754105b7a99be72e3fe5","oContentType":"application/pdf","sandboxStatus":"threat","sha256":"a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e"}],"messageTime":"2021-11-25T09:10:00.050Z","modulesRun":["pdr","sandbox","spam","urldefense"],"phishScore":46,"policyRoutes":["default_inbound","executives"],"quarantineFolder":"Attachment Defense","quarantineRule":"module.sandbox.threat","recipient":["example.abc@example.com"],"sender":"x99x7x5580193x6x51x597xx2x0210@example.com","senderIP":"175.16.199.1","spamScore":4,"subject":"Please find a totally safe invoice attached.","threatsInfoMap":[{"campaignId":"46x01x8x-x899-404x-xxx9-111xx393d1x7","classification":"MALWARE","threat":"example.com","threatId":"3xx97xx852c66a7xx761450xxxxxx9f4ffab74715b591294f78b5e37a76481xx","threatTime":"2021-07-20T05:00:00.050Z","threatType":"URL","threatUrl":"https://www.example.com/?name=john"}],"toAddresses":["example.abc@example.com"],"xmailer":"Spambot v2.5"}}"#
        );
    }

    #[test]
    fn vap_user_matches_the_spec_line() {
        let body = br#"{"users":[{"identity":{"guid":"g1","customerUserId":null,"emails":["xxxx@xxx.com"],"vip":false},"threatStatistics":{"attackIndex":1805,"families":[{"name":"credential phishing","score":700}]}}],"totalVapUsers":1,"interval":"2021-04-06T21:48:25Z/2021-04-20T21:48:25Z","averageAttackIndex":604.6563,"vapAttackIndexThreshold":1032.7329}"#;
        let page = super::super::api::parse_people(Some(body), "vap", "totalVapUsers", 30).unwrap();
        let e = page.events.into_iter().next().unwrap();
        assert_eq!(
            line(|o| ProofpointShaper::default().vendor_event(e, o)),
            r#"{"integration":"proofpoint","pp":{"event_type":"vap","identity":{"guid":"g1","emails":["xxxx@xxx.com"],"vip":false},"threatStatistics":{"attackIndex":1805,"families":[{"name":"credential phishing","score":700}]},"report":{"window":30,"interval":"2021-04-06T21:48:25Z/2021-04-20T21:48:25Z","totalVapUsers":1,"averageAttackIndex":604.6563,"vapAttackIndexThreshold":1032.7329}}}"#
        );
    }

    #[test]
    fn error_event_matches_the_framework_shape() {
        let f = Failure::new(ErrorCode::ApiHttp429, "siem", "quota").with_status(429);
        let now = "2026-04-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            line(|o| ProofpointShaper::default().error_event(&f, now, o)),
            r#"{"integration":"proofpoint","pp":{"event_type":"error","error_source":"siem","error_message":"quota","error_code":"API_HTTP_429","http_status":429,"timestamp":"2026-04-01T00:00:00Z"}}"#
        );
        let gap = Failure::new(ErrorCode::CollectionGap, "siem", "skipped")
            .with_gap("2026-03-20T00:00:00Z", "2026-03-25T00:05:00Z");
        assert_eq!(
            line(|o| ProofpointShaper::default().error_event(&gap, now, o)),
            r#"{"integration":"proofpoint","pp":{"event_type":"error","error_source":"siem","error_message":"skipped","error_code":"COLLECTION_GAP","timestamp":"2026-04-01T00:00:00Z","gap_start":"2026-03-20T00:00:00Z","gap_end":"2026-03-25T00:05:00Z"}}"#
        );
    }

    #[test]
    fn summary_is_flat() {
        let summary = RunSummary {
            timestamp: "2026-04-01T00:00:00Z".parse().unwrap(),
            streams: vec![StreamOutcome {
                name: "siem",
                ran: true,
                success: false,
                delivered: 0,
                duplicates: 0,
                budget_stopped: false,
            }],
        };
        assert_eq!(
            line(|o| ProofpointShaper::default().run_summary(&summary, o)),
            r#"{"integration":"proofpoint","pp":{"event_type":"run_summary","source":"orchestrator","timestamp":"2026-04-01T00:00:00Z","siem_ran":true,"siem_success":false,"people_ran":false}}"#
        );
    }
}
