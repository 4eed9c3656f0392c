//! The `file:PATH` sink kind: JSON lines appended to a file, exactly once. The file's length
//! after each page is its output position, committed with the cursor; recovery cuts whatever
//! a run wrote after its last commit.

mod spec;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use siemtap_core::{Batch, BoxFuture, Delivery, Health, Sink, SinkError};

pub use spec::{FileSpec, KIND};

/// JSON lines appended to a file, with exactly-once recovery.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    id: String,
    file: File,
    len: u64,
}

impl FileSink {
    /// The output id under which the committed length of `path` is stored in state: the
    /// absolute path, so every source writing the file agrees on it.
    pub fn output_id_for(path: &Path) -> String {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        format!("file:{}", abs.display())
    }

    /// Opens (creating, mode 0640) the file for appending; a symlink, a hard-linked file or a
    /// file of another user is refused (the message names the path and the fix). `committed` is the largest length
    /// any state file recorded for it: bytes beyond it were written by a run that died before
    /// committing, and are cut so the re-fetch does not duplicate them. A file shorter than
    /// `committed` was rotated or truncated by someone else; it is appended to as is.
    pub fn open(path: &Path, committed: Option<u64>) -> Result<Self, SinkError> {
        let mut sink = Self::open_unrecovered(path)?;
        sink.recover_to(committed)?;
        Ok(sink)
    }

    /// Opens the file without recovery ([`Sink::recover`] does that).
    pub fn open_unrecovered(path: &Path) -> Result<Self, SinkError> {
        let id = Self::output_id_for(path);
        let fail = |what: &str, e: std::io::Error| SinkError {
            sink: id.clone(),
            message: format!(
                "{what} {}: {e}; check the path and its permissions",
                path.display()
            ),
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| fail("cannot create the directory of", e))?;
        }
        // Never through a symlink or a hard link, and only a file of the running user: the
        // recovery below may cut it (siemtap-fs).
        let file =
            siemtap_fs::open_for_write(path, siemtap_fs::WriteMode::Keep, 0o640).map_err(|e| {
                match e {
                    siemtap_fs::FsError::Io { source, .. } => fail("cannot open", source),
                    refused => SinkError {
                        sink: id.clone(),
                        message: refused.to_string(),
                    },
                }
            })?;
        let len = file.metadata().map_err(|e| fail("cannot stat", e))?.len();
        Ok(Self {
            path: path.to_path_buf(),
            id,
            file,
            len,
        })
    }

    /// Cuts what was written after `committed` (see [`FileSink::open`]).
    fn recover_to(&mut self, committed: Option<u64>) -> Result<(), SinkError> {
        let path = self.path.clone();
        let fail = |what: &str, e: std::io::Error| SinkError {
            sink: self.id.clone(),
            message: format!(
                "{what} {}: {e}; check the path and its permissions",
                path.display()
            ),
        };
        let len = self.len;
        match committed {
            Some(c) if len > c => {
                tracing::warn!(
                    output = %path.display(),
                    "removing {} bytes an interrupted run wrote after its last checkpoint; they are fetched again",
                    len - c
                );
                self.file
                    .set_len(c)
                    .map_err(|e| fail("cannot truncate", e))?;
                self.file.sync_all().map_err(|e| fail("cannot sync", e))?;
                self.len = c;
            }
            Some(c) if len < c => tracing::warn!(
                output = %path.display(),
                "output is shorter than the committed length ({len} < {c}): it was rotated or truncated outside siemtap; appending"
            ),
            _ => {}
        }
        Ok(())
    }

    /// The file's current length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been written to the file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(bytes)?;
        // Durable before the cursor that depends on it is committed.
        self.file.sync_data()
    }
}

impl Sink for FileSink {
    fn output_id(&self) -> Option<&str> {
        Some(&self.id)
    }

    fn send<'a>(&'a mut self, batch: &'a Batch) -> BoxFuture<'a, Result<Delivery, SinkError>> {
        Box::pin(async move {
            if let Err(e) = self.append(batch.bytes()) {
                // Leave no partial page behind: the cursor is not advanced for it.
                let _ = self.file.set_len(self.len);
                return Err(SinkError {
                    sink: self.id.clone(),
                    message: format!(
                        "writing {} failed: {e}; check free space and permissions",
                        self.path.display()
                    ),
                });
            }
            self.len += batch.bytes().len() as u64;
            Ok(Delivery {
                position: Some(self.len),
            })
        })
    }

    /// The position is the file's length: anything after `committed` is cut.
    fn recover(&mut self, committed: Option<u64>) -> BoxFuture<'_, Result<Option<u64>, SinkError>> {
        Box::pin(async move {
            self.recover_to(committed)?;
            Ok(Some(self.len))
        })
    }

    /// Up when the file is still there and is still the file this sink writes.
    fn health(&mut self) -> BoxFuture<'_, Health> {
        Box::pin(async move {
            use std::os::unix::fs::MetadataExt;
            let open = self.file.metadata();
            match (open, std::fs::symlink_metadata(&self.path)) {
                (Ok(a), Ok(b)) if a.ino() == b.ino() && a.dev() == b.dev() => Health::Up,
                (_, Err(e)) => Health::Down(format!(
                    "{}: {e}; the file was removed or its directory is unreadable",
                    self.id
                )),
                _ => Health::Down(format!(
                    "{}: the path now names another file (rotated?); the next run opens it",
                    self.id
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(lines: &[&str]) -> Batch {
        let mut b = Batch::new();
        for l in lines {
            b.push_with(|out| out.extend_from_slice(l.as_bytes()));
        }
        b
    }

    #[tokio::test]
    async fn appends_and_reports_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/events.json");
        let mut sink = FileSink::open(&path, None).unwrap();
        let d = sink
            .send(&batch(&["{\"a\":1}", "{\"b\":2}"]))
            .await
            .unwrap();
        assert_eq!(d.position, Some(16));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
    }

    #[tokio::test]
    async fn recovery_cuts_uncommitted_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        std::fs::write(&path, "{\"a\":1}\n{\"partial\":").unwrap();
        let mut sink = FileSink::open(&path, Some(8)).unwrap();
        assert_eq!(sink.len(), 8);
        sink.send(&batch(&["{\"b\":2}"])).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
    }

    #[tokio::test]
    async fn shorter_file_is_appended_not_extended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        std::fs::write(&path, "x\n").unwrap();
        let sink = FileSink::open(&path, Some(100)).unwrap();
        assert_eq!(sink.len(), 2);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 2);
    }

    #[test]
    fn unopenable_path_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = FileSink::open(&blocker.join("events.json"), None).unwrap_err();
        assert!(
            err.to_string().contains("events.json") || err.to_string().contains("file"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn recover_hook_cuts_back_to_the_committed_position_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        let mut sink = FileSink::open(&path, None).unwrap();
        sink.send(&batch(&["{\"a\":1}"])).await.unwrap();
        sink.send(&batch(&["{\"b\":2}"])).await.unwrap();
        // A fan-out partner refused the second page: back to what state holds.
        assert_eq!(sink.recover(Some(8)).await.unwrap(), Some(8));
        sink.send(&batch(&["{\"c\":3}"])).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"c\":3}\n"
        );
    }

    #[tokio::test]
    async fn health_is_down_once_the_file_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        let mut sink = FileSink::open(&path, None).unwrap();
        assert_eq!(sink.health().await, Health::Up);
        std::fs::remove_file(&path).unwrap();
        match sink.health().await {
            Health::Down(m) => assert!(m.contains("events.json"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
