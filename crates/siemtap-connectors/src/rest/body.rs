//! JSON request bodies with templates in their strings.

use serde_json::{Map, Value};

use super::load::Seg;
use super::template::{Placeholder, Template};

/// A JSON value whose strings are templates.
#[derive(Clone, Debug)]
pub(crate) enum BodyTemplate {
    /// A non-string scalar, copied as is.
    Literal(Value),
    /// A string template (a lone placeholder keeps the value's type).
    Text(Template),
    /// An array.
    Array(Vec<BodyTemplate>),
    /// An object, in file order.
    Object(Vec<(String, BodyTemplate)>),
}

impl BodyTemplate {
    /// Compiles `value`; the error carries the path inside the body.
    pub(crate) fn compile(value: &Value) -> Result<Self, (Vec<Seg>, String)> {
        Ok(match value {
            Value::String(s) => Self::Text(Template::parse(s).map_err(|e| (Vec::new(), e))?),
            Value::Array(items) => Self::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        Self::compile(v).map_err(|(mut p, e)| {
                            p.insert(0, Seg::Index(i));
                            (p, e)
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Self::Object(
                map.iter()
                    .map(|(k, v)| {
                        Self::compile(v)
                            .map(|b| (k.clone(), b))
                            .map_err(|(mut p, e)| {
                                p.insert(0, Seg::Key(k.clone()));
                                (p, e)
                            })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => Self::Literal(other.clone()),
        })
    }

    /// Calls `f` with each template and its path.
    pub(crate) fn walk(&self, path: &mut Vec<Seg>, f: &mut impl FnMut(&[Seg], &Template)) {
        match self {
            Self::Literal(_) => {}
            Self::Text(t) => f(path, t),
            Self::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    item.walk(path, f);
                    path.pop();
                }
            }
            Self::Object(members) => {
                for (k, v) in members {
                    path.push(Seg::Key(k.clone()));
                    v.walk(path, f);
                    path.pop();
                }
            }
        }
    }

    /// Renders the body.
    pub(crate) fn render<E>(
        &self,
        resolve: &mut impl FnMut(&Placeholder) -> Result<Value, E>,
    ) -> Result<Value, E> {
        Ok(match self {
            Self::Literal(v) => v.clone(),
            Self::Text(t) => t.render_value(resolve)?,
            Self::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(resolve))
                    .collect::<Result<_, _>>()?,
            ),
            Self::Object(members) => {
                let mut map = Map::new();
                for (k, v) in members {
                    map.insert(k.clone(), v.render(resolve)?);
                }
                Value::Object(map)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_typed_values_in_order() {
        let v: Value =
            serde_json::from_str(r#"{"z":"{page.limit}","a":"t={page.limit}","n":[1,true]}"#)
                .unwrap();
        let b = BodyTemplate::compile(&v).unwrap();
        let got = b.render(&mut |_| Ok::<_, ()>(Value::from(5))).unwrap();
        assert_eq!(got.to_string(), r#"{"z":5,"a":"t=5","n":[1,true]}"#);
    }

    #[test]
    fn compile_error_has_path() {
        let v: Value = serde_json::from_str(r#"{"a":{"b":["ok","{oops"]}}"#).unwrap();
        let (path, _) = BodyTemplate::compile(&v).unwrap_err();
        assert_eq!(
            path,
            vec![Seg::Key("a".into()), Seg::Key("b".into()), Seg::Index(1)]
        );
    }
}
