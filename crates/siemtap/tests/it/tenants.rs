//! Multi-tenant mode (OP_TOKENS_FILE): tenants isolated, a bad entry or a refused token never
//! stops the others, `op.tenant` on every line, one flat summary per tenant, per-tenant state.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::harness::*;

#[test]
fn tenants_are_isolated_and_labelled() {
    let sim = Sim::start(&[
        "--seed", "8", "--events", "40", "--token", "a=tok-a", "--token", "b=tok-b",
    ]);
    let work = Workdir::new();
    let tokens = work.path("tokens.json");
    let doc = json!({"tenants": [
        {"name": "a", "bearer_token": "tok-a"},
        {"name": "bad name", "bearer_token": "x"},
        {"name": "c", "bearer_token": "tok-unknown"},
        {"name": "b", "bearer_token": "tok-b"}
    ]});
    std::fs::write(&tokens, doc.to_string()).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = || {
        RunCmd::new(&sim, &work)
            .env("OP_TOKENS_FILE", &tokens)
            .env("OP_PAGE_LIMIT", "15")
            .into_file(&work.out())
            .output()
    };
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "log: {}",
        work.read("siemtap.log")
    );
    let events = lines(&work.read("events.jsonl"));

    let errs = errors(&events);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0]["op"]["error_code"], "CONFIG_MISSING_CREDENTIAL");
    assert!(
        errs[0]["op"]["error_message"]
            .as_str()
            .unwrap()
            .contains("entry 1")
    );
    assert_eq!(errs[1]["op"]["error_code"], "API_HTTP_401");
    assert_eq!(errs[1]["op"]["tenant"], "c");

    for tenant in ["a", "b"] {
        let mine: Vec<_> = events
            .iter()
            .filter(|e| e["op"]["tenant"] == tenant)
            .cloned()
            .collect();
        assert_exact(&ids_by_stream(&mine), &sim.oracle(Some(tenant)));
    }
    for e in events.iter().filter(|e| stream_of(e).is_some()) {
        assert!(
            e["op"]["tenant"].is_string(),
            "every vendor event names its tenant: {e}"
        );
        let op = e["op"].as_object().unwrap();
        let keys: Vec<_> = op.keys().rev().take(2).collect();
        assert_eq!(
            keys,
            ["event_type", "tenant"],
            "tenant just before event_type"
        );
    }
    let sums = summaries(&events);
    let names: Vec<_> = sums
        .iter()
        .map(|s| s["op"]["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "c", "b"], "one flat summary per tenant");
    assert_eq!(sums[1]["op"]["signin_success"], false);
    assert_eq!(sums[2]["op"]["signin_success"], true);

    let state = state_json(&work);
    assert!(
        state["a.signin_cursor"].is_string() && state["b.audit_cursor"].is_string(),
        "{state}"
    );
    assert!(state.get("c.signin_cursor").is_none());

    let again = run();
    assert_eq!(again.status.code(), Some(0));
    let all = lines(&work.read("events.jsonl"));
    let new_vendor = all[events.len()..]
        .iter()
        .filter(|e| stream_of(e).is_some())
        .count();
    assert_eq!(new_vendor, 0, "a second run delivers nothing new");
}
