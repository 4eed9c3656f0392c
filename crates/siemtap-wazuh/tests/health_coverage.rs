//! Health coverage is the same for every connector (docs/wazuh-rules.md "Health coverage"):
//! a run summary that reports a failed stream alerts (it never ends on a level-0 rule), an
//! authentication failure alerts at 12, and a second one within 600 s escalates to 14, as
//! 1Password's reference rules 100702/100709 do.

use serde_json::json;
use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::rules_for;

struct Connector {
    name: &'static str,
    ns: &'static str,
    disc: &'static str,
}

const BUILT_IN: &[Connector] = &[
    Connector {
        name: "1password",
        ns: "op",
        disc: "event_type",
    },
    Connector {
        name: "proofpoint",
        ns: "pp",
        disc: "event_type",
    },
    Connector {
        name: "cortex_xdr",
        ns: "xdr",
        disc: "type",
    },
];

fn event(c: &Connector, kind: &str, fields: serde_json::Value) -> String {
    let mut inner = serde_json::Map::new();
    inner.insert(c.disc.into(), kind.into());
    if let serde_json::Value::Object(m) = fields {
        inner.extend(m);
    }
    json!({"integration": c.name, c.ns: inner}).to_string()
}

fn auth_error(c: &Connector) -> String {
    event(
        c,
        "error",
        json!({"error_source": "startup", "error_message": "HTTP 401", "error_code": "API_HTTP_401", "timestamp": "2026-04-01T00:00:00Z"}),
    )
}

/// Every stream of the connector's run summary, and the summary with that stream failed.
fn failed_summaries(c: &Connector) -> Vec<(String, String)> {
    let streams: &[&str] = match c.name {
        "1password" => &["audit", "signin", "itemusage"],
        "proofpoint" => &["siem"],
        "cortex_xdr" => &["alerts", "incidents"],
        _ => unreachable!(),
    };
    streams
        .iter()
        .map(|failed| {
            let mut f = serde_json::Map::new();
            f.insert("source".into(), "orchestrator".into());
            for s in streams {
                f.insert(format!("{s}_ran"), true.into());
                f.insert(format!("{s}_success"), (s != failed).into());
            }
            (failed.to_string(), event(c, "run_summary", f.into()))
        })
        .collect()
}

#[test]
fn failed_run_summaries_alert_for_every_connector() {
    for c in BUILT_IN {
        let engine = Engine::new(rules_for(c.name, None, None).unwrap().rules());
        for (stream, line) in failed_summaries(c) {
            let got = engine.session().process(&line, "stdin", 0).rule.unwrap();
            assert!(
                got.level > 0,
                "{}: a run summary with {stream}_success false ends on level-0 rule {}",
                c.name,
                got.id
            );
        }
    }
}

#[test]
fn authentication_failures_alert_and_escalate_on_repeat_for_every_connector() {
    for c in BUILT_IN {
        let engine = Engine::new(rules_for(c.name, None, None).unwrap().rules());
        let mut s = engine.session();
        let first = s.process(&auth_error(c), "stdin", 0).rule.unwrap();
        assert_eq!(first.level, 12, "{}: first authentication failure", c.name);
        let second = s.process(&auth_error(c), "stdin", 300).rule.unwrap();
        assert_eq!(
            second.level, 14,
            "{}: a second authentication failure within 600 s escalates (got rule {})",
            c.name, second.id
        );
        let mut late = engine.session();
        late.process(&auth_error(c), "stdin", 0);
        let apart = late.process(&auth_error(c), "stdin", 700).rule.unwrap();
        assert_eq!(apart.level, 12, "{}: 700 s apart is no repeat", c.name);
    }
}

#[test]
fn declarative_connectors_have_the_same_health_coverage() {
    let shape = siemtap_wazuh::generate::Shape {
        name: "okta_system_log".into(),
        integration: "okta".into(),
        namespace: "okta".into(),
        event_type_key: "event_type".into(),
        event_types: vec!["system_log".into()],
        streams: vec!["system_log".into(), "users".into()],
        origin: None,
        block: Some((100_900, 100_999)),
    };
    let file = siemtap_wazuh::generate::rules_for_shape(&shape, None).unwrap();
    let engine = Engine::new(file.rules());
    let c = Connector {
        name: "okta",
        ns: "okta",
        disc: "event_type",
    };
    for failed in ["system_log", "users"] {
        let mut f = serde_json::Map::new();
        for s in &shape.streams {
            f.insert(format!("{s}_ran"), true.into());
            f.insert(format!("{s}_success"), (s != failed).into());
        }
        let line = event(&c, "run_summary", f.into());
        let got = engine.session().process(&line, "stdin", 0).rule.unwrap();
        assert_eq!(got.level, 10, "{failed} failed: rule {}", got.id);
    }
    let mut s = engine.session();
    assert_eq!(
        s.process(&auth_error(&c), "stdin", 0).rule.unwrap().level,
        12
    );
    assert_eq!(
        s.process(&auth_error(&c), "stdin", 60).rule.unwrap().level,
        14
    );
}
