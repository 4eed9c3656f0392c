//! `siemtap state show|reset|rewind`.

use std::io::Write;

use siemtap_core::{StateStore, StreamState};

use crate::cli::{StateAction, StateArgs};
use crate::run::{Exit, report_fatal};

fn exit_for(e: &siemtap_core::StateError) -> Exit {
    match e {
        siemtap_core::StateError::Locked { .. } => Exit::Locked,
        _ => Exit::StateUnreadable,
    }
}

/// Runs a state action.
pub fn run(args: StateArgs) -> Exit {
    let _ = crate::logging::init(&crate::logging::LogTarget::choose(None), 0);
    match args.action {
        StateAction::Show { state_file, full } => match siemtap_state::read_state_file(&state_file)
        {
            Ok(Some(snapshot)) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", snapshot.render(full));
                Exit::Ok
            }
            Ok(None) => {
                report_fatal(&format!(
                    "{} does not exist (no run has saved state there yet); fix: check --state-file, it is the file the run uses (OP_STATE_FILE, PP_STATE_FILE, XDR_STATE_FILE, or `<state_dir>/<source>.json` of a config file)",
                    state_file.display()
                ));
                Exit::StateUnreadable
            }
            Err(e) => {
                report_fatal(&e.to_string());
                exit_for(&e)
            }
        },
        StateAction::Reset {
            state_file,
            streams,
        } => {
            // A corrupt file cannot be opened; reset then means starting a new one.
            let mut store = match StateStore::open(&state_file) {
                Ok(s) => s,
                Err(siemtap_core::StateError::Corrupt { .. }) if streams.is_empty() => {
                    // `X.json` -> `X.json.corrupt` (docs/operations.md), whatever the name.
                    let mut aside = state_file.clone().into_os_string();
                    aside.push(".corrupt");
                    let aside = std::path::PathBuf::from(aside);
                    if let Err(e) = std::fs::rename(&state_file, &aside) {
                        report_fatal(&format!("cannot move {} aside: {e}", state_file.display()));
                        return Exit::StateUnreadable;
                    }
                    report_fatal(&format!(
                        "corrupt state moved to {}; the next run starts from the lookback window",
                        aside.display()
                    ));
                    return Exit::Ok;
                }
                Err(e) => {
                    report_fatal(&e.to_string());
                    return exit_for(&e);
                }
            };
            match store.reset(&streams) {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    report_fatal(&e.to_string());
                    exit_for(&e)
                }
            }
        }
        StateAction::Rewind {
            state_file,
            stream,
            to,
        } => {
            let Ok(time) = to.parse::<jiff::Timestamp>() else {
                report_fatal(&format!(
                    "--to {to:?} is not an RFC 3339 time such as 2026-11-20T00:00:00Z"
                ));
                return Exit::Usage;
            };
            let mut store = match StateStore::open(&state_file) {
                Ok(s) => s,
                Err(e) => {
                    report_fatal(&e.to_string());
                    return exit_for(&e);
                }
            };
            let current = store.stream(&stream);
            let rewound = StreamState {
                cursor: None,
                last_poll: current.last_poll,
                high_water: Some(time),
                ledger: Default::default(),
                // What the stream learned about the vendor still holds after a rewind.
                tuning: current.tuning.clone(),
            };
            match store.commit(&stream, rewound, None) {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    report_fatal(&e.to_string());
                    exit_for(&e)
                }
            }
        }
    }
}
