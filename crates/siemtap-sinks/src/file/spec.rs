//! `--output file:PATH`: the file sink's configuration and registry entry.

use std::path::{Path, PathBuf};

use siemtap_core::{OutputSpec, Sink, SinkContext, SinkError, SinkKind};

use super::FileSink;

/// The registry entry: `file:PATH`.
pub const KIND: SinkKind = SinkKind {
    name: "file",
    forms: "file:PATH",
    parse,
};

/// A JSON-lines file with exactly-once recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// The file (relative: to the working directory, or to the config file that names it).
    pub path: PathBuf,
}

fn parse(spec: &str) -> Option<Result<Box<dyn OutputSpec>, String>> {
    let path = spec.strip_prefix("file:").filter(|p| !p.is_empty())?;
    Some(Ok(Box::new(FileSpec {
        path: PathBuf::from(path),
    })))
}

impl OutputSpec for FileSpec {
    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }

    fn output_id(&self) -> Option<String> {
        Some(FileSink::output_id_for(&self.path))
    }

    fn resolve_relative(&mut self, base: &Path) {
        if self.path.is_relative() {
            self.path = base.join(&self.path);
        }
    }

    fn open(&self, _ctx: &SinkContext<'_>) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(FileSink::open_unrecovered(&self.path)?))
    }
}
