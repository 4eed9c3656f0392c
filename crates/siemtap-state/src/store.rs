//! [`StateStore`]: the locked, atomically written state of one source.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::lock::StateLock;
use crate::snapshot::StateSnapshot;
use crate::{StateError, StreamState, StreamUpdate, format, fsio};

/// The state of one source, backed by a locked file (or by memory only, see [`StateStore::ephemeral`]).
#[derive(Debug)]
pub struct StateStore {
    snapshot: StateSnapshot,
    backing: Option<Backing>,
    /// Memory holds a change not yet written (only ever a `last_poll`, see [`StateStore::apply`]).
    dirty: bool,
}

#[derive(Debug)]
struct Backing {
    path: PathBuf,
    _lock: StateLock,
}

impl StateStore {
    /// Acquire `<path>.lock` (created if missing, never deleted) and read the state.
    ///
    /// Creates the parent directory if missing (mode 0o750). If another process or store holds
    /// the lock: [`StateError::Locked`] with the holder's pid. A missing state file is an empty
    /// state (first run); an empty, unparsable or mistyped file is [`StateError::Corrupt`], never
    /// a silent reset. The lock is held until the store is dropped.
    pub fn open(path: &Path) -> Result<StateStore, StateError> {
        check_file_path(path)?;
        fsio::ensure_parent_dir(path)?;
        let lock = StateLock::acquire(path)?;
        fsio::remove_stale_temps(path);
        let snapshot = load(path, siemtap_fs::Expect::WRITE)?.unwrap_or_default();
        tracing::debug!(
            state = %path.display(),
            streams = snapshot.streams.len(),
            "state loaded"
        );
        Ok(StateStore {
            snapshot,
            backing: Some(Backing {
                path: path.to_path_buf(),
                _lock: lock,
            }),
            dirty: false,
        })
    }

    /// A store for `--all` runs: nothing read, nothing written, no lock.
    pub fn ephemeral() -> StateStore {
        StateStore {
            snapshot: StateSnapshot::default(),
            backing: None,
            dirty: false,
        }
    }

    /// The state file, `None` for an ephemeral store.
    pub fn path(&self) -> Option<&Path> {
        self.backing.as_ref().map(|b| b.path.as_path())
    }

    /// The current (committed) contents.
    pub fn snapshot(&self) -> &StateSnapshot {
        &self.snapshot
    }

    /// A copy of the stream's state (default if absent).
    pub fn stream(&self, key: &str) -> StreamState {
        self.snapshot.stream(key)
    }

    /// The stream's position without its ledger (cursor, last poll, high-water mark).
    pub fn position(&self, key: &str) -> StreamState {
        self.snapshot
            .streams
            .get(key)
            .map(|s| StreamState {
                cursor: s.cursor.clone(),
                last_poll: s.last_poll,
                high_water: s.high_water,
                ledger: crate::Ledger::new(),
                tuning: s.tuning.clone(),
            })
            .unwrap_or_default()
    }

    /// Whether the stream's committed ledger holds `id`.
    pub fn ledger_contains(&self, key: &str, id: &str) -> bool {
        self.snapshot
            .streams
            .get(key)
            .is_some_and(|s| s.ledger.contains(id))
    }

    /// Keys of all streams present, sorted.
    pub fn stream_keys(&self) -> Vec<String> {
        self.snapshot.stream_keys()
    }

    /// Committed position of an output (the file sink's: its length in bytes), by output id.
    pub fn output_length(&self, output_id: &str) -> Option<u64> {
        self.snapshot.output_length(output_id)
    }

    /// A top-level key this version does not interpret, exactly as read (see
    /// [`StateSnapshot::extra`]).
    pub fn extra(&self, key: &str) -> Option<&Value> {
        self.snapshot.extra(key)
    }

    /// Replace one stream's state and optionally record an output file's committed length, then
    /// write the whole file atomically (temp file in the same dir, write, fsync, rename over,
    /// fsync the dir). `last_poll` is stored with whole-second precision; a stream with nothing
    /// recorded is removed. On error the in-memory state is unchanged. An ephemeral store only
    /// updates memory.
    pub fn commit(
        &mut self,
        key: &str,
        stream: StreamState,
        output: Option<(&str, u64)>,
    ) -> Result<(), StateError> {
        check_key(key)?;
        // Change in place and undo on failure: no copy of the other streams' ledgers.
        let stream = stream.normalized();
        let previous_stream = if stream.is_empty() {
            self.snapshot.streams.remove(key)
        } else {
            self.snapshot.streams.insert(key.to_owned(), stream)
        };
        let previous_output =
            output.map(|(id, len)| (id, self.snapshot.outputs.insert(id.to_owned(), len)));
        let written = self.write();
        if written.is_err() {
            match previous_stream {
                Some(old) => {
                    self.snapshot.streams.insert(key.to_owned(), old);
                }
                None => {
                    self.snapshot.streams.remove(key);
                }
            }
            if let Some((id, old)) = previous_output {
                self.restore_output(id, old);
            }
        }
        written
    }

    /// Apply one page's `update` to stream `key` in place and write the file atomically,
    /// optionally recording an output file's committed length. On error the in-memory state is
    /// exactly as before (inserted ids removed, pruned ids put back).
    ///
    /// A page that emitted nothing and changed nothing but the poll time (same cursor, no id,
    /// no newer event, no output) is kept in memory and written with the next write or
    /// [`StateStore::flush`]: a run with nothing new then writes the file once, not once per
    /// stream, and a kill before that loses only the poll time. Any other page is written at
    /// once: every window or page that moves the cursor is a checkpoint.
    pub fn apply(
        &mut self,
        key: &str,
        update: StreamUpdate,
        output: Option<(&str, u64)>,
    ) -> Result<(), StateError> {
        self.apply_outputs(key, update, output.as_slice())
    }

    /// [`StateStore::apply`] for a page several outputs accepted: every output's committed
    /// position is recorded in the same atomic write as the cursor (fan-out).
    pub fn apply_outputs(
        &mut self,
        key: &str,
        update: StreamUpdate,
        outputs: &[(&str, u64)],
    ) -> Result<(), StateError> {
        check_key(key)?;
        let existed = self.snapshot.streams.contains_key(key);
        let stream = self.snapshot.streams.entry(key.to_owned()).or_default();
        let cursor = update.cursor.filter(|c| !c.is_null());
        let quiet = outputs.is_empty()
            && !update.emitted
            && update.delivered.is_empty()
            && cursor
                .as_ref()
                .is_none_or(|c| stream.cursor.as_ref() == Some(c))
            && update
                .newest
                .is_none_or(|n| stream.high_water.is_some_and(|hw| n <= hw));
        let previous = (stream.cursor.clone(), stream.last_poll, stream.high_water);
        let previous_tuning = stream.tuning.clone();
        if let Some(t) = update.last_poll {
            stream.last_poll = Some(format::floor_to_second(t));
        }
        // Tuning is not a position: it may wait for the next write like the poll time.
        if let Some(tuning) = update.tuning {
            stream.tuning = (!tuning.is_null()).then_some(tuning);
        }
        if quiet {
            if stream.is_empty() && !existed {
                self.snapshot.streams.remove(key);
            } else {
                self.dirty = true;
            }
            return Ok(());
        }
        if cursor.is_some() {
            stream.cursor = cursor;
        }
        stream.high_water = stream.high_water.max(update.newest);
        let mut undo_ids = Vec::with_capacity(update.delivered.len());
        for (id, t) in update.delivered {
            let prev = stream.ledger.replace(id.clone(), t);
            undo_ids.push((id, prev));
        }
        let pruned = match (update.retention, stream.high_water) {
            (Some((window, max)), Some(hw)) => stream
                .ledger
                .prune_returning(hw.as_second().saturating_sub(window), max),
            _ => Vec::new(),
        };
        let previous_outputs: Vec<_> = outputs
            .iter()
            .map(|(id, len)| (*id, self.snapshot.outputs.insert((*id).to_owned(), *len)))
            .collect();
        let written = self.write();
        if written.is_err() {
            if let Some(stream) = self.snapshot.streams.get_mut(key) {
                (stream.cursor, stream.last_poll, stream.high_water) = previous;
                stream.tuning = previous_tuning;
                for (id, t) in pruned {
                    stream.ledger.restore(&id, Some(t));
                }
                for (id, prev) in undo_ids.iter().rev() {
                    stream.ledger.restore(id, *prev);
                }
            }
            if !existed {
                self.snapshot.streams.remove(key);
            }
            for (id, old) in previous_outputs.into_iter().rev() {
                self.restore_output(id, old);
            }
        }
        written
    }

    /// Write what [`StateStore::apply`] kept in memory only, if anything.
    pub fn flush(&mut self) -> Result<(), StateError> {
        if self.dirty { self.write() } else { Ok(()) }
    }

    fn restore_output(&mut self, id: &str, old: Option<u64>) {
        match old {
            Some(len) => {
                self.snapshot.outputs.insert(id.to_owned(), len);
            }
            None => {
                self.snapshot.outputs.remove(id);
            }
        }
    }

    /// Writes the current snapshot atomically (nothing for an ephemeral store).
    fn write(&mut self) -> Result<(), StateError> {
        if let Some(backing) = &self.backing {
            let bytes = format::to_bytes(&self.snapshot).map_err(|e| StateError::Write {
                path: backing.path.clone(),
                source: io::Error::other(e),
            })?;
            fsio::write_atomic(&backing.path, &bytes)?;
        }
        self.dirty = false;
        Ok(())
    }

    /// Record an output file's committed length without touching any stream (for events
    /// delivered outside a stream: error events, run summaries), then write atomically. On
    /// error the in-memory state is unchanged.
    pub fn record_output(&mut self, output_id: &str, length: u64) -> Result<(), StateError> {
        self.record_outputs(&[(output_id, length)])
    }

    /// [`StateStore::record_output`] for several outputs at once, in one atomic write.
    pub fn record_outputs(&mut self, outputs: &[(&str, u64)]) -> Result<(), StateError> {
        let previous: Vec<_> = outputs
            .iter()
            .map(|(id, len)| (*id, self.snapshot.outputs.insert((*id).to_owned(), *len)))
            .collect();
        let written = self.write();
        if written.is_err() {
            for (id, old) in previous.into_iter().rev() {
                self.restore_output(id, old);
            }
        }
        written
    }

    /// Remove the given streams (all streams if `keys` is empty) and write atomically. Output
    /// lengths and unknown keys are kept. For `siemtap state reset`.
    pub fn reset(&mut self, keys: &[String]) -> Result<(), StateError> {
        let (next, removed) = self.snapshot.without_streams(keys);
        tracing::info!(removed = ?removed, "resetting stream state");
        self.persist(next)
    }

    /// The file as pretty JSON for `siemtap state show` (ledgers summarized unless `full`).
    pub fn render(&self, full: bool) -> String {
        self.snapshot.render(full)
    }

    fn persist(&mut self, next: StateSnapshot) -> Result<(), StateError> {
        if let Some(backing) = &self.backing {
            let bytes = format::to_bytes(&next).map_err(|e| StateError::Write {
                path: backing.path.clone(),
                source: io::Error::other(e),
            })?;
            fsio::write_atomic(&backing.path, &bytes)?;
        }
        self.snapshot = next;
        self.dirty = false;
        Ok(())
    }
}

/// Stream keys name state keys: an empty one would collide with the reference's flat keys.
fn check_key(key: &str) -> Result<(), StateError> {
    if key.is_empty() {
        return Err(StateError::InvalidKey {
            key: key.to_owned(),
            reason: "stream keys must not be empty",
        });
    }
    Ok(())
}

/// Read a state file without taking the lock (for `siemtap state show` while a run holds it).
/// `Ok(None)` if the file does not exist; otherwise the same corruption rules as
/// [`StateStore::open`].
pub fn read_state_file(path: &Path) -> Result<Option<StateSnapshot>, StateError> {
    check_file_path(path)?;
    load(path, siemtap_fs::Expect::READ)
}

/// Parse the bytes of a state file without touching the disk (same rules as
/// [`read_state_file`]); `path` only names the file in errors. For tools and fuzzing.
pub fn parse_state_bytes(path: &Path, bytes: &[u8]) -> Result<StateSnapshot, StateError> {
    format::parse(path, bytes)
}

fn load(path: &Path, expect: siemtap_fs::Expect) -> Result<Option<StateSnapshot>, StateError> {
    fsio::read_if_exists(path, expect)?
        .map(|bytes| format::parse(path, &bytes))
        .transpose()
}

fn check_file_path(path: &Path) -> Result<(), StateError> {
    if path.file_name().is_none() {
        return Err(StateError::Read {
            path: path.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "the state path must name a file, not a directory",
            ),
        });
    }
    Ok(())
}
