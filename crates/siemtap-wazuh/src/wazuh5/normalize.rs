//! An offline stand-in for the engine's decoder path of a siemtap event: `event.original`,
//! `decoder/integrations/0` (`$_tmp_json` = the parsed JSON), the first child decoder of the
//! bundle whose `check` holds, its `normalize` blocks, then the cleanup of `_` fields
//! (engine README "Decoders", "Stages", trace example). It runs exactly the operations
//! siemtap's decoders use and refuses others, so it cannot silently ignore a stage.

use serde_json::{Map, Value, json};

use super::decoders::PARENT;
use super::fields;

/// An operation the applier does not implement (the checker reports the same).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("decoder {decoder}: {message}")]
pub struct NormalizeError {
    /// Decoder name.
    pub decoder: String,
    /// What is unsupported.
    pub message: String,
}

/// `%FT%TZ` (ISO 8601 in UTC, optional fraction) → `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn parse_iso_date(s: &str) -> Option<String> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let d: Vec<&str> = date.split('-').collect();
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, b),
        None => (time, ""),
    };
    let t: Vec<&str> = hms.split(':').collect();
    let num = |x: &str, n: usize| x.len() == n && x.bytes().all(|b| b.is_ascii_digit());
    if d.len() != 3 || !num(d[0], 4) || !num(d[1], 2) || !num(d[2], 2) {
        return None;
    }
    if t.len() != 3 || !t.iter().all(|x| num(x, 2)) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (mo, dd, hh, mi, ss): (u32, u32, u32, u32, u32) = (
        d[1].parse().ok()?,
        d[2].parse().ok()?,
        t[0].parse().ok()?,
        t[1].parse().ok()?,
        t[2].parse().ok()?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&dd) || hh > 23 || mi > 59 || ss > 60 {
        return None;
    }
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    Some(format!("{date}T{hms}.{ms}Z"))
}

/// The value at a dotted path of nested objects.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(v, |cur, k| cur.as_object()?.get(k))
}

/// Sets a dotted path, creating objects.
pub fn set(v: &mut Value, path: &str, value: Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, k) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if i == parts.len() - 1 {
            m.insert((*k).to_string(), value);
            return;
        }
        cur = m.entry((*k).to_string()).or_insert_with(|| json!({}));
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['\'', '"'] {
        if let Some(x) = s.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return x;
        }
    }
    s
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The top-level `check` expression subset: `$field == 'value'` terms joined by `AND`.
fn check_expr(ev: &Value, expr: &str) -> Result<bool, String> {
    for term in expr.split(" AND ") {
        let (l, r) = term
            .split_once("==")
            .ok_or_else(|| format!("check term {term:?} is not `$field == value`"))?;
        let field = l
            .trim()
            .strip_prefix('$')
            .ok_or_else(|| format!("check term {term:?} does not start with a $field"))?;
        if get(ev, field).map(text).as_deref() != Some(unquote(r)) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn helper(s: &str) -> Option<(&str, Vec<&str>)> {
    let open = s.find('(')?;
    let name = &s[..open];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    let args = s[open + 1..].strip_suffix(')')?;
    let args = if args.trim().is_empty() {
        Vec::new()
    } else {
        args.split(',').map(str::trim).collect()
    };
    Some((name, args))
}

fn check_list(ev: &Value, list: &[Value]) -> Result<bool, String> {
    for item in list {
        let (field, want) = item
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
            .ok_or("a checklist entry must be one {field: condition} pair")?;
        let got = get(ev, field);
        let ok = match want.as_str().and_then(helper) {
            Some(("exists", _)) => got.is_some(),
            Some(("int_greater_or_equal", args)) => {
                let n: i64 = args
                    .first()
                    .and_then(|a| a.parse().ok())
                    .ok_or("int_greater_or_equal needs one integer")?;
                got.and_then(Value::as_i64).is_some_and(|g| g >= n)
            }
            Some((other, _)) => return Err(format!("check helper {other}() is not supported")),
            None => match want.as_str().and_then(|s| s.strip_prefix('$')) {
                Some(r) => got.is_some() && got == get(ev, r),
                None => got == Some(want),
            },
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn arg_value(ev: &Value, a: &str) -> Option<Value> {
    match a.strip_prefix('$') {
        Some(r) => get(ev, r).cloned(),
        None => Some(Value::from(unquote(a))),
    }
}

/// One map operation's value, or `None` when the operation fails (target left unchanged).
fn map_value(ev: &Value, target: &str, v: &Value) -> Result<Option<Value>, String> {
    let Value::String(s) = v else {
        return Ok(Some(v.clone()));
    };
    if let Some(r) = s.strip_prefix('$') {
        return Ok(get(ev, r).cloned());
    }
    let Some((name, args)) = helper(s) else {
        return Ok(Some(v.clone()));
    };
    Ok(match name {
        "parse_date" => {
            let src = args.first().and_then(|a| arg_value(ev, a));
            src.as_ref()
                .and_then(Value::as_str)
                .and_then(parse_iso_date)
                .map(Value::from)
        }
        "concat" => {
            let parts: Option<Vec<Value>> = args.iter().map(|a| arg_value(ev, a)).collect();
            parts.map(|p| Value::from(p.iter().map(text).collect::<String>()))
        }
        "array_append" => {
            let mut arr = match get(ev, target) {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            for a in &args {
                match arg_value(ev, a) {
                    Some(x) => arr.push(x),
                    None => return Ok(None),
                }
            }
            Some(Value::Array(arr))
        }
        other => return Err(format!("map helper {other}() is not supported")),
    })
}

fn apply_block(ev: &mut Value, block: &Map<String, Value>) -> Result<(), String> {
    for k in block.keys() {
        if k != "check" && k != "map" {
            return Err(format!("normalize stage {k:?} is not supported"));
        }
    }
    let pass = match block.get("check") {
        None => true,
        Some(Value::Array(l)) => check_list(ev, l)?,
        Some(Value::String(e)) => check_expr(ev, e)?,
        Some(other) => return Err(format!("check {other} is neither a list nor an expression")),
    };
    if !pass {
        return Ok(());
    }
    for op in block
        .get("map")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (target, v) = op
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
            .ok_or("a map entry must be one {field: value} pair")?;
        let Some(value) = map_value(ev, target, v)? else {
            continue;
        };
        let fits = target.starts_with('_')
            || fields::field(target).is_none_or(|f| fields::value_fits(f.kind, &value));
        if fits {
            set(ev, target, value);
        }
    }
    Ok(())
}

/// Normalises one event line through a bundle's decoders. `Ok(None)`: no decoder took it
/// (unclassified, not indexed by default).
pub fn normalize(
    bundle: &Value,
    line: &str,
    location: &str,
) -> Result<Option<Value>, NormalizeError> {
    let mut ev = json!({
        "event": {"original": line},
        "wazuh": {"protocol": {"queue": 49, "location": location}},
    });
    let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(line) else {
        return Ok(None);
    };
    ev["_tmp_json"] = parsed;
    let integ = &bundle["integration"];
    for d in bundle["decoders"].as_array().into_iter().flatten() {
        let name = d["name"].as_str().unwrap_or("?").to_string();
        let err = |message: String| NormalizeError {
            decoder: name.clone(),
            message,
        };
        let parents = d["parents"].as_array().cloned().unwrap_or_default();
        if !parents.iter().any(|p| p == PARENT) || d["enabled"] == false {
            continue;
        }
        let accepted = match &d["check"] {
            Value::Null => true,
            Value::String(e) => check_expr(&ev, e).map_err(err)?,
            Value::Array(l) => check_list(&ev, l).map_err(err)?,
            other => return Err(err(format!("check {other} is not supported"))),
        };
        if !accepted {
            continue;
        }
        for b in d["normalize"].as_array().into_iter().flatten() {
            let b = b
                .as_object()
                .ok_or_else(|| err("a normalize block must be an object".into()))?;
            apply_block(&mut ev, b).map_err(err)?;
        }
        set(
            &mut ev,
            "wazuh.integration.name",
            integ["metadata"]["title"].clone(),
        );
        set(
            &mut ev,
            "wazuh.integration.category",
            integ["category"].clone(),
        );
        set(
            &mut ev,
            "wazuh.integration.decoders",
            json!(["decoder/core-wazuh-message/0", PARENT, name]),
        );
        if let Value::Object(m) = &mut ev {
            m.retain(|k, _| !k.starts_with('_'));
        }
        return Ok(Some(ev));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_iso_date("2026-11-22T06:12:35.916405837Z").as_deref(),
            Some("2026-11-22T06:12:35.916Z")
        );
        assert_eq!(
            parse_iso_date("2026-04-01T00:00:00Z").as_deref(),
            Some("2026-04-01T00:00:00.000Z")
        );
        assert_eq!(parse_iso_date("2026-04-01 00:00:00"), None);
        assert_eq!(parse_iso_date("2026-13-01T00:00:00Z"), None);
    }
}
