//! `siemtap wazuh bundle CONNECTOR --target 5 [--check]` and `siemtap wazuh check5 FILE`:
//! Wazuh 5.x content (docs/wazuh5.md). The logic is in `siemtap_wazuh::wazuh5`.
//!
//! Exit codes: 0 success; 1 the checks found problems; 2 usage error (unknown connector,
//! unreadable file, `--target 4`).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use siemtap_wazuh::generate::{Shape, builtin};
use siemtap_wazuh::wazuh5::check::check_bundle;
use siemtap_wazuh::wazuh5::{bundle_builtin, bundle_for_shape};

use crate::run::Exit;

/// `siemtap wazuh bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Connector: `1password`, `proofpoint`, `cortex_xdr`, `siemtap` (health and error events
    /// of every connector), or a declarative one (`connectors/NAME.toml` or a `.toml` path).
    pub connector: String,
    /// Wazuh major version of the content: 5 (4.x content is `siemtap wazuh rules`).
    #[arg(long, default_value_t = 5)]
    pub target: u8,
    /// 4.x rule block the rules are migrated from (declarative connectors; as for `rules`).
    #[arg(long)]
    pub block: Option<u32>,
    /// Run the offline checks on the bundle too; exit 1 when they find problems.
    #[arg(long)]
    pub check: bool,
}

/// `siemtap wazuh check5`.
#[derive(Debug, Args)]
pub struct Check5Args {
    /// A bundle file as `siemtap wazuh bundle` prints it.
    pub file: PathBuf,
}

fn say(text: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{text}");
    }
}

fn report(problems: &[siemtap_wazuh::wazuh5::check::Problem], what: &str) -> Exit {
    if problems.is_empty() {
        say(&format!("ok: {what} passes the 5.x offline checks"));
        return Exit::Ok;
    }
    for p in problems {
        say(&format!("error: {p}"));
    }
    say(&format!("{what}: {} problem(s)", problems.len()));
    Exit::Delivery
}

/// `siemtap wazuh bundle`.
pub fn bundle(a: BundleArgs) -> Exit {
    if a.target != 5 {
        say(&format!(
            "siemtap: --target {}: bundles are Wazuh 5.x content; for 4.x use `siemtap wazuh \
             rules {}` (XML rules; 4.x needs no decoder: `siemtap wazuh decoders`)",
            a.target, a.connector
        ));
        return Exit::Usage;
    }
    let built = if builtin(&a.connector).is_some() && a.block.is_none() {
        bundle_builtin(&a.connector)
    } else {
        let shape = match crate::wazuh_connector::find_shape(&a.connector) {
            Ok(Some(s)) => s,
            Ok(None) => Shape::named(&a.connector, None),
            Err(e) => {
                say(&format!("siemtap: {e}"));
                return Exit::Usage;
            }
        };
        bundle_for_shape(&shape, a.block)
    };
    let b = match built {
        Ok(b) => b,
        Err(e) => {
            say(&format!("siemtap: {e}"));
            return Exit::Usage;
        }
    };
    let text = match serde_json::to_string_pretty(&b.document) {
        Ok(t) => t + "\n",
        Err(e) => {
            say(&format!("siemtap: cannot serialise the bundle: {e}"));
            return Exit::Delivery;
        }
    };
    let mut o = std::io::stdout().lock();
    if o.write_all(text.as_bytes())
        .and_then(|_| o.flush())
        .is_err()
    {
        return Exit::Delivery;
    }
    if a.check {
        return report(
            &check_bundle(&b.document),
            &format!("bundle {}", a.connector),
        );
    }
    Exit::Ok
}

/// `siemtap wazuh check5 FILE`.
pub fn check5(a: Check5Args) -> Exit {
    let text = match std::fs::read_to_string(&a.file) {
        Ok(t) => t,
        Err(e) => {
            say(&format!("siemtap: cannot read {}: {e}", a.file.display()));
            return Exit::Usage;
        }
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            say(&format!(
                "siemtap: {} is not JSON ({e}); pass the output of `siemtap wazuh bundle CONNECTOR --target 5`",
                a.file.display()
            ));
            return Exit::Usage;
        }
    };
    report(&check_bundle(&doc), &a.file.display().to_string())
}
