//! The configuration file (`siemtap run --config F`, `siemtap validate`): several sources, each
//! a built-in or declarative connector, with its own state file. TOML, unknown keys refused,
//! every error naming the file, line, column and key.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// A configuration file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Log file (`--log-file` wins).
    pub log_file: Option<PathBuf>,
    /// Verbosity 0–3 (`--debug` wins).
    pub debug: Option<u8>,
    /// Run budget, e.g. `"100s"`, `"2m"` (`--max-runtime` wins), at most 7 days.
    pub max_runtime: Option<Spanned<String>>,
    /// User to run as when started as root (`--user` and `SIEMTAP_USER` win; default `wazuh`).
    pub user: Option<String>,
    /// One output (`"stdout"`, `"file:PATH"`, `"wazuh-socket[:PATH]"`) or a list of them
    /// (fan-out); `--output` wins.
    pub output: Option<Spanned<toml::Value>>,
    /// Secrets file for every source (`KEY=VALUE`).
    pub secrets_file: Option<PathBuf>,
    /// Directory of state files named `<source>.json` (default: beside the config file).
    pub state_dir: Option<PathBuf>,
    /// Where declarative connector files are found (`<name>.toml`); default `connectors/`
    /// beside the config file.
    #[serde(default)]
    pub connector_dirs: Vec<PathBuf>,
    /// The sources.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
}

/// One `[[source]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique name (`^[a-zA-Z0-9_-]+$`): names the state file and selects with `--source`.
    pub name: Spanned<String>,
    /// A built-in connector (`1password`) or a declarative connector's name or file.
    pub connector: Spanned<String>,
    /// State file (default `<state_dir>/<name>.json`).
    pub state_file: Option<PathBuf>,
    /// Streams to run (default all).
    pub streams: Option<Vec<String>>,
    /// First-run window, e.g. `"24h"`.
    pub lookback: Option<Spanned<String>>,
    /// Skip this source.
    #[serde(default)]
    pub disabled: bool,
    /// Connector settings. Built-in connectors take their drop-in variables without the
    /// prefix, in lower case (`page_limit = 1000` for `OP_PAGE_LIMIT`).
    #[serde(default)]
    pub settings: toml::Table,
    /// Per-source secret names: the connector's standard name (`XDR_API_KEY`) -> the name to
    /// look up instead in every tier of the credential chain (`ACME_XDR_API_KEY`), so several
    /// tenants of one connector can share a secrets file or credentials directory.
    #[serde(default)]
    pub secrets: BTreeMap<String, Spanned<String>>,
}

impl SourceConfig {
    /// The `[source.secrets]` renames, checked against the names the connector reads.
    pub fn secret_names(&self, known: &[String]) -> Result<HashMap<String, String>, String> {
        let mut out = HashMap::new();
        for (standard, alt) in &self.secrets {
            if !known.contains(standard) {
                return Err(format!(
                    "source {:?}: [source.secrets] key `{standard}` is not a secret connector {:?} reads; known: {}",
                    self.name.get_ref(),
                    self.connector.get_ref(),
                    known.join(", ")
                ));
            }
            out.insert(standard.clone(), alt.get_ref().clone());
        }
        Ok(out)
    }
}

/// A configuration error: `FILE:LINE:COL: message`.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A loaded, checked configuration.
#[derive(Debug)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// The file's contents.
    pub file: ConfigFile,
    /// `max_runtime` parsed.
    pub max_runtime: Option<Duration>,
}

/// 1-based line and column of a byte offset.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// A TOML message that does not name the key it points at (`duplicate key`) gets the key
/// appended. Only a bare key is quoted back, never a value (settings may hold secrets).
fn name_key(text: &str, span: std::ops::Range<usize>, message: &str) -> String {
    let key = text.get(span).unwrap_or("").trim();
    let bare = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if bare && message.contains("key") && !message.contains(key) {
        format!("{message} `{key}`")
    } else {
        message.to_string()
    }
}

/// Largest accepted run budget in seconds (7 days): a run is one wodle or timer interval,
/// and a larger value is a typo that would also overflow the deadline arithmetic.
pub const MAX_RUNTIME_LIMIT_SECS: u64 = 7 * 86_400;

/// Parses `"90s"`, `"5m"`, `"24h"`, `"7d"` (or plain seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = t.split_at(
        t.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len()),
    );
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    // `try_`: a huge value ("99999999999999999999d") is refused instead of panicking.
    Duration::try_from_secs_f64(secs).ok()
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let display = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: display.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the configuration file: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let (line, column) = position(&String::from_utf8_lossy(valid), valid.len());
            ConfigError {
                file: display.clone(),
                line,
                column,
                message: "the file is not valid UTF-8 here; re-save it as UTF-8".into(),
            }
        })?;
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = position(&text, span.start);
            ConfigError {
                file: display.clone(),
                line,
                column,
                message,
            }
        };
        let file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at(span.clone(), name_key(&text, span, e.message().trim()))
        })?;
        if file.sources.is_empty() {
            return Err(at(
                0..0,
                "no [[source]] defined; add at least one source".into(),
            ));
        }
        let max_runtime = match &file.max_runtime {
            Some(s) => Some(
                parse_duration(s.get_ref())
                    .filter(|d| d.as_secs_f64() <= MAX_RUNTIME_LIMIT_SECS as f64)
                    .ok_or_else(|| {
                        at(
                            s.span(),
                            format!(
                                "`max_runtime = {:?}` is not a duration from 0 to 7d (604800 s; 0 means no budget); use e.g. \"100s\" or \"2m\"",
                                s.get_ref()
                            ),
                        )
                    })?,
            ),
            None => None,
        };
        if let Some(o) = &file.output {
            output_values(o.get_ref())
                .and_then(|specs| crate::run::parse_outputs(&specs))
                .map_err(|m| at(o.span(), format!("`output`: {m}")))?;
        }
        if let Some(d) = file.debug.filter(|d| *d > 3) {
            return Err(at(0..0, format!("`debug = {d}`: use 0 to 3")));
        }
        let mut names = HashSet::new();
        for s in &file.sources {
            let name = s.name.get_ref();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(at(
                    s.name.span(),
                    format!(
                        "source name {name:?} must match ^[a-zA-Z0-9_-]+$ (it names the state file)"
                    ),
                ));
            }
            if !names.insert(name.clone()) {
                return Err(at(
                    s.name.span(),
                    format!(
                        "source name {name:?} is used twice; names must be unique (they key the state)"
                    ),
                ));
            }
            for (standard, alt) in &s.secrets {
                let name = alt.get_ref();
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(at(
                        alt.span(),
                        format!(
                            "[source.secrets] `{standard}`: the name {name:?} must match ^[A-Za-z0-9_]+$ (it is an environment variable, a secrets-file key and, lower-cased, a credential file name)"
                        ),
                    ));
                }
            }
            if let Some(l) = &s.lookback
                && parse_duration(l.get_ref()).is_none_or(|d| d.is_zero())
            {
                return Err(at(
                    l.span(),
                    format!(
                        "`lookback = {:?}` is not a positive duration; use e.g. \"24h\"",
                        l.get_ref()
                    ),
                ));
            }
        }
        Ok(Config {
            path: path.to_path_buf(),
            file,
            max_runtime,
        })
    }

    /// The secrets file every source reads (`secrets_file`, resolved against the file's
    /// directory).
    pub fn secrets_file(&self) -> Option<PathBuf> {
        self.file.secrets_file.as_deref().map(|p| self.resolve(p))
    }

    /// The directory relative paths in the file are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ".".into())
    }

    /// The file's `output` (checked when the file was loaded), relative paths resolved against
    /// the file's directory; empty when the file names none.
    pub fn outputs(&self) -> Vec<Box<dyn siemtap_core::OutputSpec>> {
        let specs = self
            .file
            .output
            .as_ref()
            .and_then(|o| output_values(o.get_ref()).ok())
            .and_then(|specs| crate::run::parse_outputs(&specs).ok())
            .unwrap_or_default();
        specs
            .into_iter()
            .map(|mut spec| {
                spec.resolve_relative(&self.base_dir());
                spec
            })
            .collect()
    }

    /// Resolves a path from the file against its directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir().join(p)
        }
    }

    /// The state file of a source.
    pub fn state_file(&self, source: &SourceConfig) -> PathBuf {
        match &source.state_file {
            Some(p) => self.resolve(p),
            None => {
                let dir = self
                    .file
                    .state_dir
                    .as_deref()
                    .map(|d| self.resolve(d))
                    .unwrap_or_else(|| self.base_dir());
                dir.join(format!("{}.json", source.name.get_ref()))
            }
        }
    }

    /// Directories searched for declarative connector files.
    pub fn connector_dirs(&self) -> Vec<PathBuf> {
        if self.file.connector_dirs.is_empty() {
            vec![self.base_dir().join("connectors")]
        } else {
            self.file
                .connector_dirs
                .iter()
                .map(|d| self.resolve(d))
                .collect()
        }
    }

    /// Finds a declarative connector file: a path ending in `.toml`, or `<name>.toml` in the
    /// connector directories.
    pub fn find_connector_file(&self, connector: &str) -> Option<PathBuf> {
        if connector.ends_with(".toml") {
            let p = self.resolve(Path::new(connector));
            return p.exists().then_some(p);
        }
        self.connector_dirs()
            .into_iter()
            .map(|d| d.join(format!("{connector}.toml")))
            .find(|p| p.exists())
    }

    /// Line and column of a span in this file (for errors found after loading).
    pub fn error_at(&self, span: std::ops::Range<usize>, message: String) -> ConfigError {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let (line, column) = position(&text, span.start);
        ConfigError {
            file: self.path.display().to_string(),
            line,
            column,
            message,
        }
    }
}

/// The config's `output`: one string or a non-empty list of strings.
fn output_values(value: &toml::Value) -> Result<Vec<String>, String> {
    let wrong = || {
        "give one output as a string (output = \"stdout\") or a list of them (output = [\"wazuh-socket\", \"file:/var/log/siemtap/archive.jsonl\"])".to_owned()
    };
    match value {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(wrong))
            .collect(),
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("siemtap.toml");
        std::fs::write(&p, text).unwrap();
        Config::load(&p)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(parse_duration("99999999999999999999999d"), None);
        assert_eq!(parse_duration("1e400"), None);
    }

    #[test]
    fn errors_name_line_column_and_key() {
        let e =
            load("[[source]]\nname = \"a\"\nconnector = \"1password\"\nbogus = 1\n").unwrap_err();
        assert_eq!((e.line, e.column), (4, 1), "{e}");
        assert!(e.message.contains("bogus"), "{e}");
        let e = load("[[source]]\nname = \"a b\"\nconnector = \"1password\"\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = load("max_runtime = \"soon\"\n[[source]]\nname = \"a\"\nconnector = \"x\"\n")
            .unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let e = load("[[source]]\nname = \"a\"\nconnector = \"x\"\n[[source]]\nname = \"a\"\nconnector = \"y\"\n").unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(load("").unwrap_err().message.contains("[[source]]"));
    }
}
