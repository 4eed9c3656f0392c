//! Rules XML rendering (wazuh.md §5.8 skeleton) and pcre2 literal helpers (§5.4).

use std::fmt::Write as _;

use crate::model::{Pattern, RegexType, Rule, RuleFile};

/// Escapes `&`, `<`, `>` (and `"` in attributes) for Wazuh's XML reader.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Quotes a literal for pcre2 with `\Q…\E`; a literal containing `\E` is split
/// (`\Qa\E\\E\Qb\E`, wazuh.md §5.4).
pub fn pcre_quote(literal: &str) -> String {
    let mut out = String::new();
    let parts: Vec<&str> = literal.split("\\E").collect();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str("\\\\E");
        }
        if !part.is_empty() {
            out.push_str("\\Q");
            out.push_str(part);
            out.push_str("\\E");
        }
    }
    out
}

/// Anchored pcre2 alternation of literals: `^\Qa\E$` or `^(?:\Qa\E|\Qb\E)$`;
/// `ci` prefixes `(?i)` (the reference OS_Regex rules were case-insensitive).
pub fn pcre_exact(values: &[&str], ci: bool) -> Pattern {
    let flag = if ci { "(?i)" } else { "" };
    let text = if values.len() == 1 {
        format!("{flag}^{}$", pcre_quote(values[0]))
    } else {
        let alts: Vec<String> = values.iter().map(|v| pcre_quote(v)).collect();
        format!("{flag}^(?:{})$", alts.join("|"))
    };
    Pattern::pcre2(text)
}

/// Unanchored, case-insensitive pcre2 "contains" of a literal.
pub fn pcre_contains(value: &str) -> Pattern {
    Pattern::pcre2(format!("(?i){}", pcre_quote(value)))
}

fn pattern_attrs(p: &Pattern) -> String {
    let mut a = String::new();
    if p.explicit_type || p.kind == RegexType::Pcre2 {
        let _ = write!(a, " type=\"{}\"", p.kind.as_str());
    }
    if p.negate {
        a.push_str(" negate=\"yes\"");
    }
    a
}

/// Renders one rule (indented by four spaces).
pub fn render_rule(r: &Rule, out: &mut String) {
    let mut attrs = format!("id=\"{}\" level=\"{}\"", r.id, r.level);
    if let Some(f) = r.frequency {
        let _ = write!(attrs, " frequency=\"{f}\"");
    }
    if let Some(t) = r.timeframe {
        let _ = write!(attrs, " timeframe=\"{t}\"");
    }
    if let Some(i) = r.ignore {
        let _ = write!(attrs, " ignore=\"{i}\"");
    }
    if r.overwrite {
        attrs.push_str(" overwrite=\"yes\"");
    }
    let _ = writeln!(out, "  <rule {attrs}>");
    let el = |out: &mut String, name: &str, text: &str| {
        let _ = writeln!(out, "    <{name}>{}</{name}>", xml_escape(text));
    };
    if !r.if_sid.is_empty() {
        let ids: Vec<String> = r.if_sid.iter().map(u32::to_string).collect();
        el(out, "if_sid", &ids.join(","));
    }
    if let Some(g) = &r.if_group {
        el(out, "if_group", g);
    }
    if let Some(l) = r.if_level {
        el(out, "if_level", &l.to_string());
    }
    if let Some(s) = r.if_matched_sid {
        el(out, "if_matched_sid", &s.to_string());
    }
    if let Some(g) = &r.if_matched_group {
        el(out, "if_matched_group", g);
    }
    if let Some(d) = &r.decoded_as {
        el(out, "decoded_as", d);
    }
    for f in &r.fields {
        let _ = writeln!(
            out,
            "    <field name=\"{}\"{}>{}</field>",
            xml_escape(&f.name),
            pattern_attrs(&f.pattern),
            xml_escape(&f.pattern.text)
        );
    }
    for m in &r.matches {
        let _ = writeln!(
            out,
            "    <match{}>{}</match>",
            pattern_attrs(m),
            xml_escape(&m.text)
        );
    }
    for m in &r.regexes {
        let _ = writeln!(
            out,
            "    <regex{}>{}</regex>",
            pattern_attrs(m),
            xml_escape(&m.text)
        );
    }
    for s in &r.statics {
        let _ = writeln!(
            out,
            "    <{0}{1}>{2}</{0}>",
            s.element,
            pattern_attrs(&s.pattern),
            xml_escape(&s.pattern.text)
        );
    }
    for f in &r.same_fields {
        el(out, "same_field", f);
    }
    for f in &r.different_fields {
        el(out, "different_field", f);
    }
    for o in &r.same_options {
        let _ = writeln!(out, "    <{o} />");
    }
    for o in &r.options {
        el(out, "options", o);
    }
    el(out, "description", &r.description);
    if !r.mitre.is_empty() {
        out.push_str("    <mitre>\n");
        for m in &r.mitre {
            let _ = writeln!(out, "      <id>{}</id>", xml_escape(m));
        }
        out.push_str("    </mitre>\n");
    }
    if !r.groups.is_empty() {
        el(out, "group", &format!("{},", r.groups.join(",")));
    }
    out.push_str("  </rule>\n");
}

/// Renders a whole rules file.
pub fn render_file(file: &RuleFile) -> String {
    let mut out = String::new();
    if !file.header.is_empty() {
        out.push_str("<!--\n");
        for line in &file.header {
            // `--` is not allowed inside an XML comment.
            let _ = writeln!(out, "  {}", line.replace("--", "- -"));
        }
        out.push_str("-->\n");
    }
    for g in &file.groups {
        let _ = writeln!(out, "<group name=\"{}\">", xml_escape(&g.name));
        for (i, r) in g.rules.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            render_rule(r, &mut out);
        }
        out.push_str("</group>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_splits_backslash_e() {
        assert_eq!(pcre_quote("login"), "\\Qlogin\\E");
        assert_eq!(pcre_quote("a\\Eb"), "\\Qa\\E\\\\E\\Qb\\E");
        assert_eq!(pcre_quote("\\E"), "\\\\E");
    }

    #[test]
    fn exact_alternation() {
        assert_eq!(pcre_exact(&["a"], false).text, "^\\Qa\\E$");
        assert_eq!(
            pcre_exact(&["a", "b"], true).text,
            "(?i)^(?:\\Qa\\E|\\Qb\\E)$"
        );
    }

    #[test]
    fn escape_xml() {
        assert_eq!(xml_escape("a<b>&\""), "a&lt;b&gt;&amp;&quot;");
    }
}
