//! A field's modifiers (`field|contains|all`): parsed and checked once, and a value
//! turned into the variants it stands for (`pattern.rs` matches them; `re` values are
//! compiled by [`build`]).
//!
//! - Strings match case-insensitively (`cased` for exact case), with `*` and `?`
//!   wildcards (`\*`, `\?`, `\\` escape them).
//! - `windash`, `base64` and `base64offset` turn a value into the variants it stands for.
//! - `re`, `cidr`, `exists` and the comparisons take no other value modifier; unsupported
//!   modifiers are refused, naming the modifier.

use base64::Engine as _;
use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Position {
    #[default]
    Whole,
    Contains,
    Start,
    End,
}

#[derive(Debug, Default)]
pub(super) struct Modifiers {
    pub(super) position: Position,
    pub(super) all: bool,
    pub(super) cased: bool,
    pub(super) re: bool,
    pub(super) re_flags: String,
    pub(super) cidr: bool,
    pub(super) exists: bool,
    pub(super) base64: bool,
    pub(super) base64offset: bool,
    pub(super) windash: bool,
    pub(super) fieldref: bool,
    pub(super) cmp: Option<Cmp>,
}

impl Modifiers {
    pub(super) fn parse(list: &[&str]) -> Result<Self, String> {
        let mut m = Self::default();
        let mut kinds = 0;
        for raw in list {
            let name = raw.to_ascii_lowercase();
            match name.as_str() {
                "contains" | "startswith" | "endswith" => {
                    if m.position != Position::Whole {
                        return Err(format!(
                            "modifier `{raw}` conflicts with another position modifier"
                        ));
                    }
                    m.position = match name.as_str() {
                        "contains" => Position::Contains,
                        "startswith" => Position::Start,
                        _ => Position::End,
                    };
                }
                "all" => m.all = true,
                "cased" => m.cased = true,
                "re" => {
                    m.re = true;
                    kinds += 1;
                }
                "i" | "m" | "s" if m.re => m.re_flags.push_str(&name),
                "ignorecase" if m.re => m.re_flags.push('i'),
                "multiline" if m.re => m.re_flags.push('m'),
                "dotall" if m.re => m.re_flags.push('s'),
                "cidr" => {
                    m.cidr = true;
                    kinds += 1;
                }
                "exists" => {
                    m.exists = true;
                    kinds += 1;
                }
                "base64" => m.base64 = true,
                "base64offset" => m.base64offset = true,
                "windash" => m.windash = true,
                "fieldref" => m.fieldref = true,
                "gt" | "gte" | "lt" | "lte" => {
                    m.cmp = Some(match name.as_str() {
                        "gt" => Cmp::Gt,
                        "gte" => Cmp::Gte,
                        "lt" => Cmp::Lt,
                        _ => Cmp::Lte,
                    });
                    kinds += 1;
                }
                "expand" => {
                    return Err("modifier `expand` (placeholders) is not supported".to_owned());
                }
                "utf16" | "utf16le" | "utf16be" | "wide" => {
                    return Err(format!(
                        "modifier `{raw}` is not supported (CloudTrail is UTF-8 JSON)"
                    ));
                }
                _ => return Err(format!("unknown modifier `{raw}`")),
            }
        }
        if kinds > 1 {
            return Err(
                "modifiers `re`, `cidr`, `exists` and `gt`/`gte`/`lt`/`lte` do not combine"
                    .to_owned(),
            );
        }
        if m.base64 && m.base64offset {
            return Err("`base64` and `base64offset` do not combine".to_owned());
        }
        let special = m.re || m.cidr || m.exists || m.cmp.is_some();
        if special
            && (m.base64
                || m.base64offset
                || m.windash
                || m.fieldref
                || m.position != Position::Whole)
        {
            return Err(
                "modifiers `re`, `cidr`, `exists` and comparisons take no other value modifier"
                    .to_owned(),
            );
        }
        if m.fieldref && (m.base64 || m.base64offset || m.windash) {
            return Err("`fieldref` does not combine with value transformations".to_owned());
        }
        Ok(m)
    }
}

/// The variants a value stands for after `windash`, `base64` and `base64offset`.
pub(super) fn transform(text: &str, m: &Modifiers) -> Vec<String> {
    let mut variants = if m.windash {
        windash(text)
    } else {
        vec![text.to_owned()]
    };
    if m.base64 {
        variants = variants
            .iter()
            .map(|v| base64::engine::general_purpose::STANDARD.encode(v.as_bytes()))
            .collect();
    } else if m.base64offset {
        variants = variants
            .iter()
            .flat_map(|v| base64_offsets(v.as_bytes()))
            .collect();
    }
    variants
}

/// The three encodings of `value` at any offset in a base64 text (as pySigma does).
fn base64_offsets(value: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(value);
            let enc = base64::engine::general_purpose::STANDARD.encode(&padded);
            let end = enc.len().saturating_sub(END[(value.len() + i) % 3]);
            enc.get(START[i]..end).unwrap_or_default().to_owned()
        })
        .collect()
}

/// `-` or `/` starting a word, written as each Windows dash.
fn windash(text: &str) -> Vec<String> {
    ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]
        .iter()
        .map(|dash| {
            let mut out = String::with_capacity(text.len());
            let mut prev: Option<char> = None;
            for c in text.chars() {
                if (c == '-' || c == '/') && prev.is_none_or(char::is_whitespace) {
                    out.push_str(dash);
                } else {
                    out.push(c);
                }
                prev = Some(c);
            }
            out
        })
        .collect()
}

pub(super) fn build(source: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(source)
        .size_limit(8 << 20)
        .build()
        .map_err(|e| format!("cannot compile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_escape_and_base64_offsets() {
        let re =
            super::super::pattern::Pattern::new(r"a*b\*c?", Position::Whole, false, false).unwrap();
        assert!(re.matches("AXXB*CD"));
        assert!(!re.matches("aXXbYcD"));
        // pySigma's three offsets of "ping".
        assert_eq!(base64_offsets(b"ping"), ["cGluZ", "Bpbm", "waW5n"]);
        assert_eq!(windash("-a x /b")[2], "\u{2013}a x \u{2013}b");
    }
}
