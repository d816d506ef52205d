//! A built document's rewritten forms, spliced from its header's spans: the index's safe
//! form (after a mapping-conflict refusal) and the archive's truncated record (over
//! Firehose's record limit). Both keep every other top-level member as it was written,
//! and put the message's text, with an audit record's `attributes` after it, in
//! `{"log": …}`. Nothing here parses the document: the header says where the members a
//! rewrite replaces were written ([`Members`]), and the text is spliced as escaped JSON
//! string contents, never unescaped.

use std::borrow::Cow;

use super::Document;
use super::header::Span;

/// The member the index's safe form adds: `{"type": …, "reason": …}`.
pub const INGEST_ERROR: &str = "ingest_error";
/// The member the archive's truncated record adds: `{"original_bytes": N, "id": …}`.
pub const ARCHIVE_TRUNCATED: &str = "_archive_truncated";

/// Where the top-level members a rewrite replaces were written, each from its key's
/// opening quote to its value's end. Not `rewritable` when the source's members are not
/// known: a document read back that is not a JSON object, or whose key for one of these
/// is written with escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Members {
    pub(super) rewritable: bool,
    pub(super) message: Span,
    pub(super) attributes: Span,
    pub(super) ingest_error: Span,
    pub(super) archive_truncated: Span,
}

impl Members {
    /// The members of a log document whose message, the last member, was written at
    /// `value_at..value_end` (after `"message":`).
    pub(super) fn log(value_at: usize, value_end: usize) -> Self {
        Self {
            rewritable: true,
            message: Span::new(value_at.saturating_sub(b"\"message\":".len()), value_end),
            ..Self::default()
        }
    }

    /// The members of an audit-record document, whose `attributes` were written at
    /// `start..end` (key included); it has no message.
    pub(super) fn audit(attributes: Span) -> Self {
        Self {
            rewritable: true,
            attributes,
            ..Self::default()
        }
    }

    fn spans(&self) -> [Span; 4] {
        [
            self.message,
            self.attributes,
            self.ingest_error,
            self.archive_truncated,
        ]
    }
}

/// Where the member `"key": value` starts in `source`, given its value's start; `None`
/// when the key is not written as plain `"key"` right before it (whitespace allowed).
pub(super) fn member_start(source: &str, key: &str, value_start: usize) -> Option<usize> {
    let before = source.get(..value_start)?.trim_end().strip_suffix(':')?;
    let quoted = before.trim_end().strip_suffix('"')?.strip_suffix(key)?;
    Some(quoted.strip_suffix('"')?.len())
}

/// A document taken apart for a rewrite (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts<'a> {
    /// Runs of the other members, as written, each without a leading or trailing comma.
    kept: Vec<&'a str>,
    /// The message's text (a text message's own, any other message's JSON as written),
    /// then an audit record's `attributes` as JSON on a new line, as the contents of a
    /// JSON string (escaped, no quotes).
    pub text: Cow<'a, str>,
}

impl Document {
    /// This document taken apart for a rewrite; `None` when its members are not known
    /// (see [`Members`]).
    pub fn parts(&self) -> Option<Parts<'_>> {
        let members = &self.header.members;
        if !members.rewritable {
            return None;
        }
        let source = self.source.as_str();
        let open = source.find('{')? + 1;
        let close = source.rfind('}')?;
        let mut cuts: Vec<_> = members.spans().iter().filter_map(|s| s.range()).collect();
        cuts.sort_unstable_by_key(|r| r.start);
        let mut kept = Vec::with_capacity(cuts.len() + 1);
        let mut at = open;
        for cut in cuts.iter().chain([&(close..close)]) {
            let run = trim_run(source.get(at..cut.start)?);
            if !run.is_empty() {
                kept.push(run);
            }
            at = cut.end;
        }
        let value = |span: Span, key: &str| {
            let member = span.get(source)?;
            Some(
                member
                    .get(key.len() + 2..)?
                    .trim_start()
                    .strip_prefix(':')?
                    .trim_start(),
            )
        };
        let mut text = value(members.message, "message").map_or(Cow::Borrowed(""), message_text);
        if let Some(attributes) = value(members.attributes, "attributes").filter(|v| *v != "null") {
            if !text.is_empty() {
                text.to_mut().push_str("\\n");
            }
            escape_into(text.to_mut(), attributes);
        }
        Some(Parts { kept, text })
    }
}

impl<'a> Parts<'a> {
    /// The parts of a source whose members are not known: all of it is the text.
    pub fn whole(source: &str) -> Parts<'a> {
        let mut text = String::with_capacity(source.len() + source.len() / 8);
        escape_into(&mut text, source);
        Parts {
            kept: Vec::new(),
            text: Cow::Owned(text),
        }
    }

    /// The parts as a document: the kept members, `"message":{"log":"<text>"}` (`text`:
    /// JSON string contents, [`Parts::text`] or a start of it), then each of `extra`
    /// (a plain key, a JSON value).
    pub fn source(&self, text: &str, extra: &[(&str, &str)]) -> String {
        let len = self.kept.iter().map(|r| r.len() + 1).sum::<usize>()
            + text.len()
            + extra
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>()
            + 24;
        let mut out = String::with_capacity(len);
        out.push('{');
        for run in &self.kept {
            out.push_str(run);
            out.push(',');
        }
        out.push_str("\"message\":{\"log\":\"");
        out.push_str(text);
        out.push_str("\"}");
        for (key, value) in extra {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            out.push_str(value);
        }
        out.push('}');
        out
    }
}

/// A run of members between two cut ones: without the whitespace and the one comma on
/// each side that separated it from them.
fn trim_run(run: &str) -> &str {
    let run = run.trim();
    let run = run.strip_prefix(',').unwrap_or(run).trim_start();
    run.strip_suffix(',').unwrap_or(run).trim_end()
}

/// The text of a message value, as JSON string contents: a string's own, a `{"log":
/// "…"}`'s, `""` for `null`, else the value's JSON escaped as text.
fn message_text(value: &str) -> Cow<'_, str> {
    if value == "null" {
        return Cow::Borrowed("");
    }
    let log_only = || {
        let rest = value
            .strip_prefix('{')?
            .trim_start()
            .strip_prefix("\"log\"")?;
        let token = rest.trim_start().strip_prefix(':')?.strip_suffix('}')?;
        string_contents(token.trim())
    };
    match string_contents(value).or_else(log_only) {
        Some(contents) => Cow::Borrowed(contents),
        None => {
            let mut text = String::with_capacity(value.len() + value.len() / 8);
            escape_into(&mut text, value);
            Cow::Owned(text)
        }
    }
}

/// The contents of `token` when it is exactly one JSON string.
fn string_contents(token: &str) -> Option<&str> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return None,
            _ => i += 1,
        }
    }
    (i == bytes.len()).then_some(inner)
}

/// Appends `text` escaped as the contents of a JSON string (serde_json's escaping).
pub fn escape_into(out: &mut String, text: &str) {
    // A string always serializes; its quotes are dropped.
    let quoted = serde_json::to_string(text).unwrap_or_default();
    out.push_str(
        quoted
            .get(1..quoted.len().saturating_sub(1))
            .unwrap_or_default(),
    );
}

/// The longest start of `text` (JSON string contents) of at most `max` bytes that ends
/// between two characters: never inside an escape, a surrogate pair or a UTF-8 sequence.
pub fn cut_escaped(text: &str, max: usize) -> &str {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let unit = match bytes[end] {
            b'\\' if bytes.get(end + 1) == Some(&b'u') => {
                let high = text
                    .get(end + 2..end + 6)
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                    .is_some_and(|u| (0xD800..0xDC00).contains(&u));
                if high && text.get(end + 6..end + 8) == Some("\\u") {
                    12
                } else {
                    6
                }
            }
            b'\\' => 2,
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            _ => 2,
        };
        if end + unit > max.min(bytes.len()) {
            break;
        }
        end += unit;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(source: &str) -> Document {
        Document::from_source("i".to_owned(), "x".to_owned(), source.to_owned())
    }

    fn rewritten(source: &str) -> Option<String> {
        let d = doc(source);
        let parts = d.parts()?;
        Some(parts.source(&parts.text, &[(INGEST_ERROR, "{}")]))
    }

    #[test]
    fn the_message_and_the_attributes_become_text_and_the_rest_stays() {
        let cases = [
            (
                r#"{"a":1,"message":{"log":"hi \"x\""},"z":[2]}"#,
                r#"{"a":1,"z":[2],"message":{"log":"hi \"x\""},"ingest_error":{}}"#,
            ),
            (
                r#"{"message":{"b":"c","n":1}}"#,
                r#"{"message":{"log":"{\"b\":\"c\",\"n\":1}"},"ingest_error":{}}"#,
            ),
            (
                r#"{ "message" : "s" , "attributes" : {"k":"v"} , "ingest_error" : 5 }"#,
                r#"{"message":{"log":"s\n{\"k\":\"v\"}"},"ingest_error":{}}"#,
            ),
            (
                r#"{"attributes":{"k":1},"ingest_error":{},"b":true}"#,
                r#"{"b":true,"message":{"log":"{\"k\":1}"},"ingest_error":{}}"#,
            ),
            (
                r#"{"message":null,"_archive_truncated":{"id":"i"}}"#,
                r#"{"message":{"log":""},"ingest_error":{}}"#,
            ),
            ("{}", r#"{"message":{"log":""},"ingest_error":{}}"#),
        ];
        for (source, want) in cases {
            let got = rewritten(source).expect(source);
            assert_eq!(got, want, "{source}");
            serde_json::from_str::<serde_json::Value>(&got).expect("JSON");
        }
    }

    #[test]
    fn documents_whose_members_are_not_known_are_not_rewritten() {
        for source in [
            "not json",
            "[1]",
            r#"{"mess\u0061ge":1}"#,
            r#"{"message":1,"message":2}"#,
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
        assert!(rewritten(r#"{"owner":5,"message":"m"}"#).is_some());
    }

    #[test]
    fn cuts_end_between_characters() {
        let text = r#"a\"é\u0001😀\ud83d\ude00"#;
        let ends: Vec<usize> = (0..=text.len())
            .map(|max| cut_escaped(text, max).len())
            .collect();
        for (max, end) in ends.iter().enumerate() {
            assert!(*end <= max);
            let cut = &text[..*end];
            serde_json::from_str::<String>(&format!("\"{cut}\"")).expect(cut);
        }
        let mut stops: Vec<usize> = ends.clone();
        stops.dedup();
        assert_eq!(stops, [0, 1, 3, 5, 11, 15, 27]);
    }
}
