//! siemtap-state: the one module that reads and writes state files.
//!
//! A [`StateStore`] holds the position of every stream of one source. It is opened under an
//! exclusive lock, committed after each delivered page with an atomic file replacement, and a
//! corrupt file is a refusal ([`StateError::Corrupt`]), never a silent reset.
//!
//! # File format (compatibility contract)
//!
//! A state file is one flat JSON object, readable by the reference Python integrations (which
//! read `<stream>_cursor` and `<stream>_last_poll`):
//!
//! | key | value |
//! |---|---|
//! | `"<key>_cursor"` | the stream's cursor as is (a string for 1Password, an integer for Cortex XDR) |
//! | `"<key>_last_poll"` | time of the last successful poll, `%Y-%m-%dT%H:%M:%SZ` UTC (whole seconds) |
//! | `"<key>_high_water"` | newest delivered event time, RFC 3339 UTC, full precision (`2026-03-01T00:00:00.123456789Z`) |
//! | `"<key>_ledger"` | dedupe ledger, `{"<id>": <event time, epoch seconds>, ...}` |
//! | `"siemtap"` | `{"format": 1, "outputs": {"<output id>": <committed position>}}` (a file's is its length in bytes) |
//!
//! - `<key>` is the stream key and may contain dots and underscores (tenant prefix
//!   `client-a.signin`, stream `top_clickers`): a key is split at the *last* known suffix only,
//!   so `top_clickers_cursor` belongs to stream `top_clickers`.
//! - Reading: a missing `siemtap` object is fine (files written by the reference integration,
//!   e.g. `{"signin_cursor": "c:2", "signin_last_poll": "2026-11-22T09:23:30Z"}`, load as is).
//!   Timestamps are accepted in any RFC 3339 form with an offset. A JSON `null` value counts as
//!   absent. Anything else of the wrong type, an unparsable timestamp, invalid JSON or a 0-byte
//!   file is [`StateError::Corrupt`] naming the key. A `format` newer than 1 is
//!   [`StateError::UnsupportedFormat`].
//! - Unknown keys (top-level, e.g. Proofpoint's `people_last_fetch`, and inside `siemtap`) are
//!   preserved verbatim on rewrite and readable through [`StateSnapshot::extra`].
//! - Writing: keys sorted, pretty-printed, trailing newline. A stream with nothing recorded
//!   writes no keys; an empty ledger writes no `_ledger` key. The `siemtap` object is always
//!   written.
//!
//! # Files on disk
//!
//! - `<state file>`: replaced atomically (temp file `.<name>.<pid>.<n>.tmp` in the same
//!   directory, write, fsync, rename over, fsync the directory). A new file gets mode 0o640; a
//!   replaced file keeps its mode. Stale temp files of a crashed writer are removed on open.
//! - `<state file>.lock`: created if missing (0o640) and never deleted; locked with
//!   `File::try_lock` for the lifetime of the [`StateStore`] and holding the holder's pid.
//! - A missing parent directory is created with mode 0o750.
//! - None of these is opened through a symbolic link (`O_NOFOLLOW`, via `siemtap-fs`): the
//!   lock and the state file must be regular files with one hard link, owned by the running
//!   user, and the state directory must not be a symlink; anything else is
//!   [`StateError::Refused`] naming the path and the fix (remove the link, `chown`). A reader
//!   without the lock ([`read_state_file`]) only refuses symlinks and non-regular files.

mod error;
mod format;
mod fsio;
mod ledger;
mod lock;
mod snapshot;
mod store;
mod stream;

pub use error::StateError;
pub use format::FORMAT_VERSION;
pub use ledger::Ledger;
pub use lock::lock_path;
pub use snapshot::StateSnapshot;
pub use store::{StateStore, parse_state_bytes, read_state_file};
pub use stream::{StreamState, StreamUpdate};
