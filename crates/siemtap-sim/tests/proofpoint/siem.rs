use std::collections::HashSet;

use serde_json::Value;
use siemtap_sim::ProofpointArgs;

use crate::client::{Sim, T0, at, counts, frozen, interval, siem_ids, strings};

const HOUR: i64 = 3600;

/// `generated` entries whose event time is exactly on a minute boundary, as offsets from T0.
async fn minute_records(sim: &Sim) -> Vec<(String, i64)> {
    let o = sim.oracle("?generated=true").await;
    let t0: jiff::Timestamp = T0.parse().unwrap();
    o["generated"]["siem"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| {
            let t: jiff::Timestamp = g["event_time"].as_str().unwrap().parse().unwrap();
            let off = t.as_second() - t0.as_second();
            (t.subsec_nanosecond() == 0 && off % 60 == 0)
                .then(|| (g["id"].as_str().unwrap().to_owned(), off))
        })
        .collect()
}

#[tokio::test]
async fn paging_a_day_hour_by_hour_returns_exactly_the_oracle_ids_once() {
    let sim = Sim::start(frozen(2000)).await;
    let mut ids = Vec::new();
    for h in (1..=25).rev() {
        ids.extend(sim.window(-h * HOUR, -(h - 1) * HOUR).await);
    }
    let oracle = strings(&sim.oracle("").await["streams"]["siem"]);
    assert_eq!(oracle.len(), 8000, "2000 per category, all visible");
    let c = counts(&ids);
    assert!(c.values().all(|n| *n == 1), "no id served twice");
    let got: HashSet<&str> = c.keys().copied().collect();
    let want: HashSet<&str> = oracle.iter().map(String::as_str).collect();
    assert_eq!(got, want, "the union of the windows is the oracle");
    // The premise: some records sit exactly on an hour boundary (a window end / start).
    let on_hour = minute_records(&sim)
        .await
        .into_iter()
        .filter(|(_, off)| off % HOUR == 0)
        .count();
    assert!(
        on_hour > 0,
        "no record on an hour boundary; the [start, end) check is vacuous"
    );
    let served = sim.oracle("").await["served"]["siem"].clone();
    assert_eq!(served.as_object().unwrap().len(), 8000);
    for prefix in [
        "messagesBlocked:",
        "messagesDelivered:",
        "clicksBlocked:",
        "clicksPermitted:",
    ] {
        assert_eq!(
            oracle.iter().filter(|i| i.starts_with(prefix)).count(),
            2000,
            "{prefix}"
        );
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn inclusive_end_returns_boundary_records_in_both_windows() {
    for inclusive in [false, true] {
        let sim = Sim::start(ProofpointArgs {
            inclusive_end: inclusive,
            ..frozen(1000)
        })
        .await;
        let (id, m) = minute_records(&sim)
            .await
            .into_iter()
            .find(|(_, off)| *off > -20 * HOUR && *off < -2 * HOUR)
            .expect("a record on a minute boundary");
        let before = sim.window(m - 1800, m).await;
        let after = sim.window(m, m + 1800).await;
        assert!(after.contains(&id), "the start is inclusive");
        assert_eq!(
            before.contains(&id),
            inclusive,
            "end inclusive only with --inclusive-end"
        );
        sim.handle.shutdown().await;
    }
}

#[tokio::test]
async fn bodies_are_shuffled_deterministically() {
    let a = Sim::start(frozen(3000)).await;
    let b = Sim::start(frozen(3000)).await;
    let c = Sim::start(ProofpointArgs {
        seed: 9,
        ..frozen(3000)
    })
    .await;
    let path = interval(-5 * HOUR, -4 * HOUR);
    let ra = a.get(&path).await;
    assert_eq!(ra.status, 200);
    assert_eq!(ra.body, a.get(&path).await.body, "same request, same bytes");
    assert_eq!(
        ra.body,
        b.get(&path).await.body,
        "same seed and clock, same bytes"
    );
    assert_ne!(ra.body, c.get(&path).await.body, "another seed, other data");
    let v = ra.json();
    let times: Vec<&str> = v["clicksBlocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["clickTime"].as_str().unwrap())
        .collect();
    assert!(times.len() > 50);
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_ne!(times, sorted, "records come in no particular order");
    for s in [a, b, c] {
        s.handle.shutdown().await;
    }
}

#[tokio::test]
async fn empty_windows_are_204_or_empty_arrays() {
    let sim = Sim::start(frozen(100)).await;
    // Events end 10 minutes before T0.
    let r = sim.get(&interval(-540, 0)).await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    sim.handle.shutdown().await;
    let sim = Sim::start(ProofpointArgs {
        empty_as_200: true,
        ..frozen(100)
    })
    .await;
    let r = sim.get(&interval(-540, 0)).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "queryEndTime",
            "messagesBlocked",
            "messagesDelivered",
            "clicksBlocked",
            "clicksPermitted"
        ]
    );
    assert_eq!(v["queryEndTime"], "2026-03-31T12:00:00Z");
    assert!(v["clicksPermitted"].as_array().unwrap().is_empty());
    sim.handle.shutdown().await;
}

async fn one(sim: &Sim, path: &str) -> Value {
    let path = format!(
        "{path}?format=json&interval={}/{}",
        at(-3 * HOUR),
        at(-2 * HOUR)
    );
    sim.get(&path).await.json()
}

#[tokio::test]
async fn endpoints_time_forms_query_end_time_and_filters() {
    let sim = Sim::start(ProofpointArgs {
        clock_start: Some("2026-03-31T12:01:30Z".into()),
        ..frozen(2000)
    })
    .await;
    let r = sim
        .get("/v2/siem/all?format=json&sinceSeconds=3600")
        .await
        .json();
    assert_eq!(
        r["queryEndTime"], "2026-03-31T12:01:00Z",
        "rounded down to the minute"
    );
    let r = sim
        .get("/v2/siem/all?format=json&sinceTime=2026-03-31T11:30:00Z")
        .await
        .json();
    assert_eq!(r["queryEndTime"], "2026-03-31T12:01:00Z");
    // A future end is clamped to now.
    let r = sim
        .get("/v2/siem/all?format=json&interval=2026-03-31T11:30:00Z/2026-03-31T12:30:00Z")
        .await
        .json();
    assert_eq!(r["queryEndTime"], "2026-03-31T12:01:00Z");
    // Duration forms and raw / percent-encoded separators select the same window.
    let base = sim.get(&interval(-2 * HOUR, -HOUR)).await.body;
    for q in [
        format!("PT1H/{}", at(-HOUR)),
        format!("{}/PT60M", at(-2 * HOUR)),
        format!("{}%2F{}", at(-2 * HOUR).replace(':', "%3A"), at(-HOUR)),
        "2026-03-31T10:00:00+00:00/2026-03-31T11:00:00%2B00:00".to_owned(),
    ] {
        let r = sim
            .get(&format!("/v2/siem/all?format=json&interval={q}"))
            .await;
        assert_eq!(r.body, base, "{q}");
    }
    let all = one(&sim, "/v2/siem/all").await;
    for (path, keys) in [
        ("/v2/siem/messages/blocked", vec!["messagesBlocked"]),
        ("/v2/siem/messages/delivered", vec!["messagesDelivered"]),
        ("/v2/siem/clicks/blocked", vec!["clicksBlocked"]),
        ("/v2/siem/clicks/permitted", vec!["clicksPermitted"]),
        (
            "/v2/siem/issues",
            vec!["clicksPermitted", "messagesDelivered"],
        ),
    ] {
        let v = one(&sim, path).await;
        let got: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec!["queryEndTime"];
        want.extend(keys.iter().copied());
        assert_eq!(got, want, "{path}");
        for k in keys {
            assert_eq!(v[k], all[k], "{path} {k}");
        }
    }
    // Filters.
    let path = format!(
        "/v2/siem/all?format=json&threatStatus=cleared&threatType=url&interval={}/{}",
        at(-3 * HOUR),
        at(-2 * HOUR)
    );
    let v = sim.get(&path).await.json();
    let clicks = v["clicksPermitted"].as_array().unwrap();
    assert!(!clicks.is_empty());
    assert!(clicks.len() < all["clicksPermitted"].as_array().unwrap().len());
    assert!(clicks.iter().all(|c| c["threatStatus"] == "cleared"));
    for m in v["messagesBlocked"].as_array().unwrap() {
        let ok = m["threatsInfoMap"].as_array().unwrap().iter().any(|t| {
            t["threatStatus"] == "cleared"
                && t["threatType"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case("url")
        });
        assert!(ok, "{m}");
    }
    // Vendor casing.
    let m: &Value = &all["messagesDelivered"][0];
    assert!(m["GUID"].is_string() && m["id"].is_string() && m["QID"].is_string());
    assert!(m["threatsInfoMap"][0]["threatId"].is_string());
    let c: &Value = &all["clicksBlocked"][0];
    assert!(c["threatID"].is_string() && c["threatURL"].is_string() && c["clickIP"].is_string());
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn clicks_reference_delivered_message_guids() {
    let sim = Sim::start(frozen(200)).await;
    let mut guids = HashSet::new();
    let mut click_guids = Vec::new();
    for h in (1..=25).rev() {
        let r = sim.get(&interval(-h * HOUR, -(h - 1) * HOUR)).await;
        if r.status == 204 {
            continue;
        }
        let v = r.json();
        for m in v["messagesDelivered"].as_array().unwrap() {
            guids.insert(m["GUID"].as_str().unwrap().to_owned());
        }
        for k in ["clicksBlocked", "clicksPermitted"] {
            for c in v[k].as_array().unwrap() {
                click_guids.push(c["GUID"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(click_guids.len(), 400);
    assert!(click_guids.iter().all(|g| guids.contains(g)));
    let distinct: HashSet<&String> = click_guids.iter().collect();
    assert!(
        distinct.len() < click_guids.len(),
        "several clicks share a message GUID"
    );
    let ids = siem_ids(&sim.get(&interval(-10 * HOUR, -9 * HOUR)).await);
    assert!(!ids.is_empty());
    sim.handle.shutdown().await;
}
