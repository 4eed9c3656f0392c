//! A Sigma evaluator for the subset Wazuh's rules use (Security Analytics `rules.md`):
//! selections as maps (AND) or lists of maps (OR), value lists (OR, or AND with `all`),
//! `keywords` lists, `null` (absent), `*`/`?` wildcards, modifiers `contains`, `startswith`,
//! `endswith`, `re` (with `i`, `m`, `s`), `exists`, `all`, `cidr`, `lt`, `lte`, `gt`, `gte`,
//! and the conditions of [`super::condition`].
//!
//! String comparisons are case-insensitive, as the Sigma specification says; `re` is
//! case-sensitive unless `|i`, and searches (unanchored, anchors in the pattern count).
//! An array field matches when any element does.

use serde_json::{Map, Value};

use super::condition::{self, Expr};

/// Why a rule cannot be evaluated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigmaError {
    /// The detection block is malformed.
    #[error("detection: {0}")]
    Detection(String),
    /// A bad condition.
    #[error(transparent)]
    Condition(#[from] condition::ConditionError),
    /// A modifier outside the supported subset.
    #[error(
        "modifier {0:?} is not supported offline (supported: contains, startswith, endswith, re, i, m, s, exists, all, cidr, lt, lte, gt, gte)"
    )]
    Modifier(String),
    /// A regex that does not compile.
    #[error("regex {0:?}: {1}")]
    Regex(String, String),
}

/// The selection names of a detection block (every key but `condition`).
pub fn selection_names(det: &Map<String, Value>) -> Vec<String> {
    det.keys()
        .filter(|k| *k != "condition" && *k != "timeframe")
        .cloned()
        .collect()
}

/// Whether a rule document's `detection` matches `event`.
pub fn rule_matches(rule: &Value, event: &Value) -> Result<bool, SigmaError> {
    let det = rule
        .get("detection")
        .and_then(Value::as_object)
        .ok_or_else(|| SigmaError::Detection("missing `detection` object".into()))?;
    detection_matches(det, event)
}

/// Whether a detection block matches `event`.
pub fn detection_matches(det: &Map<String, Value>, event: &Value) -> Result<bool, SigmaError> {
    let cond = det
        .get("condition")
        .and_then(Value::as_str)
        .ok_or_else(|| SigmaError::Detection("missing `condition` string".into()))?;
    let expr = condition::parse(cond)?;
    let names = selection_names(det);
    let mut results = std::collections::HashMap::new();
    for n in &names {
        results.insert(n.clone(), selection(&det[n], event)?);
    }
    let (mut plain, mut pats) = (Vec::new(), Vec::new());
    condition::references(&expr, &mut plain, &mut pats);
    if let Some(missing) = plain.iter().find(|n| !results.contains_key(*n)) {
        return Err(SigmaError::Detection(format!(
            "condition names {missing:?}, which is not a selection"
        )));
    }
    let sel = |n: &str| results.get(n).copied().unwrap_or(false);
    Ok(condition::eval(&expr as &Expr, &names, &sel))
}

fn selection(sel: &Value, event: &Value) -> Result<bool, SigmaError> {
    match sel {
        Value::Object(m) => {
            for (k, v) in m {
                if !field_matches(event, k, v)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Value::Array(items) if items.iter().all(Value::is_object) => {
            for i in items {
                if selection(i, event)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Array(words) => {
            let mut leaves = Vec::new();
            string_leaves(event, &mut leaves);
            for w in words {
                let re = glob(&scalar_text(w), Anchor::Contains)?;
                if leaves.iter().any(|l| re.is_match(l)) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        other => Err(SigmaError::Detection(format!(
            "a selection must be a map or a list, not {other}"
        ))),
    }
}

fn string_leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| string_leaves(x, out)),
        Value::Array(a) => a.iter().for_each(|x| string_leaves(x, out)),
        Value::Null => {}
        other => out.push(scalar_text(other)),
    }
}

/// The values at a dotted path (nested objects or dotted keys); array elements count one by
/// one. `None` when absent.
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<Vec<&'a Value>> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(path) {
        return Some(match x {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        });
    }
    for (i, _) in path.match_indices('.') {
        if let Some(inner) = obj.get(&path[..i])
            && let Some(found) = lookup(inner, &path[i + 1..])
        {
            return Some(found);
        }
    }
    None
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Clone, Copy)]
enum Anchor {
    Exact,
    Contains,
    Start,
    End,
}

/// A Sigma wildcard value (`*`, `?`, `\` escapes) as a case-insensitive regex.
fn glob(v: &str, anchor: Anchor) -> Result<regex::Regex, SigmaError> {
    let mut re = String::from("(?is)");
    if matches!(anchor, Anchor::Exact | Anchor::Start) {
        re.push('^');
    }
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                let n = chars.next().unwrap_or('\\');
                re.push_str(&regex::escape(&n.to_string()));
            }
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    if matches!(anchor, Anchor::Exact | Anchor::End) {
        re.push('$');
    }
    regex::Regex::new(&re).map_err(|e| SigmaError::Regex(v.into(), e.to_string()))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn cidr(value: &Value, net: &str) -> bool {
    let Some((addr, len)) = net.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(len), Ok(ip)) = (
        addr.parse::<std::net::IpAddr>(),
        len.parse::<u32>(),
        scalar_text(value).parse::<std::net::IpAddr>(),
    ) else {
        return false;
    };
    let bits = |ip: std::net::IpAddr| -> (u128, u32) {
        match ip {
            std::net::IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            std::net::IpAddr::V6(a) => (u128::from(a), 128),
        }
    };
    let ((n, w), (i, w2)) = (bits(net), bits(ip));
    if w != w2 || len > w {
        return false;
    }
    let shift = w - len;
    shift >= 128 || (n >> shift) == (i >> shift)
}

struct Mods {
    op: Option<&'static str>,
    all: bool,
    flags: String,
}

fn parse_mods(mods: &[&str]) -> Result<Mods, SigmaError> {
    let mut m = Mods {
        op: None,
        all: false,
        flags: String::new(),
    };
    for x in mods {
        let op = match *x {
            "contains" => "contains",
            "startswith" => "startswith",
            "endswith" => "endswith",
            "re" => "re",
            "exists" => "exists",
            "cidr" => "cidr",
            "lt" => "lt",
            "lte" => "lte",
            "gt" => "gt",
            "gte" => "gte",
            "all" => {
                m.all = true;
                continue;
            }
            "i" | "m" | "s" if m.op == Some("re") => {
                m.flags.push_str(x);
                continue;
            }
            other => return Err(SigmaError::Modifier(other.to_string())),
        };
        if m.op.is_some() {
            return Err(SigmaError::Modifier(format!(
                "{x} after {}",
                m.op.unwrap_or("")
            )));
        }
        m.op = Some(op);
    }
    Ok(m)
}

fn one(m: &Mods, got: &Value, want: &Value) -> Result<bool, SigmaError> {
    let w = scalar_text(want);
    Ok(match m.op {
        Some("re") => {
            let pat = if m.flags.is_empty() {
                w.clone()
            } else {
                format!("(?{}){w}", m.flags)
            };
            let re = regex::Regex::new(&pat).map_err(|e| SigmaError::Regex(w, e.to_string()))?;
            re.is_match(&scalar_text(got))
        }
        Some(op @ ("contains" | "startswith" | "endswith")) => {
            let a = match op {
                "contains" => Anchor::Contains,
                "startswith" => Anchor::Start,
                _ => Anchor::End,
            };
            glob(&w, a)?.is_match(&scalar_text(got))
        }
        Some("cidr") => cidr(got, &w),
        Some(op @ ("lt" | "lte" | "gt" | "gte")) => match (number(got), number(want)) {
            (Some(g), Some(x)) => match op {
                "lt" => g < x,
                "lte" => g <= x,
                "gt" => g > x,
                _ => g >= x,
            },
            _ => false,
        },
        _ => match want {
            Value::Number(_) => number(got).zip(number(want)).is_some_and(|(g, x)| g == x),
            Value::Bool(b) => got.as_bool() == Some(*b) || scalar_text(got) == b.to_string(),
            _ => glob(&w, Anchor::Exact)?.is_match(&scalar_text(got)),
        },
    })
}

fn field_matches(event: &Value, key: &str, want: &Value) -> Result<bool, SigmaError> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mods: Vec<&str> = parts.collect();
    let m = parse_mods(&mods)?;
    let got = lookup(event, field);
    if m.op == Some("exists") {
        let Value::Bool(b) = want else {
            return Err(SigmaError::Detection(format!(
                "{key}: exists takes true or false"
            )));
        };
        let present = got.is_some_and(|g| g.iter().any(|v| !v.is_null()));
        return Ok(present == *b);
    }
    let wants: Vec<&Value> = match want {
        Value::Array(a) if a.is_empty() => {
            return Err(SigmaError::Detection(format!("{key}: empty value list")));
        }
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    if m.all && wants.len() < 2 {
        return Err(SigmaError::Detection(format!(
            "{key}: `all` needs a list of two or more"
        )));
    }
    let got: Vec<&Value> = got.unwrap_or_default();
    let mut results = Vec::with_capacity(wants.len());
    for w in wants {
        let hit = if w.is_null() {
            got.iter().all(|g| g.is_null())
        } else {
            let mut any = false;
            for g in &got {
                if !g.is_null() && one(&m, g, w)? {
                    any = true;
                    break;
                }
            }
            any
        };
        results.push(hit);
    }
    Ok(if m.all {
        results.iter().all(|x| *x)
    } else {
        results.iter().any(|x| *x)
    })
}
