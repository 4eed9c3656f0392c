//! The rule evaluator: analysisd's rule tree and matching (wazuh.md §4–§5), enough to run
//! siemtap's rules and Wazuh INI tests offline.
//!
//! - Tree: a rule with `if_sid` (or only `if_matched_sid`, which then is its parent) hangs
//!   under each listed rule; `if_group`/`if_level` under every earlier rule with that group
//!   or at least that level; others are top-level. Siblings are kept in descending order of
//!   their rank, ties in load order (`_OS_AddRule`). The rank is the level, except that a
//!   level-0 rule ranks as 99 (`rules.c`: "If rule is 0, set it to level 99 to have high
//!   priority"): a level-0 sibling (a suppression rule) is tried first, then the others from
//!   the highest level down. `if_level` compares the same rank while rules load, so level-0
//!   rules take `if_level` children too.
//! - An event walks the top-level rules; the first that matches wins, and inside it the
//!   first matching child, recursively (`OS_CheckIfRuleMatch`).
//! - Frequency (`Search_LastSids`): each rule keeps the events whose final rule it was
//!   (level > 0 only). A rule with `frequency=N` over `if_matched_sid=P` fires when N−1
//!   earlier events of P within `timeframe` pass its `same_field`/`different_field` tests;
//!   events already used by a firing of the same or a higher level stop the search.
//! - Not evaluated: `<list>`, `<time>`, `<weekday>`, `ignore`, `if_fts`, `check_diff`.

use std::collections::HashMap;

use regex::Regex;

use crate::flatten::{Decoded, decode};
use crate::model::{Pattern, RegexType, Rule};
use crate::osregex::{OsMatch, OsRegex};
use crate::pcre;

/// analysisd's default `timeframe` when a frequency rule gives none.
pub const DEFAULT_TIMEFRAME: u32 = 360;
/// Longest expanded description (`OS_COMMENT_MAX`).
pub const COMMENT_MAX: usize = 1024;

#[derive(Debug)]
enum Kind {
    OsRegex(OsRegex),
    OsMatch(OsMatch),
    Pcre(Regex),
    Exact(String),
    Never,
}

#[derive(Debug)]
struct Matcher {
    kind: Kind,
    negate: bool,
}

impl Matcher {
    fn new(p: &Pattern, plain: bool, problems: &mut Vec<String>, id: u32) -> Self {
        let kind = match p.kind {
            _ if plain && !p.explicit_type => Kind::Exact(p.text.clone()),
            RegexType::OsRegex => Kind::OsRegex(OsRegex::new(&p.text)),
            RegexType::OsMatch => Kind::OsMatch(OsMatch::new(&p.text)),
            RegexType::Pcre2 => match pcre::compile(&p.text) {
                Ok(r) => Kind::Pcre(r),
                Err(e) => {
                    problems.push(format!(
                        "rule {id}: pcre2 {:?} not evaluated: {e:?}",
                        p.text
                    ));
                    Kind::Never
                }
            },
        };
        Matcher {
            kind,
            negate: p.negate,
        }
    }
    /// A missing value never matches, negated or not.
    fn test(&self, value: Option<&str>) -> bool {
        let Some(v) = value else { return false };
        let hit = match &self.kind {
            Kind::OsRegex(r) => r.is_match(v),
            Kind::OsMatch(m) => m.is_match(v),
            Kind::Pcre(r) => r.is_match(v),
            Kind::Exact(s) => s == v,
            Kind::Never => return false,
        };
        hit != self.negate
    }
}

#[derive(Debug)]
struct Node {
    rule: Rule,
    groups: Vec<String>,
    fields: Vec<(String, Matcher)>,
    matches: Vec<Matcher>,
    regexes: Vec<Matcher>,
    statics: Vec<(String, Matcher)>,
    children: Vec<usize>,
}

/// A loaded rule set.
#[derive(Debug, Default)]
pub struct Engine {
    nodes: Vec<Node>,
    top: Vec<usize>,
    by_id: HashMap<u32, usize>,
    /// What could not be loaded or will not be evaluated (duplicate ids, missing parents,
    /// unsupported patterns).
    pub problems: Vec<String>,
}

/// analysisd's sorting rank of a level while rules load: level × 100, level 0 as 99 × 100
/// (restored to 0 by `_setlevels` once every file is loaded).
pub fn rank(level: u8) -> u32 {
    if level == 0 {
        9900
    } else {
        u32::from(level) * 100
    }
}

fn insert_by_level(list: &mut Vec<usize>, nodes: &[Node], idx: usize, level: u8) {
    let pos = list
        .iter()
        .position(|&i| rank(level) > rank(nodes[i].rule.level))
        .unwrap_or(list.len());
    list.insert(pos, idx);
}

impl Engine {
    /// Loads rules in load order (files in order, rules in file order).
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Self {
        let mut e = Engine::default();
        for rule in rules {
            e.add(rule);
        }
        e
    }

    fn add(&mut self, rule: Rule) {
        let id = rule.id;
        let mut problems = Vec::new();
        let m = |p: &Pattern, problems: &mut Vec<String>| Matcher::new(p, false, problems, id);
        let fields = rule
            .fields
            .iter()
            .map(|f| (f.name.clone(), m(&f.pattern, &mut problems)))
            .collect();
        let matches = rule.matches.iter().map(|p| m(p, &mut problems)).collect();
        let regexes = rule.regexes.iter().map(|p| m(p, &mut problems)).collect();
        let statics = rule
            .statics
            .iter()
            .map(|s| {
                let plain = s.element == "action";
                (
                    s.element.clone(),
                    Matcher::new(&s.pattern, plain, &mut problems, id),
                )
            })
            .collect();
        self.problems.append(&mut problems);
        let node = Node {
            groups: rule.all_groups(),
            rule,
            fields,
            matches,
            regexes,
            statics,
            children: Vec::new(),
        };
        if let Some(&existing) = self.by_id.get(&id) {
            if node.rule.overwrite {
                let children = std::mem::take(&mut self.nodes[existing].children);
                self.nodes[existing] = Node { children, ..node };
            } else {
                self.problems.push(format!(
                    "(7612) Rule ID '{id}' is duplicated. Only the first occurrence will be considered"
                ));
            }
            return;
        }
        let idx = self.nodes.len();
        let level = node.rule.level;
        let parents = node.rule.parent_sids();
        let if_group = node.rule.if_group.clone();
        let if_level = node.rule.if_level;
        self.nodes.push(node);
        self.by_id.insert(id, idx);
        if !parents.is_empty() {
            let mut attached = false;
            for p in parents {
                match self.by_id.get(&p).copied().filter(|&pi| pi != idx) {
                    Some(pi) => {
                        let mut kids = std::mem::take(&mut self.nodes[pi].children);
                        insert_by_level(&mut kids, &self.nodes, idx, level);
                        self.nodes[pi].children = kids;
                        attached = true;
                    }
                    None => self.problems.push(format!(
                        "(7617) Signature ID '{p}' was not found and will be ignored in the 'if_sid' option of rule '{id}'"
                    )),
                }
            }
            if !attached {
                self.problems
                    .push(format!("rule {id} has no parent and never matches"));
            }
        } else if if_group.is_some() || if_level.is_some() {
            for pi in 0..idx {
                let ok = match (&if_group, if_level) {
                    (Some(g), _) => self.nodes[pi].groups.iter().any(|x| x == g),
                    (None, Some(l)) => rank(self.nodes[pi].rule.level) >= rank(l),
                    _ => false,
                };
                if ok {
                    let mut kids = std::mem::take(&mut self.nodes[pi].children);
                    insert_by_level(&mut kids, &self.nodes, idx, level);
                    self.nodes[pi].children = kids;
                }
            }
        } else {
            let mut top = std::mem::take(&mut self.top);
            insert_by_level(&mut top, &self.nodes, idx, level);
            self.top = top;
        }
    }

    /// A rule by id.
    pub fn rule(&self, id: u32) -> Option<&Rule> {
        self.by_id.get(&id).map(|&i| &self.nodes[i].rule)
    }

    /// A fresh session (like a logtest session: its own frequency memory).
    pub fn session(&self) -> Session<'_> {
        Session {
            engine: self,
            events: Vec::new(),
            lists: HashMap::new(),
        }
    }
}

/// The rule an event ended on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// Rule id.
    pub id: u32,
    /// Level (0: no alert).
    pub level: u8,
    /// Expanded description.
    pub description: String,
    /// All groups.
    pub groups: Vec<String>,
}

/// The result of one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Decoder name, `None` when no decoder matched.
    pub decoder: Option<String>,
    /// Final rule, `None` when no rule matched.
    pub rule: Option<Fired>,
    /// The decoded fields.
    pub decoded: Decoded,
}

struct EventRec {
    log: String,
    decoded: Decoded,
    location: String,
    time: i64,
    matched: u8,
}

/// Evaluation state across events (frequency rules).
pub struct Session<'e> {
    engine: &'e Engine,
    events: Vec<EventRec>,
    lists: HashMap<usize, Vec<usize>>,
}

impl Session<'_> {
    /// Processes one log line received at `now` (seconds) from `location`.
    pub fn process(&mut self, log: &str, location: &str, now: i64) -> Outcome {
        let decoded = decode(log);
        self.events.push(EventRec {
            log: log.to_string(),
            decoded,
            location: location.to_string(),
            time: now,
            matched: 0,
        });
        let cur = self.events.len() - 1;
        let mut fired = None;
        for &t in &self.engine.top {
            if let Some(i) = self.check(t, cur) {
                fired = Some(i);
                break;
            }
        }
        let rule = fired.map(|i| {
            let node = &self.engine.nodes[i];
            if node.rule.level > 0 {
                self.lists.entry(i).or_default().push(cur);
            }
            Fired {
                id: node.rule.id,
                level: node.rule.level,
                description: expand(&node.rule.description, &self.events[cur].decoded),
                groups: node.groups.clone(),
            }
        });
        let ev = &self.events[cur];
        Outcome {
            decoder: ev.decoded.decoder.clone(),
            rule,
            decoded: ev.decoded.clone(),
        }
    }

    fn check(&mut self, i: usize, cur: usize) -> Option<usize> {
        let engine = self.engine;
        let node = &engine.nodes[i];
        let ev = &self.events[cur];
        let r = &node.rule;
        if let Some(d) = &r.decoded_as
            && ev.decoded.decoder.as_deref() != Some(d.as_str())
        {
            return None;
        }
        if !node.matches.iter().all(|m| m.test(Some(&ev.log)))
            || !node.regexes.iter().all(|m| m.test(Some(&ev.log)))
            || !node.fields.iter().all(|(n, m)| m.test(ev.decoded.field(n)))
        {
            return None;
        }
        for (el, m) in &node.statics {
            let v = match el.as_str() {
                "location" => Some(ev.location.as_str()),
                "hostname" | "program_name" => None,
                other => ev.decoded.static_field(other),
            };
            if !m.test(v) {
                return None;
            }
        }
        if (r.if_matched_sid.is_some() || r.if_matched_group.is_some() || r.frequency.is_some())
            && !self.search(i, cur)
        {
            return None;
        }
        for &c in &node.children {
            if let Some(hit) = self.check(c, cur) {
                return Some(hit);
            }
        }
        Some(i)
    }

    fn candidates(&self, i: usize, cur: usize) -> Vec<usize> {
        let r = &self.engine.nodes[i].rule;
        if let Some(sid) = r.if_matched_sid {
            let Some(&p) = self.engine.by_id.get(&sid) else {
                return Vec::new();
            };
            return self.lists.get(&p).cloned().unwrap_or_default();
        }
        if let Some(g) = &r.if_matched_group {
            let mut out: Vec<usize> = self
                .lists
                .iter()
                .filter(|(n, _)| self.engine.nodes[**n].groups.iter().any(|x| x == g))
                .flat_map(|(_, l)| l.iter().copied())
                .collect();
            out.sort_unstable();
            return out;
        }
        // Search_LastEvents: every earlier event with the same decoder.
        let dec = &self.events[cur].decoded.decoder;
        (0..cur)
            .filter(|&e| &self.events[e].decoded.decoder == dec)
            .collect()
    }

    fn search(&mut self, i: usize, cur: usize) -> bool {
        let list = self.candidates(i, cur);
        let engine = self.engine;
        let r = &engine.nodes[i].rule;
        let needed = r.frequency.unwrap_or(2).saturating_sub(2) as usize;
        let timeframe = i64::from(r.timeframe.unwrap_or(DEFAULT_TIMEFRAME));
        let extrainfo = r.same_options.iter().any(|o| {
            matches!(
                o.as_str(),
                "same_user"
                    | "same_location"
                    | "same_srcport"
                    | "same_dstport"
                    | "different_url"
                    | "different_srcgeoip"
            )
        });
        let level = r.level;
        let me = &self.events[cur];
        let mut count = 0;
        let first = list.last().copied();
        for &e in list.iter().rev() {
            if e == cur {
                continue;
            }
            let ev = &self.events[e];
            if me.time - ev.time > timeframe {
                return false;
            }
            let same = |f: &String| match (ev.decoded.field(f), me.decoded.field(f)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            };
            if !r.same_fields.iter().all(same) {
                continue;
            }
            let differs = |f: &String| match (ev.decoded.field(f), me.decoded.field(f)) {
                (Some(a), Some(b)) => a != b,
                _ => false,
            };
            if !r.different_fields.iter().all(differs) {
                continue;
            }
            let static_same =
                |name: &str| match (ev.decoded.static_field(name), me.decoded.static_field(name)) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                };
            let statics_ok = r.same_options.iter().all(|o| match o.as_str() {
                "same_srcip" | "same_source_ip" => static_same("srcip"),
                "same_id" => static_same("id"),
                "same_user" => static_same("user"),
                "same_location" => ev.location == me.location,
                _ => true,
            });
            if !statics_ok {
                continue;
            }
            if !extrainfo && ev.matched >= level {
                return false;
            }
            if count < needed {
                count += 1;
                continue;
            }
            self.events[e].matched = level;
            if let Some(f) = first {
                self.events[f].matched = level;
            }
            self.events[cur].matched = level;
            return true;
        }
        false
    }
}

const STATIC_DESC: &[&str] = &[
    "srcip",
    "dstip",
    "srcport",
    "dstport",
    "srcuser",
    "dstuser",
    "protocol",
    "action",
    "id",
    "url",
    "data",
    "status",
    "extra_data",
    "system_name",
];

/// Expands `$(name)` in a description (wazuh.md §5.5).
pub fn expand(desc: &str, d: &Decoded) -> String {
    if !desc.contains("$(") {
        return desc.to_string();
    }
    let mut out = String::new();
    let mut rest = desc;
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find(')') else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let name = &after[..j];
        let value = if STATIC_DESC.contains(&name) {
            d.static_field(name)
        } else if name == "user" || name == "program_name" || name == "hostname" {
            None
        } else {
            d.field(name)
        };
        out.push_str(value.unwrap_or(""));
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    if out.len() > COMMENT_MAX {
        return desc.to_string();
    }
    out
}
