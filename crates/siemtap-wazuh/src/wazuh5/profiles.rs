//! The 5.x field maps of the built-in connectors, siemtap's own health events and
//! declarative connectors (docs/wazuh5.md "Field maps" renders these tables).
//!
//! Every vendor field with a WCS home is mapped; the rest stay in `event.original` only
//! (the WCS index is `dynamic: false`, so unmapped vendor fields would not be searchable).

use serde_json::Value;

use super::profile::build::{app, c, date, eq2, r, when, when_all};
use super::profile::{Block, Cond, MapOp, Profile, Src};
use crate::generate::Shape;

fn common(integration: &str, ns: &str, disc: &str, vendor: &str, product: &str) -> Block {
    Block {
        check: Vec::new(),
        map: vec![
            c("event.kind", "event"),
            c("event.module", integration),
            MapOp {
                field: "event.dataset".into(),
                src: Src::Concat(format!("{integration}."), format!("{ns}.{disc}")),
            },
            c("observer.vendor", vendor),
            c("observer.product", product),
        ],
    }
}

/// `<stream>_success == false` → a tag rules can match (run summaries).
fn flag(ns: &str, disc: &str, key: &str, tag: &str) -> Block {
    when_all(
        eq2(ns, disc, "run_summary", &format!("{ns}.{key}"), false),
        vec![app("tags", &[tag])],
    )
}

fn error_block(ns: &str, disc: &str, source_key: &str) -> Block {
    when(
        ns,
        disc,
        "error",
        vec![
            c("event.kind", "pipeline_error"),
            c("event.outcome", "failure"),
            r("error.code", &format!("{ns}.error_code")),
            r("error.message", &format!("{ns}.error_message")),
            r("message", &format!("{ns}.error_message")),
            r("event.provider", &format!("{ns}.{source_key}")),
            date("@timestamp", &format!("{ns}.timestamp")),
        ],
    )
}

fn summary_block(ns: &str, disc: &str) -> Block {
    when(
        ns,
        disc,
        "run_summary",
        vec![
            r("event.provider", &format!("{ns}.source")),
            date("@timestamp", &format!("{ns}.timestamp")),
        ],
    )
}

/// 1Password Events API (audit events, sign-in attempts, item usage).
pub fn onepassword() -> Profile {
    let (ns, d) = ("op", "event_type");
    let user = |p: &str| {
        vec![
            r("user.id", &format!("op.{p}.uuid")),
            r("user.email", &format!("op.{p}.email")),
            r("user.full_name", &format!("op.{p}.name")),
        ]
    };
    let client = || {
        vec![
            r("source.ip", "op.client.ip_address"),
            r("user_agent.name", "op.client.app_name"),
            r("user_agent.version", "op.client.app_version"),
            r("user_agent.os.name", "op.client.os_name"),
            r("user_agent.os.version", "op.client.os_version"),
        ]
    };
    let geo = || {
        vec![
            r("source.geo.country_name", "op.location.country"),
            r("source.geo.region_name", "op.location.region"),
            r("source.geo.city_name", "op.location.city"),
        ]
    };
    let mut audit = vec![
        app("event.category", &["iam"]),
        app("event.type", &["change"]),
        r("event.action", "op.action"),
        r("event.code", "op.object_type"),
        r("user.id", "op.actor_uuid"),
        r("user.email", "op.actor_details.email"),
        r("user.full_name", "op.actor_details.name"),
        r("source.ip", "op.session.ip"),
    ];
    audit.extend(geo());
    let mut signin = vec![
        app("event.category", &["authentication"]),
        app("event.type", &["info"]),
        c("event.action", "sign-in"),
        c("event.outcome", "failure"),
        r("event.reason", "op.category"),
        r("event.code", "op.type"),
        r("source.geo.country_iso_code", "op.country"),
    ];
    signin.extend(user("target_user"));
    signin.extend(client());
    let mut usage = vec![
        app("event.category", &["iam"]),
        app("event.type", &["access"]),
        r("event.action", "op.action"),
    ];
    usage.extend(user("user"));
    usage.extend(client());
    usage.extend(geo());
    let mut first = common("1password", ns, d, "1Password", "1Password Events API");
    first.map.push(date("@timestamp", "op.timestamp"));
    first.map.push(r("event.id", "op.uuid"));
    Profile {
        integration: "1password".into(),
        category: "access-management",
        label: "1Password".into(),
        ns: ns.into(),
        disc: d.into(),
        blocks: vec![
            first,
            when(ns, d, "audit_event", audit),
            when(ns, d, "signin_attempt", signin),
            when_all(
                eq2(ns, d, "signin_attempt", "op.category", "success"),
                vec![c("event.outcome", "success")],
            ),
            when(ns, d, "item_usage", usage),
            error_block(ns, d, "source"),
            summary_block(ns, d),
            flag(ns, d, "audit_success", "audit_collection_failed"),
            flag(ns, d, "signin_success", "signin_collection_failed"),
            flag(ns, d, "itemusage_success", "itemusage_collection_failed"),
        ],
    }
}

/// Proofpoint TAP (SIEM messages and clicks, People reports).
pub fn proofpoint() -> Profile {
    let (ns, d) = ("pp", "event_type");
    let message = |action: &str| {
        vec![
            c("event.kind", "alert"),
            app("event.category", &["email"]),
            app("event.type", &["info"]),
            c("event.action", action),
            date("@timestamp", "pp.messageTime"),
            r("event.id", "pp.GUID"),
            r("email.from.address", "pp.fromAddress"),
            r("email.sender.address", "pp.sender"),
            r("email.to.address", "pp.recipient"),
            r("email.subject", "pp.subject"),
            r("email.message_id", "pp.messageID"),
            r("email.x_mailer", "pp.xmailer"),
            r("source.ip", "pp.senderIP"),
        ]
    };
    let click = |action: &str| {
        vec![
            c("event.kind", "alert"),
            app("event.category", &["email", "web"]),
            app("event.type", &["access"]),
            c("event.action", action),
            date("@timestamp", "pp.clickTime"),
            r("event.id", "pp.id"),
            r("event.reason", "pp.classification"),
            r("url.original", "pp.url"),
            r("source.ip", "pp.clickIP"),
            r("user_agent.original", "pp.userAgent"),
            r("user.email", "pp.recipient"),
            r("email.sender.address", "pp.sender"),
            r("email.message_id", "pp.messageID"),
        ]
    };
    let report = || vec![c("event.kind", "state"), r("message", "pp.interval")];
    Profile {
        integration: "proofpoint".into(),
        category: "security",
        label: "Proofpoint TAP".into(),
        ns: ns.into(),
        disc: d.into(),
        blocks: vec![
            common(
                "proofpoint",
                ns,
                d,
                "Proofpoint",
                "Targeted Attack Protection",
            ),
            when(ns, d, "messagesBlocked", message("message-blocked")),
            when(ns, d, "messagesDelivered", message("message-delivered")),
            when(ns, d, "clicksBlocked", click("click-blocked")),
            when(ns, d, "clicksPermitted", click("click-permitted")),
            when(ns, d, "vap", report()),
            when(ns, d, "top_clickers", report()),
            error_block(ns, d, "error_source"),
            summary_block(ns, d),
            flag(ns, d, "siem_success", "siem_collection_failed"),
        ],
    }
}

/// Severity words of Cortex XDR → `event.severity` (long, ECS's 0–100 risk scale as Elastic
/// uses it: 21 low, 47 medium, 73 high, 99 critical).
pub const XDR_SEVERITY: &[(&str, i64)] =
    &[("low", 21), ("medium", 47), ("high", 73), ("critical", 99)];

/// Cortex XDR (alerts and incidents).
pub fn cortex_xdr() -> Profile {
    let (ns, d) = ("xdr", "type");
    let alert = vec![
        c("event.kind", "alert"),
        app("event.category", &["intrusion_detection"]),
        app("event.type", &["info"]),
        date("@timestamp", "xdr.creation_time"),
        r("event.id", "xdr.alert_id"),
        r("rule.name", "xdr.name"),
        r("message", "xdr.description"),
        r("event.action", "xdr.action"),
        r("event.provider", "xdr.source"),
        r("host.name", "xdr.host_name"),
        r("host.ip", "xdr.host_ip"),
        r("threat.tactic.name", "xdr.mitre_tactic_id_and_name"),
        r("threat.technique.name", "xdr.mitre_technique_id_and_name"),
    ];
    let incident = vec![
        c("event.kind", "alert"),
        app("event.category", &["intrusion_detection"]),
        app("event.type", &["info"]),
        date("@timestamp", "xdr.creation_time"),
        r("event.id", "xdr.incident_id"),
        r("message", "xdr.description"),
        r("event.action", "xdr.status"),
        r("event.reason", "xdr.resolve_comment"),
        r("event.url", "xdr.xdr_url"),
        r("threat.tactic.name", "xdr.mitre_tactics_ids_and_names"),
    ];
    let mut blocks = vec![
        common("cortex_xdr", ns, d, "Palo Alto Networks", "Cortex XDR"),
        when(ns, d, "alert", alert),
        when(ns, d, "incident", incident),
    ];
    for (word, n) in XDR_SEVERITY {
        blocks.push(when_all(
            vec![Cond::Eq("xdr.severity".into(), Value::from(*word))],
            vec![c("event.severity", *n)],
        ));
    }
    blocks.extend([
        when_all(
            vec![
                Cond::Eq("xdr.type".into(), Value::from("incident")),
                Cond::Gte("xdr.alert_count".into(), 10),
            ],
            vec![app("tags", &["correlates_10_or_more_alerts"])],
        ),
        error_block(ns, d, "error_source"),
        summary_block(ns, d),
        flag(ns, d, "alerts_success", "alerts_collection_failed"),
        flag(ns, d, "incidents_success", "incidents_collection_failed"),
    ]);
    Profile {
        integration: "cortex_xdr".into(),
        category: "security",
        label: "Cortex XDR".into(),
        ns: ns.into(),
        disc: d.into(),
        blocks,
    }
}

/// siemtap's own health and error events (any connector).
pub fn siemtap() -> Profile {
    let (ns, d) = ("siemtap", "kind");
    Profile {
        integration: "siemtap".into(),
        category: "other",
        label: "siemtap".into(),
        ns: ns.into(),
        disc: d.into(),
        blocks: vec![
            common("siemtap", ns, d, "siemtap", "siemtap"),
            when(
                ns,
                d,
                "health",
                vec![
                    r("event.action", "siemtap.check"),
                    r("event.provider", "siemtap.integration"),
                    r("message", "siemtap.message"),
                ],
            ),
            when(
                ns,
                d,
                "error",
                vec![
                    c("event.kind", "pipeline_error"),
                    c("event.outcome", "failure"),
                    r("error.code", "siemtap.error"),
                    r("error.message", "siemtap.message"),
                    r("message", "siemtap.message"),
                    r("event.provider", "siemtap.source"),
                ],
            ),
        ],
    }
}

/// A declarative connector: only the framework's own fields (discriminator, timestamps,
/// errors, health, run summaries) are known; its vendor records stay in `event.original`.
pub fn custom(shape: &Shape) -> Profile {
    let (ns, d) = (shape.namespace.as_str(), shape.event_type_key.as_str());
    let i = shape.integration.as_str();
    let mut first = common(i, ns, d, i, i);
    first
        .map
        .push(date("@timestamp", &format!("{ns}.timestamp")));
    let mut blocks = vec![
        first,
        error_block(ns, d, "error_source"),
        when(
            ns,
            d,
            "health",
            vec![
                r("event.provider", &format!("{ns}.source")),
                r("event.code", &format!("{ns}.health_code")),
                r("message", &format!("{ns}.message")),
            ],
        ),
        summary_block(ns, d),
    ];
    for s in &shape.streams {
        blocks.push(flag(
            ns,
            d,
            &format!("{s}_success"),
            &format!("{s}_collection_failed"),
        ));
    }
    Profile {
        integration: i.into(),
        category: "other",
        label: shape.name.clone(),
        ns: ns.into(),
        disc: d.into(),
        blocks,
    }
}

/// The profile of a built-in name (`1password`, `proofpoint`, `cortex_xdr`, `siemtap`).
pub fn builtin(name: &str) -> Option<Profile> {
    Some(match name {
        "1password" => onepassword(),
        "proofpoint" => proofpoint(),
        "cortex_xdr" => cortex_xdr(),
        "siemtap" => siemtap(),
        _ => return None,
    })
}
