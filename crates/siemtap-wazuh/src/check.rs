//! `siemtap wazuh check`: what Wazuh would reject, or load with only a warning and then
//! silently mishandle (wazuh.md §4.4, §5.1–§5.5). Every warning analysisd would log is an
//! error here, because analysisd starts anyway and the rule quietly does something else.

use std::collections::HashMap;

use crate::model::{Pattern, RegexType, Rule};
use crate::osregex::{match_problems, regex_problems};
use crate::parse::{Diagnostic, ParsedFile, Severity, parse_file};
use crate::pcre::{PcreError, compile};

/// First id of the custom range.
pub const CUSTOM_MIN: u32 = 100_000;
/// Last id of the custom range.
pub const CUSTOM_MAX: u32 = 120_000;

/// Result of checking a set of files.
#[derive(Debug, Default)]
pub struct Report {
    /// Parsed files in the order given (load order).
    pub files: Vec<ParsedFile>,
    /// All findings, in file and line order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
    /// Every rule of every file, in load order.
    pub fn rules(&self) -> Vec<Rule> {
        self.files.iter().flat_map(|f| f.rules.clone()).collect()
    }
}

struct Sink<'a> {
    file: &'a str,
    out: Vec<Diagnostic>,
}

impl Sink<'_> {
    fn push(&mut self, line: usize, rule: Option<u32>, severity: Severity, message: String) {
        self.out.push(Diagnostic {
            file: self.file.to_string(),
            line,
            rule,
            severity,
            message,
        });
    }
}

/// Checks files given as (name, contents), in load order.
pub fn check_sources(sources: &[(String, String)]) -> Report {
    let mut report = Report::default();
    let mut defined: HashMap<u32, (String, usize)> = HashMap::new();
    let mut decoders: Vec<String> = vec!["json".into(), "json-msgraph".into()];
    let files: Vec<ParsedFile> = sources
        .iter()
        .map(|(name, text)| parse_file(name, text))
        .collect();
    for f in &files {
        decoders.extend(f.decoders.iter().map(|d| d.name.clone()));
    }
    for f in &files {
        let mut sink = Sink {
            file: &f.file,
            out: f.diagnostics.clone(),
        };
        for r in &f.rules {
            check_rule(&mut sink, r, &mut defined, &decoders);
        }
        for d in &f.decoders {
            check_decoder(&mut sink, d, &decoders);
        }
        if f.rules.is_empty() && f.decoders.is_empty() && sink.out.is_empty() {
            sink.push(
                1,
                None,
                Severity::Error,
                "no <rule> and no <decoder>: is this a Wazuh rules or decoders file?".into(),
            );
        }
        sink.out.sort_by_key(|d| d.line);
        report.diagnostics.extend(sink.out);
    }
    report.files = files;
    report
}

fn check_rule(
    sink: &mut Sink<'_>,
    r: &Rule,
    defined: &mut HashMap<u32, (String, usize)>,
    decoders: &[String],
) {
    let id = Some(r.id);
    let line = r.line;
    let custom = (CUSTOM_MIN..=CUSTOM_MAX).contains(&r.id);
    if !custom && !r.overwrite {
        sink.push(line, id, Severity::Error, format!(
            "id {} is outside the custom range {CUSTOM_MIN}-{CUSTOM_MAX}: it can collide with Wazuh's own rules now or after an upgrade; give the connector an id block in the custom range",
            r.id
        ));
    }
    match defined.get(&r.id) {
        Some((file, first)) if !r.overwrite => sink.push(line, id, Severity::Error, format!(
            "id {} is duplicated (first defined at {file}:{first}); Wazuh warns 7612 and keeps only the first",
            r.id
        )),
        _ => {
            defined.entry(r.id).or_insert((sink.file.to_string(), line));
        }
    }
    for (what, sid) in r
        .if_sid
        .iter()
        .map(|s| ("if_sid", *s))
        .chain(r.if_matched_sid.map(|s| ("if_matched_sid", s)))
    {
        if sid == r.id {
            sink.push(
                line,
                id,
                Severity::Error,
                format!("{what} {sid} points at the rule itself"),
            );
        } else if defined.contains_key(&sid) {
        } else if (CUSTOM_MIN..=CUSTOM_MAX).contains(&sid) {
            sink.push(line, id, Severity::Error, format!(
                "{what} {sid} is not defined before this rule (Wazuh warns 7617, ignores the reference and the rule never matches); define rule {sid} first or fix the id"
            ));
        } else {
            sink.push(
                line,
                id,
                Severity::Note,
                format!("{what} {sid} refers to a stock Wazuh rule; not verified here"),
            );
        }
    }
    if r.frequency.is_some() && r.if_matched_sid.is_none() && r.if_matched_group.is_none() {
        sink.push(line, id, Severity::Note, "frequency without if_matched_sid/if_matched_group counts every earlier event of the same decoder".into());
    }
    if r.frequency.is_none() && (r.if_matched_sid.is_some() || r.if_matched_group.is_some()) {
        sink.push(line, id, Severity::Error, "if_matched_sid/if_matched_group without frequency: give frequency=\"N\" timeframe=\"S\"".into());
    }
    if r.frequency.is_some() && r.timeframe.is_none() {
        sink.push(
            line,
            id,
            Severity::Note,
            "frequency without timeframe uses analysisd's default (360 s)".into(),
        );
    }
    if r.frequency.is_none()
        && (!r.same_fields.is_empty()
            || !r.different_fields.is_empty()
            || !r.same_options.is_empty())
    {
        sink.push(
            line,
            id,
            Severity::Error,
            "same_*/different_* options only act on frequency rules; this rule ignores them".into(),
        );
    }
    if let Some(d) = &r.decoded_as
        && !decoders.contains(d)
    {
        sink.push(
            line,
            id,
            Severity::Note,
            format!("decoded_as {d:?} is not json and not defined in the checked files"),
        );
    }
    for f in &r.fields {
        check_pattern(sink, r, &format!("<field name=\"{}\">", f.name), &f.pattern);
    }
    for p in &r.matches {
        check_pattern(sink, r, "<match>", p);
    }
    for p in &r.regexes {
        check_pattern(sink, r, "<regex>", p);
    }
    for s in &r.statics {
        if s.element == "location" {
            sink.push(line, id, Severity::Note, "<location> depends on how events arrive (socket, command wodle, logtest use different locations)".into());
        }
        if s.element == "action" && !s.pattern.explicit_type {
            continue;
        }
        check_pattern(sink, r, &format!("<{}>", s.element), &s.pattern);
    }
    if r.description.is_empty() {
        sink.push(
            line,
            id,
            Severity::Error,
            "no <description>: the alert would have an empty description".into(),
        );
    }
    if r.description.contains("$(user)") {
        sink.push(line, id, Severity::Error, "$(user) is not expanded by Wazuh; use $(dstuser) or a dynamic field such as $(ns.user.name)".into());
    }
    for m in &r.mitre {
        let ok = m.len() >= 5
            && (m.starts_with('T') || m.starts_with("TA"))
            && m[1..]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == 'A');
        if !ok {
            sink.push(
                line,
                id,
                Severity::Note,
                format!(
                    "MITRE id {m:?} does not look like T1234 or T1234.001; Wazuh drops unknown ids"
                ),
            );
        }
    }
}

fn check_pattern(sink: &mut Sink<'_>, r: &Rule, what: &str, p: &Pattern) {
    let id = Some(r.id);
    let problems = match p.kind {
        RegexType::OsRegex => regex_problems(&p.text),
        RegexType::OsMatch => match_problems(&p.text),
        RegexType::Pcre2 => match compile(&p.text) {
            Ok(_) => Vec::new(),
            Err(PcreError::Invalid(e)) => vec![format!("invalid pcre2: {e}")],
            Err(PcreError::Unsupported(e)) => {
                sink.push(r.line, id, Severity::Note, format!("{what} pcre2 uses {e}: valid for Wazuh, not evaluated by `siemtap wazuh test`"));
                Vec::new()
            }
        },
    };
    for msg in problems {
        sink.push(
            r.line,
            id,
            Severity::Error,
            format!("{what} {} {:?}: {msg}", p.kind.as_str(), p.text),
        );
    }
}

fn check_decoder(sink: &mut Sink<'_>, d: &crate::model::Decoder, decoders: &[String]) {
    let name = &d.name;
    if let Some(p) = &d.parent
        && !decoders.contains(p)
    {
        sink.push(d.line, None, Severity::Note, format!("decoder {name:?}: parent {p:?} is not defined in the checked files (fine if it is a stock decoder)"));
    }
    if d.parent.is_none() && !d.has_program_name {
        let json_like = d.plugin.as_deref() == Some("JSON_Decoder")
            || d.prematch
                .as_ref()
                .is_some_and(|p| p.text.starts_with("^{") || p.text.contains("\"integration\""));
        if json_like {
            sink.push(d.line, None, Severity::Error, format!(
                "decoder {name:?}: a top-level JSON decoder in etc/decoders never runs, because the stock `json` decoder matches first (wazuh.md §4.1); drop it and route rules on `integration` with <decoded_as>json</decoded_as>"
            ));
        }
    }
    for p in d.prematch.iter().chain(d.regex.iter()) {
        if p.kind == RegexType::OsRegex {
            for msg in regex_problems(&p.text) {
                sink.push(
                    d.line,
                    None,
                    Severity::Error,
                    format!("decoder {name:?}: osregex {:?}: {msg}", p.text),
                );
            }
        }
    }
}
