//! Cortex XDR output shapes (spec §1.1, §1.2, §1.5, §1.6, §4.6, §4.7):
//! `{"integration":"cortex_xdr","xdr":{"type":…,…}}`, compact, discriminator first.
//!
//! Shaping steps of a vendor record, in order:
//! 1. the top-level epoch-ms fields of [`TIMESTAMP_FIELDS`] become `%Y-%m-%dT%H:%M:%S.mmmZ`
//!    strings (lists element by element); a null, 0 or negative value drops the field; a string
//!    passes unchanged; nested objects are not touched;
//! 2. null members are dropped at every depth;
//! 3. `type` is written first with siemtap's value; a vendor field named `type` keeps its
//!    value under `vendor_type`, at the vendor's position (the core `Envelope` does this).

use serde_json::{Map, Value};
use siemtap_core::shape::{
    DiscriminatorPosition, Envelope, JsonStyle, RunSummary, Shaper, utc_seconds,
};
use siemtap_core::{Failure, VendorEvent};

use super::settings::ALL_STREAMS;

/// Top-level fields converted from epoch ms to ISO strings (§4.7, exact list).
pub const TIMESTAMP_FIELDS: [&str; 12] = [
    "creation_time",
    "modification_time",
    "detection_time",
    "resolved_timestamp",
    "local_insert_ts",
    "last_modified_ts",
    "detection_timestamp",
    "end_match_attempt_ts",
    "event_timestamp",
    "causality_actor_process_execution_time",
    "dst_causality_actor_process_execution_time",
    "agent_host_boot_time",
];

/// `%Y-%m-%dT%H:%M:%S.mmmZ` (UTC, always three fraction digits) for epoch ms.
pub fn iso_ms(ms: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    Some(ts.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string())
}

/// A positive whole number of milliseconds, if `v` is one.
fn positive_ms(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    let ms = match n.as_i64() {
        Some(i) => i,
        None => {
            let f = n.as_f64()?;
            if f.fract() != 0.0 || !f.is_finite() || f > i64::MAX as f64 {
                return None;
            }
            f as i64
        }
    };
    (ms > 0).then_some(ms)
}

fn is_non_positive_number(v: &Value) -> bool {
    v.as_number()
        .and_then(|n| n.as_f64())
        .is_some_and(|f| f <= 0.0)
}

/// Applies §4.7 to the top level of `record`.
pub fn convert_timestamps(record: &mut Map<String, Value>) {
    for key in TIMESTAMP_FIELDS {
        let Some(value) = record.get_mut(key) else {
            continue;
        };
        match value {
            Value::Null => {
                record.shift_remove(key);
            }
            v if is_non_positive_number(v) => {
                record.shift_remove(key);
            }
            Value::Number(_) => {
                if let Some(text) = positive_ms(value).and_then(iso_ms) {
                    *value = Value::String(text);
                }
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    if let Some(text) = positive_ms(item).and_then(iso_ms) {
                        *item = Value::String(text);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Shapes Cortex XDR lines (one tenant; `tenant` adds `xdr.tenant` when a source is named):
/// vendor records per the module's steps (timestamps per §4.7, nulls dropped, `type` first and
/// a vendor `type` moved to `vendor_type`), error events as `type, error_source, error_message,
/// error_code, timestamp[, error_detail][, gap_start, gap_end]` and the flat run summary.
#[derive(Clone, Debug)]
pub struct XdrShaper {
    envelope: Envelope,
}

impl XdrShaper {
    /// A shaper.
    pub fn new(tenant: Option<String>) -> Self {
        Self {
            envelope: Envelope {
                integration: "cortex_xdr",
                namespace: "xdr",
                discriminator: "type",
                position: DiscriminatorPosition::First,
                style: JsonStyle::Compact,
                tenant,
            },
        }
    }
}

/// `error_source` of an error event: the stream, or `startup` for anything outside a stream.
fn error_source(origin: &str) -> &str {
    if ALL_STREAMS.contains(&origin) {
        origin
    } else {
        "startup"
    }
}

impl Shaper for XdrShaper {
    fn vendor_event(&self, event: VendorEvent, out: &mut Vec<u8>) {
        let mut record = event.record.into_object();
        convert_timestamps(&mut record);
        self.envelope.write_vendor(&event.event_type, record, out);
    }

    fn error_event(&self, failure: &Failure, now: jiff::Timestamp, out: &mut Vec<u8>) {
        let mut fields = Map::new();
        fields.insert("error_source".into(), error_source(&failure.origin).into());
        fields.insert("error_message".into(), failure.message.clone().into());
        fields.insert("error_code".into(), failure.code.as_str().into());
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
    use std::borrow::Cow;

    fn line(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn event(kind: &'static str, json: &str) -> VendorEvent {
        VendorEvent {
            event_type: Cow::Borrowed(kind),
            id: None,
            time: None,
            record: serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json)
                .unwrap()
                .into(),
        }
    }

    #[test]
    fn spec_incident_sample_byte_for_byte() {
        let vendor = r#"{"incident_id":"1","creation_time":1575806909185,"modification_time":1575813875168,"detection_time":null,"status":"under_investigation","severity":"medium","description":"'Local Analysis Malware' generated by XDR Agent detected on host AAAAA involving user Administrator","assigned_user_mail":null,"assigned_user_pretty_name":null,"alert_count":1,"low_severity_alert_count":0,"med_severity_alert_count":1,"high_severity_alert_count":0,"user_count":1,"host_count":1,"notes":null,"resolve_comment":null,"manual_severity":null,"manual_description":null,"xdr_url":"https://demisto.hello.com/incident-view/1","starred":false}"#;
        let got = line(|o| XdrShaper::new(None).vendor_event(event("incident", vendor), o));
        assert_eq!(
            got,
            r#"{"integration":"cortex_xdr","xdr":{"type":"incident","incident_id":"1","creation_time":"2019-12-08T12:08:29.185Z","modification_time":"2019-12-08T14:04:35.168Z","status":"under_investigation","severity":"medium","description":"'Local Analysis Malware' generated by XDR Agent detected on host AAAAA involving user Administrator","alert_count":1,"low_severity_alert_count":0,"med_severity_alert_count":1,"high_severity_alert_count":0,"user_count":1,"host_count":1,"xdr_url":"https://demisto.hello.com/incident-view/1","starred":false}}"#
        );
    }

    #[test]
    fn spec_alert_sample_byte_for_byte() {
        let vendor = r#"{"alert_id":"0","creation_time":1700000000000,"local_insert_ts":1700000000000,"severity":"low","name":"a0","host_name":"h","event_type":"Process Execution"}"#;
        let got = line(|o| XdrShaper::new(None).vendor_event(event("alert", vendor), o));
        assert_eq!(
            got,
            r#"{"integration":"cortex_xdr","xdr":{"type":"alert","alert_id":"0","creation_time":"2023-11-14T22:13:20.000Z","local_insert_ts":"2023-11-14T22:13:20.000Z","severity":"low","name":"a0","host_name":"h","event_type":"Process Execution"}}"#
        );
    }

    #[test]
    fn timestamp_conversion_rules() {
        let mut rec: Map<String, Value> = serde_json::from_str(
            r#"{"creation_time":1,"modification_time":0,"detection_time":-5,"resolved_timestamp":null,"local_insert_ts":"2026-01-01","last_modified_ts":[1700000000000,1700000000001],"event_timestamp":1700000000123.0,"agent_host_boot_time":true,"other_ts":1700000000000,"nested":{"creation_time":1700000000000}}"#,
        )
        .unwrap();
        convert_timestamps(&mut rec);
        assert_eq!(
            serde_json::to_string(&rec).unwrap(),
            r#"{"creation_time":"1970-01-01T00:00:00.001Z","local_insert_ts":"2026-01-01","last_modified_ts":["2023-11-14T22:13:20.000Z","2023-11-14T22:13:20.001Z"],"event_timestamp":"2023-11-14T22:13:20.123Z","agent_host_boot_time":true,"other_ts":1700000000000,"nested":{"creation_time":1700000000000}}"#
        );
    }

    #[test]
    fn vendor_type_field_cannot_overwrite_the_discriminator() {
        let got = line(|o| {
            XdrShaper::new(None).vendor_event(
                event(
                    "alert",
                    r#"{"alert_id":"9","type":"Malware","event_type":"Process Execution"}"#,
                ),
                o,
            )
        });
        assert_eq!(
            got,
            r#"{"integration":"cortex_xdr","xdr":{"type":"alert","alert_id":"9","vendor_type":"Malware","event_type":"Process Execution"}}"#
        );
    }

    #[test]
    fn error_event_shape() {
        let ts: jiff::Timestamp = "2026-04-01T00:00:00Z".parse().unwrap();
        let f = Failure::new(
            ErrorCode::ApiHttp401,
            "alerts",
            "HTTP Error 401: Unauthorized",
        );
        let got = line(|o| XdrShaper::new(None).error_event(&f, ts, o));
        assert_eq!(
            got,
            r#"{"integration":"cortex_xdr","xdr":{"type":"error","error_source":"alerts","error_message":"HTTP Error 401: Unauthorized","error_code":"API_HTTP_401","timestamp":"2026-04-01T00:00:00Z"}}"#
        );
        let f =
            Failure::new(ErrorCode::ConfigInvalid, "orchestrator", "bad").with_detail("XDR_SOURCE");
        let got = line(|o| XdrShaper::new(None).error_event(&f, ts, o));
        assert_eq!(
            got,
            r#"{"integration":"cortex_xdr","xdr":{"type":"error","error_source":"startup","error_message":"bad","error_code":"CONFIG_INVALID","timestamp":"2026-04-01T00:00:00Z","error_detail":"XDR_SOURCE"}}"#
        );
    }

    #[test]
    fn run_summary_shape() {
        let summary = RunSummary {
            timestamp: "2026-04-01T00:00:00Z".parse().unwrap(),
            streams: vec![StreamOutcome {
                name: "incidents",
                ran: true,
                success: false,
                delivered: 0,
                duplicates: 0,
                budget_stopped: false,
            }],
        };
        let got = line(|o| XdrShaper::new(None).run_summary(&summary, o));
        assert_eq!(
            got,
            r#"{"integration":"cortex_xdr","xdr":{"type":"run_summary","source":"orchestrator","timestamp":"2026-04-01T00:00:00Z","alerts_ran":false,"incidents_ran":true,"incidents_success":false}}"#
        );
    }
}
