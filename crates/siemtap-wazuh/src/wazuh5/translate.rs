//! One 4.x `<field>` condition → Sigma selection entries on WCS fields, through the
//! profile's field map (docs/wazuh5.md "How a 4.x rule becomes a Sigma rule").

use serde_json::Value;

use super::profile::{Cond, Profile, Src};
use crate::model::FieldCond;

/// What a 4.x pcre2 pattern as siemtap generates it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pat {
    /// `^\Qa\E$` or `^(?:\Qa\E|\Qb\E)$`: one of these values.
    Exact(Vec<String>, bool),
    /// `\Qa\E` unanchored: contains.
    Contains(String, bool),
    /// Any other regex (without a leading `(?i)`), and whether it had one.
    Regex(String, bool),
}

fn quoted(s: &str) -> Option<String> {
    let inner = s.strip_prefix("\\Q")?.strip_suffix("\\E")?;
    (!inner.contains("\\E")).then(|| inner.to_string())
}

/// Classifies a pattern text.
pub fn classify(text: &str) -> Pat {
    let (ci, t) = match text.strip_prefix("(?i)") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if let Some(inner) = t.strip_prefix('^').and_then(|x| x.strip_suffix('$')) {
        if let Some(v) = quoted(inner) {
            return Pat::Exact(vec![v], ci);
        }
        if let Some(alts) = inner.strip_prefix("(?:").and_then(|x| x.strip_suffix(')')) {
            let vals: Option<Vec<String>> = alts.split('|').map(quoted).collect();
            if let Some(vals) = vals {
                return Pat::Exact(vals, ci);
            }
        }
    }
    if let Some(v) = quoted(t) {
        return Pat::Contains(v, ci);
    }
    Pat::Regex(t.to_string(), ci)
}

fn one_or_list(vals: Vec<Value>) -> Value {
    if vals.len() == 1 {
        vals.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(vals)
    }
}

/// The WCS field a vendor field is first copied into for an event type (blocks of that type
/// or of every type; `None` type: any block).
pub fn home(p: &Profile, event_type: Option<&str>, field: &str) -> Option<String> {
    for b in &p.blocks {
        let bt = p.block_type(b);
        if let (Some(t), Some(want)) = (bt.as_deref(), event_type)
            && t != want
        {
            continue;
        }
        if let Some(m) = b.map.iter().find(|m| m.src == Src::Ref(field.to_string())) {
            return Some(m.field.clone());
        }
    }
    None
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The single literal a value block writes: (field, value).
fn block_output(m: &[super::profile::MapOp]) -> Option<(String, Value)> {
    match m {
        [one] => match &one.src {
            Src::Const(v) => Some((one.field.clone(), v.clone())),
            Src::Append(w) if w.len() == 1 => Some((one.field.clone(), Value::from(w[0].clone()))),
            _ => None,
        },
        _ => None,
    }
}

/// Exact vendor values translated through value blocks (`check: field == v` → one literal).
fn via_values(p: &Profile, field: &str, vals: &[String], ci: bool) -> Option<(String, Value)> {
    let mut target: Option<String> = None;
    let mut out = Vec::new();
    for want in vals {
        let hit = p.blocks.iter().find_map(|b| {
            let eq = b.check.iter().any(|c| match c {
                Cond::Eq(f, v) if f == field => {
                    let t = value_text(v);
                    if ci {
                        t.eq_ignore_ascii_case(want)
                    } else {
                        t == *want
                    }
                }
                _ => false,
            });
            if eq { block_output(&b.map) } else { None }
        })?;
        if target.as_ref().is_some_and(|t| *t != hit.0) {
            return None;
        }
        target = Some(hit.0);
        out.push(hit.1);
    }
    Some((target?, one_or_list(out)))
}

fn via_threshold(p: &Profile, field: &str, regex: &str) -> Option<(String, Value)> {
    let digits: usize = regex
        .strip_prefix("^\\d{")?
        .strip_suffix(",}$")?
        .parse()
        .ok()?;
    let n = 10_i64.checked_pow(u32::try_from(digits.checked_sub(1)?).ok()?)?;
    p.blocks.iter().find_map(|b| {
        b.check
            .iter()
            .any(|c| matches!(c, Cond::Gte(f, m) if f == field && *m == n))
            .then(|| block_output(&b.map))
            .flatten()
    })
}

/// Translates one condition of a rule whose event type is `event_type`.
pub fn condition(
    p: &Profile,
    event_type: Option<&str>,
    cond: &FieldCond,
) -> Result<(String, Value), String> {
    let pat = classify(&cond.pattern.text);
    if cond.pattern.negate {
        return Err(format!("negated condition on {}", cond.name));
    }
    if cond.name == "integration" {
        return match pat {
            Pat::Exact(v, _) if v == [p.integration.clone()] => Ok((
                "wazuh.integration.name".into(),
                Value::from(p.integration.clone()),
            )),
            _ => Err(format!("integration condition {:?}", cond.pattern.text)),
        };
    }
    if cond.name == p.disc_field() {
        return match pat {
            Pat::Exact(v, _) => Ok((
                "event.dataset".into(),
                one_or_list(v.iter().map(|t| Value::from(p.dataset(t))).collect()),
            )),
            Pat::Regex(r, _) if r == "\\S" || r == "\\w" => Ok((
                "event.dataset|startswith".into(),
                Value::from(format!("{}.", p.integration)),
            )),
            _ => Err(format!("event type pattern {:?}", cond.pattern.text)),
        };
    }
    if let Some(wcs) = home(p, event_type, &cond.name) {
        return Ok(match pat {
            Pat::Exact(v, _) => (wcs, one_or_list(v.into_iter().map(Value::from).collect())),
            Pat::Contains(v, _) => (format!("{wcs}|contains"), Value::from(v)),
            Pat::Regex(r, ci) => (
                format!("{wcs}|re{}", if ci { "|i" } else { "" }),
                Value::from(r),
            ),
        });
    }
    let hit = match &pat {
        Pat::Exact(v, ci) => via_values(p, &cond.name, v, *ci),
        Pat::Regex(r, _) => via_threshold(p, &cond.name, r),
        Pat::Contains(..) => None,
    };
    hit.ok_or_else(|| {
        format!(
            "field {} ({}) has no WCS home in the 5.x map of {}",
            cond.name, cond.pattern.text, p.integration
        )
    })
}

/// `$(vendor.field)` placeholders of a 4.x description → `{{ wcs.field }}` where the field
/// has a home, else `?`.
pub fn placeholders(p: &Profile, event_type: Option<&str>, desc: &str) -> String {
    let mut out = String::new();
    let mut rest = desc;
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find(')') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let f = &after[..j];
        match home(p, event_type, f) {
            Some(w) => out.push_str(&format!("{{{{ {w} }}}}")),
            None if f == p.disc_field() => out.push_str("{{ event.dataset }}"),
            None => out.push('?'),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_generated_patterns() {
        assert_eq!(classify("^\\Qa\\E$"), Pat::Exact(vec!["a".into()], false));
        assert_eq!(
            classify("(?i)^(?:\\Qa\\E|\\Qb-c\\E)$"),
            Pat::Exact(vec!["a".into(), "b-c".into()], true)
        );
        assert_eq!(
            classify("(?i)\\QImpact\\E"),
            Pat::Contains("Impact".into(), true)
        );
        assert_eq!(classify("\\S"), Pat::Regex("\\S".into(), false));
        assert_eq!(classify("^\\d{2,}$"), Pat::Regex("^\\d{2,}$".into(), false));
    }
}
