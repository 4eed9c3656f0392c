//! The secrets-file format: `KEY=VALUE` lines.

use crate::Secret;

/// Parse secrets-file text into `(key, value)` pairs.
///
/// Rules, line by line (LF, CRLF or lone CR endings, so a classic-Mac file does not turn into one line whose
/// value swallows the rest; a UTF-8 byte-order mark at the start is ignored):
/// - blank lines, lines whose first non-blank character is `#`, and lines without `=` are ignored;
/// - the line is split on the **first** `=`, so values may contain `=`; key and value are trimmed;
/// - an optional leading `export ` before the key is accepted (`export KEY=VALUE`, as in shell env files);
/// - a line with an empty key is ignored;
/// - **one** pair of *matching* surrounding quotes is stripped (`'...'` or `"..."`); text inside the quotes is
///   kept verbatim, including whitespace. An unmatched quote (`"abc`, `abc'`, `"abc'`) is kept as written;
/// - there is no shell expansion, escape processing or inline-comment stripping: `$HOME`, `\n` and `a # b`
///   are literal text;
/// - when a key appears more than once, the **later** value overrides the earlier one. The result holds each
///   key once, at the position of its first occurrence.
///
/// Empty values are returned as they are; the credential chain treats an empty or whitespace-only value as
/// absent.
pub fn parse_secrets(text: &str) -> Vec<(String, Secret)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(String, Secret)> = Vec::new();
    for line in text.split(['\n', '\r']) {
        let Some((key, value)) = parse_line(line) else {
            continue;
        };
        let value = Secret::new(value);
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_owned(), value)),
        }
    }
    out
}

/// One line -> `(key, value)` borrowed from the line, or `None` if the line is ignored.
fn parse_line(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let (key, value) = trimmed.split_once('=')?;
    let key = strip_export(key.trim());
    if key.is_empty() {
        return None;
    }
    Some((key, strip_matching_quotes(value.trim())))
}

/// `export KEY` -> `KEY`. A key that is just `export` (line `export=1`) is left alone.
fn strip_export(key: &str) -> &str {
    match key.strip_prefix("export") {
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim_start(),
        _ => key,
    }
}

/// Strip one pair of matching surrounding `'` or `"` quotes; anything else is returned unchanged.
fn strip_matching_quotes(value: &str) -> &str {
    if value.len() >= 2 {
        for quote in ['"', '\''] {
            if let Some(inner) = value
                .strip_prefix(quote)
                .and_then(|v| v.strip_suffix(quote))
            {
                return inner;
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::parse_secrets;

    /// Parse and expose everything, for assertions.
    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_secrets(text)
            .into_iter()
            // expose: test compares parsed values
            .map(|(k, v)| (k, v.expose().to_owned()))
            .collect()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn comments_blank_and_lines_without_equals_are_ignored() {
        let text = "# comment\n\n   \n  # indented comment = with equals\nNOEQUALS\nA=1\n=orphan\n";
        assert_eq!(pairs(text), vec![p("A", "1")]);
    }

    #[test]
    fn splits_on_first_equals_and_trims() {
        let text = "  TOKEN  =  abc=def==  \nURL=https://h/x?a=b&c=d\n";
        assert_eq!(
            pairs(text),
            vec![p("TOKEN", "abc=def=="), p("URL", "https://h/x?a=b&c=d")]
        );
    }

    #[test]
    fn matching_quotes_are_stripped_once_unmatched_kept() {
        let text = concat!(
            "D=\"double\"\n",
            "S='single'\n",
            "INNER=\"  keep spaces  \"\n",
            "TWICE=\"\"x\"\"\n",
            "NESTED='\"x\"'\n",
            "OPEN=\"abc\n",
            "CLOSE=abc'\n",
            "MIXED=\"abc'\n",
            "LONE=\"\n",
            "EMPTYQ=\"\"\n",
        );
        assert_eq!(
            pairs(text),
            vec![
                p("D", "double"),
                p("S", "single"),
                p("INNER", "  keep spaces  "),
                p("TWICE", "\"x\""),
                p("NESTED", "\"x\""),
                p("OPEN", "\"abc"),
                p("CLOSE", "abc'"),
                p("MIXED", "\"abc'"),
                p("LONE", "\""),
                p("EMPTYQ", ""),
            ]
        );
    }

    #[test]
    fn no_shell_expansion_or_inline_comments() {
        let text = "A=$HOME/x\nB=a # not a comment\nC=\\n\n";
        assert_eq!(
            pairs(text),
            vec![
                p("A", "$HOME/x"),
                p("B", "a # not a comment"),
                p("C", "\\n")
            ]
        );
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}A=1\r\nB=\"two\"\r\n# c\r\nC=3";
        assert_eq!(pairs(text), vec![p("A", "1"), p("B", "two"), p("C", "3")]);
    }

    #[test]
    fn lone_cr_ends_a_line() {
        // Found by the `secrets_file` fuzz target: a CR-only file was one line.
        let text = "A=1\rB=two\r\rC\r=x\rD=\"q\"\r";
        assert_eq!(pairs(text), vec![p("A", "1"), p("B", "two"), p("D", "q")]);
    }

    #[test]
    fn later_duplicate_overrides_earlier() {
        let text = "A=first\nB=b\nA=second\n";
        assert_eq!(pairs(text), vec![p("A", "second"), p("B", "b")]);
    }

    #[test]
    fn export_prefix_accepted() {
        let text = "export A=1\nexport\tB = 2\nexport=3\nexporter=4\n";
        assert_eq!(
            pairs(text),
            vec![
                p("A", "1"),
                p("B", "2"),
                p("export", "3"),
                p("exporter", "4")
            ]
        );
    }
}
