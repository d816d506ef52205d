//! The safe form of a document the index refused for its content (a field-type
//! conflict, the total-fields limit): `message` (and an audit record's `attributes`)
//! becomes `{"log": "<original text>"}`,
//! which the index template maps as text, and `ingest_error` says what happened.
//! Everything else (times, envelope fields, id, index) stays as it was.
//!
//! This is one of the two places that read a built document's JSON again (the other is
//! the archive's truncation of documents over 1000 KiB), on purpose: it runs only for a
//! document the index refused, after one bulk round trip and before another, where one
//! parse is noise; and its bytes are serde_json's rendering of the parsed document
//! (fields sorted, the message re-rendered with its keys sorted). Writing them from the
//! document's header would need the header to carry every field of log, audit and
//! replayed documents and a byte-exact copy of that rendering, and the parse would
//! still be needed for messages whose keys are out of order once rewritten (`a.b` →
//! `a_b`, `_overflow`). Alerts, the archive's records and the bulk body never parse.

use serde_json::{Map, Value};

use crate::document::Document;

/// Longest `ingest_error.reason` kept (bytes, cut at a character boundary).
const MAX_REASON: usize = 1024;

/// The safe form of `doc`, or `None` when its source is not a JSON object (it then
/// cannot be fixed and goes to the dead letter).
pub fn safe_form(doc: &Document, error_type: &str, reason: &str) -> Option<Document> {
    let mut source: Map<String, Value> = serde_json::from_str(&doc.source).ok()?;
    let text = match source.remove("message") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(Value::Object(mut obj))
            if obj.len() == 1 && obj.get("log").is_some_and(Value::is_string) =>
        {
            match obj.remove("log") {
                Some(Value::String(s)) => s,
                _ => String::new(),
            }
        }
        Some(other) => other.to_string(),
    };
    // Audit-record documents keep what the caller sent in `attributes`: it becomes text
    // the same way.
    let text = match source.remove("attributes") {
        None | Some(Value::Null) => text,
        Some(attributes) if text.is_empty() => attributes.to_string(),
        Some(attributes) => format!("{text}\n{attributes}"),
    };
    let mut message = Map::with_capacity(1);
    message.insert("log".to_owned(), Value::String(text));
    source.insert("message".to_owned(), Value::Object(message));
    let mut error = Map::with_capacity(2);
    error.insert("type".to_owned(), Value::String(error_type.to_owned()));
    error.insert("reason".to_owned(), Value::String(cut(reason).to_owned()));
    source.insert("ingest_error".to_owned(), Value::Object(error));
    Some(Document {
        id: doc.id.clone(),
        index: doc.index.clone(),
        source: serde_json::to_string(&source).ok()?,
        header: doc.header.detached(),
    })
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_REASON {
        return s;
    }
    let mut end = MAX_REASON;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(source: &str) -> Document {
        Document::from_source("abc".into(), "csoc-logs-2018.03.08".into(), source.into())
    }

    #[test]
    fn a_json_message_becomes_its_text() {
        let d = doc(
            r#"{"@timestamp":"2018-03-08T14:42:27.570Z","message":{"http_response_time":"slow","n":1},"owner":"1"}"#,
        );
        let safe = safe_form(&d, "mapper_parsing_exception", "failed to parse").expect("safe");
        assert_eq!(safe.id, d.id);
        assert_eq!(safe.index, d.index);
        let v: Value = serde_json::from_str(&safe.source).expect("json");
        assert_eq!(
            v["message"]["log"],
            r#"{"http_response_time":"slow","n":1}"#
        );
        assert_eq!(v["ingest_error"]["type"], "mapper_parsing_exception");
        assert_eq!(v["ingest_error"]["reason"], "failed to parse");
        assert_eq!(v["owner"], "1");
        assert_eq!(v["@timestamp"], "2018-03-08T14:42:27.570Z");
    }

    #[test]
    fn a_text_message_keeps_its_text() {
        let d = doc(r#"{"message":{"log":"plain text"}}"#);
        let v: Value =
            serde_json::from_str(&safe_form(&d, "t", "r").expect("safe").source).expect("json");
        assert_eq!(v["message"]["log"], "plain text");
    }

    #[test]
    fn long_reasons_are_cut_and_bad_sources_refused() {
        let d = doc(r#"{"message":{"log":"x"}}"#);
        let reason = "é".repeat(2000);
        let v: Value =
            serde_json::from_str(&safe_form(&d, "t", &reason).expect("safe").source).expect("json");
        assert!(v["ingest_error"]["reason"].as_str().expect("str").len() <= MAX_REASON);
        assert!(safe_form(&doc("not json"), "t", "r").is_none());
        assert!(safe_form(&doc("[1]"), "t", "r").is_none());
    }
}
