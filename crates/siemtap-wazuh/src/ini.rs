//! Wazuh ruleset test files (INI, wazuh.md §6.4): reading, writing and running them on the
//! evaluator.
//!
//! ```ini
//! [1Password - failed sign-in]
//! log 1 pass = {"integration":"1password","op":{"event_type":"signin_attempt",...}}
//! rule = 100732
//! alert = 5
//! decoder = json
//! ```
//!
//! As with Wazuh's `runtests.py`, every `log` line runs in a fresh session and must (`pass`)
//! or must not (`fail`) end on exactly that rule, level and decoder. siemtap extension:
//! `session = shared` runs the section's logs in order in one session (one second apart),
//! which is what frequency rules need; `runtests.py` ignores the key, so such a section
//! only passes there over the logtest socket with a reused session.

use std::fmt::Write as _;

use crate::engine::Engine;

/// Location logtest uses (`wazuh-logtest` without `-l`).
pub const LOCATION: &str = "stdin";

/// One test line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Key as written (`log 1 pass`).
    pub key: String,
    /// `pass` (true) or `fail` (false).
    pub pass: bool,
    /// The event.
    pub event: String,
    /// 1-based line in the file.
    pub line: usize,
}

/// One `[section]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// Section name.
    pub name: String,
    /// Expected rule id (text, as logtest compares it).
    pub rule: String,
    /// Expected level.
    pub alert: String,
    /// Expected decoder.
    pub decoder: String,
    /// Logs in order.
    pub logs: Vec<LogLine>,
    /// `session = shared`.
    pub shared: bool,
    /// 1-based line of the header.
    pub line: usize,
}

/// A malformed test file.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct IniError {
    /// File name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses an INI test file as `RawConfigParser(strict=False)` would read it.
pub fn parse(file: &str, text: &str) -> Result<Vec<Section>, IniError> {
    let err = |line: usize, message: String| IniError {
        file: file.to_string(),
        line,
        message,
    };
    let mut sections: Vec<Section> = Vec::new();
    let mut last_key: Option<(String, usize)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            last_key = None;
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            // Continuation of the previous value.
            let Some((key, _)) = &last_key else {
                return Err(err(
                    line_no,
                    "indented line with no value to continue".into(),
                ));
            };
            let sec = sections.last_mut().expect("a key implies a section");
            let cont = format!("\n{trimmed}");
            match key.as_str() {
                "rule" => sec.rule.push_str(&cont),
                "alert" => sec.alert.push_str(&cont),
                "decoder" => sec.decoder.push_str(&cont),
                _ => {
                    if let Some(l) = sec.logs.last_mut() {
                        l.event.push_str(&cont);
                    }
                }
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            sections.push(Section {
                name: name.to_string(),
                line: line_no,
                ..Section::default()
            });
            last_key = None;
            continue;
        }
        let Some(sec) = sections.last_mut() else {
            return Err(err(line_no, "key before the first [section]".into()));
        };
        let Some(pos) = trimmed.find(['=', ':']) else {
            return Err(err(
                line_no,
                format!("expected `key = value`, got {trimmed:?}"),
            ));
        };
        let key = trimmed[..pos].trim().to_lowercase();
        let value = trimmed[pos + 1..].trim().to_string();
        match key.as_str() {
            "rule" => sec.rule = value,
            "alert" => sec.alert = value,
            "decoder" => sec.decoder = value,
            "session" => sec.shared = value == "shared",
            k if k.starts_with("log ") => {
                let pass = !k.ends_with("fail");
                sec.logs.push(LogLine {
                    key: k.to_string(),
                    pass,
                    event: value,
                    line: line_no,
                });
            }
            _ => {}
        }
        last_key = Some((key, line_no));
    }
    for s in &sections {
        for (what, v) in [
            ("rule", &s.rule),
            ("alert", &s.alert),
            ("decoder", &s.decoder),
        ] {
            if v.is_empty() {
                return Err(err(
                    s.line,
                    format!("section [{}] has no `{what} =`", s.name),
                ));
            }
        }
    }
    Ok(sections)
}

/// Renders sections; values stay on one line (events are compact JSON).
pub fn render(header: &[String], sections: &[Section]) -> String {
    let mut out = String::new();
    for h in header {
        let _ = writeln!(out, "# {h}");
    }
    for s in sections {
        let _ = writeln!(out, "\n[{}]", s.name);
        for l in &s.logs {
            let _ = writeln!(out, "{} = {}", l.key, l.event.replace('\n', " "));
        }
        if s.shared {
            out.push_str("session = shared\n");
        }
        let _ = writeln!(out, "rule = {}", s.rule);
        let _ = writeln!(out, "alert = {}", s.alert);
        let _ = writeln!(out, "decoder = {}", s.decoder);
    }
    out
}

/// The result of one log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineResult {
    /// Section name.
    pub section: String,
    /// Key (`log 3 pass`).
    pub key: String,
    /// Line in the file.
    pub line: usize,
    /// Whether the expectation held.
    pub ok: bool,
    /// What the evaluator produced: `rule:level:decoder` (empty parts when none).
    pub got: String,
    /// What was expected: `rule:level:decoder`.
    pub expected: String,
    /// Expanded description of the final rule.
    pub description: String,
}

/// Runs sections on an engine.
pub fn run(engine: &Engine, sections: &[Section]) -> Vec<LineResult> {
    let mut out = Vec::new();
    for s in sections {
        let expected = format!("{}:{}:{}", s.rule, s.alert, s.decoder);
        let mut shared = engine.session();
        for (i, l) in s.logs.iter().enumerate() {
            let outcome = if s.shared {
                shared.process(&l.event, LOCATION, i as i64)
            } else {
                engine.session().process(&l.event, LOCATION, 0)
            };
            let (rule, level, description) = match &outcome.rule {
                Some(f) => (f.id.to_string(), f.level.to_string(), f.description.clone()),
                None => (String::new(), String::new(), String::new()),
            };
            let decoder = outcome.decoder.unwrap_or_default();
            let hit = rule == s.rule && level == s.alert && decoder == s.decoder;
            out.push(LineResult {
                section: s.name.clone(),
                key: l.key.clone(),
                line: l.line,
                ok: hit == l.pass,
                got: format!("{rule}:{level}:{decoder}"),
                expected: expected.clone(),
                description,
            });
        }
    }
    out
}

/// Separates `siemtap wazuh test` arguments: `--rules` takes every following path, so an INI
/// file written after the rules list (`--rules a.xml b.xml t.ini`) lands among the rules. A
/// `.ini` path is never a rules file: it is moved back to the test files. Exactly one INI file
/// must remain.
pub fn split_test_args(
    files: Vec<std::path::PathBuf>,
    rules: Vec<std::path::PathBuf>,
) -> Result<(std::path::PathBuf, Vec<std::path::PathBuf>), String> {
    let is_ini = |p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "ini");
    let (mut ini, rules): (Vec<_>, Vec<_>) = rules.into_iter().partition(is_ini);
    let mut all = files;
    all.append(&mut ini);
    if rules.is_empty() {
        return Err("--rules needs at least one rules file (FILE.xml)".into());
    }
    match <[std::path::PathBuf; 1]>::try_from(all) {
        Ok([one]) => Ok((one, rules)),
        Err(v) if v.is_empty() => {
            Err("give the INI test file: siemtap wazuh test FILE.ini --rules RULES.xml...".into())
        }
        Err(v) => Err(format!(
            "one INI test file at a time, got {}: {}; run `siemtap wazuh test` once per file",
            v.len(),
            v.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_configparser() {
        let text = "# c\n[A: x]\nLog 1 pass = {\"a\": 1}\nlog 2 fail: {\"b\":2}\nrule = 100\nalert = 3\ndecoder = json\n\n[B]\nlog 1 pass = x\n  continued\nsession = shared\nrule = 1\nalert = 0\ndecoder = json\n";
        let s = parse("t.ini", text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "A: x");
        assert_eq!(s[0].logs[0].key, "log 1 pass");
        assert_eq!(s[0].logs[0].event, "{\"a\": 1}");
        assert!(!s[0].logs[1].pass);
        assert_eq!(s[0].logs[1].event, "{\"b\":2}");
        assert_eq!(s[1].logs[0].event, "x\ncontinued");
        assert!(s[1].shared);
        let again = parse("t.ini", &render(&[], &s[..1])).unwrap();
        assert_eq!(again[0].logs, {
            let mut l = s[0].logs.clone();
            l[0].line = 3;
            l[1].line = 4;
            l
        });
    }

    #[test]
    fn missing_expectation_names_the_line() {
        let e = parse("t.ini", "[A]\nlog 1 pass = x\nrule = 1\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().contains("t.ini:1"), "{e}");
    }
}
