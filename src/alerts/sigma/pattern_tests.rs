//! Tests only: a [`Pattern`] answers as the regular expression `text_source` (or, for
//! base64 values, `anchor` of the escaped text) writes for the same value, position and
//! case, on any text: a property over values and texts drawn from characters whose
//! simple case folding is unusual (the Kelvin sign, long s, sigma, dotted and dotless i,
//! ß, title-case digraphs), wildcards, backslashes, newlines and any character, with
//! texts also made from the value (wildcards filled, characters swapped for another of
//! their orbit) so that matches are common.
#![cfg(test)]

use proptest::prelude::*;

use super::{Pattern, Token, char_token};
use crate::alerts::sigma::modifiers::{Position, build};

/// The oracle: a Sigma string (wildcards `*`, `?`; `\` escapes them) as a regular expression.
fn text_source(text: &str, position: Position, cased: bool) -> String {
    let mut body = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => body.push_str(".*"),
            '?' => body.push('.'),
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    chars.next();
                    body.push_str(&regex::escape(&n.to_string()));
                }
                _ => body.push_str(r"\\"),
            },
            c => body.push_str(&regex::escape(&c.to_string())),
        }
    }
    anchor(&body, position, cased)
}

fn anchor(body: &str, position: Position, cased: bool) -> String {
    let flags = if cased { "s" } else { "is" };
    match position {
        Position::Whole => format!("(?{flags}:^{body}$)"),
        Position::Contains => format!("(?{flags}:{body})"),
        Position::Start => format!("(?{flags}:^{body})"),
        Position::End => format!("(?{flags}:{body}$)"),
    }
}

/// Characters that stress case folding, wildcards and escapes.
const TRICKY: &[char] = &[
    'a',
    'B',
    'k',
    'K',
    '\u{212A}',
    's',
    'S',
    '\u{17F}',
    'i',
    'I',
    '\u{130}',
    '\u{131}',
    '\u{3C3}',
    '\u{3C2}',
    '\u{3A3}',
    '\u{DF}',
    '\u{1E9E}',
    '\u{1C4}',
    '\u{1C5}',
    '\u{1C6}',
    '\u{3B8}',
    '\u{3D1}',
    '\u{3F4}',
    '\u{345}',
    '\u{1FBE}',
    '\u{3B9}',
    '*',
    '?',
    '\\',
    '.',
    '\n',
    ' ',
    '-',
    '0',
    '\u{10400}',
    '\u{10428}',
];

fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(TRICKY),
        1 => any::<char>(),
    ]
}

fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn position() -> impl Strategy<Value = Position> {
    prop::sample::select(
        &[
            Position::Whole,
            Position::Contains,
            Position::Start,
            Position::End,
        ][..],
    )
}

/// A text the value may match: each wildcard filled, each character maybe another of
/// its case orbit (upper, lower, or the Kelvin sign / long s for k / s).
fn filled(value: &str, seed: &[u8]) -> String {
    let mut out = String::new();
    for (n, c) in value.chars().enumerate() {
        let r = seed.get(n % seed.len().max(1)).copied().unwrap_or(0);
        match c {
            '*' => out.push_str(&"x".repeat(usize::from(r % 3))),
            '?' => out.push('\u{212A}'),
            'k' | 'K' if r % 3 == 0 => out.push('\u{212A}'),
            's' | 'S' if r % 3 == 0 => out.push('\u{17F}'),
            c if r % 2 == 0 => out.extend(c.to_uppercase()),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn regex_answer(value: &str, position: Position, cased: bool, literal: bool, text: &str) -> bool {
    let source = if literal {
        anchor(&regex::escape(value), position, cased)
    } else {
        text_source(value, position, cased)
    };
    build(&source)
        .expect("a value's expression compiles")
        .is_match(text)
}

fn check(value: &str, position: Position, cased: bool, literal: bool, text: &str) {
    let pattern = Pattern::new(value, position, cased, literal).expect("a pattern");
    assert_eq!(
        pattern.matches(text),
        regex_answer(value, position, cased, literal, text),
        "value {value:?} {position:?} cased {cased} literal {literal} on {text:?}"
    );
    // What long lists are matched with: the expression written from the tokens.
    let written = build(&pattern.regex_source()).expect("a pattern's expression compiles");
    assert_eq!(
        written.is_match(text),
        pattern.matches(text),
        "{}: value {value:?} {position:?} cased {cased} literal {literal} on {text:?}",
        pattern.regex_source()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn answers_as_the_regular_expression(
        value in tricky_string(8),
        text in tricky_string(10),
        seed in prop::collection::vec(any::<u8>(), 1..8),
        position in position(),
        cased in any::<bool>(),
        literal in any::<bool>(),
    ) {
        check(&value, position, cased, literal, &text);
        let made = filled(&value, &seed);
        check(&value, position, cased, literal, &made);
        check(&value, position, cased, literal, &format!("{text}{made}{text}"));
    }
}

#[test]
fn every_character_against_its_orbit() {
    // Each character of the Basic Multilingual Plane's letters and a few others, as a
    // one-character value, on the characters of its orbit and its neighbours.
    let mut regex_checks = 0;
    for c in ('\0'..='\u{2FFF}')
        .chain('\u{10400}'..='\u{1044F}')
        .chain('\u{1E900}'..='\u{1E943}')
    {
        if !(c.is_alphabetic() || c == '\u{345}') {
            continue;
        }
        let value = c.to_string();
        let mut texts: Vec<String> = c
            .to_uppercase()
            .chain(c.to_lowercase())
            .map(String::from)
            .collect();
        texts.extend(['\u{212A}', '\u{17F}', 'k', 's'].map(String::from));
        let pattern = Pattern::new(&value, Position::Whole, false, false).expect("a pattern");
        let regex = build(&text_source(&value, Position::Whole, false)).expect("compiles");
        for text in &texts {
            assert_eq!(
                pattern.matches(text),
                regex.is_match(text),
                "{c:?} on {text:?}"
            );
            regex_checks += 1;
        }
    }
    assert!(regex_checks > 10_000);
}

#[test]
fn examples() {
    let p = |v, pos, cased| Pattern::new(v, pos, cased, false).expect("a pattern");
    assert!(p("?*", Position::Whole, false).matches("x"));
    assert!(!p("?*", Position::Whole, false).matches(""));
    assert!(p("Get", Position::Start, false).matches("getObject"));
    assert!(p("root", Position::Whole, false).matches("ROOT"));
    assert!(p("kms", Position::Whole, false).matches("\u{212A}M\u{17F}"));
    assert!(!p("kms", Position::Whole, true).matches("KMS"));
    assert!(p(r"a*b\*c?", Position::Whole, false).matches("AXXB*CD"));
    assert!(!p(r"a*b\*c?", Position::Whole, false).matches("aXXbYcD"));
    assert!(p(r"a\b", Position::Whole, false).matches(r"A\B"));
    assert!(p("*ab*", Position::Whole, false).matches("xxaab"));
    assert!(!p("*ab*", Position::Whole, false).matches("xa"));
    assert!(p("", Position::Contains, false).matches("anything"));
    assert!(!p("", Position::Whole, false).matches("x"));
}

#[test]
fn ascii_orbits_are_the_table_s() {
    use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
    for c in '\0'..='\x7f' {
        let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
        class.try_case_fold_simple().expect("the table");
        let table: Vec<char> = class
            .ranges()
            .iter()
            .flat_map(|r| r.start()..=r.end())
            .collect();
        let Ok(Token::Char(mine)) = char_token(c, false) else {
            panic!("{c:?}: not a character token");
        };
        assert_eq!(mine.to_vec(), table, "{c:?}");
    }
}
