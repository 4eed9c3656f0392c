//! 4.x rules → Sigma rules (Wazuh's JSON form; `docs/guide/migration/rules-4x-to-5x.md`).
//!
//! A 4.x event ends on one rule: the deepest whose conditions and whose parents' hold, trying
//! siblings in analysisd's order. 5.x rules are independent, so each migrated rule carries
//! its whole `if_sid` path (`all of match_*`) and excludes what would have taken the event
//! elsewhere in 4.x (`not 1 of not_*`: its own children and the siblings tried before it on
//! the path). One event gives at most one finding, the migrated rule of the 4.x rule it
//! ended on. Level-0 rules (no alert) and frequency rules (no correlation in 5.x rules) are
//! not emitted; [`Skipped`] lists them.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::profile::Profile;
use super::translate;
use super::uuid::uuid_for;
use crate::engine::rank;
use crate::model::{Rule, RuleFile};

/// The 4.x level → 5.x level table of the migration guide (Step 3); level 0 has none.
pub fn level_keyword(level: u8) -> Option<&'static str> {
    Some(match level {
        0 => return None,
        1..=3 => "informational",
        4..=6 => "low",
        7..=9 => "medium",
        10..=13 => "high",
        _ => "critical",
    })
}

/// ATT&CK techniques siemtap's rules name → their tactic.
const TECHNIQUE_TACTIC: &[(&str, &str)] = &[
    ("T1566", "TA0001"),
    ("T1204", "TA0002"),
    ("T1110", "TA0006"),
    ("T1078", "TA0001"),
];

/// XDR tactic groups (`mitre_<tactic>`) → tactic id.
const GROUP_TACTIC: &[(&str, &str)] = &[
    ("mitre_persistence", "TA0003"),
    ("mitre_privilege_escalation", "TA0004"),
    ("mitre_defense_evasion", "TA0005"),
    ("mitre_credential_access", "TA0006"),
    ("mitre_lateral_movement", "TA0008"),
    ("mitre_exfiltration", "TA0010"),
    ("mitre_c2", "TA0011"),
    ("mitre_impact", "TA0040"),
];

const COMPLIANCE: &[(&str, &str)] = &[
    ("pci_dss_", "pci_dss"),
    ("gdpr_", "gdpr"),
    ("nist_800_53_", "nist_800_53"),
    ("hipaa_", "hipaa"),
    ("tsc_", "tsc"),
];

/// Why a 4.x rule has no Sigma rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Level 0: a chaining or silencing rule, no alert in 4.x.
    Level0,
    /// `frequency`/`timeframe` correlation over another rule.
    Correlation {
        /// Events needed.
        frequency: u32,
        /// Window in seconds.
        timeframe: u32,
        /// The counted rule.
        over: u32,
        /// `same_field` names.
        same: Vec<String>,
    },
}

/// A 4.x rule not migrated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// 4.x id.
    pub id: u32,
    /// 4.x level.
    pub level: u8,
    /// 4.x description.
    pub description: String,
    /// Why.
    pub reason: SkipReason,
}

/// The migration of one rules file.
#[derive(Clone, Debug, Default)]
pub struct Migrated {
    /// Sigma rule documents.
    pub rules: Vec<Value>,
    /// 4.x id of each rule document (same order).
    pub from: Vec<u32>,
    /// Rules not migrated.
    pub skipped: Vec<Skipped>,
}

/// Why a rules file cannot be migrated.
#[derive(Debug, thiserror::Error)]
#[error("4.x rule {id} of {integration}: {message}; add a WCS home for it to the 5.x field map")]
pub struct MigrateError {
    /// 4.x rule id.
    pub id: u32,
    /// Integration.
    pub integration: String,
    /// What failed.
    pub message: String,
}

struct Tree {
    rules: Vec<Rule>,
    by_id: HashMap<u32, usize>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    parent: Vec<Option<usize>>,
}

fn insert_ranked(list: &mut Vec<usize>, rules: &[Rule], idx: usize) {
    let r = rank(rules[idx].level);
    let pos = list
        .iter()
        .position(|&i| r > rank(rules[i].level))
        .unwrap_or(list.len());
    list.insert(pos, idx);
}

fn tree(file: &RuleFile) -> Tree {
    let rules = file.rules();
    let n = rules.len();
    let mut t = Tree {
        by_id: HashMap::new(),
        children: vec![Vec::new(); n],
        roots: Vec::new(),
        parent: vec![None; n],
        rules,
    };
    for i in 0..n {
        t.by_id.insert(t.rules[i].id, i);
        if t.rules[i].frequency.is_some() {
            continue;
        }
        match t.rules[i]
            .if_sid
            .first()
            .and_then(|s| t.by_id.get(s))
            .copied()
        {
            Some(p) => {
                t.parent[i] = Some(p);
                let mut kids = std::mem::take(&mut t.children[p]);
                insert_ranked(&mut kids, &t.rules, i);
                t.children[p] = kids;
            }
            None => {
                let mut roots = std::mem::take(&mut t.roots);
                insert_ranked(&mut roots, &t.rules, i);
                t.roots = roots;
            }
        }
    }
    t
}

impl Tree {
    fn path(&self, i: usize) -> Vec<usize> {
        let mut p = vec![i];
        let mut cur = i;
        while let Some(up) = self.parent[cur] {
            p.push(up);
            cur = up;
        }
        p.reverse();
        p
    }

    /// Rules whose own conditions, when they hold, take an event away from `i`.
    fn exclusions(&self, i: usize) -> Vec<usize> {
        let path = self.path(i);
        let mut out = Vec::new();
        for (k, &node) in path.iter().enumerate() {
            let siblings = match k {
                0 => &self.roots,
                _ => &self.children[path[k - 1]],
            };
            out.extend(siblings.iter().take_while(|&&s| s != node).copied());
        }
        out.extend(self.children[i].iter().copied());
        out
    }
}

fn event_type(p: &Profile, rules: &[&Rule]) -> Option<String> {
    let disc = p.disc_field();
    rules
        .iter()
        .flat_map(|r| &r.fields)
        .find_map(|f| match translate::classify(&f.pattern.text) {
            translate::Pat::Exact(v, _) if f.name == disc && v.len() == 1 => Some(v[0].clone()),
            _ => None,
        })
}

fn selection(p: &Profile, et: Option<&str>, r: &Rule) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    for f in &r.fields {
        let (k, v) = translate::condition(p, et, f)?;
        if m.insert(k.clone(), v).is_some() {
            return Err(format!("two conditions on {k}"));
        }
    }
    if !r.matches.is_empty() || !r.regexes.is_empty() || !r.statics.is_empty() {
        return Err("<match>/<regex>/static conditions are not translated".into());
    }
    Ok(m)
}

fn mitre(r: &Rule) -> Result<Option<Value>, String> {
    let mut tactic: Vec<String> = Vec::new();
    let mut technique = Vec::new();
    let mut sub = Vec::new();
    for t in &r.mitre {
        let base = t.split('.').next().unwrap_or(t);
        let ta = TECHNIQUE_TACTIC
            .iter()
            .find(|(x, _)| *x == base)
            .ok_or_else(|| format!("MITRE technique {t} has no tactic in the table"))?
            .1;
        if !tactic.iter().any(|x| x == ta) {
            tactic.push(ta.into());
        }
        if t.contains('.') {
            sub.push(t.clone());
        } else {
            technique.push(t.clone());
        }
    }
    for g in r.all_groups() {
        if let Some((_, ta)) = GROUP_TACTIC.iter().find(|(x, _)| *x == g)
            && !tactic.iter().any(|x| x == ta)
        {
            tactic.push((*ta).into());
        }
    }
    Ok((!tactic.is_empty())
        .then(|| json!({"tactic": tactic, "technique": technique, "subtechnique": sub})))
}

fn compliance_and_tags(r: &Rule) -> (Option<Value>, Vec<String>) {
    let mut comp: Map<String, Value> = Map::new();
    let mut tags = Vec::new();
    for g in r.all_groups() {
        match COMPLIANCE.iter().find(|(pre, _)| g.starts_with(pre)) {
            Some((pre, key)) => {
                let list = comp.entry(*key).or_insert_with(|| json!([]));
                if let Value::Array(a) = list {
                    a.push(Value::from(&g[pre.len()..]));
                }
            }
            None if g.starts_with("gpg13_") => {}
            None => tags.push(format!("siemtap.{g}")),
        }
    }
    for t in &r.mitre {
        tags.push(format!("attack.{}", t.to_ascii_lowercase()));
    }
    ((!comp.is_empty()).then_some(Value::Object(comp)), tags)
}

fn title(p: &Profile, et: Option<&str>, r: &Rule) -> String {
    let t = translate::placeholders(p, et, &r.description);
    let stat: String = t.replace("{{", "").replace("}}", "");
    if stat.chars().filter(|c| c.is_alphabetic()).count() < 12 {
        format!("{}: {t}", p.label)
    } else {
        t
    }
}

fn document(p: &Profile, t: &Tree, i: usize) -> Result<Value, String> {
    let r = &t.rules[i];
    let path = t.path(i);
    let path_rules: Vec<&Rule> = path.iter().map(|&k| &t.rules[k]).collect();
    let et = event_type(p, &path_rules);
    let mut det = Map::new();
    for pr in &path_rules {
        let sel = selection(p, et.as_deref(), pr)?;
        if !sel.is_empty() {
            det.insert(format!("match_{}", pr.id), Value::Object(sel));
        }
    }
    let excl = t.exclusions(i);
    for &x in &excl {
        let sel = selection(p, et.as_deref(), &t.rules[x])?;
        if sel.is_empty() {
            return Err(format!("excluded rule {} has no condition", t.rules[x].id));
        }
        det.insert(format!("not_{}", t.rules[x].id), Value::Object(sel));
    }
    let cond = if excl.is_empty() {
        "all of match_*".to_string()
    } else {
        "all of match_* and not 1 of not_*".to_string()
    };
    det.insert("condition".into(), Value::from(cond));
    let level = level_keyword(r.level).unwrap_or("informational");
    let (comp, tags) = compliance_and_tags(r);
    let mut doc = json!({
        "id": uuid_for(&format!("rule/{}/{}", p.integration, r.id)),
        "enabled": true,
        "status": "experimental",
        "level": level,
        "metadata": {
            "title": title(p, et.as_deref(), r),
            "author": "siemtap",
            "description": format!(
                "Migrated from siemtap's Wazuh 4.x rule {} (level {}): {}{} Fires on the events \
                 that end on rule {} in 4.x.",
                r.id,
                r.level,
                r.description,
                if r.description.ends_with(['.', '!', '?']) { "" } else { "." },
                r.id
            ),
            "references": [format!("Migrated from 4.x rule {}", r.id)],
        },
        "logsource": {"product": p.integration, "service": p.integration},
        "detection": Value::Object(det),
        "tags": tags,
    });
    if let Some(m) = mitre(r)? {
        doc["mitre"] = m;
    }
    if let Some(c) = comp {
        doc["compliance"] = c;
    }
    Ok(doc)
}

/// Migrates a 4.x rules file through a profile's field map.
pub fn migrate(file: &RuleFile, p: &Profile) -> Result<Migrated, MigrateError> {
    let t = tree(file);
    let mut out = Migrated::default();
    for (i, r) in t.rules.iter().enumerate() {
        if let Some(frequency) = r.frequency {
            out.skipped.push(Skipped {
                id: r.id,
                level: r.level,
                description: r.description.clone(),
                reason: SkipReason::Correlation {
                    frequency,
                    timeframe: r.timeframe.unwrap_or(360),
                    over: r.if_matched_sid.unwrap_or(0),
                    same: r.same_fields.clone(),
                },
            });
            continue;
        }
        if r.level == 0 {
            out.skipped.push(Skipped {
                id: r.id,
                level: 0,
                description: r.description.clone(),
                reason: SkipReason::Level0,
            });
            continue;
        }
        let doc = document(p, &t, i).map_err(|message| MigrateError {
            id: r.id,
            integration: p.integration.clone(),
            message,
        })?;
        out.rules.push(doc);
        out.from.push(r.id);
    }
    dedupe_titles(&mut out);
    Ok(out)
}

fn dedupe_titles(m: &mut Migrated) {
    let titles: Vec<String> = m
        .rules
        .iter()
        .map(|r| r["metadata"]["title"].as_str().unwrap_or("").to_string())
        .collect();
    for (k, r) in m.rules.iter_mut().enumerate() {
        if titles.iter().filter(|t| **t == titles[k]).count() > 1 {
            r["metadata"]["title"] = Value::from(format!("{} (4.x rule {})", titles[k], m.from[k]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_table_follows_the_migration_guide() {
        let got: Vec<_> = (0..=16).map(level_keyword).collect();
        assert_eq!(got[0], None);
        assert_eq!(got[3], Some("informational"));
        assert_eq!(got[4], Some("low"));
        assert_eq!(got[7], Some("medium"));
        assert_eq!(got[10], Some("high"));
        assert_eq!(got[13], Some("high"));
        assert_eq!(got[14], Some("critical"));
        assert_eq!(got[16], Some("critical"));
    }
}
