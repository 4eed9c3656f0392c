//! Reading a connector file: TOML → [`ConnectorFile`] → checks, with every error pointing at
//! `FILE:LINE:COL` and the key to fix.

use std::fmt;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::body::BodyTemplate;
use super::check::{Ctx, check, check_body, compile_body};
use super::spec::ConnectorFile;

/// A connector file that failed to load. `Display`:
/// `FILE:LINE:COL: `key.path`: what is wrong; how to fix`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}:{column}: `{key}`: {message}")]
pub struct SpecError {
    /// The file (or the origin given to `load_str`).
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// The key to fix, e.g. `streams[0].pagination.token` (`<document>` for the whole file).
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A key path, e.g. `streams[0].request.url`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub(crate) fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A syntax error on a line with no key before `=` yields an empty key: name the
        // enclosing table (or the document) instead of printing ``.
        let segs: Vec<&Seg> = self
            .0
            .iter()
            .filter(|s| !matches!(s, Seg::Key(k) if k.is_empty()))
            .collect();
        if segs.is_empty() {
            return f.write_str("<document>");
        }
        for (i, seg) in segs.into_iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

pub(crate) fn p(root: &[&str]) -> KeyPath {
    KeyPath(root.iter().map(|k| Seg::Key((*k).to_owned())).collect())
}

/// A loaded, checked connector file.
pub(crate) struct Loaded {
    pub file: ConnectorFile,
    /// Per stream: compiled first-request body and next-request body.
    pub bodies: Vec<(Option<BodyTemplate>, Option<BodyTemplate>)>,
}

/// Reads and checks a file.
pub(crate) fn load_file(path: &Path) -> Result<(Loaded, String), SpecError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SpecError {
        origin: origin.clone(),
        line: 1,
        column: 1,
        key: "<document>".into(),
        message: format!(
            "cannot read the connector file ({e}); check the path and its permissions"
        ),
    })?;
    load_str(&text, &origin).map(|l| (l, origin))
}

/// Parses and checks `text`.
pub(crate) fn load_str(text: &str, origin: &str) -> Result<Loaded, SpecError> {
    let locate = Locator { text, origin };
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let start = e.span().map_or(0, |s| s.start);
            let (partial, _) = DeTable::parse_recoverable(text);
            let key = path_at(partial.get_ref(), start);
            return Err(locate.error(start, &key, trim_message(e.message())));
        }
    };
    let file: ConnectorFile = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let start = span.start;
            let message = trim_message(e.message());
            let mut key = if message.contains("missing field `") {
                table_at(doc.get_ref(), span)
            } else {
                path_at(doc.get_ref(), start)
            };
            let mut at = start;
            if let Some(field) = quoted_after(&message, "unknown field `") {
                // Serde reports the enclosing table for buffered (tagged) tables: point at
                // the key itself.
                if !matches!(key.0.last(), Some(Seg::Key(k)) if *k == field) {
                    if let Some(span) = span_of(doc.get_ref(), &key.key(&field), true) {
                        key = key.key(&field);
                        at = span;
                    } else if let Some((path, span)) = first_key_after(doc.get_ref(), &field, start)
                    {
                        key = path;
                        at = span;
                    }
                }
            } else if let Some(field) = quoted_after(&message, "missing field `") {
                key = key.key(&field);
            }
            return Err(locate.error(at, &key, message));
        }
    };
    let mut problems = Vec::new();
    check(&file, &mut problems);
    let mut bodies = Vec::new();
    for (i, s) in file.streams.iter().enumerate() {
        let base = p(&["streams"]).index(i);
        let kind = s.pagination.kind;
        let first_key = base.key("request").key("body");
        let first = compile_body(&s.request.body, &first_key, &mut problems);
        check_body(
            &file,
            first.as_ref(),
            Ctx::Request(kind),
            &first_key,
            &mut problems,
        );
        let next_key = base.key("next_request").key("body");
        let next = compile_body(
            &s.next_request.as_ref().and_then(|n| n.body.clone()),
            &next_key,
            &mut problems,
        );
        check_body(
            &file,
            next.as_ref(),
            Ctx::Next(kind),
            &next_key,
            &mut problems,
        );
        bodies.push((first, next));
    }
    if let Some((key, message)) = problems.into_iter().next() {
        let at = span_of(doc.get_ref(), &key, false).unwrap_or(0);
        return Err(locate.error(at, &key, message));
    }
    Ok(Loaded { file, bodies })
}

struct Locator<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Locator<'_> {
    fn error(&self, offset: usize, key: &KeyPath, message: String) -> SpecError {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        SpecError {
            origin: self.origin.to_owned(),
            line,
            column,
            key: key.to_string(),
            message,
        }
    }
}

fn trim_message(m: &str) -> String {
    m.trim().replace('\n', " ")
}

fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('`')?].to_owned())
}

/// The deepest key whose key span or (scalar) value span contains `offset`; with `exact`,
/// the deepest table or array whose span is exactly that range.
fn path_at(table: &DeTable<'_>, offset: usize) -> KeyPath {
    let mut best = KeyPath::default();
    dfs_table(
        table,
        &mut KeyPath::default(),
        &mut |path, key, value, container| {
            let hit = key.contains(&offset)
                || (!container && (value.contains(&offset) || value.end == offset));
            if hit && path.0.len() >= best.0.len() {
                best = path.clone();
            }
        },
    );
    best
}

/// The deepest table or array whose value span is exactly `span` (serde reports a missing
/// field at the table that lacks it).
fn table_at(table: &DeTable<'_>, span: std::ops::Range<usize>) -> KeyPath {
    let mut best = KeyPath::default();
    dfs_table(
        table,
        &mut KeyPath::default(),
        &mut |path, _, value, container| {
            if container && value == span && path.0.len() >= best.0.len() {
                best = path.clone();
            }
        },
    );
    best
}

/// The first key named `name` at or after `offset` (for errors serde reports at the table).
fn first_key_after(table: &DeTable<'_>, name: &str, offset: usize) -> Option<(KeyPath, usize)> {
    let mut best: Option<(KeyPath, usize)> = None;
    dfs_table(table, &mut KeyPath::default(), &mut |path, key, _, _| {
        let named = matches!(path.0.last(), Some(Seg::Key(k)) if k == name);
        if named && key.start >= offset && best.as_ref().is_none_or(|(_, at)| key.start < *at) {
            best = Some((path.clone(), key.start));
        }
    });
    best
}

type Visit<'v> = dyn FnMut(&KeyPath, std::ops::Range<usize>, std::ops::Range<usize>, bool) + 'v;

fn dfs_table(table: &DeTable<'_>, path: &mut KeyPath, visit: &mut Visit<'_>) {
    for (k, v) in table {
        path.0.push(Seg::Key(k.get_ref().to_string()));
        dfs_value(v.get_ref(), k.span(), v.span(), path, visit);
        path.0.pop();
    }
}

fn dfs_value(
    v: &DeValue<'_>,
    key: std::ops::Range<usize>,
    span: std::ops::Range<usize>,
    path: &mut KeyPath,
    visit: &mut Visit<'_>,
) {
    match v {
        DeValue::Table(t) => {
            visit(path, key, span, true);
            dfs_table(t, path, visit);
        }
        DeValue::Array(a) => {
            visit(path, key, span, true);
            for (i, item) in a.iter().enumerate() {
                path.0.push(Seg::Index(i));
                dfs_value(item.get_ref(), 0..0, item.span(), path, visit);
                path.0.pop();
            }
        }
        _ => visit(path, key, span, false),
    }
}

/// The span start of the value at `path` (or of its key when `key_span`); the nearest existing
/// parent when the path does not exist.
fn span_of(table: &DeTable<'_>, path: &KeyPath, key_span: bool) -> Option<usize> {
    let mut best = None;
    let mut current: Option<&DeValue<'_>> = None;
    let mut table = Some(table);
    for (i, seg) in path.0.iter().enumerate() {
        let last = i + 1 == path.0.len();
        match seg {
            Seg::Key(k) => {
                let Some(t) = table.or_else(|| current.and_then(|c| c.as_table())) else {
                    return best;
                };
                let Some((key, value)) = t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                else {
                    return best;
                };
                best = Some(if last && key_span {
                    key.span().start
                } else {
                    value.span().start
                });
                if key_span && last {
                    return best;
                }
                // Tables made by `[a.b]` headers may carry no span of their own: use the key.
                best = Some(if key.span().is_empty() {
                    value.span().start
                } else {
                    key.span().start
                });
                current = Some(value.get_ref());
            }
            Seg::Index(n) => {
                let Some(item) = current.and_then(|c| c.as_array()).and_then(|a| a.get(*n)) else {
                    return best;
                };
                if !item.span().is_empty() {
                    best = Some(item.span().start);
                }
                current = Some(item.get_ref());
            }
        }
        table = None;
    }
    best
}
