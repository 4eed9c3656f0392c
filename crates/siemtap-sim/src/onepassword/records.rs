//! The JSON of record `i`, generated on demand (spec §2.9 shapes, §2.10 values).
//!
//! The first draws of a record's PRNG are its `uuid`, so the oracle can list ids without
//! building records. Users, vaults and items come from small per-tenant pools so that
//! frequency rules (same user, same target) can trigger.

use serde_json::{Value, json};

use crate::common::clock::ns_to_ts;
use crate::common::prng::Draw;

use super::pools::{self, Place};
use super::stream::Stream;
use super::timeline::{Precision, Timeline};

const SALT_USER: u64 = 0x5553_4552;
const SALT_VAULT: u64 = 0x5641_554C;
const USERS: u64 = 12;
const VAULTS: u64 = 6;

/// Formats `ns` as RFC 3339 UTC with the given precision.
pub(crate) fn format_ts(ns: i64, precision: Precision) -> String {
    let base = ns_to_ts(ns).strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let frac = ns.rem_euclid(1_000_000_000);
    match precision {
        Precision::Seconds => format!("{base}Z"),
        Precision::Millis => format!("{base}.{:03}Z", frac / 1_000_000),
        Precision::Nanos => format!("{base}.{frac:09}Z"),
    }
}

/// The `uuid` of record `key`.
pub(crate) fn uuid_of(key: &[u64; 4]) -> String {
    Draw::new(key).base32(26, true)
}

struct User {
    uuid: String,
    name: String,
    email: String,
}

fn user(seed: u64, tenant_hash: u64, u: u64) -> User {
    let mut d = Draw::new(&[seed, tenant_hash, SALT_USER, u]);
    let uuid = d.base32(26, true);
    let name = if u % 5 == 3 {
        (*d.pick(pools::SPECIAL_NAMES)).to_owned()
    } else {
        format!(
            "{} {}",
            d.pick(pools::FIRST_NAMES),
            d.pick(pools::LAST_NAMES)
        )
    };
    User {
        uuid,
        name,
        email: format!("user{u:02}@example.com"),
    }
}

fn user_json(u: &User) -> Value {
    json!({"uuid": u.uuid, "name": u.name, "email": u.email})
}

fn ip(d: &mut Draw) -> String {
    if d.chance(0.05) {
        format!("2001:db8::{:x}", d.below(0xffff) + 1)
    } else {
        format!("{}{}", d.pick(pools::IP_PREFIXES), d.below(254) + 1)
    }
}

fn client(d: &mut Draw) -> Value {
    let (app, app_v) = *d.pick(pools::APPS);
    let (platform, platform_v) = *d.pick(pools::PLATFORMS);
    let (os, os_v) = *d.pick(pools::OSES);
    json!({
        "app_name": app, "app_version": app_v, "platform_name": platform,
        "platform_version": platform_v, "os_name": os, "os_version": os_v, "ip_address": ip(d)
    })
}

fn location(p: &Place) -> Value {
    json!({"country": p.0, "region": p.1, "city": p.2, "latitude": p.3, "longitude": p.4})
}

/// Builds record `i` of `tl`'s stream.
pub(crate) fn build(tl: &Timeline, stream: Stream, i: u64) -> Value {
    let key = tl.record_key(i);
    let (seed, tenant_hash) = (key[0], key[1]);
    let mut d = Draw::new(&key);
    let uuid = d.base32(26, true);
    let precision = tl.precision(i);
    let event_ns = tl.event_ns(i);
    let timestamp = format_ts(tl.display_ns(i), precision);
    let who = user(seed, tenant_hash, d.below(USERS));
    match stream {
        Stream::Signin => signin(&mut d, uuid, timestamp, &who),
        Stream::ItemUsage => item_usage(&mut d, uuid, timestamp, &who, seed, tenant_hash),
        Stream::Audit => audit(&mut d, uuid, timestamp, event_ns, &who, seed, tenant_hash),
    }
}

fn signin(d: &mut Draw, uuid: String, timestamp: String, who: &User) -> Value {
    let session_uuid = d.base32(26, true);
    let place = d.pick(pools::PLACES);
    let country = if d.chance(0.1) { "" } else { place.5 };
    let category = d.weighted(pools::SIGNIN_CATEGORY);
    let kind = d.weighted(pools::signin_types(category));
    let details = if category != "success" && d.chance(0.3) {
        json!({"value": d.pick(pools::SIGNIN_DETAILS)})
    } else {
        Value::Null
    };
    json!({
        "uuid": uuid, "session_uuid": session_uuid, "timestamp": timestamp,
        "country": country, "category": category, "type": kind, "details": details,
        "target_user": user_json(who), "client": client(d)
    })
}

fn item_usage(
    d: &mut Draw,
    uuid: String,
    timestamp: String,
    who: &User,
    seed: u64,
    th: u64,
) -> Value {
    let vault = d.below(VAULTS);
    let vault_uuid = Draw::new(&[seed, th, SALT_VAULT, vault]).base32(26, false);
    let item_uuid = Draw::new(&[seed, th, SALT_VAULT, vault, d.below(40)]).base32(26, false);
    let used_version = d.below(5) + 1;
    let client = client(d);
    let place = d.pick(pools::PLACES);
    let action = d.weighted(pools::ITEM_ACTION);
    json!({
        "uuid": uuid, "timestamp": timestamp, "used_version": used_version,
        "vault_uuid": vault_uuid, "item_uuid": item_uuid, "user": user_json(who),
        "client": client, "location": location(place), "action": action
    })
}

fn audit(
    d: &mut Draw,
    uuid: String,
    timestamp: String,
    event_ns: i64,
    actor: &User,
    seed: u64,
    th: u64,
) -> Value {
    let action = d.weighted(pools::AUDIT_ACTION);
    let object_type = d.weighted(pools::AUDIT_OBJECT_TYPE);
    let object_uuid = if object_type == "user" {
        user(seed, th, d.below(USERS)).uuid
    } else {
        d.base32(26, true)
    };
    let login_ns = event_ns - i64::try_from(d.below(8 * 3600)).unwrap_or(0) * 1_000_000_000 - 1;
    let session = json!({
        "uuid": d.base32(26, true),
        "login_time": format_ts(login_ns, Precision::Nanos),
        "device_uuid": d.base32(26, false),
        "ip": ip(d)
    });
    let place = d.pick(pools::PLACES);
    let mut v = json!({
        "uuid": uuid, "timestamp": timestamp, "actor_uuid": actor.uuid,
        "actor_details": user_json(actor), "action": action, "object_type": object_type,
        "object_uuid": object_uuid
    });
    if d.chance(0.25)
        && let Value::Object(m) = &mut v
    {
        m.insert("aux_id".into(), json!(d.below(90_000) + 10_000));
        m.insert("aux_uuid".into(), json!(d.base32(26, true)));
        m.insert("aux_info".into(), json!(d.pick(pools::AUX_INFO)));
    }
    if let Value::Object(m) = &mut v {
        m.insert("session".into(), session);
        m.insert("location".into(), location(place));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_forms() {
        let ns = 1_635_110_212_827_288_935;
        assert_eq!(format_ts(ns, Precision::Seconds), "2021-10-24T21:16:52Z");
        assert_eq!(format_ts(ns, Precision::Millis), "2021-10-24T21:16:52.827Z");
        assert_eq!(
            format_ts(ns, Precision::Nanos),
            "2021-10-24T21:16:52.827288935Z"
        );
    }

    #[test]
    fn records_have_the_vendor_shape_and_the_oracle_uuid() {
        let tl = Timeline::new(
            5,
            9,
            Stream::ItemUsage,
            50,
            1_800_000_000_000_000_000,
            None,
            None,
        );
        let r = build(&tl, Stream::ItemUsage, 7);
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "uuid",
                "timestamp",
                "used_version",
                "vault_uuid",
                "item_uuid",
                "user",
                "client",
                "location",
                "action"
            ]
        );
        assert_eq!(r["uuid"], uuid_of(&tl.record_key(7)));
        let vault = r["vault_uuid"].as_str().unwrap();
        assert!(
            vault
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        let tl = Timeline::new(
            5,
            9,
            Stream::Signin,
            400,
            1_800_000_000_000_000_000,
            None,
            None,
        );
        let all: Vec<Value> = (0..400).map(|i| build(&tl, Stream::Signin, i)).collect();
        assert!(all.iter().any(|r| r["country"] == ""));
        assert!(all.iter().any(|r| r["details"].is_null()));
        assert!(all.iter().any(|r| r["category"] == "firewall_failed"));
        assert!(
            all.iter()
                .any(|r| !r["target_user"]["name"].as_str().unwrap().is_ascii())
        );
    }
}
