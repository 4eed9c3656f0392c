//! Leak campaign: canary credentials planted in every tier (systemd credentials directory,
//! secrets file, environment), every log level up to `--debug 3`, for every connector; the
//! scan covers stdout, stderr, the log file, the state file and the output file (error events
//! included). The fault matrix (`matrix`) runs every fault with canaries planted and scans
//! each cell; this module adds every level × tier on a clean run, the log on stderr, and a
//! vendor that echoes the request headers (credentials included) back in its error bodies
//! (`echo`). `SIEMTAP_LEAK_FULL=1` runs the full fault × level × tier product instead.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use super::echo::{ECHO_MODES, Echo};
use super::matrix::{ROWS, Target};
use super::*;

/// Canaries planted for one run: tier `tier` (0 credentials directory, 1 secrets file,
/// 2 environment) supplies the credentials in use; every lower-precedence tier holds its own
/// canaries too.
pub struct Planted {
    pub tier: usize,
    pub level: u8,
}

impl Planted {
    /// The values the simulator must accept (the winning tier's canaries).
    pub fn sim_args(&self, conn: &Conn) -> Vec<String> {
        conn.creds
            .iter()
            .flat_map(|c| [c.sim_flag.to_string(), c.canaries[self.tier].to_string()])
            .collect()
    }

    /// Plants the canaries and sets the log level on `run`.
    pub fn apply(&self, conn: &Conn, work: &Workdir, mut run: RunCmd) -> RunCmd {
        if self.tier == 0 {
            let dir = work.path("creds");
            std::fs::create_dir_all(&dir).unwrap();
            for c in conn.creds {
                std::fs::write(dir.join(c.cred_file), format!("{}\n", c.canaries[0])).unwrap();
            }
            run = run.env("CREDENTIALS_DIRECTORY", &dir);
        }
        if self.tier <= 1 {
            let file = work.path("canary.secrets");
            let text: String = conn
                .creds
                .iter()
                .map(|c| format!("{}=\"{}\"\n", c.env, c.canaries[1]))
                .collect();
            std::fs::write(&file, format!("# siemtap canaries\n{text}")).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
            run = run.env(&format!("{}_SECRETS_FILE", conn.prefix), &file);
        }
        for c in conn.creds {
            run = run.env(c.env, c.canaries[2]);
        }
        if self.level > 0 {
            run = run.args(["--debug", &self.level.to_string()]);
        }
        run
    }
}

/// Every form a planted credential could leak in: each canary, and for Basic auth the
/// base64 of every principal:secret pair.
pub fn needles(conn: &Conn) -> Vec<String> {
    let mut out: Vec<String> = conn
        .creds
        .iter()
        .flat_map(|c| c.canaries.iter().map(|s| s.to_string()))
        .collect();
    out.push("k4v8".into());
    if conn.name == "proofpoint" {
        for p in conn.creds[0].canaries {
            for s in conn.creds[1].canaries {
                out.push(base64(format!("{p}:{s}").as_bytes()));
            }
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Scans every channel of a finished run; `Err` names the canary and the channel.
pub fn scan(conn: &Conn, work: &Workdir, out: &Output, level: u8) -> Result<(), String> {
    let channels = [
        ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
        ("stderr", String::from_utf8_lossy(&out.stderr).to_string()),
        ("log", work.read("siemtap.log")),
        ("state", work.read("state.json")),
        ("output file", work.read("events.jsonl")),
    ];
    for (name, text) in &channels {
        for needle in needles(conn) {
            if text.contains(&needle) {
                return Err(format!("{needle} leaked into {name}"));
            }
        }
    }
    if level >= 2 && work.read("siemtap.log").is_empty() && out.stderr.is_empty() {
        return Err("the debug log is empty: the scan would prove nothing".into());
    }
    Ok(())
}

/// One clean run with canaries; returns the error codes it emitted.
fn clean_run(conn: &Conn, planted: &Planted, log_to_stderr: bool) -> Vec<(String, String)> {
    let args = planted.sim_args(conn);
    let mut sim_args: Vec<&str> = vec!["--seed", "2", "--events", "40"];
    sim_args.extend(args.iter().map(String::as_str));
    let sim = conn.sim(&sim_args);
    let work = Workdir::new();
    let run = if log_to_stderr {
        conn.run_logged(&sim.base, &work, "stderr".as_ref())
    } else {
        conn.run(&sim.base, &work)
    };
    let out = planted
        .apply(conn, &work, run)
        .into_file(&work.out())
        .output();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        conn.name,
        work.read("siemtap.log")
    );
    scan(conn, &work, &out, planted.level).unwrap_or_else(|e| {
        panic!(
            "{} tier {} level {}: {e}",
            conn.name, planted.tier, planted.level
        )
    });
    let events = lines(&work.read("events.jsonl"));
    assert!(
        !conn.ids(&events).is_empty(),
        "{} tier {}: the run collected with the planted credentials",
        conn.name,
        planted.tier
    );
    conn.error_codes(&events)
}

/// Every tier × every level on a clean run, the log on stderr, then the echoing vendor.
fn leak_campaign(conn: &Conn) {
    let mut runs = 0;
    for tier in 0..3 {
        for level in 0..=3u8 {
            let codes = clean_run(conn, &Planted { tier, level }, false);
            assert!(codes.is_empty(), "{}: {codes:?}", conn.name);
            runs += 1;
        }
        clean_run(conn, &Planted { tier, level: 3 }, true);
        runs += 1;
    }
    // A vendor echoing the request (Authorization header included) in its error bodies.
    for (i, mode) in ECHO_MODES.iter().enumerate() {
        let planted = Planted {
            tier: i % 3,
            level: 3,
        };
        let echo = Echo::start(*mode);
        let work = Workdir::new();
        let mut run = planted.apply(conn, &work, conn.run(&echo.base, &work));
        if conn.name == "cortex_xdr" {
            // Standard keys send the raw key in Authorization: the worst case to echo.
            run = run.env("XDR_SECURITY_LEVEL", "standard");
        }
        let out = run.into_file(&work.out()).output();
        let events = lines(&work.read("events.jsonl"));
        assert!(
            !conn.errors(&events).is_empty(),
            "{} echo {mode:?}: an error event",
            conn.name
        );
        assert!(
            echo.saw_credentials(&needles(conn)),
            "{} echo {mode:?}: the echo server received the credentials, so its bodies held them",
            conn.name
        );
        scan(conn, &work, &out, 3).unwrap_or_else(|e| panic!("{} echo {mode:?}: {e}", conn.name));
        runs += 1;
    }
    // Full product: every fault of the matrix at every level and tier.
    if std::env::var_os("SIEMTAP_LEAK_FULL").is_some() {
        for row in ROWS {
            if matches!(row.target(conn), Target::NotApplicable) {
                continue;
            }
            for tier in 0..3 {
                for level in 0..=3u8 {
                    super::matrix::leak_only(conn, row, &Planted { tier, level });
                    runs += 1;
                }
            }
        }
    }
    eprintln!("leak campaign {}: {runs} runs, 0 hits", conn.name);
}

#[test]
fn onepassword_canaries_never_leak() {
    leak_campaign(&ONEPASSWORD);
}

#[test]
fn proofpoint_canaries_never_leak() {
    leak_campaign(&PROOFPOINT);
}

#[test]
fn cortex_xdr_canaries_never_leak() {
    leak_campaign(&CORTEX_XDR);
}

#[test]
fn base64_matches_the_rfc_vectors() {
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}
