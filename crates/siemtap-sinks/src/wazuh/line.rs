//! One event line on its way into Wazuh: Wazuh-safe shaping ([`crate::wazuh::shape`]), the size
//! rule ([`crate::wazuh::size`]), counters, warnings and the health events that make every
//! reshaping visible in band. [`WazuhSafeSink`] applies the same to any other sink (e.g. stdout
//! under the command wodle).

use serde_json::{Map, Value, json};
use siemtap_core::{Batch, BoxFuture, Delivery, Sink, SinkError};

use crate::wazuh::shape::{DECODER_FIELD_LIMIT, make_wazuh_safe, namespace_of};
use crate::wazuh::size::{Truncation, encode, sha256_hex, shrink_to_fit};

/// Counters of what the Wazuh preparation did (per sink, for the run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WazuhStats {
    /// Events prepared.
    pub events: u64,
    /// Events shrunk to fit the size budget.
    pub truncated: u64,
    /// Events over the decoder's field limit.
    pub over_field_limit: u64,
    /// Lines that were not JSON (replaced by a health event).
    pub unparsable: u64,
    /// Health events produced.
    pub health_events: u64,
}

/// An event ready to send, plus the health events that report what was done to it.
#[derive(Clone, Debug, Default)]
pub struct PreparedLine {
    /// The encoded event (compact JSON, no newline), within the size budget.
    pub event: Vec<u8>,
    /// Health events (`{"integration":"siemtap",…}`) to send after it.
    pub health: Vec<Vec<u8>>,
}

impl PreparedLine {
    /// Appends the event, then its health events, to `batch`.
    pub fn push_into(self, batch: &mut Batch) {
        batch.push_with(|out| out.extend_from_slice(&self.event));
        for h in self.health {
            batch.push_with(|out| out.extend_from_slice(&h));
        }
    }
}

/// Prepares lines for Wazuh.
#[derive(Clone, Debug)]
pub struct WazuhPrep {
    shaping: bool,
    health_events: bool,
    stats: WazuhStats,
}

impl Default for WazuhPrep {
    fn default() -> Self {
        Self::new(true, true)
    }
}

impl WazuhPrep {
    /// `shaping`: apply the Wazuh-safe rules (the size rule always applies).
    /// `health_events`: emit health events for truncations, field-limit overruns and
    /// unparsable lines (they are logged either way).
    pub fn new(shaping: bool, health_events: bool) -> Self {
        Self {
            shaping,
            health_events,
            stats: WazuhStats::default(),
        }
    }

    /// What has been prepared so far.
    pub fn stats(&self) -> &WazuhStats {
        &self.stats
    }

    /// Prepares one line (a complete JSON event without newline); `max_bytes` is the budget
    /// for the encoded event (datagram limit minus the `1:<location>:` prefix).
    pub fn prepare(&mut self, line: &[u8], max_bytes: usize) -> PreparedLine {
        self.stats.events += 1;
        let mut out = PreparedLine::default();
        let mut event: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                self.stats.unparsable += 1;
                tracing::error!(
                    bytes = line.len(),
                    sha256 = %sha256_hex(line),
                    "an output line is not JSON ({e}); sending a health event in its place"
                );
                let health = unparsable_event(line, &e.to_string());
                self.stats.health_events += 1;
                out.event = fit_health(health, max_bytes);
                return out;
            }
        };
        let integration = event
            .get("integration")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let event_type = namespace_of(&event)
            .and_then(|ns| event[ns].get("event_type"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if self.shaping {
            let report = make_wazuh_safe(&mut event);
            if report.over_field_limit() {
                self.stats.over_field_limit += 1;
                tracing::warn!(
                    integration = %integration,
                    fields = report.fields,
                    "event has {} fields, over the Wazuh JSON decoder's limit of {DECODER_FIELD_LIMIT} \
                     (analysisd.decoder_order_size): fields after the limit are not decoded",
                    report.fields
                );
                if self.health_events {
                    let h = health(
                        "field_limit",
                        &integration,
                        event_type.as_deref(),
                        format!(
                            "event has {} fields; the Wazuh JSON decoder keeps the first {DECODER_FIELD_LIMIT}",
                            report.fields
                        ),
                        [
                            ("fields", Value::String(report.fields.to_string())),
                            ("limit", Value::String(DECODER_FIELD_LIMIT.to_string())),
                        ],
                    );
                    out.health.push(fit_health(h, max_bytes));
                }
            }
        }
        if let Some(t) = shrink_to_fit(&mut event, line, max_bytes) {
            self.stats.truncated += 1;
            tracing::warn!(
                integration = %integration,
                original_size = t.original_size,
                final_size = t.final_size,
                sha256 = %t.original_sha256,
                fields = ?t.fields,
                "event over the {max_bytes}-byte Wazuh budget was shrunk and marked truncated"
            );
            if self.health_events {
                out.health.push(fit_health(
                    truncation_event(&integration, event_type.as_deref(), &t, max_bytes),
                    max_bytes,
                ));
            }
        }
        self.stats.health_events += out.health.len() as u64;
        out.event = encode(&event);
        out
    }
}

/// A health event: `{"integration":"siemtap","siemtap":{"kind":"health","check":…,…}}`.
fn health<const N: usize>(
    check: &str,
    integration: &str,
    event_type: Option<&str>,
    message: String,
    extra: [(&str, Value); N],
) -> Value {
    let mut body = Map::new();
    body.insert("kind".into(), json!("health"));
    body.insert("check".into(), json!(check));
    if !integration.is_empty() {
        body.insert("integration".into(), json!(integration));
    }
    if let Some(t) = event_type {
        body.insert("original_event_type".into(), json!(t));
    }
    body.insert("message".into(), json!(message));
    for (k, v) in extra {
        body.insert(k.into(), v);
    }
    json!({"integration": "siemtap", "siemtap": body})
}

fn truncation_event(
    integration: &str,
    event_type: Option<&str>,
    t: &Truncation,
    max_bytes: usize,
) -> Value {
    health(
        "event_truncated",
        integration,
        event_type,
        format!(
            "event of {} bytes shrunk to {} to fit Wazuh's {max_bytes}-byte budget",
            t.original_size, t.final_size
        ),
        [
            ("original_size", json!(t.original_size.to_string())),
            ("original_sha256", json!(t.original_sha256)),
            ("final_size", json!(t.final_size.to_string())),
            (
                "truncated_fields",
                json!(t.fields.iter().take(32).collect::<Vec<_>>()),
            ),
        ],
    )
}

fn unparsable_event(line: &[u8], error: &str) -> Value {
    let excerpt: String = String::from_utf8_lossy(&line[..line.len().min(512)]).into_owned();
    health(
        "unparsable_event",
        "",
        None,
        format!("an output line was not JSON ({error}); it was replaced by this event"),
        [
            ("original_size", json!(line.len().to_string())),
            ("original_sha256", json!(sha256_hex(line))),
            ("excerpt", json!(excerpt)),
        ],
    )
}

fn fit_health(mut event: Value, max_bytes: usize) -> Vec<u8> {
    let original = encode(&event);
    if original.len() <= max_bytes {
        return original;
    }
    shrink_to_fit(&mut event, &original, max_bytes);
    encode(&event)
}

/// Wraps any sink with Wazuh preparation: each line is shaped and held to `max_bytes`, and
/// health events follow the events they describe, in the same batch.
pub struct WazuhSafeSink<S> {
    inner: S,
    prep: WazuhPrep,
    max_bytes: usize,
    batch: Batch,
}

impl<S: Sink> WazuhSafeSink<S> {
    /// Wraps `inner`. For stdout under the command wodle, `max_bytes` is 65,535 minus the
    /// length of `1:command_<tag>:`.
    pub fn new(inner: S, prep: WazuhPrep, max_bytes: usize) -> Self {
        Self {
            inner,
            prep,
            max_bytes,
            batch: Batch::new(),
        }
    }

    /// The preparation counters.
    pub fn stats(&self) -> &WazuhStats {
        self.prep.stats()
    }
}

impl<S: Sink> Sink for WazuhSafeSink<S> {
    fn output_id(&self) -> Option<&str> {
        self.inner.output_id()
    }

    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        self.batch.clear();
        for line in batch.lines() {
            self.prep
                .prepare(line, self.max_bytes)
                .push_into(&mut self.batch);
        }
        Box::pin(async move { self.inner.send(&self.batch).await })
    }

    crate::wazuh::forward_to_inner!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn python_style_line_comes_out_compact_and_safe() {
        let line = br#"{"integration": "1password", "op": {"uuid": "U1", "latitude": 43.64, "details": null, "event_type": "item_usage"}}"#;
        let p = WazuhPrep::default().prepare(line, 65_000);
        assert_eq!(
            String::from_utf8(p.event).unwrap(),
            r#"{"integration":"1password","op":{"uuid":"U1","latitude":"43.64","event_type":"item_usage"}}"#
        );
        assert!(p.health.is_empty());
    }

    #[test]
    fn oversize_event_gets_a_health_event() {
        let line = format!(
            r#"{{"integration":"x","x":{{"event_type":"alert","blob":"{}"}}}}"#,
            "a".repeat(200_000)
        );
        let mut prep = WazuhPrep::default();
        let p = prep.prepare(line.as_bytes(), 65_000);
        assert!(p.event.len() <= 65_000);
        assert_eq!(p.health.len(), 1);
        let h = parse(&p.health[0]);
        assert_eq!(h["integration"], "siemtap");
        assert_eq!(h["siemtap"]["check"], "event_truncated");
        assert_eq!(h["siemtap"]["integration"], "x");
        assert_eq!(h["siemtap"]["original_event_type"], "alert");
        assert_eq!(h["siemtap"]["original_sha256"], sha256_hex(line.as_bytes()));
        assert_eq!(prep.stats().truncated, 1);
    }

    #[test]
    fn field_limit_overrun_warns_with_a_health_event() {
        let fields: Vec<String> = (0..300).map(|i| format!(r#""f{i}":"v""#)).collect();
        let line = format!(r#"{{"integration":"x","x":{{{}}}}}"#, fields.join(","));
        let mut prep = WazuhPrep::default();
        let p = prep.prepare(line.as_bytes(), 65_000);
        assert_eq!(parse(&p.event)["x"]["f299"], "v", "nothing removed");
        let h = parse(&p.health[0]);
        assert_eq!(h["siemtap"]["check"], "field_limit");
        assert_eq!(h["siemtap"]["fields"], "301");
        assert_eq!(prep.stats().over_field_limit, 1);
        // Without health events: logged and counted only.
        let mut quiet = WazuhPrep::new(true, false);
        assert!(quiet.prepare(line.as_bytes(), 65_000).health.is_empty());
        assert_eq!(quiet.stats().over_field_limit, 1);
    }

    #[test]
    fn unparsable_line_is_replaced_by_a_health_event() {
        let mut prep = WazuhPrep::default();
        let p = prep.prepare(b"{not json", 65_000);
        let h = parse(&p.event);
        assert_eq!(h["siemtap"]["check"], "unparsable_event");
        assert_eq!(h["siemtap"]["excerpt"], "{not json");
        assert_eq!(prep.stats().unparsable, 1);
    }

    #[test]
    fn shaping_can_be_off_but_size_still_applies() {
        let line = format!(
            r#"{{"integration":"x","x":{{"n":1.5,"blob":"{}"}}}}"#,
            "a".repeat(70_000)
        );
        let p = WazuhPrep::new(false, false).prepare(line.as_bytes(), 65_535);
        let v = parse(&p.event);
        assert_eq!(v["x"]["n"], 1.5);
        assert_eq!(v["x"]["truncated"], true);
    }
}
