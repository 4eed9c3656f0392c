//! The stored positions of a run's streams, checked before anything runs: a value a stream
//! cannot use (`{"audit_cursor": 123}`) is corrupt state, reported like an unparsable file —
//! never a silent restart from the lookback window that then overwrites the file.

use crate::{ErrorCode, Failure, Source, StateStore};

/// Checks every selected stream of `source` against its stored position
/// ([`Source::check_position`]). `Err` is the `STATE_READ_ERROR` failure to report, naming the
/// state file, the stream key and the fix; the caller then stops as for a corrupt state file
/// (one error event, exit 4) without writing the file. An ephemeral store has no positions.
pub fn check_positions(store: &StateStore, source: &dyn Source) -> Result<(), Failure> {
    for stream in source.selected_streams() {
        let key = format!("{}{stream}", source.state_prefix());
        let state = store.position(&key);
        if state.cursor.is_none() && state.tuning.is_none() {
            continue;
        }
        if let Err(what) = source.check_position(stream, &state) {
            let file = store
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(none)".into());
            return Err(Failure::new(
                ErrorCode::StateReadError,
                "orchestrator",
                format!(
                    "state file {file} is corrupt: stream {key}: {what}; the file was left as it \
                     is: fix the value, or run `siemtap state reset --state-file {file} --stream \
                     {key}` to start that stream over from the lookback window"
                ),
            ));
        }
    }
    Ok(())
}
