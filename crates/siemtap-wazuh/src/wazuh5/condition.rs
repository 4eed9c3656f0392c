//! Sigma `condition` expressions: selection names (with `*` wildcards in `of` forms),
//! `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`, `1 of them`, `all of them`.
//! Precedence: `not` over `and` over `or`.

/// A parsed condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A selection by name.
    Name(String),
    /// `1 of PATTERN` (`them`: every selection).
    AnyOf(String),
    /// `all of PATTERN`.
    AllOf(String),
    /// `not E`.
    Not(Box<Expr>),
    /// `A and B`.
    And(Box<Expr>, Box<Expr>),
    /// `A or B`.
    Or(Box<Expr>, Box<Expr>),
}

/// A condition the parser refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("condition {condition:?}: {message}")]
pub struct ConditionError {
    /// The condition text.
    pub condition: String,
    /// What is wrong.
    pub message: String,
}

fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in s.chars() {
        match ch {
            '(' | ')' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(ch.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }
    fn next(&mut self) -> Option<String> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.not()?;
        while self.peek() == Some("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }
    fn not(&mut self) -> Result<Expr, String> {
        if self.peek() == Some("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<Expr, String> {
        let t = self.next().ok_or("expression ends too early")?;
        match t.as_str() {
            "(" => {
                let e = self.or()?;
                match self.next().as_deref() {
                    Some(")") => Ok(e),
                    _ => Err("missing ')'".into()),
                }
            }
            ")" | "and" | "or" | "of" => Err(format!("unexpected {t:?}")),
            "1" | "all" if self.peek() == Some("of") => {
                self.pos += 1;
                let target = self
                    .next()
                    .ok_or("`of` needs a selection pattern or `them`")?;
                if matches!(target.as_str(), "(" | ")" | "and" | "or" | "not") {
                    return Err(format!("`of` needs a selection pattern, not {target:?}"));
                }
                Ok(if t == "1" {
                    Expr::AnyOf(target)
                } else {
                    Expr::AllOf(target)
                })
            }
            _ if t.contains('*') => Err(format!("wildcard {t:?} outside `1 of`/`all of`")),
            _ => Ok(Expr::Name(t)),
        }
    }
}

/// Parses a condition.
pub fn parse(s: &str) -> Result<Expr, ConditionError> {
    let err = |message: String| ConditionError {
        condition: s.to_string(),
        message,
    };
    let mut p = Parser {
        toks: tokens(s),
        pos: 0,
    };
    let e = p.or().map_err(err)?;
    if p.pos < p.toks.len() {
        return Err(err(format!("unexpected {:?}", p.toks[p.pos])));
    }
    Ok(e)
}

/// Whether `name` matches an `of` pattern (`*` any run of characters; `them` everything).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    if pattern == "them" {
        return true;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(k) => rest = &rest[k + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The selection names an expression needs: plain names, and the `of` patterns (each must
/// match at least one selection).
pub fn references(e: &Expr, names: &mut Vec<String>, patterns: &mut Vec<String>) {
    match e {
        Expr::Name(n) => names.push(n.clone()),
        Expr::AnyOf(p) | Expr::AllOf(p) => patterns.push(p.clone()),
        Expr::Not(x) => references(x, names, patterns),
        Expr::And(a, b) | Expr::Or(a, b) => {
            references(a, names, patterns);
            references(b, names, patterns);
        }
    }
}

/// Evaluates with `sel(name)` for selection results and `all` the selection names.
pub fn eval(e: &Expr, all: &[String], sel: &dyn Fn(&str) -> bool) -> bool {
    match e {
        Expr::Name(n) => sel(n),
        Expr::AnyOf(p) => all.iter().filter(|n| pattern_matches(p, n)).any(|n| sel(n)),
        Expr::AllOf(p) => {
            let m: Vec<&String> = all.iter().filter(|n| pattern_matches(p, n)).collect();
            !m.is_empty() && m.iter().all(|n| sel(n))
        }
        Expr::Not(x) => !eval(x, all, sel),
        Expr::And(a, b) => eval(a, all, sel) && eval(b, all, sel),
        Expr::Or(a, b) => eval(a, all, sel) || eval(b, all, sel),
    }
}
