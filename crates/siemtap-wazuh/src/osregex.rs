//! OS_Regex and OS_Match, Wazuh's own pattern languages (wazuh.md §5.4), for the evaluator,
//! plus the syntax problems the checker reports (what OS_Regex silently treats as literal
//! text although the author meant regex syntax).
//!
//! OS_Regex: `\w` (A–Z a–z 0–9 `-` `@` `_`), `\d`, `\s` (space), `\t`, `\p` (punctuation),
//! `\W \D \S`, `\.` (any character), `+`/`*` after one of those classes, `^` at the start,
//! `$` at the end, `|` between alternatives, `(` `)` for captures; everything else is a
//! literal. Matching is case-insensitive. The C engine backtracks only a little; this one
//! backtracks fully, so it can find a match the C engine misses for patterns with several
//! ambiguous repetitions (none of the generated rules has one).

#[derive(Clone, Debug, PartialEq, Eq)]
enum Class {
    Word,
    NotWord,
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Tab,
    Punct,
    Any,
}

impl Class {
    fn from(c: char) -> Option<Self> {
        Some(match c {
            'w' => Class::Word,
            'W' => Class::NotWord,
            'd' => Class::Digit,
            'D' => Class::NotDigit,
            's' => Class::Space,
            'S' => Class::NotSpace,
            't' => Class::Tab,
            'p' => Class::Punct,
            '.' => Class::Any,
            _ => return None,
        })
    }
    fn matches(&self, c: char) -> bool {
        let word = c.is_ascii_alphanumeric() || matches!(c, '-' | '@' | '_');
        match self {
            Class::Word => word,
            Class::NotWord => !word,
            Class::Digit => c.is_ascii_digit(),
            Class::NotDigit => !c.is_ascii_digit(),
            Class::Space => c == ' ',
            Class::NotSpace => c != ' ',
            Class::Tab => c == '\t',
            Class::Punct => "()*+,-.:;<=>?[]!\"'#$%&|{}".contains(c),
            Class::Any => true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Class(Class, Rep),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rep {
    One,
    Plus,
    Star,
}

#[derive(Clone, Debug)]
struct Alt {
    begin: bool,
    end: bool,
    toks: Vec<Tok>,
}

/// A compiled OS_Regex.
#[derive(Clone, Debug)]
pub struct OsRegex {
    alts: Vec<Alt>,
}

/// Escapes that stand for a literal character.
const LITERAL_ESCAPES: &str = "\\$()|<>";

fn split_alternatives(pattern: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let cur = out.last_mut().expect("non-empty");
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '|' => out.push(String::new()),
            c => out.last_mut().expect("non-empty").push(c),
        }
    }
    out
}

impl OsRegex {
    /// Compiles a pattern (never fails: unsupported syntax is literal, as in Wazuh; see
    /// [`regex_problems`]).
    pub fn new(pattern: &str) -> Self {
        let alts = split_alternatives(pattern)
            .into_iter()
            .map(|a| compile_alt(&a))
            .collect();
        OsRegex { alts }
    }

    /// Whether the pattern matches anywhere in `s` (anchors respected).
    pub fn is_match(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().flat_map(char::to_lowercase).collect();
        self.alts.iter().any(|a| alt_matches(a, &chars))
    }
}

fn compile_alt(src: &str) -> Alt {
    let mut s = src;
    let begin = s.starts_with('^');
    if begin {
        s = &s[1..];
    }
    let end = s.ends_with('$') && !s.ends_with("\\$");
    if end {
        s = &s[..s.len() - 1];
    }
    let mut toks = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => match Class::from(n) {
                    Some(class) => {
                        let rep = match chars.peek() {
                            Some('+') => Rep::Plus,
                            Some('*') => Rep::Star,
                            _ => Rep::One,
                        };
                        if rep != Rep::One {
                            chars.next();
                        }
                        toks.push(Tok::Class(class, rep));
                    }
                    None => toks.extend(n.to_lowercase().map(Tok::Lit)),
                },
                None => toks.push(Tok::Lit('\\')),
            },
            '(' | ')' => {}
            c => toks.extend(c.to_lowercase().map(Tok::Lit)),
        }
    }
    Alt { begin, end, toks }
}

fn alt_matches(a: &Alt, s: &[char]) -> bool {
    let starts: Box<dyn Iterator<Item = usize>> = if a.begin {
        Box::new(std::iter::once(0))
    } else {
        Box::new(0..=s.len())
    };
    for start in starts {
        if match_here(&a.toks, s, start, a.end) {
            return true;
        }
    }
    false
}

fn match_here(toks: &[Tok], s: &[char], pos: usize, end: bool) -> bool {
    let Some((first, rest)) = toks.split_first() else {
        return !end || pos == s.len();
    };
    match first {
        Tok::Lit(c) => s.get(pos) == Some(c) && match_here(rest, s, pos + 1, end),
        Tok::Class(class, rep) => {
            let min = usize::from(*rep == Rep::One || *rep == Rep::Plus);
            let max = if *rep == Rep::One { 1 } else { usize::MAX };
            let mut n = 0;
            while n < max && pos + n < s.len() && class.matches(s[pos + n]) {
                n += 1;
            }
            if n < min {
                return false;
            }
            (min..=n).rev().any(|k| match_here(rest, s, pos + k, end))
        }
    }
}

/// Syntax that OS_Regex does not support and silently treats as literal text, unbalanced
/// groups, and escapes it does not know.
pub fn regex_problems(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth: i32 = 0;
    for alt in split_alternatives(pattern) {
        if alt.is_empty() {
            out.push(
                "empty alternative (a leading, trailing or doubled `|`): it matches every event"
                    .into(),
            );
            continue;
        }
        let chars: Vec<char> = alt.chars().collect();
        let mut i = 0;
        let mut prev_class = false;
        while i < chars.len() {
            let c = chars[i];
            let mut is_class = false;
            match c {
                '\\' => {
                    match chars.get(i + 1) {
                        Some(&n) if Class::from(n).is_some() => is_class = true,
                        Some(&n) if LITERAL_ESCAPES.contains(n) => {}
                        Some(&n) => out.push(format!(
                            "`\\{n}` is not an OS_Regex escape (supported: \\w \\W \\d \\D \\s \\S \\t \\p \\. and \\\\ \\$ \\( \\) \\|); use type=\"pcre2\""
                        )),
                        None => out.push("trailing `\\`".into()),
                    }
                    i += 1;
                }
                '[' | ']' => out.push(format!(
                    "`{c}`: character classes are not OS_Regex (the bracket is matched literally); use \\w, \\d, ... or type=\"pcre2\""
                )),
                '{' | '}' => out.push(format!(
                    "`{c}`: counted repetition {{n}} is not OS_Regex (matched literally); use + or * or type=\"pcre2\""
                )),
                '?' => out.push(
                    "`?`: optional items are not OS_Regex (matched literally); use * or type=\"pcre2\"".into(),
                ),
                '+' | '*' if !prev_class => out.push(format!(
                    "`{c}` after a literal character is matched literally; OS_Regex repeats only \\w, \\d, \\s, \\p, \\. ... classes"
                )),
                '^' if i > 0 => out.push(
                    "`^` is an anchor only at the start of an alternative; elsewhere it is literal".into(),
                ),
                '$' if i + 1 < chars.len() => out.push(
                    "`$` is an anchor only at the end of an alternative; escape a literal dollar as \\$".into(),
                ),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        out.push("unbalanced group: `)` without `(`".into());
                        depth = 0;
                    }
                }
                _ => {}
            }
            // A quantifier directly after a class belongs to it.
            prev_class = is_class;
            if is_class && matches!(chars.get(i + 1), Some('+' | '*')) {
                i += 1;
                prev_class = false;
            }
            i += 1;
        }
    }
    if depth > 0 {
        out.push("unbalanced group: `(` without `)`".into());
    }
    out.dedup();
    out
}

/// A compiled OS_Match: case-insensitive literal alternatives with `^`/`$` anchors.
#[derive(Clone, Debug)]
pub struct OsMatch {
    alts: Vec<(bool, bool, String)>,
}

impl OsMatch {
    /// Compiles a pattern.
    pub fn new(pattern: &str) -> Self {
        let alts = pattern
            .split('|')
            .map(|a| {
                let begin = a.starts_with('^');
                let a = a.strip_prefix('^').unwrap_or(a);
                let end = a.ends_with('$');
                let a = a.strip_suffix('$').unwrap_or(a);
                (begin, end, a.to_lowercase())
            })
            .collect();
        OsMatch { alts }
    }

    /// Whether any alternative matches.
    pub fn is_match(&self, s: &str) -> bool {
        let s = s.to_lowercase();
        self.alts.iter().any(|(b, e, lit)| match (b, e) {
            (true, true) => s == *lit,
            (true, false) => s.starts_with(lit.as_str()),
            (false, true) => s.ends_with(lit.as_str()),
            (false, false) => s.contains(lit.as_str()),
        })
    }
}

/// OS_Match misuse: regex syntax in a plain string match.
pub fn match_problems(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    if pattern.split('|').any(str::is_empty) {
        out.push(
            "empty alternative (a leading, trailing or doubled `|`): it matches every event".into(),
        );
    }
    if pattern.contains('\\') || pattern.contains(".*") || pattern.contains('[') {
        out.push(
            "osmatch is a plain string match: `\\`, `.*` and `[...]` are literal text; use type=\"osregex\" or type=\"pcre2\""
                .into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osregex_basics() {
        assert!(OsRegex::new("^error$").is_match("ERROR"));
        assert!(!OsRegex::new("^error$").is_match("errors"));
        assert!(
            OsRegex::new("aws").is_match("xawsx"),
            "unanchored is substring"
        );
        assert!(
            OsRegex::new("^API_HTTP_401$|^CONFIG_MISSING_CREDENTIAL$")
                .is_match("CONFIG_MISSING_CREDENTIAL")
        );
        assert!(OsRegex::new("^\\d+$").is_match("42"));
        assert!(!OsRegex::new("^\\d+$").is_match("4a2"));
        assert!(OsRegex::new("^a\\.b$").is_match("axb"), "\\. is any char");
        assert!(OsRegex::new("^\\w+@\\w+$").is_match("a-b@c_d"));
        assert!(OsRegex::new("^x\\s*y$").is_match("xy"));
        assert!(OsRegex::new("^x\\s*y$").is_match("x   y"));
        assert!(
            !OsRegex::new("^\\d{2,}$").is_match("12"),
            "{{2,}} is literal"
        );
        assert!(OsRegex::new("^\\d{2,}$").is_match("1{2,}"));
        assert!(OsRegex::new("^cost \\$5$").is_match("cost $5"));
        assert!(OsRegex::new("user (\\w+) failed").is_match("user bob failed"));
    }

    #[test]
    fn osregex_problems() {
        assert!(regex_problems("^error$").is_empty());
        assert!(regex_problems("^\\d+ \\w*x$|^y$").is_empty());
        assert!(!regex_problems("[ab]").is_empty());
        assert!(!regex_problems("\\d{2}").is_empty());
        assert!(!regex_problems("colou?r").is_empty());
        assert!(!regex_problems("(a").is_empty());
        assert!(!regex_problems("a)").is_empty());
        assert!(!regex_problems("a+").is_empty());
        assert!(!regex_problems("a|").is_empty());
        assert!(!regex_problems("\\q").is_empty());
    }

    #[test]
    fn osmatch_basics() {
        assert!(OsMatch::new("fail").is_match("Login FAILED"));
        assert!(OsMatch::new("^a|^b").is_match("bcd"));
        assert!(!OsMatch::new("^a$").is_match("ab"));
        assert!(OsMatch::new("d$").is_match("abd"));
        assert!(!match_problems("a.*b").is_empty());
    }
}
