//! The rewritten forms of a document, spliced from its header (the index's safe form,
//! the archive's truncated record), held to what a parse of the document says they
//! must hold: every other member unchanged, the message's text (and an audit record's
//! attributes) in `{"log": …}`, the marker member.

use csoc_forwarder::document::{self, Document};
use csoc_forwarder::sinks::firehose::archive::{self, TRUNCATED_FIELD};
use csoc_forwarder::sinks::opensearch::safe::safe_form;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::{builder, envelope, fixture_documents};

/// The text a rewrite keeps of `fields`' message and attributes (taking them out): a
/// text message's text, any other message's JSON, the attributes' JSON on a new line.
fn text_of(fields: &mut Map<String, Value>) -> String {
    let text = match fields.remove("message") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(Value::Object(m)) if m.len() == 1 && m.get("log").is_some_and(Value::is_string) => {
            m["log"].as_str().unwrap_or_default().to_owned()
        }
        Some(other) => other.to_string(),
    };
    match fields.remove("attributes") {
        None | Some(Value::Null) => text,
        Some(a) if text.is_empty() => a.to_string(),
        Some(a) => format!("{text}\n{a}"),
    }
}

/// The document's members as a parse reads them, and the text a rewrite keeps.
fn expected(source: &str) -> (Map<String, Value>, String) {
    let mut fields: Map<String, Value> = serde_json::from_str(source).expect("an object");
    fields.remove(document::INGEST_ERROR);
    fields.remove(TRUNCATED_FIELD);
    let text = text_of(&mut fields);
    (fields, text)
}

/// A JSON text with its message written in text and back: what `text_of` gives is
/// JSON compared as values (the document writes a message's JSON as it was written).
fn same_text(got: &str, want: &str) -> bool {
    got == want
        || matches!(
            (serde_json::from_str::<Value>(got), serde_json::from_str::<Value>(want)),
            (Ok(a), Ok(b)) if a == b
        )
}

fn check_safe_form(doc: &Document) {
    let safe = safe_form(doc, "mapper_parsing_exception", "bad \"field\"").expect("a safe form");
    assert_eq!((&safe.id, &safe.index), (&doc.id, &doc.index));
    let mut got: Map<String, Value> = serde_json::from_str(&safe.source).expect("JSON");
    let error = got.remove(document::INGEST_ERROR).expect("ingest_error");
    assert_eq!(
        error,
        json!({"type": "mapper_parsing_exception", "reason": "bad \"field\""})
    );
    let message = got.remove("message").expect("message");
    let (want, text) = expected(&doc.source);
    assert_eq!(got, want, "{}", doc.source);
    assert_eq!(message.as_object().map(Map::len), Some(1));
    let log = message["log"].as_str().expect("log text");
    assert!(same_text(log, &text), "{log:?} != {text:?}");
}

fn check_truncated(doc: &Document, limit: usize) {
    let record = archive::record_with_limit(doc, limit);
    let line = std::str::from_utf8(&record.bytes).expect("UTF-8");
    assert!(line.ends_with('\n'));
    let (id, source) = archive::split_id(line).expect("the id first");
    assert_eq!(id, doc.id);
    let mut got: Map<String, Value> = serde_json::from_str(&source).expect("JSON");
    if record.truncated_from.is_none() {
        assert_eq!(source, doc.source);
        return;
    }
    assert_eq!(record.truncated_from, Some(doc.source.len()));
    let marker = got.remove(TRUNCATED_FIELD).expect("marker");
    assert_eq!(
        marker,
        json!({"original_bytes": doc.source.len(), "id": doc.id})
    );
    let kept = got.remove("message").expect("message")["log"]
        .as_str()
        .expect("log text")
        .to_owned();
    let (want, text) = expected(&doc.source);
    if got.is_empty() && !want.is_empty() {
        // The other members left no room: the start of the whole source is kept.
        assert!(doc.source.starts_with(&kept), "{kept:?}");
    } else {
        assert_eq!(got, want);
        assert!(
            text.starts_with(&kept) || same_text(&kept, &text),
            "{kept:?}"
        );
    }
    assert!(
        record.bytes.len() <= limit,
        "{} > {limit}",
        record.bytes.len()
    );
    if !same_text(&kept, &text) {
        // As much as fits: the next character (12 bytes at most, escaped) did not.
        assert!(
            record.bytes.len() + 12 > limit,
            "{} of {limit}",
            record.bytes.len()
        );
    }
}

#[test]
fn the_fixtures_rewritten_keep_every_member_and_their_text() {
    for name in crate::common::kinesis_fixtures() {
        for doc in fixture_documents(&name) {
            check_safe_form(&doc);
            check_truncated(&doc, doc.source.len() / 2 + 300);
            let read_back =
                Document::from_source(doc.id.clone(), doc.index.clone(), doc.source.clone());
            assert_eq!(read_back.parts(), doc.parts(), "{}", doc.source);
        }
    }
}

#[test]
fn audit_documents_rewritten_keep_their_attributes_as_text() {
    let (_, docs) = crate::common::fixture_audit_documents();
    assert!(!docs.is_empty());
    for doc in docs {
        check_safe_form(&doc);
        let (_, text) = expected(&doc.source);
        assert!(text.starts_with('{'), "the attributes: {text}");
        check_truncated(&doc, doc.source.len() / 2 + 200);
        let read_back =
            Document::from_source(doc.id.clone(), doc.index.clone(), doc.source.clone());
        assert_eq!(read_back.parts(), doc.parts());
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}|[\"\\\\\n\u{1}é😀]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z.]{0,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A document read back: members (the ones a rewrite replaces among them) in any
/// order, with or without whitespace.
fn arb_read_back() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "message",
        "attributes",
        document::INGEST_ERROR,
        TRUNCATED_FIELD,
        "@timestamp",
        "owner",
        "a",
        "b.c",
    ]);
    (
        proptest::collection::btree_map(key, arb_value(), 0..7),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(members, spaced, order)| {
            let mut members: Vec<String> = members
                .into_iter()
                .map(|(k, v)| {
                    let (k, v) = (Value::from(k).to_string(), v.to_string());
                    if spaced {
                        format!("\n {k} : {v} ")
                    } else {
                        format!("{k}:{v}")
                    }
                })
                .collect();
            let n = members.len().max(1);
            members.rotate_left(order as usize % n);
            format!("{{{}}}", members.join(","))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn built_documents_rewritten_keep_every_member_and_their_text(
        message in prop_oneof![arb_value().prop_map(|v| v.to_string()), "\\PC{0,40}"],
        cut in 0usize..800,
    ) {
        let env = envelope("group", "stream", &[&message]);
        let doc = builder().build(&env, &env.log_events[0]).expect("document");
        check_safe_form(&doc);
        check_truncated(&doc, 300 + cut);
    }

    #[test]
    fn documents_read_back_rewritten_keep_every_member_and_their_text(
        source in arb_read_back(),
        cut in 0usize..300,
    ) {
        let doc = Document::from_source("id-1".to_owned(), "x".to_owned(), source);
        check_safe_form(&doc);
        check_truncated(&doc, 120 + cut);
    }
}
