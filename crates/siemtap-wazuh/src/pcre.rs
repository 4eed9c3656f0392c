//! pcre2 patterns (`type="pcre2"`) on the `regex` crate: `\Q…\E` literals are rewritten into
//! escaped text first. Lookaround and back-references are PCRE2 features the `regex` crate
//! lacks: such patterns are reported as not evaluable rather than guessed at.

use regex::Regex;

/// Why a pcre2 pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcreError {
    /// Valid PCRE2 perhaps, but beyond what the evaluator runs (lookaround, back-references).
    Unsupported(String),
    /// Not a valid pattern.
    Invalid(String),
}

/// Rewrites `\Q…\E` quoting into escaped literals.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(c) = after.chars().next() else {
            out.push('\\');
            rest = "";
            break;
        };
        if c == 'Q' {
            let body = &after[1..];
            let (lit, tail) = match body.find("\\E") {
                Some(j) => (&body[..j], &body[j + 2..]),
                None => (body, ""),
            };
            out.push_str(&regex::escape(lit));
            rest = tail;
        } else if c == 'E' {
            // A stray \E outside \Q is ignored by PCRE2.
            rest = &after[1..];
        } else {
            out.push('\\');
            out.push(c);
            rest = &after[c.len_utf8()..];
        }
    }
    out.push_str(rest);
    out
}

/// Compiles a pcre2 pattern.
pub fn compile(pattern: &str) -> Result<Regex, PcreError> {
    let translated = translate(pattern);
    for (needle, what) in [
        ("(?=", "lookahead"),
        ("(?!", "negative lookahead"),
        ("(?<=", "lookbehind"),
        ("(?<!", "negative lookbehind"),
        ("(?>", "atomic group"),
    ] {
        if translated.contains(needle) {
            return Err(PcreError::Unsupported(what.into()));
        }
    }
    Regex::new(&translated).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("backreferences are not supported") || msg.contains("look-around") {
            PcreError::Unsupported(msg)
        } else {
            PcreError::Invalid(msg)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_literals() {
        let r = compile("^\\Qa.b(c)\\E$").unwrap();
        assert!(r.is_match("a.b(c)"));
        assert!(!r.is_match("axb(c)"));
        let r = compile("^\\Qa\\E\\\\E\\Qb\\E$").unwrap();
        assert!(r.is_match("a\\Eb"));
        let r = compile("(?i)^(?:\\Qmalware\\E|\\Qphish\\E)$").unwrap();
        assert!(r.is_match("MALWARE"));
        assert!(!r.is_match("malwares"));
        assert!(compile("^\\Qlogin\\E$").unwrap().is_match("login"));
        assert!(
            !compile("^\\Qlogin\\E$").unwrap().is_match("LOGIN"),
            "pcre2 is case-sensitive"
        );
    }

    #[test]
    fn unsupported_and_invalid() {
        assert!(matches!(compile("a(?=b)"), Err(PcreError::Unsupported(_))));
        assert!(matches!(compile("(a\\1)"), Err(PcreError::Unsupported(_))));
        assert!(matches!(compile("(ab"), Err(PcreError::Invalid(_))));
    }
}
