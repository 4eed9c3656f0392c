//! `siemtap sim VENDOR`: a vendor simulator on loopback. The first stdout line is
//! `listening on http://ADDR`, so scripts can use `--listen 127.0.0.1:0`.

use std::io::Write;

use crate::cli::{SimArgs, SimVendor};
use crate::run::{Exit, report_fatal};

/// Serves until SIGTERM or SIGINT.
pub async fn run(args: SimArgs) -> Exit {
    let _ = crate::logging::init(&crate::logging::LogTarget::choose(None), 0);
    let handle = match args.vendor {
        SimVendor::OnePassword(a) => siemtap_sim::spawn_onepassword(a).await,
        SimVendor::CortexXdr(a) => siemtap_sim::spawn_cortex_xdr(a).await,
        SimVendor::Proofpoint(a) => siemtap_sim::spawn_proofpoint(a).await,
        SimVendor::Rest(a) => siemtap_sim::spawn_rest(a).await,
    };
    let handle = match handle {
        Ok(h) => h,
        Err(e) => {
            report_fatal(&format!("cannot start the simulator: {e}"));
            return Exit::Usage;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", handle.addr());
        let _ = out.flush();
    }
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            report_fatal(&format!("cannot watch SIGTERM: {e}"));
            return Exit::Usage;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    handle.shutdown().await;
    Exit::Ok
}
