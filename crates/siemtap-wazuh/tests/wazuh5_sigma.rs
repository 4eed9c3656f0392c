//! The Sigma evaluator against a table of rule/event cases: one row per modifier and per
//! condition form, each with an event that matches and one that does not.

use serde_json::{Value, json};
use siemtap_wazuh::wazuh5::sigma::{SigmaError, detection_matches};

fn event() -> Value {
    json!({
        "event": {"action": "Sign-In", "category": ["authentication", "session"], "severity": 73,
                  "dataset": "1password.signin_attempt"},
        "user": {"email": "ann@example.com", "name": null},
        "source.ip": "10.1.2.3",
        "message": "line one\nline two",
        "tags": ["audit_collection_failed"]
    })
}

fn det(d: Value) -> serde_json::Map<String, Value> {
    d.as_object().unwrap().clone()
}

/// (case, detection, expected on [`event`]).
fn table() -> Vec<(&'static str, Value, bool)> {
    vec![
        // Plain values, lists, maps.
        (
            "plain equal, case-insensitive",
            json!({"s": {"event.action": "sign-in"}, "condition": "s"}),
            true,
        ),
        (
            "plain unequal",
            json!({"s": {"event.action": "sign-out"}, "condition": "s"}),
            false,
        ),
        (
            "list is OR",
            json!({"s": {"event.action": ["x", "sign-in"]}, "condition": "s"}),
            true,
        ),
        (
            "list is OR, none",
            json!({"s": {"event.action": ["x", "y"]}, "condition": "s"}),
            false,
        ),
        (
            "map is AND",
            json!({"s": {"event.action": "sign-in", "user.email": "ann@example.com"}, "condition": "s"}),
            true,
        ),
        (
            "map is AND, one fails",
            json!({"s": {"event.action": "sign-in", "user.email": "bob@example.com"}, "condition": "s"}),
            false,
        ),
        (
            "list of maps is OR",
            json!({"s": [{"event.action": "x"}, {"user.email": "ann@example.com"}], "condition": "s"}),
            true,
        ),
        (
            "array field: any element",
            json!({"s": {"event.category": "session"}, "condition": "s"}),
            true,
        ),
        (
            "dotted key in the event",
            json!({"s": {"source.ip": "10.1.2.3"}, "condition": "s"}),
            true,
        ),
        (
            "number",
            json!({"s": {"event.severity": 73}, "condition": "s"}),
            true,
        ),
        (
            "number, other",
            json!({"s": {"event.severity": 21}, "condition": "s"}),
            false,
        ),
        (
            "wildcard",
            json!({"s": {"user.email": "*@example.com"}, "condition": "s"}),
            true,
        ),
        (
            "wildcard, no",
            json!({"s": {"user.email": "*@example.org"}, "condition": "s"}),
            false,
        ),
        (
            "null: absent or null",
            json!({"s": {"user.name": null}, "condition": "s"}),
            true,
        ),
        (
            "null: present",
            json!({"s": {"user.email": null}, "condition": "s"}),
            false,
        ),
        (
            "keywords",
            json!({"keywords": ["two"], "condition": "keywords"}),
            true,
        ),
        (
            "keywords, no",
            json!({"keywords": ["three"], "condition": "keywords"}),
            false,
        ),
        // Modifiers.
        (
            "contains",
            json!({"s": {"user.email|contains": "@EXAMPLE"}, "condition": "s"}),
            true,
        ),
        (
            "contains, no",
            json!({"s": {"user.email|contains": "bob"}, "condition": "s"}),
            false,
        ),
        (
            "startswith",
            json!({"s": {"event.dataset|startswith": "1password."}, "condition": "s"}),
            true,
        ),
        (
            "startswith, no",
            json!({"s": {"event.dataset|startswith": "password"}, "condition": "s"}),
            false,
        ),
        (
            "endswith",
            json!({"s": {"user.email|endswith": ".com"}, "condition": "s"}),
            true,
        ),
        (
            "endswith, no",
            json!({"s": {"user.email|endswith": ".org"}, "condition": "s"}),
            false,
        ),
        (
            "re searches",
            json!({"s": {"user.email|re": "^ann@"}, "condition": "s"}),
            true,
        ),
        (
            "re is case-sensitive",
            json!({"s": {"event.action|re": "^sign"}, "condition": "s"}),
            false,
        ),
        (
            "re|i",
            json!({"s": {"event.action|re|i": "^sign"}, "condition": "s"}),
            true,
        ),
        (
            "re|m",
            json!({"s": {"message|re|m": "^line two$"}, "condition": "s"}),
            true,
        ),
        (
            "re without m",
            json!({"s": {"message|re": "^line two$"}, "condition": "s"}),
            false,
        ),
        (
            "exists true",
            json!({"s": {"user.email|exists": true}, "condition": "s"}),
            true,
        ),
        (
            "exists true, absent",
            json!({"s": {"host.name|exists": true}, "condition": "s"}),
            false,
        ),
        (
            "exists false",
            json!({"s": {"host.name|exists": false}, "condition": "s"}),
            true,
        ),
        (
            "exists: null is absent",
            json!({"s": {"user.name|exists": true}, "condition": "s"}),
            false,
        ),
        (
            "all",
            json!({"s": {"event.category|all": ["authentication", "session"]}, "condition": "s"}),
            true,
        ),
        (
            "all, one missing",
            json!({"s": {"event.category|all": ["authentication", "iam"]}, "condition": "s"}),
            false,
        ),
        (
            "contains|all",
            json!({"s": {"user.email|contains|all": ["ann", "example"]}, "condition": "s"}),
            true,
        ),
        (
            "contains|all, no",
            json!({"s": {"user.email|contains|all": ["ann", "bob"]}, "condition": "s"}),
            false,
        ),
        (
            "cidr",
            json!({"s": {"source.ip|cidr": "10.0.0.0/8"}, "condition": "s"}),
            true,
        ),
        (
            "cidr, no",
            json!({"s": {"source.ip|cidr": "192.168.0.0/16"}, "condition": "s"}),
            false,
        ),
        (
            "gte",
            json!({"s": {"event.severity|gte": 73}, "condition": "s"}),
            true,
        ),
        (
            "gt, no",
            json!({"s": {"event.severity|gt": 73}, "condition": "s"}),
            false,
        ),
        (
            "lt",
            json!({"s": {"event.severity|lt": 99}, "condition": "s"}),
            true,
        ),
        (
            "lte, no",
            json!({"s": {"event.severity|lte": 21}, "condition": "s"}),
            false,
        ),
        // Conditions.
        (
            "and",
            json!({"a": {"event.action": "sign-in"}, "b": {"tags": "audit_collection_failed"}, "condition": "a and b"}),
            true,
        ),
        (
            "and, one false",
            json!({"a": {"event.action": "sign-in"}, "b": {"tags": "x"}, "condition": "a and b"}),
            false,
        ),
        (
            "or",
            json!({"a": {"event.action": "x"}, "b": {"tags": "audit_collection_failed"}, "condition": "a or b"}),
            true,
        ),
        (
            "or, both false",
            json!({"a": {"event.action": "x"}, "b": {"tags": "y"}, "condition": "a or b"}),
            false,
        ),
        (
            "not",
            json!({"a": {"event.action": "x"}, "condition": "not a"}),
            true,
        ),
        (
            "and not",
            json!({"a": {"event.action": "sign-in"}, "f": {"user.email|endswith": ".com"}, "condition": "a and not f"}),
            false,
        ),
        (
            "not binds tighter than and",
            json!({"a": {"event.action": "x"}, "b": {"event.action": "sign-in"}, "condition": "not a and b"}),
            true,
        ),
        (
            "and binds tighter than or",
            json!({"a": {"event.action": "sign-in"}, "b": {"event.action": "x"}, "c": {"event.action": "y"}, "condition": "a or b and c"}),
            true,
        ),
        (
            "parentheses",
            json!({"a": {"event.action": "sign-in"}, "b": {"event.action": "x"}, "c": {"event.action": "y"}, "condition": "(a or b) and c"}),
            false,
        ),
        (
            "1 of X*",
            json!({"sel_a": {"event.action": "x"}, "sel_b": {"event.action": "sign-in"}, "condition": "1 of sel_*"}),
            true,
        ),
        (
            "1 of X*, none",
            json!({"sel_a": {"event.action": "x"}, "sel_b": {"event.action": "y"}, "other": {"event.action": "sign-in"}, "condition": "1 of sel_*"}),
            false,
        ),
        (
            "all of X*",
            json!({"sel_a": {"event.action": "sign-in"}, "sel_b": {"tags": "audit_collection_failed"}, "other": {"event.action": "x"}, "condition": "all of sel_*"}),
            true,
        ),
        (
            "all of X*, one false",
            json!({"sel_a": {"event.action": "sign-in"}, "sel_b": {"tags": "x"}, "condition": "all of sel_*"}),
            false,
        ),
        (
            "1 of them",
            json!({"a": {"event.action": "x"}, "b": {"event.action": "sign-in"}, "condition": "1 of them"}),
            true,
        ),
        (
            "all of them",
            json!({"a": {"event.action": "x"}, "b": {"event.action": "sign-in"}, "condition": "all of them"}),
            false,
        ),
        (
            "all of X* and not 1 of Y*",
            json!({"match_1": {"event.action": "sign-in"}, "not_1": {"tags": "x"}, "not_2": {"user.email|contains": "bob"}, "condition": "all of match_* and not 1 of not_*"}),
            true,
        ),
        (
            "all of X* and not 1 of Y*, excluded",
            json!({"match_1": {"event.action": "sign-in"}, "not_1": {"tags": "x"}, "not_2": {"user.email|contains": "ann"}, "condition": "all of match_* and not 1 of not_*"}),
            false,
        ),
    ]
}

#[test]
fn sigma_table_of_modifiers_and_conditions() {
    let ev = event();
    let mut wrong = Vec::new();
    for (name, d, want) in table() {
        match detection_matches(&det(d), &ev) {
            Ok(got) if got == want => {}
            other => wrong.push(format!("{name}: expected {want}, got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn sigma_refuses_what_it_cannot_evaluate() {
    let ev = event();
    let cases = [
        json!({"s": {"event.action": "x"}, "condition": "s and missing"}),
        json!({"s": {"event.action": "x"}, "condition": "s and"}),
        json!({"s": {"event.action": "x"}, "condition": "(s"}),
        json!({"s": {"event.action": "x"}, "condition": "s_*"}),
        json!({"s": {"event.action|base64": "x"}, "condition": "s"}),
        json!({"s": {"event.action|re": "("}, "condition": "s"}),
        json!({"s": {"event.action|all": ["x"]}, "condition": "s"}),
        json!({"s": {"event.action|exists": "yes"}, "condition": "s"}),
        json!({"s": {"event.action": "x"}}),
    ];
    for d in cases {
        let r = detection_matches(&det(d.clone()), &ev);
        assert!(r.is_err(), "{d}: {r:?}");
    }
    let r = detection_matches(
        &det(json!({"s": {"event.action|windash": "x"}, "condition": "s"})),
        &ev,
    );
    assert!(matches!(r, Err(SigmaError::Modifier(_))), "{r:?}");
}
