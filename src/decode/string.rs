//! The envelope's JSON strings for [`super::reader`]: borrowed from the record when they
//! have no escape, otherwise unescaped 16 bytes at a time. Each block is copied whole
//! and the copy cut back at its first `"`, `\` or control byte, so a message full of
//! `\"` costs a few vector operations per escape, where serde_json starts a new scan
//! after each one (BENCHMARKS.md, "Eighteenth round").
//!
//! Whatever serde_json refuses (a bad escape, a `\u` surrogate not in a pair, a control
//! byte, no closing quote) is `None`: the caller then reads the whole envelope with
//! serde_json, which gives the error.

use std::borrow::Cow;

use crate::json_bytes::{PLAIN, block, first_special, plain_run};

/// The string whose opening quote is just before `start`: its text, and the index just
/// past its closing quote. `scratch` is working space, reused between strings.
pub(super) fn string<'a>(
    text: &'a str,
    start: usize,
    scratch: &mut Vec<u8>,
) -> Option<(Cow<'a, str>, usize)> {
    let s = text.as_bytes();
    let end = plain_run(s, start);
    match *s.get(end)? {
        b'"' => return Some((Cow::Borrowed(text.get(start..end)?), end + 1)),
        b'\\' => {}
        _ => return None,
    }
    scratch.clear();
    scratch.extend_from_slice(s.get(start..end)?);
    let next = unescape(s, end, scratch)?;
    // Whole UTF-8 sequences of `text`, cut only at ASCII bytes, and whole characters.
    let unescaped = crate::utf8::as_str(scratch).ok()?;
    Some((Cow::Owned(unescaped.to_owned()), next))
}

/// Appends the string's text from `i` (in the string, after its opening quote) to `out`
/// with its escapes undone; the index just past its closing quote.
fn unescape(s: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    loop {
        // The text after the string follows it, so a block is there but near the end.
        while let Some(b) = block(s, i) {
            out.extend_from_slice(b);
            if let Some(at) = first_special(b) {
                out.truncate(out.len() - 16 + at);
                i += at;
                break;
            }
            i += 16;
        }
        let b = loop {
            let b = *s.get(i)?;
            if !PLAIN[b as usize] {
                break b;
            }
            out.push(b);
            i += 1;
        };
        match b {
            b'"' => return Some(i + 1),
            b'\\' => i = escape(s, i + 1, out)?,
            _ => return None,
        }
    }
}

/// The escape whose letter is at `i` (just after its `\`), appended to `out`; the index
/// just past it.
fn escape(s: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let byte = match *s.get(i)? {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => return unicode(s, i + 1, out),
        _ => return None,
    };
    out.push(byte);
    Some(i + 1)
}

/// A `\u` escape whose four hex digits start at `i` (and, for a leading surrogate, the
/// `\u` escape of its trailing one), appended as UTF-8; the index just past it.
fn unicode(s: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let unit = hex4(s, i)?;
    let (code, next) = match unit {
        0xD800..=0xDBFF => {
            if s.get(i + 4..i + 6)? != b"\\u" {
                return None;
            }
            let low = hex4(s, i + 6)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return None;
            }
            (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), i + 10)
        }
        0xDC00..=0xDFFF => return None,
        _ => (unit, i + 4),
    };
    let c = char::from_u32(code)?;
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    Some(next)
}

/// Four hex digits (either case) at `i`.
fn hex4(s: &[u8], i: usize) -> Option<u32> {
    s.get(i..i + 4)?.iter().try_fold(0u32, |acc, &b| {
        let digit = char::from(b).to_digit(16)?;
        Some(acc << 4 | digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This reader's answer for the JSON string `quoted`, as serde_json's type.
    fn read(quoted: &str) -> Option<String> {
        let mut scratch = Vec::new();
        let (value, next) = string(quoted, 1, &mut scratch)?;
        (next == quoted.len()).then(|| value.into_owned())
    }

    /// Every escape, surrogate pairs and their faults, control bytes and multi-byte
    /// characters, each at every offset in a word: this reader gives serde_json's text,
    /// and refuses what it refuses.
    #[test]
    fn strings_read_as_serde_json_reads_them_at_every_offset() {
        let pieces = [
            "",
            "plain",
            r#"\""#,
            r"\\",
            r"\/",
            r"\b",
            r"\f",
            r"\n",
            r"\r",
            r"\t",
            r"\u0041",
            r"\u00e9",
            r"\u00E9",
            r"\u0000",
            r"\u001b",
            r"\u20ac",
            r"\uFFFF",
            r"\ud83d\ude00",
            r"\uD83D\uDE00",
            r"\ud83d",
            r"\ude00",
            r"\ud83d\u0041",
            r"\ud83d\n",
            r"\u12",
            r"\u12g4",
            r"\x",
            r"\",
            r"\'",
            "\u{1}",
            "\u{1f}",
            "\t",
            "é",
            "€",
            "😀",
            "\u{7f}",
            r#"\"\"\"\"\"\"\"\"\""#,
        ];
        for (n, piece) in pieces.iter().enumerate() {
            for pad in 0..18 {
                for tail in ["", "abcdefghij", r#"\"x"#] {
                    let next = pieces[(n + pad) % pieces.len()];
                    let quoted = format!("\"{}{piece}{tail}{next}\"", "p".repeat(pad));
                    let theirs = serde_json::from_str::<String>(&quoted).ok();
                    assert_eq!(read(&quoted), theirs, "{quoted}");
                }
            }
        }
    }
}
