//! Strings on the one-pass path ([`super::Writer`]): where a string ends, and a string
//! value written as the tree path writes it. Most strings are copied through as they
//! are. One with an escape serde_json writes differently, `\/` or `\uXXXX` (Go's
//! `encoding/json` writes `&`, `<` and `>` as `\u0026`, `\u003c`, `\u003e`; Python's
//! `json.dumps` writes every non-ASCII character as `\uXXXX`), is read by serde_json, as
//! the tree path reads it, and written again by [`escape::json_string`], which writes
//! serde_json's bytes.

use super::Writer;
use crate::document::escape;
use crate::json_bytes::plain_run;

impl Writer<'_> {
    /// The index of the closing quote of the string whose text starts at `i`, and
    /// whether its escapes are all ones serde_json writes the same way (none is `\/` or
    /// `\uXXXX`). Only the escapes' first letters are checked here: a `\u` escape's
    /// digits (and a lone surrogate) are checked when the string is read by serde_json.
    pub(super) fn string_end(&self, mut i: usize) -> Option<(usize, bool)> {
        let mut as_written = true;
        loop {
            i = plain_run(self.src, i);
            match *self.src.get(i)? {
                b'"' => return Some((i, as_written)),
                b'\\' => match self.src.get(i + 1)? {
                    b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => i += 2,
                    b'/' | b'u' => {
                        as_written = false;
                        i += 2;
                    }
                    _ => return None,
                },
                _ => return None, // a raw control byte: not JSON
            }
        }
    }

    /// The string value at the position, written as the tree path writes it; `None`
    /// when serde_json does not read it (a lone surrogate: the tree path decides).
    pub(super) fn string(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let start = self.pos;
        let (end, as_written) = self.string_end(start + 1)?;
        let quoted = &self.src[start..=end];
        if as_written {
            out.extend_from_slice(quoted);
        } else {
            let text: String = serde_json::from_slice(quoted).ok()?;
            escape::json_string(out, &text);
        }
        self.pos = end + 1;
        Some(())
    }
}
