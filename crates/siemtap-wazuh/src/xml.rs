//! A small XML tree with line numbers, read with quick-xml. Wazuh rule and decoder files
//! have several top-level elements and no single root, which this reader accepts.

use quick_xml::Reader;
use quick_xml::events::Event;

/// An element.
#[derive(Clone, Debug, Default)]
pub struct Element {
    /// Tag name.
    pub name: String,
    /// Attributes in order, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Text content (unescaped, concatenated, trimmed).
    pub text: String,
    /// Child elements.
    pub children: Vec<Element>,
    /// 1-based line of the start tag.
    pub line: usize,
}

impl Element {
    /// An attribute value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parse failure with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn line_of(text: &str, offset: u64) -> usize {
    let end = (offset as usize).min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// Parses a document into its top-level elements.
pub fn parse(text: &str) -> Result<Vec<Element>, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut top: Vec<Element> = Vec::new();
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| XmlError {
            line: line_of(text, reader.error_position()),
            message: format!("malformed XML: {e}"),
        })?;
        // The event starts after leading whitespace; count lines up to its first
        // non-blank byte.
        let skip = text[(pos as usize).min(text.len())..]
            .bytes()
            .take_while(u8::is_ascii_whitespace)
            .count() as u64;
        let line = line_of(text, pos + skip);
        match event {
            Event::Start(e) => {
                stack.push(start_element(&e, line)?);
            }
            Event::Empty(e) => {
                let el = start_element(&e, line)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => top.push(el),
                }
            }
            Event::End(_) => {
                let Some(mut el) = stack.pop() else {
                    return Err(XmlError {
                        line,
                        message: "closing tag without an opening tag".into(),
                    });
                };
                el.text = el.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => top.push(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                } else if !t.trim().is_empty() {
                    return Err(XmlError {
                        line,
                        message: format!("text outside any element: {:?}", t.trim()),
                    });
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => entity(&r),
                    Err(_) => None,
                };
                let Some(c) = c else {
                    return Err(XmlError {
                        line,
                        message: format!("unknown XML entity &{};", &*r),
                    });
                };
                if let Some(el) = stack.last_mut() {
                    el.text.push(c);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            line: open.line,
            message: format!("<{}> is never closed", open.name),
        });
    }
    Ok(top)
}

fn start_element(e: &quick_xml::events::BytesStart<'_>, line: usize) -> Result<Element, XmlError> {
    let mut el = Element {
        name: e.name().as_ref().to_string(),
        line,
        ..Element::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|err| XmlError {
            line,
            message: format!("bad attribute on <{}>: {err}", el.name),
        })?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| XmlError {
                line,
                message: format!("bad attribute value on <{}>: {err}", el.name),
            })?;
        el.attrs
            .push((a.key.as_ref().to_string(), value.into_owned()));
    }
    Ok(el)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_roots_lines_entities() {
        let doc = "<!-- c -->\n<group name=\"a,\">\n  <rule id=\"1\" level=\"0\">\n    <match>a &amp; &lt;b&gt;</match>\n  </rule>\n</group>\n<group name=\"b,\"/>\n";
        let top = parse(doc).unwrap();
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].line, 2);
        let rule = &top[0].children[0];
        assert_eq!(rule.line, 3);
        assert_eq!(rule.children[0].text, "a & <b>");
        assert_eq!(rule.children[0].line, 4);
        assert_eq!(top[1].line, 7);
    }

    #[test]
    fn mismatched_tags_name_the_line() {
        let err = parse("<group name=\"a\">\n<rule>\n</group>\n").unwrap_err();
        assert_eq!(err.line, 3, "{err:?}");
        let err = parse("<group name=\"a\">\n<rule>\n").unwrap_err();
        assert!(err.message.contains("never closed"), "{err:?}");
    }
}
