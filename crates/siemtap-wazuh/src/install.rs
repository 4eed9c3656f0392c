//! `siemtap wazuh install`: the manager-side layout with Wazuh's owners and modes
//! (wazuh.md §9): wodle directory, binary, sample config, `.secrets` template, state and log
//! locations, rules, optionally the `ossec.conf` stanzas (merged idempotently, with a backup)
//! and the systemd service, timer and credential drop-ins (installed, never enabled).
//! Wazuh 5.x (prefix `/var/wazuh-manager`, no XML rules) is refused.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::check::check_sources;
use crate::generate::{BUILTIN, rules_for};
use crate::install_files::{
    ConnectorCredentials, credentials_drop_in, credentials_of, sample_config, secrets_template,
    service_unit, timer_unit,
};
use crate::ossec_conf::{WodleOptions, sha256_file, wodle_stanza};
use crate::ossec_merge::managed_block;
use crate::render::render_file;

pub use crate::install_exec::execute;

/// What to install.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    /// Wazuh prefix (`/var/ossec`).
    pub prefix: PathBuf,
    /// The binary to copy (normally the running one).
    pub binary: PathBuf,
    /// Connectors whose rules are installed (all built-ins when empty).
    pub connectors: Vec<String>,
    /// Where the systemd units go (`None`: not installed). See [`default_systemd_dir`].
    pub systemd_dir: Option<PathBuf>,
    /// Merge the wodle stanzas into `<prefix>/etc/ossec.conf` (else they are only printed).
    pub merge_ossec_conf: bool,
}

impl InstallOptions {
    /// All built-in connectors, systemd units in [`default_systemd_dir`], no ossec.conf merge.
    pub fn new(prefix: impl Into<PathBuf>, binary: impl Into<PathBuf>) -> InstallOptions {
        let prefix = prefix.into();
        InstallOptions {
            systemd_dir: default_systemd_dir(&prefix),
            prefix,
            binary: binary.into(),
            connectors: Vec::new(),
            merge_ossec_conf: false,
        }
    }
}

/// The systemd unit directory that goes with a prefix: `<root>/etc/systemd/system` when the
/// prefix is `<root>/var/ossec` (`/var/ossec` → `/etc/systemd/system`, a test's
/// `/tmp/x/var/ossec` → `/tmp/x/etc/systemd/system`); `None` for any other prefix (pass
/// `--systemd-dir`).
pub fn default_systemd_dir(prefix: &Path) -> Option<PathBuf> {
    let comps: Vec<_> = prefix.components().collect();
    let n = comps.len();
    if n >= 2 && comps[n - 1].as_os_str() == "ossec" && comps[n - 2].as_os_str() == "var" {
        let base: PathBuf = comps[..n - 2].iter().collect();
        let base = match base.as_os_str().is_empty() {
            false => base,
            true if prefix.is_absolute() => PathBuf::from("/"),
            true => PathBuf::from("."),
        };
        return Some(base.join("etc/systemd/system"));
    }
    None
}

/// The `<wodle>` stanzas the install prints or merges: socket sink, 5m interval, 280 s
/// timeout, `<verify_sha256>` of the binary.
pub fn stanzas(o: &InstallOptions) -> Result<Vec<(String, String)>, InstallError> {
    let sha256 = sha256_file(&o.binary).map_err(io(&o.binary, "hash"))?;
    selected_credentials(o)
        .into_iter()
        .map(|c| {
            let w = WodleOptions {
                connector: c.connector.into(),
                socket: true,
                interval: "5m".into(),
                timeout: 280,
                prefix: o.prefix.display().to_string(),
                sha256: Some(sha256.clone()),
                disabled: !crate::ossec_conf::credentials_present(&o.prefix, c),
            };
            wodle_stanza(&w)
                .map(|s| (format!("siemtap-{}", c.connector), s))
                .map_err(|e| InstallError::Stanza(e.to_string()))
        })
        .collect()
}

/// The built-in connectors (with credentials) this install sets up.
pub fn selected_credentials(o: &InstallOptions) -> Vec<&'static ConnectorCredentials> {
    selected(o)
        .iter()
        .filter_map(|c| credentials_of(c))
        .collect()
}

fn selected(o: &InstallOptions) -> Vec<String> {
    if o.connectors.is_empty() {
        BUILTIN.iter().map(|b| b.name.to_string()).collect()
    } else {
        o.connectors.clone()
    }
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
    /// Merge the managed block into `ossec.conf` (owner and mode kept, backup beside it).
    MergeOssecConf {
        /// The block ([`crate::ossec_merge::managed_block`]).
        block: String,
        /// The wodle tags it defines.
        tags: Vec<String>,
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
    /// A stanza could not be built.
    #[error("ossec.conf stanza: {0}")]
    Stanza(String),
    /// `--merge-ossec-conf` without an `etc/ossec.conf`.
    #[error(
        "{0} does not exist: is the Wazuh manager installed under this prefix? Install without \
         --merge-ossec-conf to get the stanzas printed instead"
    )]
    NoOssecConf(String),
    /// A path was refused: a symbolic link, a hard link, not a regular file or directory, or
    /// owned by another user (the message names the path and the fix).
    #[error(transparent)]
    Refused(siemtap_fs::FsError),
    /// The managed block cannot be merged.
    #[error(transparent)]
    Merge(#[from] crate::ossec_merge::MergeError),
    /// Owners could not be set.
    #[error(
        "files are in place with their modes, but owners could not be set:\n{0}\nRun the install as \
         root on the Wazuh manager (the `wazuh` user and group must exist), or set these owners \
         yourself and pass --skip-chown"
    )]
    Ownership(String),
}

pub(crate) fn io<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(std::io::Error) -> InstallError + 'a {
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

/// State files an older version kept beside the binary (`wodles/siemtap/*.state.json`), where
/// the `wazuh` user the wodle now runs as cannot write: the install names them with the move
/// that carries them to `var/wodles/siemtap` (the stanza's `--state-dir`).
pub fn state_beside_the_binary(prefix: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(prefix.join("wodles/siemtap")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".state.json"))
        .collect();
    found.sort();
    found
}

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
                contents: secrets_template(&selected_credentials(o)),
                only_if_absent: true,
            },
            owner: "root",
            group: "wazuh",
            mode: 0o640,
        },
        Step {
            path: p.join("wodles/siemtap/siemtap.toml"),
            action: Action::Write {
                contents: sample_config(p, &selected_credentials(o)),
                only_if_absent: true,
            },
            owner: "root",
            group: "wazuh",
            mode: 0o640,
        },
        // What `siemtap run` writes (state, log) belongs to the user it runs as (`wazuh`,
        // after dropping root) and is not group-writable: nobody else needs to write there,
        // and a group that can write a directory can plant links in it.
        dir(p.join("var/wodles/siemtap"), "wazuh", "wazuh", 0o750, false),
        dir(p.join("logs"), "wazuh", "wazuh", 0o770, true),
        Step {
            path: p.join("logs/siemtap.log"),
            action: Action::Write {
                contents: String::new(),
                only_if_absent: true,
            },
            owner: "wazuh",
            group: "wazuh",
            mode: 0o640,
        },
        dir(p.join("etc/rules"), "root", "wazuh", 0o770, true),
    ];
    let mut connectors = selected(o);
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
    if let Some(sd) = &o.systemd_dir {
        systemd_steps(o, sd, &mut steps);
    }
    if o.merge_ossec_conf {
        let conf = p.join("etc/ossec.conf");
        if !conf.is_file() {
            return Err(InstallError::NoOssecConf(conf.display().to_string()));
        }
        let (tags, texts): (Vec<String>, Vec<String>) = stanzas(o)?.into_iter().unzip();
        steps.push(Step {
            path: conf,
            action: Action::MergeOssecConf {
                block: managed_block(&texts),
                tags,
            },
            owner: "root",
            group: "wazuh",
            mode: 0o660,
        });
    }
    Ok(steps)
}

fn systemd_steps(o: &InstallOptions, sd: &Path, steps: &mut Vec<Step>) {
    let unit = |path: PathBuf, contents: String, only_if_absent| Step {
        path,
        action: Action::Write {
            contents,
            only_if_absent,
        },
        owner: "root",
        group: "root",
        mode: 0o644,
    };
    steps.push(Step {
        path: sd.to_path_buf(),
        action: Action::Dir {
            keep_existing: true,
        },
        owner: "root",
        group: "root",
        mode: 0o755,
    });
    steps.push(unit(
        sd.join("siemtap@.service"),
        service_unit(&o.prefix),
        false,
    ));
    steps.push(unit(sd.join("siemtap@.timer"), timer_unit(), false));
    for c in selected_credentials(o) {
        let dir = sd.join(format!("siemtap@{}.service.d", c.connector));
        steps.push(Step {
            path: dir.clone(),
            action: Action::Dir {
                keep_existing: true,
            },
            owner: "root",
            group: "root",
            mode: 0o755,
        });
        // The operator edits credential paths here: never overwritten.
        steps.push(unit(
            dir.join("credentials.conf"),
            credentials_drop_in(c, &o.prefix),
            true,
        ));
    }
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
            Action::MergeOssecConf { tags, .. } => format!(
                "merge the siemtap block ({}) if changed; owner and mode kept; backup {}",
                tags.join(", "),
                backup_path(&s.path).display()
            ),
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
    /// The ossec.conf backup written before a merge changed the file.
    pub ossec_conf_backup: Option<PathBuf>,
}

/// Where the ossec.conf backup goes: `ossec.conf.siemtap.bak` beside it (the file as it was
/// before the latest install that changed it).
pub fn backup_path(conf: &Path) -> PathBuf {
    let mut name = conf.file_name().unwrap_or_default().to_os_string();
    name.push(".siemtap.bak");
    conf.with_file_name(name)
}
