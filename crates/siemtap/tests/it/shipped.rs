//! The shipped declarative connectors (`connectors/*.toml`), each with its simulator and
//! credentials, drained through the real binary: what the Wazuh 4.x and 5.x content tests
//! run their generated rules over.

use serde_json::Value;

use crate::harness::*;

/// A shipped declarative connector, its simulator and good credentials.
pub struct Shipped {
    pub name: &'static str,
    pub sim: &'static [&'static str],
    pub settings: fn(&str) -> String,
    pub secret: (&'static str, &'static str),
}

pub const SHIPPED: &[Shipped] = &[
    Shipped {
        name: "okta_system_log",
        sim: &["rest", "--seed", "4", "--events", "60"],
        settings: |b| format!("base_url = \"{b}\"\n"),
        secret: ("OKTA_API_TOKEN", "sim-okta-token"),
    },
    Shipped {
        name: "graph_oauth2",
        sim: &["rest", "--seed", "5", "--events", "40"],
        settings: |b| {
            format!(
                "base_url = \"{b}\"\ntoken_url = \"{b}/oauth2/v2.0/token\"\nclient_id = \"sim-client\"\n"
            )
        },
        secret: ("GRAPH_CLIENT_SECRET", "sim-client-secret"),
    },
    Shipped {
        name: "page_number",
        sim: &["rest", "--seed", "6", "--events", "40"],
        settings: |b| format!("base_url = \"{b}\"\n"),
        secret: ("PAGED_API_KEY", "sim-api-key"),
    },
    Shipped {
        name: "onepassword_audit",
        sim: &["1password", "--seed", "3", "--events", "40"],
        settings: |b| format!("base_url = \"{b}\"\n"),
        secret: ("OP_BEARER_TOKEN", "sim-token"),
    },
];

/// Asserts that [`SHIPPED`] names exactly the files in `connectors/`.
pub fn assert_every_shipped_file_is_covered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../connectors");
    let mut shipped: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| p.file_stem().unwrap().to_string_lossy().into())
        })
        .collect();
    shipped.sort();
    let mut covered: Vec<String> = SHIPPED.iter().map(|s| s.name.to_string()).collect();
    covered.sort();
    assert_eq!(shipped, covered, "every shipped connector file is tested");
}

impl Shipped {
    /// Starts the simulator, installs the connector file in a new work directory and runs
    /// `siemtap run --config` twice into `events.jsonl`: with the good secret (data and run
    /// summaries), then a wrong one (an authentication error). Returns the simulator (kept
    /// alive), the work directory and the events.
    pub fn drain(&self) -> (Sim, Workdir, Vec<Value>) {
        let sim = Sim::vendor(self.sim[0], &self.sim[1..]);
        let work = Workdir::new();
        work.install_shipped_connector(self.name);
        let config = format!(
            "log_file = \"siemtap.log\"\noutput = \"file:events.jsonl\"\n[[source]]\nname = \"s\"\nconnector = \"{}\"\n[source.settings]\n{}",
            self.name,
            (self.settings)(&sim.base)
        );
        std::fs::write(work.path("siemtap.toml"), config).unwrap();
        let cfg = work.path("siemtap.toml");
        for secret in [self.secret.1, "wrong-secret"] {
            let out = siemtap_clean(
                &["run", "--config", cfg.to_str().unwrap()],
                &[(self.secret.0, secret), ("SIEMTAP_USER", "root")],
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                self.name,
                work.read("siemtap.log")
            );
        }
        let events = lines(&work.read("events.jsonl"));
        (sim, work, events)
    }
}
