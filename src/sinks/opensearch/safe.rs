//! The safe form of a document the index refused for its content (a field-type
//! conflict, the total-fields limit): `message` (and an audit record's `attributes`)
//! becomes `{"log": "<original text>"}`, which the index template maps as text, and
//! `ingest_error` says what happened. Every other member (times, envelope fields) stays
//! as it was written, and so do the id and the index.
//!
//! It is spliced from the document's header ([`Document::parts`]): nothing parses the
//! document again.

use crate::document::{Document, INGEST_ERROR, escape_into};

/// Longest `ingest_error.reason` kept (bytes, cut at a character boundary).
const MAX_REASON: usize = 1024;

/// The safe form of `doc`, or `None` when its members are not known (a document read
/// back that is not a JSON object): it then cannot be fixed and goes to the dead letter.
pub fn safe_form(doc: &Document, error_type: &str, reason: &str) -> Option<Document> {
    let parts = doc.parts()?;
    let mut error = String::with_capacity(error_type.len() + reason.len().min(MAX_REASON) + 24);
    error.push_str("{\"type\":\"");
    escape_into(&mut error, error_type);
    error.push_str("\",\"reason\":\"");
    escape_into(&mut error, cut(reason));
    error.push_str("\"}");
    Some(Document {
        id: doc.id.clone(),
        index: doc.index.clone(),
        source: parts.source(&parts.text, &[(INGEST_ERROR, &error)]),
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
    use serde_json::Value;

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
