use std::collections::HashSet;

use serde_json::Value;
use siemtap_sim::ProofpointArgs;

use crate::client::{Sim, frozen, strings};

/// Pages a report with `size` until `page × size ≥ total`; returns the oracle-style ids.
async fn drain(sim: &Sim, path: &str, window: u32, size: u64) -> (Vec<String>, Value) {
    let mut ids = Vec::new();
    let mut first = Value::Null;
    for page in 1.. {
        let r = sim
            .get(&format!("{path}?window={window}&size={size}&page={page}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        let (kind, total_key) = if path.ends_with("vap") {
            ("vap", "totalVapUsers")
        } else {
            ("top_clickers", "totalTopClickers")
        };
        let interval = v["interval"].as_str().unwrap().to_owned();
        for u in v["users"].as_array().unwrap() {
            ids.push(format!(
                "{kind}:{}@{interval}",
                u["identity"]["guid"].as_str().unwrap()
            ));
        }
        let total = v[total_key].as_u64().unwrap();
        if page == 1 {
            first = v;
        }
        if page * size >= total {
            break;
        }
    }
    (ids, first)
}

#[tokio::test]
async fn people_reports_page_and_fill_the_oracle() {
    let sim = Sim::start(ProofpointArgs {
        people_users: 23,
        ..frozen(10)
    })
    .await;
    assert!(strings(&sim.oracle("?stream=people").await["streams"]["people"]).is_empty());
    let (vap, first) = drain(&sim, "/v2/people/vap", 30, 5).await;
    assert_eq!(vap.len(), 23);
    assert_eq!(
        vap.iter().collect::<HashSet<_>>().len(),
        23,
        "no user on two pages"
    );
    assert_eq!(
        first["interval"],
        "2026-03-01T12:00:00Z/2026-03-31T12:00:00Z"
    );
    assert_eq!(first["totalVapUsers"], 23);
    assert!(
        first["averageAttackIndex"].is_number() && first["vapAttackIndexThreshold"].is_number()
    );
    let keys: Vec<&str> = first["users"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["identity", "threatStatistics"]);
    let idx: Vec<u64> = first["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["threatStatistics"]["attackIndex"].as_u64().unwrap())
        .collect();
    assert!(idx.windows(2).all(|w| w[0] >= w[1]), "ranked");
    let oracle = strings(&sim.oracle("?stream=people").await["streams"]["people"]);
    assert_eq!(
        oracle.iter().collect::<HashSet<_>>(),
        vap.iter().collect::<HashSet<_>>()
    );
    // A page past the end is empty.
    let r = sim
        .get("/v2/people/vap?window=30&size=5&page=9")
        .await
        .json();
    assert!(r["users"].as_array().unwrap().is_empty());

    // Opening a report without paging it through leaves a gap in the oracle.
    let r = sim
        .get("/v2/people/top-clickers?window=14&size=10")
        .await
        .json();
    assert_eq!(r["totalTopClickers"], 23);
    assert!(r["users"][0]["clickStatistics"]["clickCount"].is_u64());
    let o = sim.oracle("?stream=people").await;
    let oracle = strings(&o["streams"]["people"]);
    assert_eq!(oracle.len(), 46);
    let served = o["served"]["people"].as_object().unwrap();
    assert_eq!(served.len(), 33, "23 vap rows + 10 top-clicker rows served");
    assert!(
        oracle
            .iter()
            .filter(|i| i.starts_with("top_clickers:"))
            .all(|i| i.ends_with("@2026-03-17T12:00:00Z/2026-03-31T12:00:00Z"))
    );

    // Within a day the report is stable; the next day brings a new one.
    sim.advance(3600).await;
    let (again, _) = drain(&sim, "/v2/people/vap", 30, 200).await;
    assert_eq!(
        again.iter().collect::<HashSet<_>>(),
        vap.iter().collect::<HashSet<_>>()
    );
    sim.advance(86_400).await;
    let (next, first) = drain(&sim, "/v2/people/vap", 30, 200).await;
    assert_eq!(
        first["interval"],
        "2026-03-02T12:00:00Z/2026-04-01T12:00:00Z"
    );
    assert!(next.iter().all(|i| !vap.contains(i)));
    assert_eq!(
        strings(&sim.oracle("?stream=people").await["streams"]["people"]).len(),
        69
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn people_parameters_are_validated() {
    let sim = Sim::start(frozen(10)).await;
    for q in [
        "",
        "window=7",
        "window=thirty",
        "window=30&size=201",
        "window=30&size=0",
        "window=30&page=0",
        "window=30&page=-1",
        "window=30&window=90",
    ] {
        for path in ["/v2/people/vap", "/v2/people/top-clickers"] {
            let r = sim.get(&format!("{path}?{q}")).await;
            assert_eq!(r.status, 400, "{path}?{q}: {}", r.text());
        }
    }
    for w in [14, 30, 90] {
        let r = sim
            .get(&format!("/v2/people/vap?window={w}&size=200&page=1"))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.json()["users"].as_array().unwrap().len(),
            50,
            "default --people-users"
        );
    }
    assert!(strings(&sim.oracle("?stream=siem").await["streams"]["siem"]).len() == 40);
    assert!(
        sim.oracle("?stream=siem").await["streams"]
            .get("people")
            .is_none()
    );
    sim.handle.shutdown().await;
}
