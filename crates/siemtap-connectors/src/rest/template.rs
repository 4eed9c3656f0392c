//! `{placeholder}` templates of connector files: parsing, checking where a placeholder may be
//! used, and rendering into strings or typed JSON values.
//!
//! Syntax: text with `{name}`, `{scope.name}` or `{scope.name:format}` placeholders; `{{` and
//! `}}` are literal braces. Scopes: `var.NAME`, `secret.NAME`, `window.start|end`, `cursor`,
//! `page.token|offset|number|limit`, and inside signature recipes `nonce`, `timestamp_ms`,
//! `timestamp_s`, `signature`, `method`, `path`, `query`, `body`, `secret`.

use std::fmt;

use serde_json::Value;

/// Time formats a window bound or timestamp cursor can be rendered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// `2026-03-01T00:00:00Z`
    Rfc3339,
    /// `2026-03-01T00:00:00.000Z`
    Rfc3339Ms,
    /// Epoch seconds (a JSON number in bodies).
    EpochS,
    /// Epoch milliseconds (a JSON number in bodies).
    EpochMs,
}

impl TimeFormat {
    /// Parses a `:format` suffix.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "rfc3339" => Self::Rfc3339,
            "rfc3339_ms" => Self::Rfc3339Ms,
            "epoch_s" => Self::EpochS,
            "epoch_ms" => Self::EpochMs,
            _ => return None,
        })
    }

    /// Renders `ts`: a string or, for epoch formats, a number.
    pub fn render(self, ts: jiff::Timestamp) -> Value {
        match self {
            Self::Rfc3339 => Value::String(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
            Self::Rfc3339Ms => Value::String(ts.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string()),
            Self::EpochS => Value::from(ts.as_second()),
            Self::EpochMs => Value::from(ts.as_millisecond()),
        }
    }
}

/// One `{...}` placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// `var`, `secret`, `window`, `page`, or `""` for single names (`cursor`, `nonce`...).
    pub scope: String,
    /// The name after the scope (`base_url`, `start`, `token`), or the single name.
    pub name: String,
    /// The `:format` suffix, if any.
    pub format: Option<String>,
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        if !self.scope.is_empty() {
            write!(f, "{}.", self.scope)?;
        }
        f.write_str(&self.name)?;
        if let Some(fmt) = &self.format {
            write!(f, ":{fmt}")?;
        }
        f.write_str("}")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Slot(Placeholder),
}

/// A parsed template string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    raw: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `raw`; the error says what is wrong and how to write it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => {
                    return Err(format!(
                        "unmatched `}}` at character {i}; write `}}}}` for a literal brace"
                    ));
                }
                '{' => {
                    let rest = &raw[i + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!(
                            "unclosed `{{` at character {i}; close the placeholder with `}}` or write `{{{{` for a literal brace"
                        ));
                    };
                    let inner = &rest[..end];
                    for _ in 0..inner.chars().count() + 1 {
                        chars.next();
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Slot(parse_placeholder(inner)?));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self {
            raw: raw.to_owned(),
            parts,
        })
    }

    /// The text as written in the file.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Every placeholder, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.parts.iter().filter_map(|p| match p {
            Part::Slot(s) => Some(s),
            Part::Text(_) => None,
        })
    }

    /// Whether the template is exactly one placeholder (then a JSON body keeps its type).
    pub fn single(&self) -> Option<&Placeholder> {
        match self.parts.as_slice() {
            [Part::Slot(s)] => Some(s),
            _ => None,
        }
    }

    /// Renders to a string; `resolve` gives each placeholder's value.
    pub fn render<E>(
        &self,
        resolve: &mut impl FnMut(&Placeholder) -> Result<Value, E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Slot(p) => match resolve(p)? {
                    Value::String(s) => out.push_str(&s),
                    Value::Null => {}
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(out)
    }

    /// Renders to a string; `insert` gets the text rendered so far and a placeholder, and
    /// returns the text to put there (URL templates encode a value by where it lands).
    pub fn render_encoded<E>(
        &self,
        insert: &mut impl FnMut(&str, &Placeholder) -> Result<String, E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Slot(p) => {
                    let text = insert(&out, p)?;
                    out.push_str(&text);
                }
            }
        }
        Ok(out)
    }

    /// Renders to a JSON value: a lone placeholder keeps its type (numbers stay numbers).
    pub fn render_value<E>(
        &self,
        resolve: &mut impl FnMut(&Placeholder) -> Result<Value, E>,
    ) -> Result<Value, E> {
        match self.single() {
            Some(p) => resolve(p),
            None => self.render(resolve).map(Value::String),
        }
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_placeholder(inner: &str) -> Result<Placeholder, String> {
    let (path, format) = match inner.split_once(':') {
        Some((p, f)) => (p.trim(), Some(f.trim().to_owned())),
        None => (inner.trim(), None),
    };
    let (scope, name) = match path.split_once('.') {
        Some((s, n)) => (s, n),
        None => ("", path),
    };
    if !is_ident(name) || !(scope.is_empty() || is_ident(scope)) {
        return Err(format!(
            "`{{{inner}}}` is not a placeholder; write `{{var.NAME}}`, `{{window.start:epoch_ms}}`, `{{page.token}}`... or `{{{{` for a literal brace"
        ));
    }
    Ok(Placeholder {
        scope: scope.to_owned(),
        name: name.to_owned(),
        format,
    })
}

/// Templates (de)serialise as their text.
impl<'de> serde::Deserialize<'de> for Template {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Template::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Template {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Template".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Text with {placeholders}: {var.NAME}, {secret.NAME}, {window.start[:rfc3339|rfc3339_ms|epoch_s|epoch_ms]}, {window.end[:...]}, {cursor[:...]}, {page.token}, {page.offset}, {page.number}, {page.limit}; `{{` and `}}` are literal braces."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str, f: impl Fn(&Placeholder) -> Value) -> String {
        Template::parse(t)
            .unwrap()
            .render(&mut |p| Ok::<_, ()>(f(p)))
            .unwrap()
    }

    #[test]
    fn parses_scopes_formats_and_escapes() {
        let t = Template::parse("{{x}} {var.base_url}/a?{window.start:epoch_ms}{cursor}").unwrap();
        let ps: Vec<String> = t.placeholders().map(ToString::to_string).collect();
        assert_eq!(
            ps,
            ["{var.base_url}", "{window.start:epoch_ms}", "{cursor}"]
        );
        let got = render("{{x}} {var.a}-{page.limit}", |p| match p.name.as_str() {
            "a" => Value::from("A"),
            _ => Value::from(7),
        });
        assert_eq!(got, "{x} A-7");
    }

    #[test]
    fn single_placeholder_keeps_type() {
        let t = Template::parse("{page.limit}").unwrap();
        let v = t
            .render_value(&mut |_| Ok::<_, ()>(Value::from(100)))
            .unwrap();
        assert_eq!(v, Value::from(100));
        let t = Template::parse("n={page.limit}").unwrap();
        let v = t
            .render_value(&mut |_| Ok::<_, ()>(Value::from(100)))
            .unwrap();
        assert_eq!(v, Value::from("n=100"));
    }

    #[test]
    fn bad_templates_say_how_to_fix() {
        for (bad, want) in [
            ("{var.x", "unclosed"),
            ("a}", "unmatched"),
            ("{}", "not a placeholder"),
            ("{a b}", "not a placeholder"),
        ] {
            let err = Template::parse(bad).unwrap_err();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }

    #[test]
    fn time_formats() {
        let ts: jiff::Timestamp = "2026-03-01T00:00:01.5Z".parse().unwrap();
        assert_eq!(TimeFormat::Rfc3339.render(ts), "2026-03-01T00:00:01Z");
        assert_eq!(TimeFormat::Rfc3339Ms.render(ts), "2026-03-01T00:00:01.500Z");
        assert_eq!(TimeFormat::EpochS.render(ts), 1_772_323_201);
        assert_eq!(TimeFormat::EpochMs.render(ts), 1_772_323_201_500i64);
    }
}
