//! The benchmark floor: fetch the same pages a siemtap connector would, with a bare client,
//! and discard them. Only what is needed to continue (cursors, counts, totals) is parsed;
//! items are skipped by the parser (`IgnoredAny`), so the floor is the cost of the transfer
//! itself.
//!
//! Usage (one mode per connector), printing `events=N pages=P secs=S` on success:
//!
//! - `siemtap-floor 1password BASE_URL TOKEN PATH LIMIT`
//! - `siemtap-floor proofpoint BASE_URL PRINCIPAL SECRET LOOKBACK_HOURS SETTLE_SECONDS`
//! - `siemtap-floor cortex_xdr BASE_URL KEY_ID KEY LOOKBACK_HOURS SETTLE_SECONDS`
//!
//! Credentials come from the command line because the floor only ever talks to a simulator.

mod cortex_xdr;
mod onepassword;
mod proofpoint;

use std::io::Write;
use std::time::Instant;

/// What one drain did.
#[derive(Debug, Default)]
pub struct Drained {
    /// Records received in pages the connector would deliver.
    pub events: u64,
    /// Requests made (every request, including pages the connector discards).
    pub pages: u64,
}

/// Any error of the floor (it is a benchmark tool: the message is enough).
pub type Error = Box<dyn std::error::Error>;

const USAGE: &str = "usage: siemtap-floor 1password BASE_URL TOKEN PATH LIMIT\n   or: siemtap-floor proofpoint BASE_URL PRINCIPAL SECRET LOOKBACK_HOURS SETTLE_SECONDS\n   or: siemtap-floor cortex_xdr BASE_URL KEY_ID KEY LOOKBACK_HOURS SETTLE_SECONDS";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Same TLS stack as siemtap (ring); the floor itself talks plain http to loopback.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build()?;
    let start = Instant::now();
    let drained = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["1password", base, token, path, limit] => {
            onepassword::drain(&client, base, token, path, limit.parse()?).await?
        }
        ["proofpoint", base, principal, secret, lookback_h, settle_s] => {
            let window = proofpoint::Settings {
                lookback_s: hours(lookback_h)?,
                settle_s: settle_s.parse()?,
            };
            proofpoint::drain(&client, base, principal, secret, window).await?
        }
        ["cortex_xdr", base, key_id, key, lookback_h, settle_s] => {
            let walk = cortex_xdr::Settings {
                lookback_ms: hours(lookback_h)? * 1000,
                settle_ms: settle_s.parse::<i64>()? * 1000,
            };
            cortex_xdr::drain(&client, base, key_id, key, walk).await?
        }
        _ => return Err(USAGE.into()),
    };
    let secs = start.elapsed().as_secs_f64();
    writeln!(
        std::io::stdout(),
        "events={} pages={} secs={secs:.3}",
        drained.events,
        drained.pages
    )?;
    Ok(())
}

/// Fractional hours → whole seconds.
fn hours(text: &str) -> Result<i64, Error> {
    let h: f64 = text.parse()?;
    if !(h.is_finite() && h > 0.0) {
        return Err(format!("look-back {text:?} is not a positive number of hours").into());
    }
    Ok((h * 3600.0) as i64)
}
