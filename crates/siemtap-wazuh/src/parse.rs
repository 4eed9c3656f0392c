//! Reads rule and decoder XML into the model, reporting what Wazuh would refuse or
//! mishandle element by element (cross-rule checks live in `check`).

use std::collections::HashMap;
use std::fmt;

use crate::model::{Decoder, FieldCond, Pattern, RegexType, Rule, StaticCond, split_groups};
use crate::xml::{self, Element};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; the file is still accepted.
    Note,
    /// Wazuh would reject or silently mishandle this: the check fails.
    Error,
}

/// One finding, located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// File name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// Rule id, when the finding belongs to a rule.
    pub rule: Option<u32>,
    /// Severity.
    pub severity: Severity,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if self.severity == Severity::Note {
            write!(f, "note: ")?;
        } else {
            write!(f, "error: ")?;
        }
        if let Some(id) = self.rule {
            write!(f, "rule {id}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// What one file contained.
#[derive(Clone, Debug, Default)]
pub struct ParsedFile {
    /// File name as given.
    pub file: String,
    /// Rules in file order (`parent_groups` filled).
    pub rules: Vec<Rule>,
    /// Decoders in file order.
    pub decoders: Vec<Decoder>,
    /// Findings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Static field names `<field name=...>` cannot use (wazuh.md §4.4).
pub const STATIC_FIELD_NAMES: &[&str] = &[
    "srcip",
    "dstip",
    "srcgeoip",
    "dstgeoip",
    "srcport",
    "dstport",
    "user",
    "srcuser",
    "dstuser",
    "url",
    "id",
    "data",
    "extra_data",
    "status",
    "protocol",
    "system_name",
    "action",
];

/// Elements that match static fields or event attributes.
pub const STATIC_ELEMENTS: &[&str] = &[
    "srcip",
    "dstip",
    "srcport",
    "dstport",
    "user",
    "srcuser",
    "dstuser",
    "url",
    "id",
    "data",
    "extra_data",
    "status",
    "protocol",
    "system_name",
    "action",
    "hostname",
    "program_name",
    "location",
    "srcgeoip",
    "dstgeoip",
];

const OTHER_RULE_ELEMENTS: &[&str] = &[
    "if_sid",
    "if_group",
    "if_level",
    "if_fts",
    "if_matched_sid",
    "if_matched_group",
    "if_matched_regex",
    "decoded_as",
    "category",
    "match",
    "regex",
    "field",
    "list",
    "time",
    "weekday",
    "global_frequency",
    "description",
    "info",
    "cve",
    "group",
    "options",
    "mitre",
    "check_diff",
    "check_if_ignored",
];

const RULE_ATTRS: &[&str] = &[
    "id",
    "level",
    "frequency",
    "timeframe",
    "ignore",
    "maxsize",
    "accuracy",
    "noalert",
    "overwrite",
];

const OPTIONS: &[&str] = &[
    "alert_by_email",
    "no_email_alert",
    "no_log",
    "no_ar",
    "no_full_log",
    "no_counter",
];

const DECODER_ELEMENTS: &[&str] = &[
    "parent",
    "program_name",
    "prematch",
    "regex",
    "order",
    "fts",
    "ftscomment",
    "plugin_decoder",
    "use_own_name",
    "json_null_field",
    "json_array_structure",
    "accumulate",
    "type",
];

struct Ctx<'a> {
    out: &'a mut ParsedFile,
    vars: HashMap<String, String>,
}

impl Ctx<'_> {
    fn diag(&mut self, line: usize, rule: Option<u32>, severity: Severity, message: String) {
        let file = self.out.file.clone();
        self.out.diagnostics.push(Diagnostic {
            file,
            line,
            rule,
            severity,
            message,
        });
    }
    fn err(&mut self, line: usize, rule: Option<u32>, message: impl Into<String>) {
        self.diag(line, rule, Severity::Error, message.into());
    }
    fn expand(&self, text: &str) -> String {
        if !text.contains('$') || self.vars.is_empty() {
            return text.to_string();
        }
        let mut out = text.to_string();
        // Longest names first so `$AB` is not cut by `$A`.
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        for n in names {
            out = out.replace(&format!("${n}"), &self.vars[n]);
        }
        out
    }
}

/// Parses one rule or decoder file.
pub fn parse_file(file: &str, text: &str) -> ParsedFile {
    let mut out = ParsedFile {
        file: file.to_string(),
        ..ParsedFile::default()
    };
    let top = match xml::parse(text) {
        Ok(t) => t,
        Err(e) => {
            out.diagnostics.push(Diagnostic {
                file: file.to_string(),
                line: e.line,
                rule: None,
                severity: Severity::Error,
                message: format!("{} (Wazuh refuses to load the file)", e.message),
            });
            return out;
        }
    };
    let mut ctx = Ctx {
        out: &mut out,
        vars: HashMap::new(),
    };
    for el in &top {
        match el.name.as_str() {
            "var" => match el.attr("name") {
                Some(n) => {
                    ctx.vars.insert(n.to_string(), el.text.clone());
                }
                None => ctx.err(el.line, None, "<var> needs a name attribute"),
            },
            "group" => read_group(&mut ctx, el, &[]),
            "decoder" => read_decoder(&mut ctx, el),
            "rule" => ctx.err(
                el.line,
                el.attr("id").and_then(|s| s.parse().ok()),
                "<rule> outside a <group name=\"...\"> block; wrap the rules in a group",
            ),
            other => ctx.err(
                el.line,
                None,
                format!(
                    "unexpected top-level element <{other}> (expected <group>, <var> or <decoder>)"
                ),
            ),
        }
    }
    out
}

fn read_group(ctx: &mut Ctx<'_>, el: &Element, outer: &[String]) {
    let mut groups = outer.to_vec();
    match el.attr("name") {
        Some(n) if !n.trim().is_empty() => groups.extend(split_groups(n)),
        _ => ctx.err(el.line, None, "<group> without a name attribute"),
    }
    for child in &el.children {
        match child.name.as_str() {
            "rule" => {
                if let Some(mut r) = read_rule(ctx, child) {
                    r.parent_groups = groups.clone();
                    ctx.out.rules.push(r);
                }
            }
            "group" => read_group(ctx, child, &groups),
            other => ctx.err(
                child.line,
                None,
                format!("unexpected <{other}> inside <group> (only <rule> belongs there)"),
            ),
        }
    }
}

fn parse_num<T: std::str::FromStr>(s: &str, max_digits: usize) -> Option<T> {
    let s = s.trim();
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn read_pattern(ctx: &mut Ctx<'_>, el: &Element, id: u32, default: RegexType) -> Pattern {
    let mut p = Pattern {
        kind: default,
        text: ctx.expand(&el.text),
        negate: false,
        explicit_type: false,
    };
    for (k, v) in &el.attrs {
        match k.as_str() {
            "type" => match RegexType::parse(v) {
                Some(t) => {
                    p.kind = t;
                    p.explicit_type = true;
                }
                None => ctx.err(
                    el.line,
                    Some(id),
                    format!(
                        "<{}> type=\"{v}\" is unknown: Wazuh warns and silently uses {}; write osregex, osmatch or pcre2",
                        el.name,
                        default.as_str()
                    ),
                ),
            },
            "negate" => match v.as_str() {
                "yes" => p.negate = true,
                "no" => {}
                _ => ctx.err(el.line, Some(id), format!("<{}> negate=\"{v}\" must be yes or no", el.name)),
            },
            "name" if el.name == "field" => {}
            other => ctx.err(el.line, Some(id), format!("<{}> has an unknown attribute {other:?}", el.name)),
        }
    }
    if p.text.is_empty() {
        ctx.err(el.line, Some(id), format!("<{}> is empty", el.name));
    }
    p
}

fn read_rule(ctx: &mut Ctx<'_>, el: &Element) -> Option<Rule> {
    let id_text = el.attr("id").unwrap_or("");
    let Some(id) = parse_num::<u32>(id_text, 6) else {
        ctx.err(
            el.line,
            None,
            format!("<rule> id {id_text:?} must be a number of at most 6 digits"),
        );
        return None;
    };
    let mut r = Rule {
        id,
        line: el.line,
        ..Rule::default()
    };
    for (k, v) in &el.attrs {
        if !RULE_ATTRS.contains(&k.as_str()) {
            ctx.err(
                el.line,
                Some(id),
                format!("unknown <rule> attribute {k:?} (Wazuh refuses the rule)"),
            );
            continue;
        }
        match k.as_str() {
            "level" => match parse_num::<u8>(v, 2).filter(|l| *l <= 16) {
                Some(l) => r.level = l,
                None => ctx.err(
                    el.line,
                    Some(id),
                    format!("level {v:?} must be an integer between 0 and 16"),
                ),
            },
            "frequency" => match parse_num::<u32>(v, 4).filter(|f| *f >= 2) {
                Some(f) => r.frequency = Some(f),
                None => ctx.err(
                    el.line,
                    Some(id),
                    format!("frequency {v:?} must be between 2 and 9999"),
                ),
            },
            "timeframe" => match parse_num::<u32>(v, 5) {
                Some(t) => r.timeframe = Some(t),
                None => ctx.err(
                    el.line,
                    Some(id),
                    format!("timeframe {v:?} must be seconds, at most 5 digits"),
                ),
            },
            "ignore" => match parse_num::<u32>(v, 6) {
                Some(t) => r.ignore = Some(t),
                None => ctx.err(
                    el.line,
                    Some(id),
                    format!("ignore {v:?} must be seconds, at most 6 digits"),
                ),
            },
            "overwrite" => match v.as_str() {
                "yes" => r.overwrite = true,
                "no" => {}
                _ => ctx.err(
                    el.line,
                    Some(id),
                    format!("overwrite {v:?} must be yes or no"),
                ),
            },
            _ => {}
        }
    }
    if el.attr("level").is_none() {
        ctx.err(el.line, Some(id), "<rule> has no level attribute");
    }
    for c in &el.children {
        read_rule_child(ctx, &mut r, c);
    }
    Some(r)
}

fn read_rule_child(ctx: &mut Ctx<'_>, r: &mut Rule, c: &Element) {
    let id = r.id;
    let name = c.name.as_str();
    let text = ctx.expand(&c.text);
    match name {
        "if_sid" => {
            if text.trim().is_empty() {
                ctx.err(
                    c.line,
                    Some(id),
                    "empty <if_sid> (Wazuh warning 7619: the rule is dropped)",
                );
            }
            for part in text.split([',', ' ']).filter(|s| !s.is_empty()) {
                match parse_num::<u32>(part, 6) {
                    Some(s) => r.if_sid.push(s),
                    None => ctx.err(
                        c.line,
                        Some(id),
                        format!("<if_sid> entry {part:?} is not a rule id"),
                    ),
                }
            }
        }
        "if_matched_sid" => match parse_num::<u32>(&text, 6) {
            Some(s) => r.if_matched_sid = Some(s),
            None => ctx.err(
                c.line,
                Some(id),
                format!("<if_matched_sid> {text:?} is not a rule id"),
            ),
        },
        "if_group" => r.if_group = Some(text),
        "if_matched_group" => r.if_matched_group = Some(text),
        "if_level" => match parse_num::<u8>(&text, 2).filter(|l| (1..=16).contains(l)) {
            Some(l) => r.if_level = Some(l),
            None => ctx.err(
                c.line,
                Some(id),
                format!("<if_level> {text:?} must be 1-16"),
            ),
        },
        "decoded_as" => r.decoded_as = Some(text),
        "field" => {
            let fname = c.attr("name").unwrap_or("").to_string();
            if fname.is_empty() {
                ctx.err(c.line, Some(id), "<field> without a name attribute");
            } else if STATIC_FIELD_NAMES.contains(&fname.as_str()) {
                ctx.err(
                    c.line,
                    Some(id),
                    format!(
                        "<field name=\"{fname}\">: '{fname}' is a static field (Wazuh: \"Field '{fname}' is static\"); use the <{}> element, or nest the value under the connector's namespace",
                        if fname == "srcuser" || fname == "dstuser" { "user" } else { fname.as_str() }
                    ),
                );
            }
            let pattern = read_pattern(ctx, c, id, RegexType::OsRegex);
            r.fields.push(FieldCond {
                name: fname,
                pattern,
            });
        }
        "match" => {
            let p = read_pattern(ctx, c, id, RegexType::OsMatch);
            r.matches.push(p);
        }
        "regex" => {
            let p = read_pattern(ctx, c, id, RegexType::OsRegex);
            r.regexes.push(p);
        }
        n if STATIC_ELEMENTS.contains(&n) => {
            let p = read_pattern(ctx, c, id, RegexType::OsMatch);
            r.statics.push(StaticCond {
                element: n.to_string(),
                pattern: p,
            });
        }
        "same_field" => r.same_fields.push(text),
        "different_field" | "not_same_field" => r.different_fields.push(text),
        n if n.starts_with("same_")
            || n.starts_with("different_")
            || n.starts_with("not_same_") =>
        {
            r.same_options.push(n.to_string());
        }
        "description" => r.description = text,
        "group" => r.groups.extend(split_groups(&text)),
        "options" => {
            for o in split_groups(&text) {
                if !OPTIONS.contains(&o.as_str()) {
                    ctx.err(
                        c.line,
                        Some(id),
                        format!(
                            "unknown <options> value {o:?} (valid: {})",
                            OPTIONS.join(", ")
                        ),
                    );
                }
                r.options.push(o);
            }
        }
        "mitre" => {
            for m in &c.children {
                if matches!(m.name.as_str(), "id" | "tacticID" | "techniqueID") {
                    r.mitre.push(m.text.clone());
                } else {
                    ctx.err(
                        m.line,
                        Some(id),
                        format!("unexpected <{}> in <mitre>", m.name),
                    );
                }
            }
        }
        n if OTHER_RULE_ELEMENTS.contains(&n) => {}
        other => ctx.err(
            c.line,
            Some(id),
            format!("unknown rule element <{other}> (Wazuh refuses the rule)"),
        ),
    }
}

fn read_decoder(ctx: &mut Ctx<'_>, el: &Element) {
    let mut d = Decoder {
        name: el.attr("name").unwrap_or("").to_string(),
        line: el.line,
        ..Decoder::default()
    };
    if d.name.is_empty() {
        ctx.err(el.line, None, "<decoder> without a name attribute");
    }
    for c in &el.children {
        let text = ctx.expand(&c.text);
        match c.name.as_str() {
            "parent" => d.parent = Some(text),
            "program_name" => d.has_program_name = true,
            "prematch" => d.prematch = Some(read_pattern_decoder(ctx, c)),
            "regex" => d.regex = Some(read_pattern_decoder(ctx, c)),
            "plugin_decoder" => d.plugin = Some(text),
            n if DECODER_ELEMENTS.contains(&n) => {}
            other => ctx.err(
                c.line,
                None,
                format!("decoder {:?}: unknown element <{other}>", d.name),
            ),
        }
    }
    ctx.out.decoders.push(d);
}

fn read_pattern_decoder(ctx: &mut Ctx<'_>, c: &Element) -> Pattern {
    let mut p = Pattern {
        kind: RegexType::OsRegex,
        text: ctx.expand(&c.text),
        negate: false,
        explicit_type: false,
    };
    if let Some(t) = c.attr("type") {
        match RegexType::parse(t) {
            Some(k) => {
                p.kind = k;
                p.explicit_type = true;
            }
            None => ctx.err(
                c.line,
                None,
                format!("<{}> type=\"{t}\" is unknown", c.name),
            ),
        }
    }
    p
}
