//! Sigma conditions: `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`,
//! `1 of them`, `all of them`, compiled once into an expression over selection indices.
//!
//! Precedence, loosest first: `or`, `and`, `not`. Keywords are case-insensitive.
//! `them` means every selection whose name does not start with `_`. A pattern or a
//! name that names no selection is an error, and so is the old aggregation syntax
//! (`| count() …`: write a correlation rule instead).

/// A compiled condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Selection(usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    /// Evaluates with `selection(i)` answering whether selection `i` matches.
    pub fn eval(&self, selection: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Self::Selection(i) => selection(*i),
            Self::Not(e) => !e.eval(selection),
            Self::And(es) => es.iter().all(|e| e.eval(selection)),
            Self::Or(es) => es.iter().any(|e| e.eval(selection)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Word(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '|' => {
                return Err(
                    "aggregations in the condition (`| count() …`) are not supported: write a correlation rule"
                        .to_owned(),
                );
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '-' | '*' | '.') => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || matches!(c, '_' | '-' | '*' | '.') {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(word));
            }
            c => return Err(format!("unexpected character {c:?}")),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a [String],
}

fn is_kw(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while is_kw(self.peek(), "or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.not()?];
        while is_kw(self.peek(), "and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn not(&mut self) -> Result<Expr, String> {
        if is_kw(self.peek(), "not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let token = self.peek().cloned();
        self.pos += 1;
        match token {
            None => Err("the condition ends too early".to_owned()),
            Some(Token::Close) => Err("unexpected `)`".to_owned()),
            Some(Token::Open) => {
                let e = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a `(` is not closed".to_owned());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Token::Word(w)) => {
                if is_kw(self.peek(), "of") {
                    self.pos += 1;
                    let all = if w == "1" || w.eq_ignore_ascii_case("any") {
                        false
                    } else if w.eq_ignore_ascii_case("all") {
                        true
                    } else {
                        return Err(format!("`{w} of`: only `1 of` and `all of` exist"));
                    };
                    let Some(Token::Word(pattern)) = self.peek().cloned() else {
                        return Err(format!("`{w} of` needs a name pattern or `them`"));
                    };
                    self.pos += 1;
                    let picked: Vec<Expr> = if pattern.eq_ignore_ascii_case("them") {
                        self.names
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| !n.starts_with('_'))
                            .map(|(i, _)| Expr::Selection(i))
                            .collect()
                    } else {
                        self.names
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| glob(&pattern, n))
                            .map(|(i, _)| Expr::Selection(i))
                            .collect()
                    };
                    if picked.is_empty() {
                        return Err(format!("`{w} of {pattern}` names no selection"));
                    }
                    return Ok(if all {
                        Expr::And(picked)
                    } else {
                        Expr::Or(picked)
                    });
                }
                if ["and", "or", "not", "of", "them"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k))
                {
                    return Err(format!("unexpected `{w}`"));
                }
                match self.names.iter().position(|n| *n == w) {
                    Some(i) => Ok(Expr::Selection(i)),
                    None => Err(format!("`{w}` is not a selection of this rule")),
                }
            }
        }
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

/// Parses `text` over the selections `names` (their order gives the indices).
pub fn parse(text: &str, names: &[String]) -> Result<Expr, String> {
    let mut p = Parser {
        tokens: tokens(text)?,
        pos: 0,
        names,
    };
    if p.tokens.is_empty() {
        return Err("the condition is empty".to_owned());
    }
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(format!("unexpected {t:?} after a complete condition"));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["selection", "selection_b", "filter_a", "_hidden"]
            .map(String::from)
            .to_vec()
    }

    fn eval(cond: &str, truth: [bool; 4]) -> bool {
        parse(cond, &names()).expect(cond).eval(&mut |i| truth[i])
    }

    #[test]
    fn precedence_parentheses_and_of_forms() {
        assert!(eval(
            "selection and not filter_a",
            [true, false, false, false]
        ));
        assert!(!eval(
            "selection and not filter_a",
            [true, false, true, false]
        ));
        assert!(eval(
            "selection or selection_b and filter_a",
            [true, false, false, false]
        ));
        assert!(!eval(
            "(selection or selection_b) and filter_a",
            [true, false, false, false]
        ));
        assert!(eval("1 of selection*", [false, true, false, false]));
        assert!(!eval("all of selection*", [false, true, false, false]));
        assert!(eval("all of them", [true, true, true, false]));
        assert!(!eval("1 of them", [false, false, false, true]));
        assert!(eval(
            "NOT 1 of filter_* AND selection",
            [true, false, false, false]
        ));
        for bad in [
            "",
            "selection and",
            "(selection",
            "missing",
            "2 of them",
            "1 of x*",
            "selection | count() > 5",
            "selection)",
        ] {
            assert!(parse(bad, &names()).is_err(), "{bad}");
        }
    }
}
