//! Running as the configured user, not root (docs/operations.md "Running user").
//!
//! Wazuh starts command wodles as root. `siemtap run` (and `siemtap state reset|rewind`) started
//! with euid 0 first reads what only root may read (`siemtap_secrets::preload`), then drops to
//! the configured user (`--user`, `SIEMTAP_USER`, config key `user`; default `wazuh`) with
//! `setgroups([gid])`, `setresgid`, `setresuid`, and checks it cannot regain root. Only then are
//! the network, the state, the log and the output opened.
//!
//! Linux credentials are per thread, and rustix's `set_thread_*` calls change only the calling
//! thread: the drop must happen while the process has exactly one thread, i.e. before the tokio
//! runtime starts its workers (`main.rs`). [`drop_to`] refuses to run otherwise.

use std::path::Path;

use rustix::process::{Gid, Uid};
pub use siemtap_fs::{Account, find_account};

/// Environment variable naming the user to run as.
pub const USER_ENV: &str = "SIEMTAP_USER";
/// The user siemtap drops to when none is configured.
pub const DEFAULT_USER: &str = "wazuh";
const PASSWD: &str = "/etc/passwd";

/// The configured user and where the setting came from (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserChoice {
    /// A user name or a numeric uid.
    pub name: String,
    /// `--user`, `SIEMTAP_USER`, `key `user` in FILE`, or `default`.
    pub origin: String,
}

impl UserChoice {
    /// `--user` wins, then `SIEMTAP_USER`, then the config file's `user`, then `wazuh`.
    pub fn resolve(flag: Option<&str>, env: Option<&str>, config: Option<(&str, &Path)>) -> Self {
        let pick = |name: &str, origin: String| Self {
            name: name.trim().to_owned(),
            origin,
        };
        if let Some(f) = flag.filter(|f| !f.trim().is_empty()) {
            return pick(f, "--user".into());
        }
        if let Some(e) = env.filter(|e| !e.trim().is_empty()) {
            return pick(e, USER_ENV.into());
        }
        if let Some((c, file)) = config.filter(|(c, _)| !c.trim().is_empty()) {
            return pick(c, format!("key `user` in {}", file.display()));
        }
        pick(DEFAULT_USER, "default".into())
    }

    /// Whether the user was set explicitly (not the default).
    fn explicit(&self) -> bool {
        self.origin != "default"
    }
}

fn lookup(choice: &UserChoice) -> Result<Account, String> {
    let text = std::fs::read_to_string(PASSWD)
        .map_err(|e| format!("cannot read {PASSWD} to find user {:?}: {e}", choice.name))?;
    find_account(&text, &choice.name).ok_or_else(|| {
        format!(
            "user {:?} ({}) does not exist in {PASSWD}; fix: create it (the Wazuh packages create `wazuh`), or name another with --user NAME / {USER_ENV} / config key `user` (`--user root` keeps root, not recommended)",
            choice.name,
            choice.origin
        )
    })
}

/// The account the process dropped to, once [`drop_to`] switched.
static DROPPED_TO: std::sync::OnceLock<Account> = std::sync::OnceLock::new();

/// Appended to "cannot open/write" messages after a drop: the path must be usable by the
/// unprivileged user now, and how to get there. Empty when no drop happened.
pub fn permission_hint() -> String {
    match DROPPED_TO.get() {
        Some(a) => format!(
            " (siemtap was started as root and runs as user {} (uid {}): files it writes must be writable by that user; fix: `chown {}` the file and its directory, or choose the user with --user / {USER_ENV})",
            a.name, a.uid, a.name
        ),
        None => String::new(),
    }
}

/// What [`drop_to`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Started as root, now runs as this account (cannot regain root).
    Dropped(Account),
    /// Started as root and told explicitly to stay root (a warning is logged).
    KeptRoot,
    /// Not started as root: nothing to drop (uid shown in messages).
    NotRoot(u32),
}

impl Outcome {
    /// Logs what happened; called once logging is up.
    pub fn log(&self, choice: &UserChoice) {
        match self {
            Outcome::Dropped(a) => tracing::info!(
                "started as root; running as {} (uid {}, gid {}) from {}",
                a.name,
                a.uid,
                a.gid,
                choice.origin
            ),
            Outcome::KeptRoot => tracing::warn!(
                "running as root because {} says `root`; siemtap is meant to run as an unprivileged user (default `wazuh`): remove that setting to drop privileges",
                choice.origin
            ),
            Outcome::NotRoot(uid) => tracing::debug!("running as uid {uid} (no privilege drop)"),
        }
    }
}

/// Drops to `choice` when running as root (see the module doc). Must be called while the
/// process has one thread.
pub fn drop_to(choice: &UserChoice) -> Result<Outcome, String> {
    let euid = rustix::process::geteuid();
    if !euid.is_root() {
        return not_root(choice, euid.as_raw());
    }
    if choice.name == "root" || choice.name == "0" {
        return Ok(Outcome::KeptRoot);
    }
    let account = lookup(choice)?;
    if account.uid == 0 {
        return Ok(Outcome::KeptRoot);
    }
    let threads = thread_count();
    if threads != Some(1) {
        return Err(format!(
            "cannot drop privileges safely: the process has {} threads (credentials are per thread); this is a bug, please report it",
            threads.map_or_else(|| "an unknown number of".into(), |n| n.to_string())
        ));
    }
    let uid = Uid::from_raw(account.uid);
    let gid = Gid::from_raw(account.gid);
    let fail = |what: &str, e: rustix::io::Errno| {
        format!(
            "cannot switch to user {:?} (uid {}, gid {}): {what} failed: {e}",
            account.name, account.uid, account.gid
        )
    };
    rustix::thread::set_thread_groups(&[gid]).map_err(|e| fail("setgroups", e))?;
    rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(|e| fail("setresgid", e))?;
    rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(|e| fail("setresuid", e))?;
    verify(&account)?;
    let _ = DROPPED_TO.set(account.clone());
    Ok(Outcome::Dropped(account))
}

fn not_root(choice: &UserChoice, euid: u32) -> Result<Outcome, String> {
    if !choice.explicit() {
        return Ok(Outcome::NotRoot(euid));
    }
    let wanted = if choice.name == "root" {
        Some(0)
    } else {
        lookup(choice).ok().map(|a| a.uid)
    };
    if wanted == Some(euid) {
        return Ok(Outcome::NotRoot(euid));
    }
    Err(format!(
        "{} asks to run as {:?}, but siemtap runs as uid {euid} and only root can switch users; fix: start it as that user, or remove the setting",
        choice.origin, choice.name
    ))
}

/// Checks the drop took: real, effective and saved ids are the account's, the only group is
/// its primary group, and root cannot be regained.
fn verify(account: &Account) -> Result<(), String> {
    use rustix::process::{getegid, geteuid, getgid, getgroups, getuid};
    let ids_ok = getuid().as_raw() == account.uid
        && geteuid().as_raw() == account.uid
        && getgid().as_raw() == account.gid
        && getegid().as_raw() == account.gid;
    let groups_ok = getgroups().is_ok_and(|g| g.iter().all(|g| g.as_raw() == account.gid));
    let regained = rustix::thread::set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT).is_ok();
    if ids_ok && groups_ok && !regained {
        Ok(())
    } else {
        Err(format!(
            "the switch to user {:?} did not take (ids ok: {ids_ok}, groups ok: {groups_ok}, root regained: {regained}); refusing to go on",
            account.name
        ))
    }
}

/// Threads of this process (`/proc/self/task`), `None` when /proc is not available.
fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task")
        .ok()
        .map(|d| d.filter(Result::is_ok).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_TEXT: &str =
        "root:x:0:0:root:/root:/bin/bash\nwazuh:x:998:997::/var/ossec:/sbin/nologin\nbad line\n";

    #[test]
    fn accounts_are_found_by_name_or_uid() {
        let w = find_account(PASSWD_TEXT, "wazuh").unwrap();
        assert_eq!((w.uid, w.gid), (998, 997));
        assert_eq!(find_account(PASSWD_TEXT, "998").unwrap().name, "wazuh");
        assert!(find_account(PASSWD_TEXT, "nobody").is_none());
        assert!(find_account(PASSWD_TEXT, "bad line").is_none());
    }

    #[test]
    fn flag_beats_env_beats_config_beats_default() {
        let cfg = Some(("c", Path::new("/etc/s.toml")));
        assert_eq!(
            UserChoice::resolve(Some("f"), Some("e"), cfg).origin,
            "--user"
        );
        assert_eq!(UserChoice::resolve(None, Some("e"), cfg).name, "e");
        assert_eq!(UserChoice::resolve(None, Some(" "), cfg).name, "c");
        let d = UserChoice::resolve(None, None, None);
        assert_eq!((d.name.as_str(), d.explicit()), ("wazuh", false));
    }
}
