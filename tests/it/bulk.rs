//! `_bulk` bodies and request splitting.

use csoc_forwarder::document::Document;
use csoc_forwarder::sinks::opensearch::bulk;

use crate::common::{fixture_documents, kinesis_fixtures};

fn doc(id: &str, size: usize) -> Document {
    Document::from_source(
        id.to_owned(),
        "csoc-logs-2018.03.08".to_owned(),
        format!(r#"{{"message":{{"log":"{}"}}}}"#, "x".repeat(size)),
    )
}

#[test]
fn snapshot_bulk_body_of_every_fixture() {
    for name in kinesis_fixtures() {
        let body = String::from_utf8(bulk::encode_body(&fixture_documents(&name))).expect("utf8");
        insta::assert_snapshot!(format!("bulk-{name}"), body);
    }
}

#[test]
fn create_actions_carry_index_and_id_and_no_type() {
    let body = String::from_utf8(bulk::encode_body(&[doc("abc", 3)])).expect("utf8");
    let mut lines = body.lines();
    let action: serde_json::Value =
        serde_json::from_str(lines.next().expect("action")).expect("json");
    assert_eq!(
        action,
        serde_json::json!({"create": {"_index": "csoc-logs-2018.03.08", "_id": "abc"}})
    );
    assert_eq!(lines.next(), Some(r#"{"message":{"log":"xxx"}}"#));
    assert_eq!(lines.next(), None);
    assert!(body.ends_with('\n'), "bulk bodies end with a newline");
    assert!(!body.contains("_type"));
}

#[test]
fn encoded_len_is_exact() {
    for d in [doc("a", 0), doc(&"f".repeat(64), 1000)] {
        assert_eq!(
            bulk::encode_body(std::slice::from_ref(&d)).len(),
            bulk::encoded_len(&d)
        );
    }
}

#[test]
fn requests_are_bounded_by_bytes_and_count() {
    let docs: Vec<Document> = (0..10).map(|i| doc(&i.to_string(), 100)).collect();
    let one = bulk::encoded_len(&docs[0]);
    let ranges = bulk::chunk_ranges(&docs, one * 3, 100);
    assert_eq!(ranges, vec![0..3, 3..6, 6..9, 9..10]);
    assert_eq!(
        bulk::chunk_ranges(&docs, usize::MAX, 4),
        vec![0..4, 4..8, 8..10]
    );
    // Every document is in exactly one request, in order.
    let flat: Vec<usize> = ranges.into_iter().flatten().collect();
    assert_eq!(flat, (0..10).collect::<Vec<_>>());
}

#[test]
fn a_document_larger_than_the_byte_cap_gets_a_request_of_its_own() {
    let docs = vec![doc("a", 10), doc("b", 10_000), doc("c", 10)];
    assert_eq!(
        bulk::chunk_ranges(&docs, 1_000, 100),
        vec![0..1, 1..2, 2..3]
    );
    assert!(bulk::chunk_ranges(&[], 1_000, 100).is_empty());
}
