//! What runs before the async runtime: command-line errors, loading the configuration, reading
//! the root-only secrets and the privilege drop (`privilege.rs` says why this must happen
//! while the process has one thread).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{RunArgs, StateAction, StateArgs};
use crate::config::{Config, ConfigError};
use crate::privilege::{self, Outcome, USER_ENV, UserChoice};
use crate::run::Exit;

/// The result of the pre-runtime steps of `siemtap run`.
pub struct Started {
    /// `--config`: the file, loaded before the drop (it may name the user).
    pub config: Option<Result<Config, ConfigError>>,
    /// The configured user.
    pub user: UserChoice,
    /// The privilege drop; `Err` is a usage error (nothing may be opened: still root).
    pub privilege: Result<Outcome, String>,
}

impl Started {
    /// Logs the outcome of the drop (once logging is set up).
    pub fn log(&self) {
        if let Ok(outcome) = &self.privilege {
            outcome.log(&self.user);
        }
    }
}

/// `siemtap run`: load the configuration, preload the secrets if root, drop privileges.
pub fn run(args: &RunArgs) -> Started {
    let config = args.config.as_deref().map(Config::load);
    let loaded = config.as_ref().and_then(|c| c.as_ref().ok());
    let user = UserChoice::resolve(
        args.user.as_deref(),
        std::env::var(USER_ENV).ok().as_deref(),
        loaded.and_then(|c| c.file.user.as_deref().map(|u| (u, c.path.as_path()))),
    );
    if rustix::process::geteuid().is_root() {
        preload_secrets(args, loaded);
    }
    let privilege = privilege::drop_to(&user);
    Started {
        config,
        user,
        privilege,
    }
}

/// `siemtap state reset|rewind` started as root runs as the configured user too (`show` only
/// reads). `Err` is the exit code after the message.
pub fn state(args: &StateArgs) -> Result<(), Exit> {
    if matches!(args.action, StateAction::Show { .. }) {
        return Ok(());
    }
    let user = UserChoice::resolve(
        args.user.as_deref(),
        std::env::var(USER_ENV).ok().as_deref(),
        None,
    );
    match privilege::drop_to(&user) {
        Ok(Outcome::KeptRoot) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "siemtap: warning: running as root because {} says `root`",
                    user.origin
                );
            }
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => {
            crate::run::report_fatal(&e);
            Err(Exit::Usage)
        }
    }
}

/// A command-line error from clap: its message on stderr (exit 2), and for `siemtap run` in
/// wodle mode also a `CONFIG_INVALID` event on stdout. Help and version print and exit 0.
pub fn clap_error(e: &clap::Error) -> ExitCode {
    let _ = e.print();
    if !e.use_stderr() {
        return ExitCode::SUCCESS;
    }
    let is_run = std::env::args().nth(1).is_some_and(|a| a == "run");
    if is_run && crate::usage::stdout_is_event_channel(&[]) {
        let rendered = e.render().to_string();
        let first = rendered.lines().next().unwrap_or("invalid command line");
        let message = format!("{first}; fix: see `siemtap run --help`");
        crate::usage::write_event(&message);
    }
    ExitCode::from(Exit::Usage as u8)
}

/// Reads, while still root, every secrets file, tokens file and systemd credential the run
/// may use (`siemtap_secrets::preload`), so the unprivileged user needs no read access.
fn preload_secrets(args: &RunArgs, config: Option<&Config>) {
    let env: HashMap<String, String> = std::env::vars().collect();
    let path_of = |env: &HashMap<String, String>, key: &str| {
        env.get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = path_of(&env, "CREDENTIALS_DIRECTORY") {
        // A directory that cannot be listed is reported by the lookups themselves.
        let _ = siemtap_secrets::preload::preload_credentials_directory(&dir);
    }
    let mut wanted: Vec<(String, HashMap<String, String>, PathBuf)> = Vec::new();
    match config {
        Some(config) => {
            for source in &config.file.sources {
                let Some(builtin) = siemtap_connectors::find(source.connector.get_ref()) else {
                    continue;
                };
                let allowed = siemtap_connectors::settings_for(builtin.name);
                if let Ok(e) = crate::run_config::builtin_env(
                    builtin.env_prefix,
                    allowed,
                    source,
                    &config.state_file(source),
                    config.secrets_file(),
                    &env,
                ) {
                    wanted.push((builtin.env_prefix.to_owned(), e, config.base_dir()));
                }
            }
            if let Some(file) = config.secrets_file() {
                siemtap_secrets::preload::preload_secrets_file(&file);
            }
        }
        None => {
            if let Some(c) = args.connector.as_deref().and_then(siemtap_connectors::find) {
                wanted.push((c.env_prefix.to_owned(), env.clone(), exe_dir()));
            }
        }
    }
    for (prefix, env, dir) in wanted {
        let secrets = path_of(&env, &format!("{prefix}_SECRETS_FILE"))
            .unwrap_or_else(|| dir.join(".secrets"));
        siemtap_secrets::preload::preload_secrets_file(&secrets);
        if let Some(tokens) = path_of(&env, &format!("{prefix}_TOKENS_FILE")) {
            siemtap_secrets::preload::preload_file(&tokens);
        }
    }
}

/// The executable's directory (drop-in defaults such as `.secrets` beside it).
pub fn exe_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| ".".into())
}
