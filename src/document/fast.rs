//! The one-pass path for a JSON message: read the message text once and write the
//! sanitized message straight out, with no tree, when the text is already in the form
//! the tree path would write.
//!
//! The tree path ([`super::json`] + [`super::sanitize`]) parses the message into a
//! sorted tree and writes it back with `serde_json`: keys sorted and de-duplicated,
//! numbers and strings in serde_json's canonical form, `.` → `_` in keys, depth and field
//! caps, CloudTrail's free-form fields as text. Most messages (anything written by a
//! serde_json `Value`, a Python `json.dumps(sort_keys=True)`, …) already are in that form,
//! so copying them through with only the key rewrite gives the same bytes. This path does
//! exactly that, and **gives up** (returns `None`, the caller then takes the tree path) on
//! anything it is not sure to write byte for byte as the tree path would:
//!
//! - keys not strictly increasing (unsorted or repeated), or with an escape in them, or
//!   the `serde_json` raw-value token;
//! - string escapes serde_json writes differently (`\/`, `\uXXXX`);
//! - numbers other than integers that fit `i64`/`u64` (floats are re-formatted, `-0`
//!   becomes `-0.0`, huge integers become floats);
//! - more fields than the field cap (the `_overflow` text), two keys with the same name
//!   after the `.` → `_` rewrite (the `_2` suffix), a CloudTrail `additionalEventData`
//!   object (known to be CloudTrail only later), nesting past 100 levels;
//! - anything that is not valid JSON, or trailing text.
//!
//! It writes, like the tree path, containers deeper than the depth cap and the CloudTrail
//! free-form fields as JSON text (or, with free-form objects on, those fields as
//! objects outside the field cap). `tests/it/documents.rs` holds both paths to the same bytes on
//! generated messages (proptest), and the snapshots hold both to the fixtures.

use std::cell::Cell;

use super::scan::{int_number, integer_ok, plain_run};
pub(super) use super::time_fields::{Field, TimeFields};
use super::{CLOUDTRAIL_MARKERS, CLOUDTRAIL_TEXT_FIELDS, Limits};

/// The serde_json raw-value token: an object starting with it is read as JSON text.
const RAW_VALUE_TOKEN: &[u8] = b"$serde_json::private::RawValue";

/// Nesting past this many levels goes to the tree path (serde_json's parser stops at 128).
const MAX_NESTING: usize = 100;

/// Writes the sanitized message object to `out` in one pass, or returns `None` (with
/// `out` holding partial output the caller discards) when the tree path must do it.
/// `free_form_objects`: CloudTrail's free-form fields kept as objects outside the field
/// cap (`DocumentBuilder::with_free_form_objects`) instead of JSON text.
pub(super) fn write_message<'m>(
    message: &'m str,
    limits: Limits,
    free_form_objects: bool,
    out: &mut Vec<u8>,
) -> Option<TimeFields<'m>> {
    let (mut keys, mut scratch) = BUFFERS.take();
    keys.clear();
    if keys.capacity() * std::mem::size_of::<KeySpan>() > KEEP_BYTES {
        keys = Vec::new();
    }
    if scratch.capacity() > KEEP_BYTES {
        scratch = Vec::new();
    }
    let mut w = Writer {
        src: message.as_bytes(),
        pos: 0,
        limits,
        free_form_objects,
        fields: 0,
        keys,
        scratch,
        time: TimeFields::default(),
        markers: 0,
    };
    let whole = w.message(out);
    BUFFERS.set((std::mem::take(&mut w.keys), std::mem::take(&mut w.scratch)));
    whole?;
    w.time.cloudtrail = w.markers == CLOUDTRAIL_MARKERS.len();
    Some(w.time)
}

thread_local! {
    /// The [`Writer`]'s key spans and text buffer, kept from one message to the next
    /// (no allocation per message once they have grown).
    static BUFFERS: Cell<(Vec<KeySpan>, Vec<u8>)> = const { Cell::new((Vec::new(), Vec::new())) };
}

/// A buffer larger than this is not kept for the next message.
const KEEP_BYTES: usize = 64 * 1024;

/// A key written to the output: its span there, and whether `.` → `_` changed it.
type KeySpan = (usize, usize, bool);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The message object itself: key rewrite, caps, CloudTrail, time fields.
    Top,
    /// Inside the message: key rewrite and caps.
    Sanitized,
    /// Inside JSON text (over the depth cap, a CloudTrail text field): written plainly.
    Plain,
}

struct Writer<'m> {
    src: &'m [u8],
    pos: usize,
    limits: Limits,
    free_form_objects: bool,
    /// Keys counted against the field cap so far.
    fields: usize,
    /// Output spans of the keys of the objects being written (a stack).
    keys: Vec<KeySpan>,
    /// JSON text being built for a value written as a string.
    scratch: Vec<u8>,
    time: TimeFields<'m>,
    /// CloudTrail marker keys seen at the top.
    markers: usize,
}

impl<'m> Writer<'m> {
    /// The message: one object, nothing after it but whitespace.
    fn message(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.skip_ws();
        if self.peek()? != b'{' {
            return None;
        }
        self.object(out, 1, Mode::Top)?;
        self.skip_ws();
        (self.pos == self.src.len()).then_some(())
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == b).then(|| self.pos += 1)
    }

    fn object(&mut self, out: &mut Vec<u8>, depth: usize, mode: Mode) -> Option<()> {
        if depth > MAX_NESTING {
            return None;
        }
        self.pos += 1; // `{`
        out.push(b'{');
        let keys_base = self.keys.len();
        let mut renamed = false;
        let mut prev: Option<&'m [u8]> = None;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            out.push(b'}');
            return Some(());
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.key()?;
            if prev.is_some_and(|p| p >= key) || key == RAW_VALUE_TOKEN {
                return None;
            }
            prev = Some(key);
            self.eat(b':')?;
            if mode == Mode::Plain {
                out.push(b'"');
                out.extend_from_slice(key);
                out.extend_from_slice(b"\":");
                self.value(out, depth + 1, Mode::Plain)?;
            } else {
                self.fields += 1;
                if self.fields > self.limits.max_fields {
                    return None;
                }
                out.push(b'"');
                let start = out.len();
                out.extend_from_slice(key);
                let rewritten = key.contains(&b'.');
                if rewritten {
                    renamed = true;
                    for b in &mut out[start..] {
                        if *b == b'.' {
                            *b = b'_';
                        }
                    }
                }
                self.keys.push((start, out.len(), rewritten));
                out.extend_from_slice(b"\":");
                let value_at = out.len();
                if mode == Mode::Top {
                    self.top_field(key)?;
                }
                self.skip_ws();
                let container = matches!(self.peek()?, b'{' | b'[');
                // A CloudTrail free-form field as text, or a container over the depth
                // cap as text; a free-form field kept as an object is not counted
                // against the field cap (as the tree path gives it a budget of its own).
                let free_form = container && mode == Mode::Top && self.is_text_field(key)?;
                if (free_form && !self.free_form_objects)
                    || (container && depth + 1 > self.limits.max_depth)
                {
                    self.as_text(out, depth + 1)?;
                } else if free_form {
                    let (fields, cap) = (self.fields, self.limits.max_fields);
                    self.limits.max_fields = usize::MAX;
                    self.value(out, depth + 1, Mode::Sanitized)?;
                    (self.fields, self.limits.max_fields) = (fields, cap);
                } else {
                    self.value(out, depth + 1, Mode::Sanitized)?;
                }
                if mode == Mode::Top {
                    // The header's spans: the value as written, under its output name.
                    let key_out = &out[start..value_at - 2];
                    self.time.top.note(key_out, value_at, out.len());
                }
            }
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    out.push(b',');
                }
                b'}' => {
                    self.pos += 1;
                    out.push(b'}');
                    break;
                }
                _ => return None,
            }
        }
        if renamed && !distinct(out, &self.keys[keys_base..]) {
            return None;
        }
        self.keys.truncate(keys_base);
        Some(())
    }

    /// A top-level key: note CloudTrail markers and the time fields' values.
    fn top_field(&mut self, key: &'m [u8]) -> Option<()> {
        if CLOUDTRAIL_MARKERS.iter().any(|m| m.as_bytes() == key) {
            self.markers += 1;
        }
        let slot = if key == b"log" {
            Some(TimeFields::LOG)
        } else {
            crate::timestamp::WELL_KNOWN_FIELDS
                .iter()
                .position(|k| k.as_bytes() == key)
        };
        if let Some(slot) = slot {
            self.skip_ws();
            let field = match self.peek()? {
                b'"' => {
                    let start = self.pos + 1;
                    let end = self.string_end(start)?;
                    // Cut at ASCII quotes of a `str`: UTF-8.
                    Field::String(std::str::from_utf8(&self.src[start..end]).ok()?)
                }
                b'-' | b'0'..=b'9' => {
                    let (start, end) = self.number_span()?;
                    let text = std::str::from_utf8(&self.src[start..end]).ok()?;
                    Field::Number(int_number(text)?)
                }
                _ => Field::Other,
            };
            self.time.values[slot] = Some(field);
        }
        Some(())
    }

    /// Whether a top-level key is a CloudTrail text field of a CloudTrail event. The
    /// markers (`event…`) sort before `requestParameters`, `responseElements` and
    /// `serviceEventDetails`, so they are all known there; `additionalEventData` sorts
    /// before them, so the tree path takes that case.
    fn is_text_field(&self, key: &[u8]) -> Option<bool> {
        if !CLOUDTRAIL_TEXT_FIELDS.iter().any(|f| f.as_bytes() == key) {
            return Some(false);
        }
        if key == b"additionalEventData" {
            return None;
        }
        Some(self.markers == CLOUDTRAIL_MARKERS.len())
    }

    /// A container written as a JSON string holding its plain JSON text.
    fn as_text(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        self.value(&mut text, depth, Mode::Plain)?;
        out.reserve(text.len() + 2);
        out.push(b'"');
        // The text is compact JSON with no control bytes: only `"` and `\` need escaping.
        let mut from = 0;
        for (i, &b) in text.iter().enumerate() {
            if b == b'"' || b == b'\\' {
                out.extend_from_slice(&text[from..i]);
                out.push(b'\\');
                from = i;
            }
        }
        out.extend_from_slice(&text[from..]);
        out.push(b'"');
        self.scratch = text;
        Some(())
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize, mode: Mode) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'{' => self.object(out, depth, mode),
            b'[' => self.array(out, depth, mode),
            b'"' => {
                let start = self.pos;
                let end = self.string_end(start + 1)?;
                out.extend_from_slice(&self.src[start..=end]);
                self.pos = end + 1;
                Some(())
            }
            b'-' | b'0'..=b'9' => {
                let (start, end) = self.number_span()?;
                integer_ok(&self.src[start..end])?;
                out.extend_from_slice(&self.src[start..end]);
                self.pos = end;
                Some(())
            }
            b't' => self.literal(out, b"true"),
            b'f' => self.literal(out, b"false"),
            b'n' => self.literal(out, b"null"),
            _ => None,
        }
    }

    fn array(&mut self, out: &mut Vec<u8>, depth: usize, mode: Mode) -> Option<()> {
        if depth > MAX_NESTING {
            return None;
        }
        self.pos += 1; // `[`
        out.push(b'[');
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            out.push(b']');
            return Some(());
        }
        loop {
            self.skip_ws();
            let container = matches!(self.peek()?, b'{' | b'[');
            if mode != Mode::Plain && container && depth + 1 > self.limits.max_depth {
                self.as_text(out, depth + 1)?;
            } else {
                let mode = if mode == Mode::Plain {
                    Mode::Plain
                } else {
                    Mode::Sanitized
                };
                self.value(out, depth + 1, mode)?;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    out.push(b',');
                }
                b']' => {
                    self.pos += 1;
                    out.push(b']');
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn literal(&mut self, out: &mut Vec<u8>, word: &[u8]) -> Option<()> {
        if !self.src[self.pos..].starts_with(word) {
            return None;
        }
        self.pos += word.len();
        out.extend_from_slice(word);
        Some(())
    }

    /// A key (no escapes allowed): its bytes, the position moved past the closing quote.
    fn key(&mut self) -> Option<&'m [u8]> {
        let start = self.pos + 1;
        let i = plain_run(self.src, start);
        if *self.src.get(i)? != b'"' {
            return None;
        }
        self.pos = i + 1;
        Some(&self.src[start..i])
    }

    /// The index of the closing quote of the string whose text starts at `i`, if every
    /// escape in it is one serde_json writes the same way.
    fn string_end(&self, mut i: usize) -> Option<usize> {
        loop {
            i = plain_run(self.src, i);
            match *self.src.get(i)? {
                b'"' => return Some(i),
                b'\\' => match self.src.get(i + 1)? {
                    b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => i += 2,
                    _ => return None,
                },
                _ => return None, // a raw control byte: not JSON
            }
        }
    }

    /// The span of the number at the position (JSON number grammar, loosely: checked
    /// further by [`integer_ok`]).
    fn number_span(&self) -> Option<(usize, usize)> {
        let start = self.pos;
        let mut i = start;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.src.get(i) {
            i += 1;
        }
        Some((start, i))
    }
}

/// Whether the keys at `spans` (in `out`) are all different. They were strictly
/// increasing as read, so only a key the rewrite changed can equal another: each of
/// those is compared with the others (no allocation), unless that is many comparisons.
fn distinct(out: &[u8], spans: &[KeySpan]) -> bool {
    let key = |&(s, e, _): &KeySpan| &out[s..e];
    let rewritten = spans.iter().filter(|k| k.2).count();
    if rewritten.saturating_mul(spans.len()) <= 256 {
        return spans.iter().enumerate().filter(|(_, k)| k.2).all(|(i, r)| {
            let r = key(r);
            spans.iter().enumerate().all(|(j, k)| i == j || key(k) != r)
        });
    }
    let mut keys: Vec<&[u8]> = spans.iter().map(key).collect();
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_pass(text: &str, limits: Limits) -> Option<String> {
        let mut out = Vec::new();
        write_message(text, limits, false, &mut out).map(|_| String::from_utf8(out).unwrap())
    }

    #[test]
    fn canonical_messages_take_the_one_pass_path() {
        let l = Limits::default();
        assert_eq!(
            one_pass(
                r#" {"a":1, "b.c":{"d.e":[true,null,-5,"x\n\"y\""]},"z":"é"} "#,
                l
            )
            .as_deref(),
            Some(r#"{"a":1,"b_c":{"d_e":[true,null,-5,"x\n\"y\""]},"z":"é"}"#)
        );
        // Over the depth cap and CloudTrail's free-form fields: JSON text.
        assert_eq!(
            one_pass(
                r#"{"a":{"b":{"c":"q\""}}}"#,
                Limits {
                    max_depth: 2,
                    max_fields: 9
                }
            )
            .as_deref(),
            Some(r#"{"a":{"b":"{\"c\":\"q\\\"\"}"}}"#)
        );
        let trail = r#"{"eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1","requestParameters":{"x.y":1}}"#;
        assert_eq!(
            one_pass(trail, l).as_deref(),
            Some(
                r#"{"eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1","requestParameters":"{\"x.y\":1}"}"#
            )
        );
    }

    #[test]
    fn what_the_tree_path_writes_differently_is_left_to_it() {
        let l = Limits::default();
        for text in [
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":1.5}"#,
            r#"{"a":-0}"#,
            r#"{"a":01}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\u0041"}"#,
            r#"{"k\"":1}"#,
            r#"{"a.b":1,"a_b":2}"#,
            r#"{"$serde_json::private::RawValue":"1"}"#,
            r#"{"additionalEventData":{}}"#,
            r#"{"a":1} x"#,
            r#"{"a":1"#,
            "[1]",
            "text",
        ] {
            assert_eq!(one_pass(text, l), None, "{text}");
        }
        assert_eq!(
            one_pass(
                r#"{"a":1,"b":2}"#,
                Limits {
                    max_depth: 8,
                    max_fields: 1
                }
            ),
            None
        );
    }
}
