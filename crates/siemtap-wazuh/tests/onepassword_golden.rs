//! The generated 1Password rules are exactly the reference rule set of vendors.md §2.11:
//! ids 100700–100754 (45 rules), levels, parents, groups, frequencies and same_field.

use siemtap_wazuh::engine::Engine;
use siemtap_wazuh::generate::rules_for;
use siemtap_wazuh::parse::parse_file;
use siemtap_wazuh::render::render_file;

/// (id, level, parent, groups after `onepassword`, frequency (n, seconds), same_field)
type Row = (
    u32,
    u8,
    u32,
    &'static str,
    Option<(u32, u32)>,
    Option<&'static str>,
);

const TABLE: &[Row] = &[
    (100700, 0, 0, "", None, None),
    (100701, 8, 100700, "onepassword_error", None, None),
    (
        100702,
        12,
        100701,
        "onepassword_error,authentication_failures",
        None,
        None,
    ),
    (100703, 8, 100701, "onepassword_error", None, None),
    (100704, 8, 100701, "onepassword_error", None, None),
    (100705, 8, 100701, "onepassword_error", None, None),
    (100706, 10, 100700, "onepassword_error", None, None),
    (100707, 10, 100700, "onepassword_error", None, None),
    (100708, 6, 100700, "onepassword_error", None, None),
    (
        100709,
        14,
        100702,
        "onepassword_error,authentication_failures",
        Some((2, 600)),
        None,
    ),
    (100710, 3, 100700, "onepassword_audit", None, None),
    (
        100711,
        5,
        100710,
        "onepassword_audit,account_change",
        None,
        None,
    ),
    (
        100712,
        5,
        100710,
        "onepassword_audit,group_change",
        None,
        None,
    ),
    (
        100713,
        8,
        100710,
        "onepassword_audit,access_change",
        None,
        None,
    ),
    (
        100714,
        10,
        100710,
        "onepassword_audit,policy_change",
        None,
        None,
    ),
    (
        100715,
        10,
        100710,
        "onepassword_audit,service_account",
        None,
        None,
    ),
    (
        100716,
        12,
        100710,
        "onepassword_audit,account_recovery",
        None,
        None,
    ),
    (
        100717,
        10,
        100710,
        "onepassword_audit,firewall_change",
        None,
        None,
    ),
    (
        100718,
        10,
        100710,
        "onepassword_audit,data_export",
        None,
        None,
    ),
    (100719, 5, 100710, "onepassword_audit,billing", None, None),
    (
        100720,
        10,
        100710,
        "onepassword_audit,sso_change",
        None,
        None,
    ),
    (
        100721,
        10,
        100710,
        "onepassword_audit,mfa_change",
        None,
        None,
    ),
    (
        100722,
        8,
        100710,
        "onepassword_audit,vault_change",
        None,
        None,
    ),
    (
        100723,
        10,
        100710,
        "onepassword_audit,password_change",
        None,
        None,
    ),
    (
        100724,
        8,
        100710,
        "onepassword_audit,token_revocation",
        None,
        None,
    ),
    (100730, 3, 100700, "onepassword_signin", None, None),
    (
        100731,
        3,
        100730,
        "onepassword_signin,authentication_success",
        None,
        None,
    ),
    (
        100732,
        5,
        100730,
        "onepassword_signin,authentication_failures",
        None,
        None,
    ),
    (
        100733,
        8,
        100730,
        "onepassword_signin,firewall_block",
        None,
        None,
    ),
    (100734, 3, 100730, "onepassword_signin", None, None),
    (
        100735,
        12,
        100732,
        "onepassword_signin,brute_force",
        Some((3, 600)),
        Some("op.target_user.uuid"),
    ),
    (
        100736,
        10,
        100733,
        "onepassword_signin,firewall_block",
        Some((5, 600)),
        None,
    ),
    (100740, 3, 100700, "onepassword_itemusage", None, None),
    (
        100741,
        5,
        100740,
        "onepassword_itemusage,data_access",
        None,
        None,
    ),
    (
        100742,
        8,
        100740,
        "onepassword_itemusage,data_export",
        None,
        None,
    ),
    (
        100743,
        8,
        100740,
        "onepassword_itemusage,data_share",
        None,
        None,
    ),
    (
        100744,
        5,
        100740,
        "onepassword_itemusage,server_access",
        None,
        None,
    ),
    (100745, 3, 100740, "onepassword_itemusage,sso", None, None),
    (
        100746,
        10,
        100740,
        "onepassword_itemusage,bulk_access",
        Some((10, 300)),
        Some("op.user.uuid"),
    ),
    (
        100747,
        12,
        100742,
        "onepassword_itemusage,data_export",
        Some((3, 600)),
        Some("op.user.uuid"),
    ),
    (
        100750,
        12,
        100706,
        "onepassword_error,correlation",
        Some((3, 600)),
        None,
    ),
    (
        100751,
        12,
        100732,
        "onepassword_signin,correlation,credential_stuffing",
        Some((10, 600)),
        None,
    ),
    (
        100752,
        12,
        100714,
        "onepassword_audit,correlation",
        Some((3, 600)),
        None,
    ),
    (
        100753,
        10,
        100713,
        "onepassword_audit,correlation",
        Some((5, 600)),
        None,
    ),
    (
        100754,
        10,
        100715,
        "onepassword_audit,correlation,service_account",
        Some((3, 600)),
        None,
    ),
];

#[test]
fn generated_rules_are_the_reference_table() {
    // Through the XML text, as Wazuh reads it.
    let xml = render_file(&rules_for("1password", None, None).unwrap());
    let parsed = parse_file("siemtap_1password_rules.xml", &xml);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let rules = parsed.rules;
    assert_eq!(TABLE.len(), 45);
    let ids: Vec<u32> = rules.iter().map(|r| r.id).collect();
    let expected: Vec<u32> = TABLE.iter().map(|r| r.0).collect();
    assert_eq!(ids, expected, "exactly the reference ids, in order");
    for (r, &(id, level, parent, groups, freq, same)) in rules.iter().zip(TABLE) {
        assert_eq!(r.level, level, "level of {id}");
        let parents = r.parent_sids();
        if parent == 0 {
            assert!(parents.is_empty(), "{id} is the base rule");
            assert_eq!(r.decoded_as.as_deref(), Some("json"));
            assert_eq!(r.fields[0].name, "integration");
        } else {
            assert_eq!(parents, vec![parent], "parent of {id}");
        }
        let mut want = vec!["onepassword".to_string()];
        want.extend(
            groups
                .split(',')
                .filter(|g| !g.is_empty())
                .map(String::from),
        );
        assert_eq!(r.all_groups(), want, "groups of {id}");
        match freq {
            Some((n, t)) => {
                assert_eq!(
                    (r.frequency, r.timeframe),
                    (Some(n), Some(t)),
                    "frequency of {id}"
                );
                assert_eq!(r.if_matched_sid, Some(parent), "if_matched_sid of {id}");
                assert!(
                    r.if_sid.is_empty(),
                    "{id}: the counted rule is the implicit parent"
                );
            }
            None => assert_eq!(r.frequency, None, "{id} has no frequency"),
        }
        assert_eq!(
            r.same_fields,
            same.into_iter().map(String::from).collect::<Vec<_>>(),
            "same_field of {id}"
        );
        assert!(
            r.options.contains(&"no_full_log".to_string()),
            "{id} has no_full_log"
        );
        assert!(!r.description.is_empty());
    }
}

#[test]
fn reference_descriptions_kept() {
    let file = rules_for("1password", None, None).unwrap();
    let rules = file.rules();
    let desc = |id: u32| {
        rules
            .iter()
            .find(|r| r.id == id)
            .unwrap()
            .description
            .clone()
    };
    assert_eq!(
        desc(100710),
        "$(op.action) on $(op.object_type) by $(op.actor_uuid)"
    );
    assert_eq!(desc(100730), "$(op.type) [$(op.category)]");
    assert_eq!(
        desc(100740),
        "$(op.action) by $(op.user.name) in vault $(op.vault_uuid)"
    );
}

fn failed_signin(user: &str) -> String {
    format!(
        r#"{{"integration": "1password", "op": {{"uuid": "U{user}", "timestamp": "2026-03-01T00:00:00Z", "category": "credentials_failed", "type": "password_secret_bad", "target_user": {{"uuid": "{user}", "name": "Name", "email": "e@x.com"}}, "client": {{"app_name": "1Password Browser Extension", "ip_address": "127.0.0.1"}}, "event_type": "signin_attempt"}}}}"#
    )
}

fn engine() -> Engine {
    Engine::new(rules_for("1password", None, None).unwrap().rules())
}

#[test]
fn brute_force_fires_on_third_failure_of_one_user_within_timeframe() {
    let engine = engine();
    let mut s = engine.session();
    let ids: Vec<u32> = (0..3)
        .map(|i| {
            s.process(&failed_signin("USERA"), "stdin", i * 100)
                .rule
                .unwrap()
                .id
        })
        .collect();
    assert_eq!(ids, vec![100732, 100732, 100735]);
    let fired = s
        .process(&failed_signin("USERA"), "stdin", 400)
        .rule
        .unwrap();
    assert_ne!(
        fired.id, 100735,
        "events already counted by a firing do not count again"
    );
}

#[test]
fn brute_force_not_for_different_users() {
    let engine = engine();
    let mut s = engine.session();
    for (i, u) in ["USERA", "USERB", "USERC", "USERD"].iter().enumerate() {
        let f = s
            .process(&failed_signin(u), "stdin", i as i64)
            .rule
            .unwrap();
        assert_eq!(f.id, 100732, "{u}");
    }
    // Interleaved: A, B, A, B, A → the third A fires.
    let mut s = engine.session();
    let ids: Vec<u32> = ["USERA", "USERB", "USERA", "USERB", "USERA"]
        .iter()
        .enumerate()
        .map(|(i, u)| {
            s.process(&failed_signin(u), "stdin", i as i64)
                .rule
                .unwrap()
                .id
        })
        .collect();
    assert_eq!(ids, vec![100732, 100732, 100732, 100732, 100735]);
}

#[test]
fn brute_force_not_outside_the_timeframe() {
    let engine = engine();
    let mut s = engine.session();
    assert_eq!(
        s.process(&failed_signin("USERA"), "stdin", 0)
            .rule
            .unwrap()
            .id,
        100732
    );
    assert_eq!(
        s.process(&failed_signin("USERA"), "stdin", 10)
            .rule
            .unwrap()
            .id,
        100732
    );
    // 601 s after the first: only one earlier failure is inside the 600 s window.
    assert_eq!(
        s.process(&failed_signin("USERA"), "stdin", 601)
            .rule
            .unwrap()
            .id,
        100732
    );
    // Now three inside the window (10, 601, 605).
    assert_eq!(
        s.process(&failed_signin("USERA"), "stdin", 605)
            .rule
            .unwrap()
            .id,
        100735
    );
}
