//! Usage and configuration errors (exit 2) said where the operator looks: one line on stderr
//! naming the fix and, in wodle mode (events go to stdout and stdout is not a terminal: the
//! SIEM reads it), one `CONFIG_INVALID` error event on stdout, so Wazuh shows it.
//!
//! Errors that belong to no connector use siemtap's own envelope,
//! `{"integration": "siemtap", "siemtap": {"kind": "error", "source": "orchestrator",
//! "error_code": …, "error_message": …, "timestamp": …, "event_type": "error"}}`, which the
//! shipped rule 100810 (`siemtap.kind` = `error`) alerts on.

use std::io::{IsTerminal, Write};

use serde_json::{Map, Value};
use siemtap_core::shape::{DiscriminatorPosition, Envelope, JsonStyle, RunSummary, Shaper};
use siemtap_core::{ErrorCode, Failure, VendorEvent};

use crate::run::{Exit, report_fatal};

/// Whether events of a run with these outputs go to stdout read by a SIEM (none chosen yet
/// means stdout; with fan-out, any output on stdout makes stdout the event channel).
pub fn stdout_is_event_channel(outputs: &[Box<dyn siemtap_core::OutputSpec>]) -> bool {
    (outputs.is_empty() || outputs.iter().any(|o| o.writes_stdout()))
        && !std::io::stdout().is_terminal()
}

/// Reports a usage or configuration error of `siemtap run` and returns exit 2: a line on
/// stderr (and the log) and, when `events_on_stdout`, a `CONFIG_INVALID` event on stdout.
pub fn usage_error(events_on_stdout: bool, message: &str) -> Exit {
    report_fatal(message);
    if events_on_stdout {
        write_event(message);
    }
    Exit::Usage
}

/// Writes one `CONFIG_INVALID` event in siemtap's envelope to stdout.
pub fn write_event(message: &str) {
    let failure = Failure::new(ErrorCode::ConfigInvalid, "orchestrator", message);
    let mut line = Vec::new();
    SiemtapShaper.error_event(&failure, jiff::Timestamp::now(), &mut line);
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    if out.write_all(&line).and_then(|()| out.flush()).is_err() {
        tracing::error!("cannot write the CONFIG_INVALID event to stdout");
    }
}

/// siemtap's own envelope (`integration` and namespace `siemtap`), for failures that belong
/// to no connector (an unknown connector, an unreadable configuration).
pub struct SiemtapShaper;

impl SiemtapShaper {
    fn envelope() -> Envelope {
        Envelope {
            integration: "siemtap",
            namespace: "siemtap",
            discriminator: "event_type",
            position: DiscriminatorPosition::Last,
            style: JsonStyle::Compact,
            tenant: None,
        }
    }
}

impl Shaper for SiemtapShaper {
    fn vendor_event(&self, event: VendorEvent, out: &mut Vec<u8>) {
        Self::envelope().write_vendor(&event.event_type, event.record, out);
    }

    fn error_event(&self, failure: &Failure, now: jiff::Timestamp, out: &mut Vec<u8>) {
        let mut f = Map::new();
        f.insert("kind".into(), "error".into());
        f.insert("source".into(), failure.origin.clone().into());
        f.insert("error_code".into(), failure.code.as_str().into());
        f.insert("error_message".into(), failure.message.clone().into());
        // What rule 100810's description shows.
        f.insert("error".into(), failure.code.as_str().into());
        f.insert("message".into(), failure.message.clone().into());
        f.insert(
            "timestamp".into(),
            siemtap_core::shape::utc_seconds(now).into(),
        );
        if let Some(d) = &failure.detail {
            f.insert("error_detail".into(), d.clone().into());
        }
        Self::envelope().write_internal("error", f, out);
    }

    fn run_summary(&self, summary: &RunSummary, out: &mut Vec<u8>) {
        let mut f = Map::new();
        f.insert("source".into(), "orchestrator".into());
        f.insert(
            "timestamp".into(),
            siemtap_core::shape::utc_seconds(summary.timestamp).into(),
        );
        for s in &summary.streams {
            f.insert(format!("{}_ran", s.name), Value::Bool(s.ran));
        }
        Self::envelope().write_internal("run_summary", f, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_invalid_event_has_the_error_event_shape() {
        let mut line = Vec::new();
        let failure = Failure::new(ErrorCode::ConfigInvalid, "orchestrator", "bad \u{e9}");
        SiemtapShaper.error_event(&failure, jiff::Timestamp::UNIX_EPOCH, &mut line);
        let text = String::from_utf8(line).unwrap();
        assert!(text.is_ascii(), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["integration"], "siemtap");
        assert_eq!(v["siemtap"]["error_code"], "CONFIG_INVALID");
        assert_eq!(v["siemtap"]["kind"], "error");
        assert_eq!(v["siemtap"]["event_type"], "error");
        assert_eq!(v["siemtap"]["error_message"], "bad \u{e9}");
    }
}
