//! Diagnostics: to a log file, or to stderr only when asked or on a terminal. Never stdout,
//! and never stderr by default: the Wazuh command wodle turns every stderr line into an event.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tracing_subscriber::EnvFilter;

/// Where logs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// A file, appended to (0640 when created).
    File(PathBuf),
    /// Standard error.
    Stderr,
    /// Nowhere (wodle mode without a log file: stderr would become events).
    Discard,
}

impl LogTarget {
    /// `--log-file` if given (`stderr` selects stderr), else stderr on a terminal, else nothing.
    pub fn choose(log_file: Option<&Path>) -> Self {
        match log_file {
            Some(p) if p == Path::new("stderr") || p == Path::new("-") => Self::Stderr,
            Some(p) => Self::File(p.to_path_buf()),
            None if std::io::stderr().is_terminal() => Self::Stderr,
            None => Self::Discard,
        }
    }
}

/// Set once the log goes to stderr: a fatal message then needs no second copy there.
static LOGS_TO_STDERR: AtomicBool = AtomicBool::new(false);

/// Whether [`init`] sent the log to stderr.
pub fn logs_to_stderr() -> bool {
    LOGS_TO_STDERR.load(Ordering::Relaxed)
}

fn level(debug: u8) -> &'static str {
    match debug {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

/// Installs the global subscriber and a panic hook that logs instead of printing.
pub fn init(target: &LogTarget, debug: u8) -> anyhow::Result<()> {
    // Dependencies stay at warn unless asked for trace: their debug lines can carry URLs.
    let filter = if debug >= 3 {
        EnvFilter::new("trace,hyper=debug,h2=info,rustls=info")
    } else {
        EnvFilter::new(format!(
            "warn,siemtap={0},siemtap_core={0},siemtap_http={0},siemtap_connectors={0},siemtap_sinks={0},siemtap_state={0},siemtap_secrets={0},siemtap_sim={0}",
            level(debug)
        ))
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match target {
        LogTarget::File(path) => {
            // Never through a symlink or a hard link, only a file of the running user.
            let file = siemtap_fs::open_for_write(path, siemtap_fs::WriteMode::Append, 0o640)
                .with_context(|| {
                    format!(
                        "cannot open log file {}; check --log-file and the directory's permissions",
                        path.display()
                    )
                })?;
            builder
                .with_ansi(false)
                .with_writer(Mutex::new(file))
                .init();
        }
        LogTarget::Stderr => {
            builder.with_writer(std::io::stderr).init();
            LOGS_TO_STDERR.store(true, Ordering::Relaxed);
        }
        LogTarget::Discard => builder.with_writer(std::io::sink).init(),
    }
    std::panic::set_hook(Box::new(|info| {
        tracing::error!("siemtap panicked: {info}; please report this with the log");
    }));
    Ok(())
}
