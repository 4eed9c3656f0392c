//! 1Password test events: vendors.md §2.9 samples, §1.5/§1.6 error and summary shapes,
//! and lines `siemtap sim 1password` emitted through `siemtap run 1password`.

use serde_json::{Map, Value, json};

use super::{Case, obj, py_json, with};

/// Lines the simulator emitted (seed 7), verbatim, with the rule each ends on.
const SIM_LINES: &[(u32, u8, &str)] = &[
    (
        100710,
        3,
        r#"{"integration": "1password", "op": {"uuid": "26WVNO3SRW2QBRIUSFENJUO2CR", "timestamp": "2026-11-22T01:29:35.916Z", "actor_uuid": "ZVBUEBT2MWTDPBMN3PQ33SC5YX", "actor_details": {"uuid": "ZVBUEBT2MWTDPBMN3PQ33SC5YX", "name": "\u674e\u96f7", "email": "user08@example.com"}, "action": "update", "object_type": "v", "object_uuid": "P27DUY3PZRW7HKOB3E6ASXA7J3", "session": {"uuid": "MWTEWEFLP6LO5RDV2JRS2OYUEB", "login_time": "2026-11-21T22:24:46.916405836Z", "device_uuid": "gh3s3n5np4hrpxkdznvxzitaml", "ip": "175.16.199.152"}, "location": {"country": "Brazil", "region": "S\u00e3o Paulo", "city": "S\u00e3o Paulo", "latitude": -23.5505, "longitude": -46.6333}, "event_type": "audit_event"}}"#,
    ),
    (
        100715,
        10,
        r#"{"integration": "1password", "op": {"uuid": "3PSWLUZXVSD5D6WMWU3DESNNM2", "timestamp": "2026-11-22T06:12:35.916405837Z", "actor_uuid": "X33I7PGTNO7OKY2MW75AVVQYWD", "actor_details": {"uuid": "X33I7PGTNO7OKY2MW75AVVQYWD", "name": "Noah Tanaka", "email": "user09@example.com"}, "action": "update", "object_type": "sa", "object_uuid": "4J2Z4DYYJ5SAEZMLNURJNZJCVI", "session": {"uuid": "YQL5U56KPJSEUPJGRM4A5A4TKQ", "login_time": "2026-11-22T01:02:02.916405836Z", "device_uuid": "kegadvnlt62lztapx2si5hv23t", "ip": "89.160.20.143"}, "location": {"country": "Argentina", "region": "Buenos Aires", "city": "Buenos Aires", "latitude": -34.6037, "longitude": -58.3816}, "event_type": "audit_event"}}"#,
    ),
    (
        100731,
        3,
        r#"{"integration": "1password", "op": {"uuid": "STIXTVCYCJ62I7LI7XVNMLJ37N", "session_uuid": "VINCCJ3V6YV2ONJOSETY44Y55V", "timestamp": "2026-11-22T01:29:35.916Z", "country": "AR", "category": "success", "type": "credentials_ok", "target_user": {"uuid": "LTY7PFDYN2IRPD7GBHRJ7K62KV", "name": "Chlo\u00e9 Garc\u00eda", "email": "user01@example.com"}, "client": {"app_name": "1Password for iOS", "app_version": "81023034", "platform_name": "Firefox", "platform_version": "124.0", "os_name": "Android", "os_version": "10", "ip_address": "89.160.20.210"}, "event_type": "signin_attempt"}}"#,
    ),
    (
        100730,
        3,
        r#"{"integration": "1password", "op": {"uuid": "V22JV5Y74GEPKQHRWWBVZQJYA3", "session_uuid": "NJV2Q2UKW6DWDIADKY6BZ2G2KG", "timestamp": "2026-11-22T06:12:35Z", "country": "CA", "category": "sso_failed", "type": "sso_failed", "details": {"value": "Incorrect password"}, "target_user": {"uuid": "64HPKZVICJRGCE6JDNWLAOLFLT", "name": "\u0141ukasz M\u00fcller", "email": "user07@example.com"}, "client": {"app_name": "1Password SCIM Bridge", "app_version": "2090100", "platform_name": "Chrome", "platform_version": "93.0.4577.62", "os_name": "iOS", "os_version": "17.4", "ip_address": "2001:db8::d3df"}, "event_type": "signin_attempt"}}"#,
    ),
    (
        100741,
        5,
        r#"{"integration": "1password", "op": {"uuid": "2DSB23BT5XCCMO6DBATC5B4MA5", "timestamp": "2026-11-22T20:21:35.916Z", "used_version": 1, "vault_uuid": "cxgtno35sjzhglulyimrslzjbq", "item_uuid": "236evokyiflcxslzi4jmh6p2ra", "user": {"uuid": "GVNV4J7JWQZTLGP2VXXFKBEOQZ", "name": "Bob Dubois", "email": "user04@example.com"}, "client": {"app_name": "1Password SCIM Bridge", "app_version": "2090100", "platform_name": "Edge", "platform_version": "123.0.2420.65", "os_name": "Linux", "os_version": "6.8", "ip_address": "216.160.83.195"}, "location": {"country": "Sweden", "region": "V\u00e4stra G\u00f6taland", "city": "G\u00f6teborg", "latitude": 57.7089, "longitude": 11.9746}, "action": "reveal", "event_type": "item_usage"}}"#,
    ),
    (
        100700,
        0,
        r#"{"integration": "1password", "op": {"source": "orchestrator", "timestamp": "2026-11-23T01:14:36Z", "audit_ran": true, "audit_success": true, "signin_ran": true, "signin_success": true, "itemusage_ran": true, "itemusage_success": true, "event_type": "run_summary"}}"#,
    ),
];

fn line(record: &Map<String, Value>, event_type: &str) -> String {
    let mut op = record.clone();
    op.insert("event_type".into(), Value::from(event_type));
    py_json(&json!({"integration": "1password", "op": Value::Object(op)}))
}

fn audit(action: &str, object_type: &str) -> String {
    let base = obj(
        r#"{"uuid":"3UQOGUC7DVOCN4OZP2MDKHFLSG","timestamp":"2022-10-24T21:16:52.827288935Z","actor_uuid":"GLF6WUEKS5CSNDJ2OG6TCZD3M4","actor_details":{"uuid":"GLF6WUEKS5CSNDJ2OG6TCZD3M4","name":"Test Actor","email":"test.actor@domain.com"},"action":"suspend","object_type":"user","object_uuid":"ZRQCUD6A65AKHFETOUFO7NL4OM","session":{"uuid":"ODOHXUYQCJBUJKRGZNNPBJURPE","login_time":"2022-10-24T21:07:34.703106271Z","device_uuid":"rqtd557fn2husnstp5nc66w2xa","ip":"89.160.20.156"},"location":{"country":"Canada","region":"Ontario","city":"Toronto","latitude":43.64,"longitude":-79.433}}"#,
    );
    line(
        &with(
            &base,
            &[
                ("action", action.into()),
                ("object_type", object_type.into()),
            ],
        ),
        "audit_event",
    )
}

fn signin(category: &str, kind: &str, user: &str) -> String {
    let base = obj(
        r#"{"uuid":"HGIF4OEWXDTVWKEQDIWTKV26HU","session_uuid":"UED4KFZ5BH37IQWTJ7LG4VPWK7","timestamp":"2021-08-11T14:28:03Z","country":"AR","category":"success","type":"credentials_ok","target_user":{"uuid":"OJQGU46KAPROEJLCK674RHSAY5","name":"Name","email":"email@1password.com"},"client":{"app_name":"1Password Browser Extension","app_version":"1109","platform_name":"Chrome","platform_version":"93.0.4577.62","os_name":"Android","os_version":"10","ip_address":"1.1.1.1"}}"#,
    );
    let target = json!({"uuid": user, "name": "Name", "email": format!("{}@example.com", user.to_lowercase())});
    line(
        &with(
            &base,
            &[
                ("category", category.into()),
                ("type", kind.into()),
                ("target_user", target),
            ],
        ),
        "signin_attempt",
    )
}

fn usage(action: &str, user: &str) -> String {
    let base = obj(
        r#"{"uuid":"MCQODBBWJD5HISKYNP3HJPV2DV","timestamp":"2021-08-30T18:57:42.484Z","used_version":1,"vault_uuid":"jaqxqf5qylslqiitnduawrndc5","item_uuid":"bvwmmwxisuca7wbehrbyqhag54","user":{"uuid":"OJQGU46KAPROEJLCK674RHSAY5","name":"Name","email":"email@1password.com"},"client":{"app_name":"1Password Browser Extension","app_version":"1109","platform_name":"Chrome","platform_version":"93.0.4577.62","os_name":"Android","os_version":"10","ip_address":"1.1.1.1"},"location":{"country":"Canada","region":"Ontario","city":"Toronto","latitude":43.64,"longitude":-79.433},"action":"reveal"}"#,
    );
    let u = json!({"uuid": user, "name": "Name", "email": "email@1password.com"});
    line(
        &with(&base, &[("action", action.into()), ("user", u)]),
        "item_usage",
    )
}

fn error(source: &str, code: &str) -> String {
    let rec = obj(&format!(
        r#"{{"source":"{source}","error_code":"{code}","error_message":"Bad request \u2014 see error_detail","timestamp":"2026-11-22T09:23:43Z","error_detail":"endpoint=/api/v2/signinattempts status=400"}}"#
    ));
    line(&rec, "error")
}

fn summary(audit: bool, signin: bool, itemusage: bool) -> String {
    let rec = obj(&format!(
        r#"{{"source":"orchestrator","timestamp":"2026-11-22T09:23:30Z","audit_ran":true,"audit_success":{audit},"signin_ran":true,"signin_success":{signin},"itemusage_ran":true,"itemusage_success":{itemusage}}}"#
    ));
    line(&rec, "run_summary")
}

fn times(n: usize, f: impl Fn(usize) -> String) -> Vec<String> {
    (0..n).map(f).collect()
}

const USER_A: &str = "OJQGU46KAPROEJLCK674RHSAY5";

/// One case (or more) per rule of 100700–100754.
pub fn cases() -> Vec<Case> {
    let mut c = vec![
        Case::one("run summary, all streams fine (base rule only)", 100700, 0, summary(true, true, true)),
        Case::each("error, other code", 100701, 8, vec![error("audit", "API_HTTP_500"), error("orchestrator", "ORCHESTRATOR_FATAL")]),
        Case::each("authentication error", 100702, 12, vec![error("signin", "API_HTTP_401"), error("orchestrator", "CONFIG_MISSING_CREDENTIAL")]),
        Case::one("rate limited", 100703, 8, error("itemusage", "API_HTTP_429")),
        Case::each("unreachable", 100704, 8, vec![error("audit", "API_CONNECTION_ERROR"), error("audit", "API_TIMEOUT")]),
        Case::each("state file error", 100705, 8, vec![error("orchestrator", "STATE_READ_ERROR"), error("orchestrator", "STATE_WRITE_ERROR")]),
        Case::one("audit collection failed", 100706, 10, summary(false, true, true)),
        Case::one("sign-in collection failed", 100707, 10, summary(true, false, true)),
        Case::one("item usage collection failed", 100708, 6, summary(true, true, false)),
        Case::sequence("authentication failing twice", 100709, 14, times(2, |_| error("signin", "API_HTTP_401"))),
        Case::each("audit event without a specific rule", 100710, 3, vec![audit("join", "user")]),
        Case::one("rules-check minimal line (vault create)", 100722, 8, r#"{"integration":"1password","op":{"event_type":"audit_event","action":"create","object_type":"v","actor_uuid":"ABC123"}}"#.to_string()),
        Case::each("account change", 100711, 5, vec![audit("suspend", "user"), audit("reactivate", "user")]),
        Case::one("group membership", 100712, 5, audit("join", "gm")),
        Case::one("vault access", 100713, 8, audit("grant", "va")),
        Case::one("policy update", 100714, 10, audit("update", "p")),
        Case::one("service account", 100715, 10, audit("create", "sa")),
        Case::each("account recovery", 100716, 12, vec![audit("beginrecovery", "user"), audit("recover", "user")]),
        Case::one("firewall change", 100717, 10, audit("update", "fw")),
        Case::one("account export", 100718, 10, audit("export", "account")),
        Case::one("billing", 100719, 5, audit("update", "stripe")),
        Case::each("SSO change", 100720, 10, vec![audit("sdvcsso", "account"), audit("ssotknv", "account")]),
        Case::each("MFA change", 100721, 10, vec![audit("enblmfa", "user"), audit("dsblmfa", "user")]),
        Case::each("vault create or delete", 100722, 8, vec![audit("create", "v"), audit("delete", "v")]),
        Case::one("master password change", 100723, 10, audit("changemp", "user")),
        Case::one("token revocation", 100724, 8, audit("trevoke", "user")),
        Case::one("sign-in without a specific rule", 100730, 3, signin("sso_failed", "sso_failed", USER_A)),
        Case::one("successful sign-in", 100731, 3, signin("success", "credentials_ok", USER_A)),
        Case::each("failed sign-in", 100732, 5, vec![signin("credentials_failed", "password_secret_bad", USER_A), signin("mfa_failed", "totp_bad", USER_A)]),
        Case::one("firewall-blocked sign-in", 100733, 8, signin("firewall_failed", "credentials_ok", USER_A)),
        Case::each("SSO or passkey sign-in", 100734, 3, vec![signin("modern_version_required", "sso", USER_A), signin("modern_version_required", "passkey", USER_A)]),
        Case::sequence("brute force: third failed sign-in of one user", 100735, 12, times(3, |_| signin("credentials_failed", "password_secret_bad", USER_A))),
        Case::sequence_all("failed sign-ins of different users are no brute force", 100732, 5, times(3, |i| signin("credentials_failed", "password_secret_bad", &format!("USER{i}XXXXXXXXXXXXXXXXXXXXX")))),
        Case::sequence("firewall blocks repeated", 100736, 10, times(5, |i| signin("firewall_failed", "credentials_ok", &format!("USER{i}XXXXXXXXXXXXXXXXXXXXX")))),
        Case::one("item usage without a specific rule", 100740, 3, usage("fill", USER_A)),
        Case::each("item revealed or copied", 100741, 5, vec![usage("reveal", USER_A), usage("secure-copy", USER_A)]),
        Case::one("item exported", 100742, 8, usage("export", USER_A)),
        Case::one("item shared", 100743, 8, usage("share", USER_A)),
        Case::each("server access", 100744, 5, vec![usage("server-create", USER_A), usage("server-update", USER_A), usage("server-fetch", USER_A)]),
        Case::one("SSO provider selected", 100745, 3, usage("select-sso-provider", USER_A)),
        // 100746 counts events that ended on 100740 itself (no more specific child), as the
        // reference rule set does.
        Case::sequence("bulk item access by one user", 100746, 10, times(10, |_| usage("fill", USER_A))),
        Case::sequence("repeated exports by one user", 100747, 12, times(3, |_| usage("export", USER_A))),
        Case::sequence("audit collection failing in three runs", 100750, 12, times(3, |_| summary(false, true, true))),
        Case::sequence("credential stuffing across users", 100751, 12, times(10, |i| signin("credentials_failed", "password_secret_bad", &format!("USER{i}XXXXXXXXXXXXXXXXXXXXX")))),
        Case::sequence("repeated policy changes", 100752, 12, times(3, |_| audit("update", "p"))),
        Case::sequence("many vault access changes", 100753, 10, times(5, |_| audit("grant", "va"))),
        Case::sequence("repeated service account changes", 100754, 10, times(3, |_| audit("create", "sa"))),
    ];
    for (i, (rule, level, l)) in SIM_LINES.iter().enumerate() {
        c.push(Case::one(
            &format!("simulator line {}", i + 1),
            *rule,
            *level,
            l.to_string(),
        ));
    }
    c
}
