//! People reports paged across runs: a fetch stopped part-way resumes at its next page, and
//! a report Proofpoint regenerated in between is fetched again from page 1, so the re-ranking
//! of users cannot push anyone past the pages already read.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;

#[test]
fn a_report_regenerated_mid_fetch_is_fetched_again_from_page_1() {
    let sim = sim(&["--seed", "8", "--events", "10", "--people-users", "45"]);
    let work = Workdir::new();
    let people = |run: RunCmd| {
        run.env("PP_SOURCE", "people")
            .env("PP_PEOPLE_PAGE_SIZE", "20")
    };
    // Run 1: VAP page 1 is delivered, page 2 is refused (401 is not retried), so the run
    // stops with the fetch pending at VAP page 2.
    sim.faults(json!({"faults": [{"match": {"path": "/v2/people/vap", "nth": [2]}, "action": {"status": 401}}]}));
    let first = people(run(&sim, &work)).output();
    let first = lines(&String::from_utf8_lossy(&first.stdout));
    assert_eq!(pp_kind(&first, "vap").len(), 20, "VAP page 1 delivered");
    assert_eq!(pp_kind(&first, "error").len(), 1);
    let state = state_json(&work);
    assert_eq!(state["people_cursor"]["pending"]["report"], "vap");
    assert_eq!(state["people_cursor"]["pending"]["page"], 2);
    let old_interval = state["people_cursor"]["pending"]["interval"]
        .as_str()
        .expect("the pending fetch records the report interval")
        .to_string();

    // A day later the reports are regenerated: new interval, new ranking.
    sim.clear_faults();
    sim.clock(json!({"advance_s": 86_400}));
    let second = ok(&people(run(&sim, &work)).output(), &work);
    let delivered: BTreeSet<String> = pp_ids(&second)["people"].iter().cloned().collect();
    assert_eq!(
        delivered.len(),
        pp_ids(&second)["people"].len(),
        "no duplicates"
    );
    let oracle = sim.oracle(None);
    let current: BTreeSet<String> = oracle["people"]
        .iter()
        .filter(|id| !id.ends_with(&format!("@{old_interval}")))
        .cloned()
        .collect();
    assert_eq!(current.len(), 90, "both regenerated reports, 45 users each");
    assert_eq!(
        delivered, current,
        "every user of the regenerated reports, page 1 included"
    );
    // VAP pages requested: 1, 2 (refused); then 2 (new interval seen), 1, 2, 3.
    let vap_pages: Vec<String> = sim.requests()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/v2/people/vap")
        .map(|r| {
            let q = r["query"].as_str().unwrap();
            q.split('&')
                .find_map(|p| p.strip_prefix("page="))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(vap_pages, ["1", "2", "2", "1", "2", "3"]);
    assert!(state_json(&work)["people_cursor"].get("pending").is_none());
}

#[test]
fn a_page_size_change_mid_fetch_keeps_the_pending_report_on_its_old_size() {
    let sim = sim(&["--seed", "9", "--events", "10", "--people-users", "45"]);
    let work = Workdir::new();
    let people = |run: RunCmd, size: &str| {
        run.env("PP_SOURCE", "people")
            .env("PP_PEOPLE_PAGE_SIZE", size)
    };
    sim.faults(json!({"faults": [{"match": {"path": "/v2/people/vap", "nth": [2]}, "action": {"status": 401}}]}));
    let first = people(run(&sim, &work), "20").output();
    let mut all = lines(&String::from_utf8_lossy(&first.stdout));
    assert_eq!(state_json(&work)["people_cursor"]["pending"]["size"], 20);
    sim.clear_faults();
    all.extend(ok(&people(run(&sim, &work), "7").output(), &work));
    assert_exact(&pp_ids(&all), &oracle_at(&sim, "?stream=people"));
    let sizes: Vec<(String, String)> = sim.requests()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/v2/people/"))
        .map(|r| {
            let q = r["query"].as_str().unwrap();
            let get = |k: &str| {
                q.split('&')
                    .find_map(|p| p.strip_prefix(k))
                    .unwrap()
                    .to_string()
            };
            (get("page="), get("size="))
        })
        .collect();
    let expect: Vec<(String, String)> = [
        ("1", "20"),
        ("2", "20"),
        ("2", "20"),
        ("3", "20"),
        ("1", "7"),
        ("2", "7"),
        ("3", "7"),
        ("4", "7"),
        ("5", "7"),
        ("6", "7"),
        ("7", "7"),
    ]
    .iter()
    .map(|(p, s)| (p.to_string(), s.to_string()))
    .collect();
    assert_eq!(sizes, expect, "VAP keeps size 20; top clickers starts at 7");
}
