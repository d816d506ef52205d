//! The one-pass path for a JSON message: read the message text once and write the
//! sanitized message straight out, with no tree, when the text is already in the form
//! the tree path would write, but for the order of keys, the notation of floats and
//! string escapes (`\/`, `\uXXXX`: [`strings`]).
//!
//! The tree path ([`super::json`] + [`super::sanitize`]) parses the message into a
//! sorted tree and writes it back with `serde_json`: keys sorted and de-duplicated,
//! numbers and strings in serde_json's canonical form, `.` → `_` in keys, depth and field
//! caps, CloudTrail's free-form fields as text. Most messages (anything written by a
//! serde_json `Value`, a Python `json.dumps(sort_keys=True)`, …) already are in that form,
//! so copying them through with only the key rewrite gives the same bytes, and most
//! others differ only in the order of their keys. This path does exactly that, and
//! **gives up** (returns `None`, the caller then takes the tree path) on
//! anything it is not sure to write byte for byte as the tree path would:
//!
//! - a repeated key (the tree keeps its last value), a key with an escape in it, or the
//!   `serde_json` raw-value token;
//! - a lone surrogate (`\ud800`), which serde_json refuses (a string with other
//!   `\uXXXX` escapes or `\/` is read by serde_json and written again, [`strings`]);
//! - `-0` (the tree writes `-0.0`), integers past `i64`/`u64` (the tree writes them as
//!   floats), numbers out of range; floats it writes as serde_json writes the number it
//!   reads (`0.10` → `0.1`, `1e3` → `1000.0`);
//! - more fields than the field cap (the `_overflow` text), two keys with the same name
//!   after the `.` → `_` rewrite (the `_2` suffix), nesting past 100 levels;
//! - anything that is not valid JSON, or trailing text.
//!
//! It writes, like the tree path, containers deeper than the depth cap and the CloudTrail
//! free-form fields as JSON text (or, with free-form objects on, those fields as
//! objects outside the field cap). An object whose keys come unsorted (most loggers write
//! them in their own order: nginx's `log_format`, CloudTrail, fluentd) is written as it is
//! read, then its members are put in key order in place ([`Writer::sort_members`]): one
//! copy of the object's bytes, no tree. `tests/it/documents.rs` holds both paths to the
//! same bytes on generated messages (proptest: sorted, reversed and shuffled keys among
//! other shapes), and the snapshots hold both to the fixtures.

mod members;
mod strings;
mod top;

use std::cell::Cell;
use std::cmp::Ordering;

use self::members::{Member, distinct};

use super::escape;
use super::scan::write_number;
pub(super) use super::time_fields::{Field, TimeFields};
use super::{CLOUDTRAIL_MARKERS, CLOUDTRAIL_TEXT_FIELDS, Limits};
use crate::json_bytes::{has_byte, plain_run};

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
    let (mut members, mut scratch) = BUFFERS.take();
    members.clear();
    if members.capacity() * std::mem::size_of::<Member>() > KEEP_BYTES {
        members = Vec::new();
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
        members,
        scratch,
        time: TimeFields::default(),
        markers: 0,
        text_field_before_markers: false,
    };
    let whole = w.message(out);
    BUFFERS.set((
        std::mem::take(&mut w.members),
        std::mem::take(&mut w.scratch),
    ));
    whole?;
    w.time.cloudtrail = w.markers == CLOUDTRAIL_MARKERS.len();
    Some(w.time)
}

thread_local! {
    /// The [`Writer`]'s members and text buffer, kept from one message to the next (no
    /// allocation per message once they have grown).
    static BUFFERS: Cell<(Vec<Member>, Vec<u8>)> = const { Cell::new((Vec::new(), Vec::new())) };
}

/// A buffer larger than this is not kept for the next message.
const KEEP_BYTES: usize = 64 * 1024;

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
    /// The members of the objects being written, as written (a stack).
    members: Vec<Member>,
    /// JSON text being built for a value written as a string.
    scratch: Vec<u8>,
    time: TimeFields<'m>,
    /// CloudTrail marker keys seen at the top.
    markers: usize,
    /// A CloudTrail free-form field was written as a plain value before all the markers
    /// were read (unsorted keys): written again as text if they turn out complete.
    text_field_before_markers: bool,
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
        let base = self.members.len();
        let mut renamed = false;
        let mut unsorted = false;
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
            let src_start = self.pos + 1;
            let key = self.key()?;
            if key == RAW_VALUE_TOKEN {
                return None;
            }
            match prev.map(|p| p.cmp(key)) {
                // A repeated key: the tree keeps its last value.
                Some(Ordering::Equal) => return None,
                Some(Ordering::Greater) => unsorted = true,
                _ => {}
            }
            prev = Some(key);
            self.eat(b':')?;
            out.push(b'"');
            let key_start = out.len();
            out.extend_from_slice(key);
            if mode == Mode::Plain {
                self.members.push(Member {
                    key_start,
                    key_end: out.len(),
                    src_start,
                    rewritten: false,
                });
                out.extend_from_slice(b"\":");
                self.value(out, depth + 1, Mode::Plain)?;
            } else {
                self.fields += 1;
                if self.fields > self.limits.max_fields {
                    return None;
                }
                let rewritten = has_byte(key, b'.');
                if rewritten {
                    renamed = true;
                    for b in &mut out[key_start..] {
                        if *b == b'.' {
                            *b = b'_';
                        }
                    }
                }
                self.members.push(Member {
                    key_start,
                    key_end: out.len(),
                    src_start,
                    rewritten,
                });
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
                let free_form = container && mode == Mode::Top && self.is_text_field(key);
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
                    let key_out = &out[key_start..value_at - 2];
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
                    break;
                }
                _ => return None,
            }
        }
        if renamed && !distinct(out, &self.members[base..]) {
            return None;
        }
        let top = mode == Mode::Top;
        if unsorted || (top && self.text_fields_to_rewrite()) {
            self.sort_members(out, base, top)?;
        }
        out.push(b'}');
        self.members.truncate(base);
        Some(())
    }

    /// A container written as a JSON string holding its plain JSON text.
    fn as_text(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        let written = self.value(&mut text, depth, Mode::Plain).and_then(|()| {
            // Bytes of the message, copied whole between its tokens: UTF-8.
            escape::json_string(out, crate::utf8::as_str(&text).ok()?);
            Some(())
        });
        self.scratch = text;
        written
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize, mode: Mode) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'{' => self.object(out, depth, mode),
            b'[' => self.array(out, depth, mode),
            b'"' => self.string(out),
            b'-' | b'0'..=b'9' => {
                let (start, end) = self.number_span()?;
                write_number(&self.src[start..end], out)?;
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

    /// The span of the number at the position (JSON number grammar, loosely: checked
    /// further by [`write_number`]).
    fn number_span(&self) -> Option<(usize, usize)> {
        let start = self.pos;
        let mut i = start;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.src.get(i) {
            i += 1;
        }
        Some((start, i))
    }
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
    fn unsorted_keys_are_put_in_order_without_a_tree() {
        let l = Limits::default();
        assert_eq!(
            one_pass(r#"{"b":1,"a":{"z":[{"d":1,"c":2}],"y":"\"q"},"c":null}"#, l).as_deref(),
            Some(r#"{"a":{"y":"\"q","z":[{"c":2,"d":1}]},"b":1,"c":null}"#)
        );
        // Over the depth cap: the JSON text is in key order too.
        assert_eq!(
            one_pass(
                r#"{"a":{"b":{"d":1,"c":2}}}"#,
                Limits {
                    max_depth: 2,
                    max_fields: 9
                }
            )
            .as_deref(),
            Some(r#"{"a":{"b":"{\"c\":2,\"d\":1}"}}"#)
        );
        // CloudTrail in its own order: the free-form field as text, its keys sorted.
        let trail = r#"{"eventVersion":"1","eventTime":"t","eventSource":"s","eventName":"n","requestParameters":{"y":1,"x":2}}"#;
        assert_eq!(
            one_pass(trail, l).as_deref(),
            Some(
                r#"{"eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1","requestParameters":"{\"x\":2,\"y\":1}"}"#
            )
        );
        // Sorted by the keys as read: `a.c` before `a0`, though `a_c` is after it.
        assert_eq!(
            one_pass(r#"{"b":{"d":1,"c":2},"a0":3,"a.c":1}"#, l).as_deref(),
            Some(r#"{"a_c":1,"a0":3,"b":{"c":2,"d":1}}"#)
        );
        // A free-form field before the last marker: written again, as text.
        let late = r#"{"requestParameters":{"y":[1,{"b":2,"a":3}]},"eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1","responseElements":null}"#;
        assert_eq!(
            one_pass(late, l).as_deref(),
            Some(
                r#"{"eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1","requestParameters":"{\"y\":[1,{\"a\":3,\"b\":2}]}","responseElements":null}"#
            )
        );
        // `additionalEventData` comes before the markers in key order.
        let sorted = r#"{"additionalEventData":{"b":1},"eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1"}"#;
        assert_eq!(
            one_pass(sorted, l).as_deref(),
            Some(
                r#"{"additionalEventData":"{\"b\":1}","eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1"}"#
            )
        );
        // Not CloudTrail (a marker missing): the same field stays an object.
        assert_eq!(
            one_pass(r#"{"requestParameters":{"b":1,"a":2},"eventName":"n"}"#, l).as_deref(),
            Some(r#"{"eventName":"n","requestParameters":{"a":2,"b":1}}"#)
        );
    }

    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        let text =
            r#"{"a":1.50,"b":1e3,"c":-0.0,"d":2.5E-3,"e":0.1,"f":[1E+2,123456789.123456789]}"#;
        let tree = serde_json::from_str::<serde_json::Value>(text)
            .unwrap()
            .to_string();
        assert_eq!(
            one_pass(text, Limits::default()).as_deref(),
            Some(
                r#"{"a":1.5,"b":1000.0,"c":-0.0,"d":0.0025,"e":0.1,"f":[100.0,123456789.12345679]}"#
            )
        );
        assert_eq!(one_pass(text, Limits::default()), Some(tree));
        // A float time field (epoch seconds) is read on the way, not left to the tree.
        assert_eq!(
            one_pass(r#"{"time":1795327200.125e0}"#, Limits::default()).as_deref(),
            Some(r#"{"time":1795327200.125}"#)
        );
    }

    #[test]
    fn unicode_escapes_are_written_as_serde_json_writes_the_character() {
        // Go's `encoding/json` and Python's `json.dumps` (ASCII only) escapes, a surrogate
        // pair, `\/`, control characters, and escapes inside a free-form field's text.
        let text = r#"{"b":"a\u0026b\u003c\u003e\/","a":"caf\u00e9 \ud83d\ude00 \u0022\u005c\u000A\u0001\u007f","eventName":"n","eventSource":"s","eventTime":"t","eventVersion":"1","requestParameters":{"q":"x\u0026y"}}"#;
        let tree = serde_json::from_str::<serde_json::Value>(text).unwrap();
        let mut tree = tree.as_object().unwrap().clone();
        let params = tree["requestParameters"].to_string();
        tree.insert("requestParameters".into(), params.into());
        assert_eq!(
            one_pass(text, Limits::default()).as_deref(),
            Some(
                "{\"a\":\"café 😀 \\\"\\\\\\n\\u0001\u{7f}\",\"b\":\"a&b<>/\",\"eventName\":\"n\",\"eventSource\":\"s\",\"eventTime\":\"t\",\"eventVersion\":\"1\",\"requestParameters\":\"{\\\"q\\\":\\\"x&y\\\"}\"}"
            )
        );
        assert_eq!(
            one_pass(text, Limits::default()),
            Some(serde_json::Value::Object(tree).to_string())
        );
        // Time fields and `log` with escapes (Docker's JSON log lines are Go's) are read
        // on the way too.
        assert_eq!(
            one_pass(
                r#"{"log":"GET /a?b=1\u0026c=2","time":"2026-11-30T10:00:00\u002b00:00"}"#,
                Limits::default()
            )
            .as_deref(),
            Some(r#"{"log":"GET /a?b=1&c=2","time":"2026-11-30T10:00:00+00:00"}"#)
        );
    }

    #[test]
    fn what_the_tree_path_writes_differently_is_left_to_it() {
        let l = Limits::default();
        for text in [
            r#"{"a":1,"a":2}"#,
            // Repeated, not next to each other; at any depth.
            r#"{"b":1,"a":2,"b":3}"#,
            r#"{"x":{"b":1,"a":2,"b":3}}"#,
            // Unsorted, and two keys the same after the rewrite.
            r#"{"b":1,"a.c":2,"a_c":3}"#,
            r#"{"a":-0}"#,
            r#"{"a":1e400}"#,
            r#"{"a":1.}"#,
            r#"{"a":1.e5}"#,
            r#"{"a":1e}"#,
            r#"{"a":+1}"#,
            r#"{"a":.5}"#,
            r#"{"a":01}"#,
            r#"{"a":18446744073709551616}"#,
            // A lone surrogate (serde_json refuses it), in a value or a time field.
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00\ud800"}"#,
            r#"{"log":"x\ud800"}"#,
            r#"{"k\"":1}"#,
            r#"{"a.b":1,"a_b":2}"#,
            r#"{"$serde_json::private::RawValue":"1"}"#,
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
