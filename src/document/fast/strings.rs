//! Strings on the one-pass path ([`super::Writer`]): where a string ends, and a string
//! value written as serde_json writes the text it reads. Most strings are copied through
//! as they are; a `\/` or `\uXXXX` escape (Go's `encoding/json` writes `&`, `<` and `>`
//! as `\u0026`, `\u003c`, `\u003e`; Python's `json.dumps` writes every non-ASCII
//! character as `\uXXXX`) is written as serde_json writes the character: the character
//! itself, or its short escape, or `\u00xx` for another control character.

use super::Writer;
use crate::document::scan::plain_run;

impl Writer<'_> {
    /// The index of the closing quote of the string whose text starts at `i`, if it is
    /// a JSON string serde_json reads (no lone surrogate).
    pub(super) fn string_end(&self, mut i: usize) -> Option<usize> {
        loop {
            i = plain_run(self.src, i);
            match *self.src.get(i)? {
                b'"' => return Some(i),
                b'\\' => match self.src.get(i + 1)? {
                    b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' | b'/' => i += 2,
                    b'u' => i += unicode_escape(&self.src[i..])?.1,
                    _ => return None,
                },
                _ => return None, // a raw control byte: not JSON
            }
        }
    }

    /// The string value at the position, written as serde_json writes the text it
    /// reads: copied through but for its `\/` and `\uXXXX` escapes; `None` on a lone
    /// surrogate or anything that is not a JSON string (the tree path decides).
    pub(super) fn string(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let src = self.src;
        // Copied up to here; the text from here is written as it is read.
        let mut from = self.pos;
        let mut i = self.pos + 1;
        loop {
            i = plain_run(src, i);
            match *src.get(i)? {
                b'"' => {
                    out.extend_from_slice(&src[from..=i]);
                    self.pos = i + 1;
                    return Some(());
                }
                b'\\' => match *src.get(i + 1)? {
                    b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => i += 2,
                    b'/' => {
                        out.extend_from_slice(&src[from..i]);
                        out.push(b'/');
                        i += 2;
                        from = i;
                    }
                    b'u' => {
                        out.extend_from_slice(&src[from..i]);
                        let (c, len) = unicode_escape(&src[i..])?;
                        push_char(out, c);
                        i += len;
                        from = i;
                    }
                    _ => return None,
                },
                _ => return None, // a raw control byte: not JSON
            }
        }
    }
}

/// The 4 hex digits after `\u` at the start of `s`.
fn hex4(s: &[u8]) -> Option<u32> {
    let digits = s.get(2..6)?;
    if s.get(..2)? != b"\\u" {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |n, &d| Some(n << 4 | char::from(d).to_digit(16)?))
}

/// The character of the `\uXXXX` escape (or surrogate pair `\uXXXX\uXXXX`) at the start
/// of `s`, and the escape's length; `None` for a lone surrogate, as serde_json refuses.
fn unicode_escape(s: &[u8]) -> Option<(char, usize)> {
    let first = hex4(s)?;
    match first {
        0xD800..=0xDBFF => {
            let second = hex4(s.get(6..)?)?;
            if !(0xDC00..=0xDFFF).contains(&second) {
                return None;
            }
            let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            Some((char::from_u32(c)?, 12))
        }
        _ => Some((char::from_u32(first)?, 6)),
    }
}

/// `c` inside a JSON string as serde_json writes it.
fn push_char(out: &mut Vec<u8>, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        '"' => out.extend_from_slice(b"\\\""),
        '\\' => out.extend_from_slice(b"\\\\"),
        '\u{8}' => out.extend_from_slice(b"\\b"),
        '\u{c}' => out.extend_from_slice(b"\\f"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\t' => out.extend_from_slice(b"\\t"),
        '\0'..='\u{1f}' => {
            let b = c as usize;
            out.extend_from_slice(b"\\u00");
            out.push(HEX[b >> 4]);
            out.push(HEX[b & 0xf]);
        }
        c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_is_written_as_serde_json_writes_it() {
        for c in ('\0'..='\u{3000}').chain(['\u{fffd}', '\u{1f600}', '\u{10ffff}']) {
            let mut out = Vec::new();
            push_char(&mut out, c);
            let serde = serde_json::to_string(&c.to_string()).unwrap();
            assert_eq!(
                std::str::from_utf8(&out).unwrap(),
                &serde[1..serde.len() - 1],
                "{c:?}"
            );
        }
    }

    #[test]
    fn escapes_are_read_as_serde_json_reads_them() {
        for (text, want) in [
            (r"\u0041", Some(('A', 6))),
            (r"\u00e9x", Some(('é', 6))),
            (r"\u00E9", Some(('é', 6))),
            (r"\ud83d\ude00", Some(('\u{1f600}', 12))),
            (r"\uD83D\uDE00", Some(('\u{1f600}', 12))),
            (r"\ud83d", None),
            (r"\ud83dx\ude00", None),
            (r"\ud83d\u0041", None),
            (r"\ude00", None),
            (r"\u00g0", None),
            (r"\u00", None),
        ] {
            assert_eq!(unicode_escape(text.as_bytes()), want, "{text}");
            let serde = serde_json::from_str::<String>(&format!("\"{text}\""));
            match want {
                Some((c, len)) if len == text.len() => {
                    assert_eq!(serde.unwrap(), c.to_string(), "{text}")
                }
                Some(_) => {}
                None => assert!(serde.is_err(), "{text}"),
            }
        }
    }
}
