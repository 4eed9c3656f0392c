//! Helpers shared by the integration tests: real temp files with explicit modes, and log capture.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use siemtap_secrets::{ChainSources, CredentialKey};

/// A distinctive value that must never show up in any printed output.
pub const CANARY: &str = "CANARY-7f3a9e";

/// The 1Password token key.
pub const OP: CredentialKey = CredentialKey {
    cred_name: "op_bearer_token",
    env_name: "OP_BEARER_TOKEN",
};

/// Write `content` to `dir/name` and set `mode` explicitly (independent of the umask).
pub fn write(dir: &Path, name: &str, content: &[u8], mode: u32) -> PathBuf {
    let path = dir.join(name);
    let mut f = fs::File::create(&path).unwrap();
    f.write_all(content).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// Sources from explicit parts; `env` as `(name, value)` pairs.
pub fn sources(
    cred_dir: Option<&Path>,
    secrets_file: Option<&Path>,
    env: &[(&str, &str)],
) -> ChainSources {
    ChainSources {
        credentials_directory: cred_dir.map(Path::to_path_buf),
        secrets_file: secrets_file.map(Path::to_path_buf),
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>(),
        renames: HashMap::new(),
    }
}

/// Run `f` with a TRACE-level subscriber installed for this thread; return its result and the log text.
pub fn capture_logs<R>(f: impl FnOnce() -> R) -> (R, String) {
    let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer_buf = Arc::clone(&buf);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || BufWriter(Arc::clone(&writer_buf)))
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    (out, text)
}

/// `io::Write` into a shared buffer.
struct BufWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
