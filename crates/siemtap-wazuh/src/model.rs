//! The rules model: what a Wazuh `<rule>` says, as far as siemtap generates, checks and
//! evaluates it (wazuh.md §5).

/// How a pattern is matched (`type=` attribute, wazuh.md §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexType {
    /// OS_Regex: `\w \d \s ...`, `+ *`, `^ $ |`, case-insensitive.
    OsRegex,
    /// OS_Match: plain (case-insensitive) substring with `^ $ |`.
    OsMatch,
    /// PCRE2: case-sensitive unless `(?i)`.
    Pcre2,
}

impl RegexType {
    /// The `type=` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            RegexType::OsRegex => "osregex",
            RegexType::OsMatch => "osmatch",
            RegexType::Pcre2 => "pcre2",
        }
    }

    /// Parses a `type=` attribute value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "osregex" => Some(RegexType::OsRegex),
            "osmatch" => Some(RegexType::OsMatch),
            "pcre2" => Some(RegexType::Pcre2),
            _ => None,
        }
    }
}

/// A pattern with its type and negation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// Matching engine.
    pub kind: RegexType,
    /// Pattern text (unescaped XML).
    pub text: String,
    /// `negate="yes"`.
    pub negate: bool,
    /// Whether `type=` was written explicitly (rendering keeps defaults implicit).
    pub explicit_type: bool,
}

impl Pattern {
    /// A pcre2 pattern.
    pub fn pcre2(text: impl Into<String>) -> Self {
        Pattern {
            kind: RegexType::Pcre2,
            text: text.into(),
            negate: false,
            explicit_type: true,
        }
    }
}

/// `<field name="N">pattern</field>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldCond {
    /// Dynamic field name (dotted, without `data.`).
    pub name: String,
    /// The pattern.
    pub pattern: Pattern,
}

/// Static-field and event elements (`<user>`, `<id>`, `<status>`, `<location>`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticCond {
    /// Element name as written (`user`, `srcip`, `location`, ...).
    pub element: String,
    /// The pattern.
    pub pattern: Pattern,
}

/// One `<rule>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// `id`.
    pub id: u32,
    /// `level` (0–16).
    pub level: u8,
    /// `frequency` (as written, 2–9999).
    pub frequency: Option<u32>,
    /// `timeframe` seconds.
    pub timeframe: Option<u32>,
    /// `ignore` seconds.
    pub ignore: Option<u32>,
    /// `overwrite="yes"`.
    pub overwrite: bool,
    /// `<if_sid>` ids.
    pub if_sid: Vec<u32>,
    /// `<if_group>`.
    pub if_group: Option<String>,
    /// `<if_level>`.
    pub if_level: Option<u8>,
    /// `<if_matched_sid>`.
    pub if_matched_sid: Option<u32>,
    /// `<if_matched_group>`.
    pub if_matched_group: Option<String>,
    /// `<decoded_as>`.
    pub decoded_as: Option<String>,
    /// `<field>` conditions.
    pub fields: Vec<FieldCond>,
    /// `<match>` patterns (against the whole log).
    pub matches: Vec<Pattern>,
    /// `<regex>` patterns (against the whole log).
    pub regexes: Vec<Pattern>,
    /// Static-field and event elements.
    pub statics: Vec<StaticCond>,
    /// `<same_field>` names.
    pub same_fields: Vec<String>,
    /// `<different_field>` / `<not_same_field>` names.
    pub different_fields: Vec<String>,
    /// Other correlation options written (`same_srcip`, `same_user`, ...), by element name.
    pub same_options: Vec<String>,
    /// `<description>`.
    pub description: String,
    /// The rule's own `<group>` entries (without the enclosing group's).
    pub groups: Vec<String>,
    /// `<options>` values.
    pub options: Vec<String>,
    /// `<mitre><id>` values.
    pub mitre: Vec<String>,
    /// Line of the `<rule>` element in its file (0 for generated rules).
    pub line: usize,
    /// Groups of the enclosing `<group name=...>` element(s).
    pub parent_groups: Vec<String>,
}

impl Rule {
    /// All groups: the enclosing `<group name>` first, then the rule's own.
    pub fn all_groups(&self) -> Vec<String> {
        let mut all = self.parent_groups.clone();
        for g in &self.groups {
            if !all.contains(g) {
                all.push(g.clone());
            }
        }
        all
    }

    /// The parents this rule hangs under: `if_sid`, else the implicit one of `if_matched_sid`.
    pub fn parent_sids(&self) -> Vec<u32> {
        if !self.if_sid.is_empty() {
            self.if_sid.clone()
        } else if self.if_group.is_none() && self.if_level.is_none() {
            self.if_matched_sid.into_iter().collect()
        } else {
            Vec::new()
        }
    }
}

/// A `<group name="...">` block of rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleGroup {
    /// The `name` attribute, e.g. `onepassword,`.
    pub name: String,
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// A rules file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleFile {
    /// Header comment lines (rendered as one XML comment).
    pub header: Vec<String>,
    /// Group blocks.
    pub groups: Vec<RuleGroup>,
}

impl RuleFile {
    /// Every rule in file order, with `parent_groups` filled from its block.
    pub fn rules(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        for g in &self.groups {
            for r in &g.rules {
                let mut r = r.clone();
                r.parent_groups = split_groups(&g.name);
                out.push(r);
            }
        }
        out
    }
}

/// Splits a group list (`a,b,`) into names.
pub fn split_groups(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// One `<decoder>` (checked for shape only: siemtap needs none, wazuh.md §4.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoder {
    /// `name` attribute.
    pub name: String,
    /// `<parent>`.
    pub parent: Option<String>,
    /// `<program_name>` present.
    pub has_program_name: bool,
    /// `<prematch>` text.
    pub prematch: Option<Pattern>,
    /// `<regex>` text.
    pub regex: Option<Pattern>,
    /// `<plugin_decoder>`.
    pub plugin: Option<String>,
    /// Line of the element.
    pub line: usize,
}
