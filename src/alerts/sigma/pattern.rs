//! A Sigma string value (`*`, `?` wildcards; `\` escapes them) matched without a
//! regular expression, giving the answers of the one [`text_source`] writes for it.
//!
//! That expression is `(?is:^…$)` (`(?s:…)` with `cased`), anchored by the position:
//! `*` is `.*`, `?` is `.` (any character, newlines too), every other character a
//! literal that, case-insensitively, stands for the characters of its Unicode simple
//! case folding orbit (`k`: `k`, `K` and the Kelvin sign). Compiling dozens of such
//! expressions was three quarters of start-up; here a value is a list of tokens, the
//! orbits taken from `regex_syntax`'s own table ([`ClassUnicode::try_case_fold_simple`],
//! which the regex crate applies to a literal under `(?i)`), matched by the usual
//! wildcard walk that retries from the last `*`. A property test holds the answers to
//! the regular expression's.
//!
//! [`text_source`]: super::modifiers::text_source

use std::sync::Arc;

use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};

use super::modifiers::Position;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Any characters, none too.
    Star,
    /// Any one character.
    Any,
    /// One of these characters.
    Char(Box<[char]>),
}

impl Token {
    fn accepts(&self, c: char) -> bool {
        match self {
            Self::Star => false,
            Self::Any => true,
            Self::Char(set) => set.contains(&c),
        }
    }
}

/// Past this many string values in one OR list (a field's, or keywords), they are
/// matched as one regular expression written from their tokens ([`Pattern::regex_source`],
/// the same answers): for long lists (indicator lists run to thousands) the regex
/// crate's literal search beats trying each in turn, and its compile cost is paid only
/// by such rules.
pub(super) const LONG_LIST: usize = 64;

/// A string value as its tokens, whole-text (the position is in leading and trailing stars).
/// Shared: a prefilter holds copies of its rule's tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern {
    tokens: Arc<[Token]>,
}

impl Pattern {
    /// `text` with its wildcards, or every character a literal (`literal`: base64).
    pub(super) fn new(
        text: &str,
        position: Position,
        cased: bool,
        literal: bool,
    ) -> Result<Self, String> {
        let mut tokens = Vec::with_capacity(text.len() + 2);
        if matches!(position, Position::Contains | Position::End) {
            tokens.push(Token::Star);
        }
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' if !literal => Token::Star,
                '?' if !literal => Token::Any,
                // `\*`, `\?`, `\\`: the character; any other `\`: a backslash.
                '\\' if !literal => {
                    let escaped = chars.next_if(|n| matches!(n, '*' | '?' | '\\'));
                    char_token(escaped.unwrap_or('\\'), cased)?
                }
                c => char_token(c, cased)?,
            });
        }
        if matches!(position, Position::Contains | Position::Start) {
            tokens.push(Token::Star);
        }
        Ok(Self {
            tokens: tokens.into(),
        })
    }

    /// A regular expression with this pattern's answers: `*` is `.*`, `?` is `.`
    /// (newlines too), a character the class of its orbit, anchored at both ends.
    pub(super) fn regex_source(&self) -> String {
        let mut out = String::with_capacity(self.tokens.len() * 4 + 8);
        out.push_str("(?s:^");
        let mut buf = [0u8; 4];
        for token in self.tokens.iter() {
            match token {
                Token::Star => out.push_str(".*"),
                Token::Any => out.push('.'),
                Token::Char(set) => {
                    let class = set.len() > 1;
                    if class {
                        out.push('[');
                    }
                    for c in set.iter() {
                        out.push_str(&regex_syntax::escape(c.encode_utf8(&mut buf)));
                    }
                    if class {
                        out.push(']');
                    }
                }
            }
        }
        out.push_str("$)");
        out
    }

    /// Whether the whole of `text` matches.
    pub(super) fn matches(&self, text: &str) -> bool {
        let tokens = &self.tokens[..];
        let (mut t, mut i) = (0, 0);
        // After the last `*` seen: the token after it and where its text ends so far.
        let mut retry: Option<(usize, usize)> = None;
        loop {
            if let Some(Token::Star) = tokens.get(t) {
                t += 1;
                retry = Some((t, i));
                continue;
            }
            let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
                // The text is used up: only stars may be left.
                return tokens
                    .get(t..)
                    .unwrap_or_default()
                    .iter()
                    .all(|k| *k == Token::Star);
            };
            if tokens.get(t).is_some_and(|k| k.accepts(c)) {
                t += 1;
                i += c.len_utf8();
                continue;
            }
            // The last `*` takes one more character, and the rest is tried again.
            let Some((after, from)) = retry else {
                return false;
            };
            let Some(skipped) = text.get(from..).and_then(|rest| rest.chars().next()) else {
                return false;
            };
            retry = Some((after, from + skipped.len_utf8()));
            (t, i) = (after, from + skipped.len_utf8());
        }
    }
}

/// `c`, with its simple case folding orbit unless `cased`.
fn char_token(c: char, cased: bool) -> Result<Token, String> {
    if cased {
        return Ok(Token::Char(Box::new([c])));
    }
    // ASCII: the character and its other case, but `k` and `s`, whose orbits also hold
    // the Kelvin sign and the long s (a test holds all 128 to the table).
    if c.is_ascii() && !matches!(c, 'k' | 'K' | 's' | 'S') {
        let (lower, upper) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
        return Ok(Token::Char(if lower == upper {
            Box::new([c])
        } else {
            Box::new([upper, lower])
        }));
    }
    let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
    class
        .try_case_fold_simple()
        .map_err(|_| "Unicode case folding is not available".to_owned())?;
    Ok(Token::Char(
        class
            .ranges()
            .iter()
            .flat_map(|r| r.start()..=r.end())
            .collect(),
    ))
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
