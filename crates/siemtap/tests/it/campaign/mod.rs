//! Campaigns over every connector (issue 7): SIGKILL at seeded random moments under live
//! arrivals (`kill`), kills during the state write (`state_write`), the fault matrix
//! (`matrix`, a table in code run against every connector) and the leak scan (`leak`, with an
//! echoing vendor in `echo`).
//!
//! The CI-sized versions run in the suite. `python3 bench/campaign.py` runs the large crash
//! campaign against the release binary, and `--matrix` reruns `matrix` with
//! `SIEMTAP_MATRIX_OUT` set to collect the rows it writes into docs/reliability.md.
//! `SIEMTAP_LEAK_FULL=1` makes `leak` run the full fault × log level × credential tier product.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Stdio;

use serde_json::Value;

use crate::harness::*;

mod echo;
mod fan_out_kill;
mod kill;
mod leak;
mod matrix;
mod state_write;

/// One connector as the campaigns drive it: its simulator, drop-in variables and event shape.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    /// `siemtap run NAME` and `siemtap sim NAME`.
    pub name: &'static str,
    /// Drop-in variable prefix (`OP`, `PP`, `XDR`).
    pub prefix: &'static str,
    /// Namespace object of every emitted line (`op`, `pp`, `xdr`).
    pub ns: &'static str,
    /// Discriminator key inside the namespace.
    pub kind_key: &'static str,
    /// Key naming the failing stream in an error event.
    pub source_key: &'static str,
    /// The path faults target, and its stream.
    pub main_path: &'static str,
    pub main_stream: &'static str,
    /// Credentials: (drop-in variable, systemd credential name, simulator flag, simulator default).
    pub creds: &'static [Cred],
    /// Client request rate for tests (the vendor maximum for XDR).
    pub rps: &'static str,
    /// Extra variables for every run.
    pub env: &'static [(&'static str, &'static str)],
    /// Variables of the final drain (frozen clock): no settle delay.
    pub final_env: &'static [(&'static str, &'static str)],
    /// Range of the seeded kill delay, ms (the connector's run length decides it).
    pub kill_ms: (u64, u64),
}

/// One credential of a connector.
#[derive(Clone, Copy, Debug)]
pub struct Cred {
    pub env: &'static str,
    pub cred_file: &'static str,
    pub sim_flag: &'static str,
    pub sim_default: &'static str,
    /// Canary values, one per tier: credentials directory, secrets file, environment.
    pub canaries: [&'static str; 3],
}

pub const ONEPASSWORD: Conn = Conn {
    name: "1password",
    prefix: "OP",
    ns: "op",
    kind_key: "event_type",
    source_key: "source",
    main_path: "/api/v2/signinattempts",
    main_stream: "signin",
    creds: &[Cred {
        env: "OP_BEARER_TOKEN",
        cred_file: "op_bearer_token",
        sim_flag: "--token",
        sim_default: TOKEN,
        canaries: [
            "CANARY-op-cred-k4v8",
            "CANARY-op-file-k4v8",
            "CANARY-op-env-k4v8",
        ],
    }],
    rps: "200",
    env: &[],
    final_env: &[],
    kill_ms: (30, 430),
};

pub const PROOFPOINT: Conn = Conn {
    name: "proofpoint",
    prefix: "PP",
    ns: "pp",
    kind_key: "event_type",
    source_key: "error_source",
    main_path: "/v2/siem/all",
    main_stream: "siem",
    creds: &[
        Cred {
            env: "PP_PRINCIPAL",
            cred_file: "pp_principal",
            sim_flag: "--principal",
            sim_default: "sim-principal",
            canaries: [
                "CANARY-pp-principal-cred-k4v8",
                "CANARY-pp-principal-file-k4v8",
                "CANARY-pp-principal-env-k4v8",
            ],
        },
        Cred {
            env: "PP_SECRET",
            cred_file: "pp_secret",
            sim_flag: "--secret",
            sim_default: "sim-secret",
            canaries: [
                "CANARY-pp-secret-cred-k4v8",
                "CANARY-pp-secret-file-k4v8",
                "CANARY-pp-secret-env-k4v8",
            ],
        },
    ],
    rps: "500",
    env: &[("PP_PEOPLE_PAGE_SIZE", "20")],
    final_env: &[("PP_SETTLE_SECONDS", "0")],
    kill_ms: (20, 220),
};

pub const CORTEX_XDR: Conn = Conn {
    name: "cortex_xdr",
    prefix: "XDR",
    ns: "xdr",
    kind_key: "type",
    source_key: "error_source",
    main_path: "/public_api/v1/alerts/get_alerts",
    main_stream: "alerts",
    creds: &[
        Cred {
            env: "XDR_API_KEY",
            cred_file: "xdr_api_key",
            sim_flag: "--api-key",
            sim_default: "sim-api-key",
            canaries: [
                "CANARY-xdr-key-cred-k4v8",
                "CANARY-xdr-key-file-k4v8",
                "CANARY-xdr-key-env-k4v8",
            ],
        },
        Cred {
            env: "XDR_API_KEY_ID",
            cred_file: "xdr_api_key_id",
            sim_flag: "--api-key-id",
            sim_default: "1",
            // Key ids are numeric; long enough never to occur by chance.
            canaries: ["31415926535", "27182818284", "16180339887"],
        },
    ],
    rps: "10",
    env: &[],
    final_env: &[("XDR_SETTLE_SECONDS", "0")],
    kill_ms: (100, 900),
};

/// Every connector.
pub const ALL: [Conn; 3] = [ONEPASSWORD, PROOFPOINT, CORTEX_XDR];

impl Conn {
    /// Starts this connector's simulator.
    pub fn sim(&self, args: &[&str]) -> Sim {
        Sim::vendor(self.name, args)
    }

    /// `siemtap run NAME` against `base` with the simulator's default credentials, a clean
    /// environment (PATH only), state and log in `work`, no real retry sleeps.
    pub fn run(&self, base: &str, work: &Workdir) -> RunCmd {
        self.run_logged(base, work, work.log().as_os_str())
    }

    /// [`Conn::run`] with `--log-file LOG` (a path, or `stderr`).
    pub fn run_logged(&self, base: &str, work: &Workdir, log: &std::ffi::OsStr) -> RunCmd {
        let p = self.prefix;
        let mut cmd = crate::harness::siemtap_cmd_clean();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(format!("{p}_BASE_URL"), base)
            .env(format!("{p}_STATE_FILE"), work.state())
            .env(format!("{p}_SECRETS_FILE"), work.path("absent.secrets"))
            .env(format!("{p}_REQUESTS_PER_SECOND"), self.rps)
            .env("SIEMTAP_NO_RETRY_SLEEP", "1")
            .args(["run", self.name, "--log-file"])
            .arg(log)
            .stdin(Stdio::null());
        for c in self.creds {
            cmd.env(c.env, c.sim_default);
        }
        for (k, v) in self.env {
            cmd.env(k, v);
        }
        RunCmd { cmd }
    }

    /// The final drain's variables on top of [`Conn::run`].
    pub fn final_run(&self, base: &str, work: &Workdir) -> RunCmd {
        let mut run = self.run(base, work).args(["--max-runtime", "0"]);
        for (k, v) in self.final_env {
            run = run.env(k, v);
        }
        run
    }

    /// The emitted line's namespace object.
    pub fn inner<'a>(&self, e: &'a Value) -> &'a Value {
        &e[self.ns]
    }

    /// The line's discriminator (`error`, `run_summary`, or a vendor event type).
    pub fn kind<'a>(&self, e: &'a Value) -> &'a str {
        self.inner(e)[self.kind_key].as_str().unwrap_or_default()
    }

    /// Error events.
    pub fn errors<'a>(&self, events: &'a [Value]) -> Vec<&'a Value> {
        events.iter().filter(|e| self.kind(e) == "error").collect()
    }

    /// `(source, code)` of every error event.
    pub fn error_codes(&self, events: &[Value]) -> Vec<(String, String)> {
        self.errors(events)
            .iter()
            .map(|e| {
                let i = self.inner(e);
                (
                    i[self.source_key].as_str().unwrap_or_default().to_string(),
                    i["error_code"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// `source code: message` of every error event, for failure messages.
    pub fn error_details(&self, events: &[Value]) -> Vec<String> {
        self.errors(events)
            .iter()
            .map(|e| {
                let i = self.inner(e);
                format!(
                    "{} {}: {}",
                    i[self.source_key].as_str().unwrap_or_default(),
                    i["error_code"].as_str().unwrap_or_default(),
                    i["error_message"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    /// Oracle-form ids per stream, in output order, duplicates kept.
    pub fn ids(&self, events: &[Value]) -> BTreeMap<String, Vec<String>> {
        match self.name {
            "1password" => ids_by_stream(events),
            "proofpoint" => crate::proofpoint::pp_ids(events),
            _ => xdr_ids(events),
        }
    }
}

/// Cortex XDR oracle ids: `alert_id`, and `"<incident_id>@<modification_time ms>"`.
fn xdr_ids(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let x = &e["xdr"];
        match x["type"].as_str().unwrap_or_default() {
            "alert" => out
                .entry("alerts".into())
                .or_default()
                .push(x["alert_id"].as_str().unwrap_or_default().to_string()),
            "incident" => {
                let ms = x["modification_time"]
                    .as_str()
                    .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                    .map_or(-1, |t| t.as_millisecond());
                out.entry("incidents".into()).or_default().push(format!(
                    "{}@{ms}",
                    x["incident_id"].as_str().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    out
}

/// Delivered ids compared with the oracle.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Comparison {
    /// Oracle ids.
    pub ids: usize,
    /// Oracle ids never delivered.
    pub gaps: usize,
    /// Versions (`key@version` ids: XDR incidents, Proofpoint People reports) never delivered
    /// while a later version of the same key was: an incident updated before any run fetched
    /// the old version (no API call can return it any more), or a People report a killed run
    /// opened but never committed, fetched whole by a later run. Not counted in `gaps`.
    pub superseded: usize,
    /// Deliveries beyond the first of an id.
    pub duplicates: usize,
    /// Delivered ids the oracle does not know.
    pub extra: usize,
    /// A few missing (`-id`) and repeated (`+id`) ids, for the failure message.
    pub sample: Vec<String>,
}

/// Whether version `a` is later than `b` (integers numerically, otherwise as text: RFC 3339
/// intervals sort as text).
fn later(a: &str, b: &str) -> bool {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x > y,
        _ => a > b,
    }
}

/// Compares the union of delivered ids with the oracle.
pub fn compare(
    emitted: &BTreeMap<String, Vec<String>>,
    oracle: &BTreeMap<String, Vec<String>>,
) -> Comparison {
    let mut c = Comparison::default();
    let mut versions: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for (stream, got) in emitted {
        for id in got {
            if let Some((key, version)) = id.split_once('@') {
                versions.entry((stream, key)).or_default().push(version);
            }
        }
    }
    for (stream, want) in oracle {
        let got = emitted.get(stream).cloned().unwrap_or_default();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in &got {
            *counts.entry(id).or_default() += 1;
        }
        c.ids += want.len();
        c.duplicates += counts.values().map(|n| n - 1).sum::<usize>();
        c.sample.extend(
            counts
                .iter()
                .filter(|(_, n)| **n > 1)
                .take(4)
                .map(|(id, n)| format!("+{stream}:{id}x{n}")),
        );
        let known: HashSet<&str> = want.iter().map(String::as_str).collect();
        c.extra += counts.keys().filter(|id| !known.contains(*id)).count();
        for id in want {
            if counts.contains_key(id.as_str()) {
                continue;
            }
            let superseded = id.split_once('@').is_some_and(|(key, version)| {
                versions
                    .get(&(stream.as_str(), key))
                    .is_some_and(|vs| vs.iter().any(|v| later(v, version)))
            });
            if superseded {
                c.superseded += 1;
            } else {
                c.gaps += 1;
                if c.sample.len() < 8 {
                    c.sample.push(format!("-{stream}:{id}"));
                }
            }
        }
    }
    // Streams the oracle does not list.
    for (stream, got) in emitted {
        if !oracle.contains_key(stream) {
            c.extra += got.len();
        }
    }
    c
}

/// Freezes the simulator's clock for the final drain. Proofpoint windows end on whole
/// minutes of the client's clock, so records of the current minute would wait for the next
/// run: the simulator is set back to the start of its minute (nothing newer was delivered —
/// every earlier run kept the 300 s settle delay), so the oracle holds exactly what one drain
/// can collect. Freezing happens early in a minute, so the drain's windows (computed from the
/// client's clock) end in that same minute, never after the simulator's time.
pub fn freeze(conn: &Conn, sim: &Sim) {
    let now = || -> String {
        let (_, body) = http(&sim.base, "GET", "/_sim/clock", None);
        let v: Value = serde_json::from_str(&body).expect("clock json");
        v["now"].as_str().expect("clock now").to_string()
    };
    if conn.name == "proofpoint" {
        let second: u64 = now()[17..19].parse().expect("clock seconds");
        if second >= 45 {
            std::thread::sleep(std::time::Duration::from_millis((61 - second) * 1000));
        }
    }
    sim.clock(serde_json::json!({"mode": "frozen"}));
    if conn.name == "proofpoint" {
        sim.clock(serde_json::json!({"set": format!("{}00Z", &now()[..17])}));
    }
}

/// The largest page (`items`) the simulator served: the unit of the stdout repeat bound.
pub fn max_page(sim: &Sim) -> u64 {
    let log = sim.requests();
    log["requests"]
        .as_array()
        .or_else(|| log.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| r["items"].as_u64())
        .max()
        .unwrap_or(0)
}

/// A small deterministic generator (no rand dependency in tests).
pub struct Lcg(pub u64);

impl Lcg {
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Where results go when `SIEMTAP_MATRIX_OUT` (a directory) is set: the fault matrix's
/// cells and the kill campaigns' figures, as JSON.
pub fn results_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("SIEMTAP_MATRIX_OUT").map(std::path::PathBuf::from)
}
