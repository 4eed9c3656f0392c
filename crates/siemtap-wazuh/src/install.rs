//! `siemtap wazuh install`: the manager-side layout with Wazuh's owners and modes
//! (wazuh.md §9). Wazuh 5.x (prefix `/var/wazuh-manager`, no XML rules) is refused.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::check::check_sources;
use crate::generate::{BUILTIN, rules_for};
use crate::render::render_file;

/// What to install.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    /// Wazuh prefix (`/var/ossec`).
    pub prefix: PathBuf,
    /// The binary to copy (normally the running one).
    pub binary: PathBuf,
    /// Connectors whose rules are installed (all built-ins when empty).
    pub connectors: Vec<String>,
}

/// One step of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create a directory; an existing one is left as it is when `keep_existing`.
    Dir {
        /// Leave an existing directory's owner and mode alone (Wazuh's own directories).
        keep_existing: bool,
    },
    /// Copy a file (atomically: temp file + rename).
    Copy(PathBuf),
    /// Write contents; `only_if_absent` keeps an existing file (secrets, log).
    Write {
        /// File contents.
        contents: String,
        /// Never overwrite.
        only_if_absent: bool,
    },
}

/// A path with its action, owner, group and mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Target path.
    pub path: PathBuf,
    /// What to do.
    pub action: Action,
    /// Owner user.
    pub owner: &'static str,
    /// Owner group.
    pub group: &'static str,
    /// Permission bits.
    pub mode: u32,
}

/// Why the install stopped.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A Wazuh 5.x layout.
    #[error(
        "{prefix} looks like a Wazuh 5.x manager ({reason}); 5.x has no XML rules or integrations \
         directory, so siemtap refuses to install rules there. Use the socket sink with a systemd \
         timer instead (docs/wazuh-rules.md)"
    )]
    Wazuh5 {
        /// The prefix.
        prefix: String,
        /// What gave it away.
        reason: String,
    },
    /// A filesystem operation failed.
    #[error("{path}: {what}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Operation.
        what: &'static str,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Generated rules failed the checker (a siemtap bug).
    #[error("generated rules for {0} fail the checker: {1}")]
    Rules(String, String),
    /// Owners could not be set.
    #[error(
        "files are in place with their modes, but owners could not be set:\n{0}\nRun the install as \
         root on the Wazuh manager (the `wazuh` user and group must exist), or set these owners \
         yourself and pass --skip-chown"
    )]
    Ownership(String),
}

fn io<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(std::io::Error) -> InstallError + 'a {
    move |source| InstallError::Io {
        path: path.display().to_string(),
        what,
        source,
    }
}

/// Refuses a Wazuh 5.x layout.
pub fn detect_wazuh5(prefix: &Path) -> Option<String> {
    if prefix.file_name().is_some_and(|n| n == "wazuh-manager") {
        return Some("the prefix is named wazuh-manager".into());
    }
    if prefix.join("queue/sockets/queue-http.sock").exists() {
        return Some("queue/sockets/queue-http.sock exists".into());
    }
    for f in ["VERSION", "VERSION.json"] {
        if let Ok(text) = fs::read_to_string(prefix.join(f)) {
            let t = text.replace([' ', '"', '\'', 'v', 'V'], "");
            if t.contains(":5.") || t.trim_start().starts_with("5.") {
                return Some(format!("{f} says version 5"));
            }
        }
    }
    None
}

const SECRETS_TEMPLATE: &str = "\
# siemtap secrets (KEY=VALUE). Keep this file 0640 root:wazuh.
# systemd credentials ($CREDENTIALS_DIRECTORY) and the environment are also read.
#OP_BEARER_TOKEN=
#PP_PRINCIPAL=
#PP_SECRET=
#XDR_FQDN=
#XDR_API_KEY=
#XDR_API_KEY_ID=
";

/// The installed rules file of a connector: `siemtap_<connector>_rules.xml`, and
/// `siemtap_health_rules.xml` for siemtap's own health and error rules.
pub fn rules_file_name(connector: &str) -> String {
    match connector {
        "siemtap" => "siemtap_health_rules.xml".into(),
        c => format!("siemtap_{c}_rules.xml"),
    }
}

/// Builds the plan.
pub fn plan(o: &InstallOptions) -> Result<Vec<Step>, InstallError> {
    if let Some(reason) = detect_wazuh5(&o.prefix) {
        return Err(InstallError::Wazuh5 {
            prefix: o.prefix.display().to_string(),
            reason,
        });
    }
    let p = &o.prefix;
    let dir = |path: PathBuf, owner, group, mode, keep_existing| Step {
        path,
        action: Action::Dir { keep_existing },
        owner,
        group,
        mode,
    };
    let mut steps = vec![
        dir(p.join("wodles/siemtap"), "root", "wazuh", 0o750, false),
        Step {
            path: p.join("wodles/siemtap/siemtap"),
            action: Action::Copy(o.binary.clone()),
            owner: "root",
            group: "wazuh",
            mode: 0o750,
        },
        Step {
            path: p.join("wodles/siemtap/.secrets"),
            action: Action::Write {
                contents: SECRETS_TEMPLATE.into(),
                only_if_absent: true,
            },
            owner: "root",
            group: "wazuh",
            mode: 0o640,
        },
        dir(p.join("var/wodles/siemtap"), "root", "wazuh", 0o770, false),
        dir(p.join("logs"), "wazuh", "wazuh", 0o770, true),
        Step {
            path: p.join("logs/siemtap.log"),
            action: Action::Write {
                contents: String::new(),
                only_if_absent: true,
            },
            owner: "root",
            group: "wazuh",
            mode: 0o660,
        },
        dir(p.join("etc/rules"), "root", "wazuh", 0o770, true),
    ];
    let mut connectors: Vec<String> = if o.connectors.is_empty() {
        BUILTIN.iter().map(|b| b.name.to_string()).collect()
    } else {
        o.connectors.clone()
    };
    // siemtap's health and error rules go with every connector (the sinks emit them for all).
    if !connectors.iter().any(|c| c == "siemtap") {
        connectors.push("siemtap".into());
    }
    for c in connectors {
        let file =
            rules_for(&c, None, None).map_err(|e| InstallError::Rules(c.clone(), e.to_string()))?;
        let xml = render_file(&file);
        let name = rules_file_name(&c);
        let report = check_sources(&[(name.clone(), xml.clone())]);
        if report.has_errors() {
            let msgs: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
            return Err(InstallError::Rules(c, msgs.join("; ")));
        }
        steps.push(Step {
            path: p.join("etc/rules").join(name),
            action: Action::Write {
                contents: xml,
                only_if_absent: false,
            },
            owner: "wazuh",
            group: "wazuh",
            mode: 0o660,
        });
    }
    Ok(steps)
}

/// The plan as text (`--dry-run`).
pub fn render_plan(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        let what = match &s.action {
            Action::Dir {
                keep_existing: true,
            } => "mkdir (if missing)".to_string(),
            Action::Dir { .. } => "mkdir".to_string(),
            Action::Copy(from) => format!("copy from {}", from.display()),
            Action::Write {
                contents,
                only_if_absent: true,
            } => {
                format!("write (if missing, {} bytes)", contents.len())
            }
            Action::Write { contents, .. } => format!("write ({} bytes)", contents.len()),
        };
        let _ = writeln!(
            out,
            "{:04o} {}:{} {}  [{what}]",
            s.mode,
            s.owner,
            s.group,
            s.path.display()
        );
    }
    out
}

/// What an install did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Paths written or created.
    pub changed: Vec<PathBuf>,
    /// Paths left as they were.
    pub kept: Vec<PathBuf>,
}

fn set_mode(path: &Path, mode: u32) -> Result<(), InstallError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path, "chmod"))
}

/// Carries out a plan. Owners are set last; with `skip_chown` they are left alone.
pub fn execute(steps: &[Step], skip_chown: bool) -> Result<Outcome, InstallError> {
    let mut out = Outcome::default();
    let mut owned: Vec<&Step> = Vec::new();
    for s in steps {
        let path = &s.path;
        match &s.action {
            Action::Dir { keep_existing } => {
                if path.is_dir() && *keep_existing {
                    out.kept.push(path.clone());
                    continue;
                }
                fs::create_dir_all(path).map_err(io(path, "create directory"))?;
                set_mode(path, s.mode)?;
            }
            Action::Copy(from) => {
                let tmp = path.with_extension("siemtap-new");
                fs::copy(from, &tmp).map_err(io(from, "copy"))?;
                set_mode(&tmp, s.mode)?;
                fs::rename(&tmp, path).map_err(io(path, "rename into place"))?;
            }
            Action::Write {
                contents,
                only_if_absent,
            } => {
                if *only_if_absent && path.exists() {
                    out.kept.push(path.clone());
                    continue;
                }
                let tmp = path.with_extension("siemtap-new");
                fs::write(&tmp, contents).map_err(io(&tmp, "write"))?;
                set_mode(&tmp, s.mode)?;
                fs::rename(&tmp, path).map_err(io(path, "rename into place"))?;
            }
        }
        out.changed.push(path.clone());
        owned.push(s);
    }
    if !skip_chown {
        chown_all(&owned)?;
    }
    Ok(out)
}

fn lookup(file: &str, name: &str) -> Option<u32> {
    if name == "root" {
        return Some(0);
    }
    let text = fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.split(':');
        (parts.next()? == name).then(|| parts.nth(1)?.parse().ok())?
    })
}

fn chown_all(steps: &[&Step]) -> Result<(), InstallError> {
    let mut failures = Vec::new();
    for s in steps {
        let uid = lookup("/etc/passwd", s.owner);
        let gid = lookup("/etc/group", s.group);
        let (Some(uid), Some(gid)) = (uid, gid) else {
            failures.push(format!(
                "  chown {}:{} {}  (user or group not found in /etc/passwd, /etc/group: is the Wazuh manager installed?)",
                s.owner,
                s.group,
                s.path.display()
            ));
            continue;
        };
        if let Err(e) = std::os::unix::fs::chown(&s.path, Some(uid), Some(gid)) {
            failures.push(format!(
                "  chown {}:{} {}  ({e})",
                s.owner,
                s.group,
                s.path.display()
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(InstallError::Ownership(failures.join("\n")))
    }
}
