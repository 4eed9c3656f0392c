//! `siemtap demo`: the embedded default. A 1Password simulator in-process, the full pipeline
//! into a JSON-lines file, a second run to show resumption, and a check of the output against
//! the simulator's oracle.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use clap::Parser;
use siemtap_core::runner::StopSignal;
use siemtap_http::{HttpClient, HttpConfig, RequestContext};

use crate::cli::DemoArgs;
use crate::run::{self, Exit, RunRequest, report_fatal};

const DEMO_TOKEN: &str = "demo-token";

/// Builds the simulator's arguments the way the command line would.
#[derive(Parser)]
pub(crate) struct SimCli {
    #[command(flatten)]
    pub(crate) args: siemtap_sim::OnePasswordArgs,
}

/// Runs the demo and prints a short report.
pub async fn run(args: DemoArgs) -> Exit {
    match demo(&args).await {
        Ok(exit) => exit,
        Err(e) => {
            report_fatal(&format!("demo failed: {e}"));
            Exit::Delivery
        }
    }
}

async fn demo(args: &DemoArgs) -> Result<Exit, String> {
    let dir = &args.dir;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let log = dir.join("siemtap.log");
    crate::logging::init(&crate::logging::LogTarget::File(log.clone()), 1)
        .map_err(|e| format!("{e:#}"))?;

    let sim_args = SimCli::try_parse_from([
        "sim",
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "7",
        "--events",
        &args.events.to_string(),
        "--token",
        DEMO_TOKEN,
    ])
    .map_err(|e| e.to_string())?
    .args;
    let sim = siemtap_sim::spawn_onepassword(sim_args)
        .await
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let base_url = sim.base_url();
    let state_file = dir.join("state.json");
    let output = dir.join("events.jsonl");
    let output_spec = [format!("file:{}", output.display())];
    // Checked once here; the runs below parse the same value.
    run::parse_outputs(&output_spec)?;
    let env: HashMap<String, String> = [
        ("OP_BASE_URL", base_url.as_str()),
        ("OP_BEARER_TOKEN", DEMO_TOKEN),
        ("OP_STATE_FILE", &state_file.to_string_lossy()),
        (
            "OP_SECRETS_FILE",
            &dir.join("no-secrets-file").to_string_lossy(),
        ),
        ("OP_PAGE_LIMIT", "100"),
        ("OP_REQUESTS_PER_SECOND", "50"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let request = || RunRequest {
        connector: &siemtap_connectors::onepassword::CONNECTOR,
        env: env.clone(),
        source: None,
        lookback_hours: None,
        all: false,
        max_runtime: None,
        outputs: run::parse_outputs(&output_spec).unwrap_or_default(),
        exe_dir: dir.clone(),
        state_dir: dir.clone(),
    };

    let first = run::execute(request(), StopSignal::new()).await;
    let after_first = count_lines(&output)?;
    let second = run::execute(request(), StopSignal::new()).await;
    let after_second = count_lines(&output)?;
    let oracle = fetch_oracle(&base_url).await?;
    sim.shutdown().await;

    let emitted = read_events(&output)?;
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| {
        let _ = writeln!(out, "{line}");
    };
    say("siemtap demo: 1Password Events API simulator -> siemtap -> JSON-lines file".into());
    say(format!(
        "  simulator        {base_url} ({} events per stream, seed 7)",
        args.events
    ));
    say(format!(
        "  run 1            exit {:?}, {} lines written",
        first.exit, after_first.total
    ));
    for (event_type, n) in &after_first.by_type {
        say(format!("                     {event_type:<16} {n}"));
    }
    let new_vendor: u64 = second.reports.iter().map(|(_, r)| r.delivered()).sum();
    say(format!(
        "  run 2            exit {:?}, {} new events (resumed from the saved cursors; only its run summary was added)",
        second.exit, new_vendor
    ));
    let mut ok = first.exit == Exit::Ok && second.exit == Exit::Ok && new_vendor == 0;
    for (stream, ids) in &oracle {
        let seen = emitted.get(stream.as_str()).cloned().unwrap_or_default();
        let unique: HashSet<_> = seen.iter().collect();
        let want: HashSet<_> = ids.iter().collect();
        let missing = want.difference(&unique).count();
        let dupes = seen.len() - unique.len();
        ok &= missing == 0 && dupes == 0 && unique.len() == want.len();
        say(format!(
            "  oracle {stream:<10} {} ids served, {} delivered, {missing} missing, {dupes} duplicates",
            ids.len(),
            unique.len()
        ));
    }
    say(format!(
        "  output           {} ({} lines)",
        output.display(),
        after_second.total
    ));
    say(format!("  state            {}", state_file.display()));
    say(format!("  log              {}", log.display()));
    say(format!(
        "  result           {}",
        if ok {
            "OK: complete, no duplicates"
        } else {
            "MISMATCH (see the log)"
        }
    ));
    Ok(if ok { Exit::Ok } else { Exit::Delivery })
}

struct LineCount {
    total: u64,
    by_type: BTreeMap<String, u64>,
}

fn count_lines(path: &Path) -> Result<LineCount, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut count = LineCount {
        total: 0,
        by_type: BTreeMap::new(),
    };
    for line in text.lines() {
        count.total += 1;
        let kind = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v["op"]["event_type"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "unparsable".into());
        *count.by_type.entry(kind).or_default() += 1;
    }
    Ok(count)
}

/// Vendor event uuids per stream name, in output order.
pub(crate) fn read_events(path: &Path) -> Result<HashMap<&'static str, Vec<String>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out: HashMap<&'static str, Vec<String>> = HashMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let stream = match v["op"]["event_type"].as_str() {
            Some("audit_event") => "audit",
            Some("signin_attempt") => "signin",
            Some("item_usage") => "itemusage",
            _ => continue,
        };
        if let Some(id) = v["op"]["uuid"].as_str() {
            out.entry(stream).or_default().push(id.to_owned());
        }
    }
    Ok(out)
}

pub(crate) async fn fetch_oracle(base_url: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let http = HttpClient::new(HttpConfig::default()).map_err(|e| e.to_string())?;
    let url = format!("{base_url}/_sim/oracle");
    let resp = http
        .send(&RequestContext::new("GET /_sim/oracle"), |c| c.get(&url))
        .await
        .map_err(|e| format!("oracle: {e}"))?;
    #[derive(serde::Deserialize)]
    struct Oracle {
        streams: BTreeMap<String, Vec<String>>,
    }
    let oracle: Oracle =
        serde_json::from_slice(&resp.body).map_err(|e| format!("oracle body: {e}"))?;
    Ok(oracle.streams)
}
