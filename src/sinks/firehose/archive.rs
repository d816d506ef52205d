//! The Firehose archive encoding: one newline-terminated JSON document per record, so
//! the S3 objects Firehose writes are NDJSON. Records are grouped into PutRecordBatch
//! calls of at most 500 records and 4 MiB.
//!
//! Every archived document carries its OpenSearch id as its first field, `_id`, so
//! `csoc-forwarder replay` can re-index it under the same id ([`split_id`] takes it
//! off again, giving back the indexed bytes exactly).

use std::ops::Range;

use crate::batching;
use crate::document::{ARCHIVE_TRUNCATED, Document, Header, Parts, cut_escaped, escape_into};

/// PutRecordBatch limits.
pub const MAX_BATCH_RECORDS: usize = 500;
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Firehose's limit for one record (before base64).
pub const MAX_RECORD_BYTES: usize = 1_000 * 1024;

/// The field of every archived document that holds its OpenSearch `_id`.
pub const ID_FIELD: &str = "_id";

/// Bytes [`encode_record`] adds to a document besides its id: `"_id":"",` and `\n`.
const ID_OVERHEAD: usize = ID_FIELD.len() + 7;

/// The size of the record for `doc` (before any truncation); never less than it is (an
/// id character that needs escaping is counted at its longest, `\u00XX`).
pub fn record_len(doc: &Document) -> usize {
    // A sum with no early exit, so the loop vectorizes.
    let escapes: usize = doc
        .id
        .bytes()
        .map(|b| usize::from((b == b'"') | (b == b'\\') | (b < 0x20)))
        .sum();
    let comma = usize::from(
        doc.source
            .strip_prefix('{')
            .is_some_and(|rest| !rest.trim_start().starts_with('}')),
    );
    doc.source.len() + doc.id.len() + 5 * escapes + ID_OVERHEAD - 1 + comma
}

/// Appends the record bytes for one document: the document with `"_id":"<id>"` as its
/// first field, and `\n`.
pub fn encode_record(out: &mut Vec<u8>, doc: &Document) {
    out.reserve(record_len(doc));
    write_record(out, doc);
}

/// [`encode_record`] into room already made.
fn write_record(out: &mut Vec<u8>, doc: &Document) {
    match doc.source.strip_prefix('{') {
        Some(rest) => {
            out.extend_from_slice(b"{\"_id\":");
            push_json_str(out, &doc.id);
            if !rest.trim_start().starts_with('}') {
                out.push(b',');
            }
            out.extend_from_slice(rest.as_bytes());
        }
        // Documents are JSON objects; anything else is archived as it is.
        None => out.extend_from_slice(doc.source.as_bytes()),
    }
    out.push(b'\n');
}

/// `s` as a JSON string: copied as it is when nothing in it needs escaping (ids as a
/// rule), else through serde_json; the same bytes either way.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // A fold with no early exit, so the loop vectorizes.
    let plain = !s.bytes().fold(false, |esc, b| {
        esc | (b == b'"') | (b == b'\\') | (b < 0x20)
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // A string always serializes.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// One archived line → (`_id`, the document as it was indexed). `None` when the line
/// does not start with an `_id` field (archived before ids were added, or not ours).
pub fn split_id(line: &str) -> Option<(String, String)> {
    let rest = line.trim_end().strip_prefix("{\"_id\":")?;
    let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
    let id = de.next()?.ok()?;
    let after = rest[de.byte_offset()..].trim_start();
    let source = match after.strip_prefix(',') {
        Some(fields) => format!("{{{fields}"),
        None if after == "}" => "{}".to_owned(),
        None => return None,
    };
    Some((id, source))
}

/// Splits documents into PutRecordBatch-sized ranges. A document over the record limit
/// counts as [`MAX_RECORD_BYTES`]: its record is truncated to that (see [`record`]).
pub fn batch_ranges(docs: &[Document]) -> Vec<Range<usize>> {
    batching::ranges(
        docs.iter().map(|d| record_len(d).min(MAX_RECORD_BYTES)),
        MAX_BATCH_BYTES,
        MAX_BATCH_RECORDS,
    )
}

/// One PutRecordBatch's records (a range of [`batch_ranges`]) as one body, sized up
/// front, and for each document the size it had when its record was truncated: what the
/// local archive writes as a file.
pub fn encode_batch(docs: &[Document]) -> (Vec<u8>, Vec<Option<usize>>) {
    let mut body = Vec::with_capacity(
        docs.iter()
            .map(|d| record_len(d).min(MAX_RECORD_BYTES))
            .sum(),
    );
    let truncated = docs
        .iter()
        .map(|d| append_record(&mut body, d, MAX_RECORD_BYTES))
        .collect();
    (body, truncated)
}

/// The marker field of a document archived truncated: `{"original_bytes": N, "id": …}`.
/// The full original is in the dead letter under the document id.
pub const TRUNCATED_FIELD: &str = ARCHIVE_TRUNCATED;

/// The bytes of one Firehose record, and whether the document had to be truncated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRecord {
    /// One JSON document and `\n`, at most [`MAX_RECORD_BYTES`].
    pub bytes: Vec<u8>,
    /// The size of the original document when it was over the record limit.
    pub truncated_from: Option<usize>,
}

/// The record for `doc`: the document and `\n`, or, for a document over the Firehose
/// record limit, a truncated copy carrying [`TRUNCATED_FIELD`], so the archive keeps
/// its metadata and the start of its message and never silently drops it.
pub fn record(doc: &Document) -> ArchiveRecord {
    record_with_limit(doc, MAX_RECORD_BYTES)
}

/// [`record`] with another size limit (bytes, `\n` included); tests use small ones.
pub fn record_with_limit(doc: &Document, limit: usize) -> ArchiveRecord {
    let mut bytes = Vec::new();
    let truncated_from = append_record(&mut bytes, doc, limit);
    ArchiveRecord {
        bytes,
        truncated_from,
    }
}

/// Appends the bytes of [`record_with_limit`] to `out` (a body of several records,
/// with no copy of its own); the size of the original document when it was truncated.
pub fn append_record(out: &mut Vec<u8>, doc: &Document, limit: usize) -> Option<usize> {
    let len = record_len(doc);
    if len <= limit {
        out.reserve(len);
        write_record(out, doc);
        return None;
    }
    out.extend_from_slice(&truncate(doc, limit));
    Some(doc.source.len())
}

/// Every other member kept; `message` (with an audit record's `attributes`) becomes
/// `{"log": <the start of its text>}`, cut between two characters so the record fits in
/// `limit` bytes, and [`TRUNCATED_FIELD`] is added. Spliced from the document's header
/// ([`Document::parts`]), like the index's safe form: nothing parses the document again.
/// When the other members alone leave no room (or are not known), the record keeps only
/// the start of the whole source as its text.
fn truncate(doc: &Document, limit: usize) -> Vec<u8> {
    let mut marker = String::with_capacity(doc.id.len() + 48);
    marker.push_str("{\"original_bytes\":");
    marker.push_str(&doc.source.len().to_string());
    marker.push_str(",\"id\":\"");
    escape_into(&mut marker, &doc.id);
    marker.push_str("\"}");
    let extra = [(TRUNCATED_FIELD, marker.as_str())];
    let record = |parts: &Parts<'_>, text: &str| {
        let mut bytes = Vec::new();
        encode_record(
            &mut bytes,
            &Document {
                id: doc.id.clone(),
                index: String::new(),
                source: parts.source(text, &extra),
                header: Header::default(),
            },
        );
        bytes
    };
    // The record with no text: what everything but the text takes.
    let bare = |parts: &Parts<'_>| record(parts, "").len();
    let (parts, bare_len) = match doc.parts().map(|parts| (bare(&parts), parts)) {
        Some((len, parts)) if len <= limit => (parts, len),
        _ => {
            let whole = Parts::whole(&doc.source);
            let len = bare(&whole);
            (whole, len)
        }
    };
    record(
        &parts,
        cut_escaped(&parts.text, limit.saturating_sub(bare_len)),
    )
}

/// The outcome of a truncated record once stored: the handler dead-letters the original.
pub fn truncated_outcome(original_bytes: usize) -> crate::sinks::ItemOutcome {
    crate::sinks::ItemOutcome::Truncated {
        reason: format!(
            "document of {original_bytes} bytes is over the Firehose record limit of {MAX_RECORD_BYTES} bytes: archived truncated (field {TRUNCATED_FIELD}), the full original is this dead letter"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, source: &str) -> Document {
        Document::from_source(
            id.to_owned(),
            "csoc-logs-2026.01.02".to_owned(),
            source.to_owned(),
        )
    }

    #[test]
    fn records_carry_the_id_first_and_give_back_the_indexed_bytes() {
        for source in [
            r#"{"@timestamp":"2026-01-02T03:04:05.678Z","message":{"log":"a"}}"#,
            "{}",
        ] {
            let d = doc("abc123", source);
            let mut out = Vec::new();
            encode_record(&mut out, &d);
            assert_eq!(out.len(), record_len(&d), "{source}");
            let line = std::str::from_utf8(&out).expect("utf-8");
            assert!(line.starts_with(r#"{"_id":"abc123""#), "{line}");
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
            assert_eq!(value[ID_FIELD], "abc123");
            assert_eq!(
                split_id(line),
                Some(("abc123".to_owned(), source.to_owned()))
            );
        }
    }

    #[test]
    fn a_batch_is_its_records_one_after_the_other_in_a_body_of_their_size() {
        let big = doc(
            "id-big",
            &format!(
                r#"{{"a":1,"message":{{"log":"{}"}}}}"#,
                "x".repeat(MAX_RECORD_BYTES)
            ),
        );
        let docs = [doc("a\"1", r#"{"b":2}"#), big, doc("c", "{}")];
        let (body, truncated) = encode_batch(&docs);
        let records: Vec<ArchiveRecord> = docs.iter().map(record).collect();
        assert_eq!(
            body,
            records
                .iter()
                .flat_map(|r| r.bytes.clone())
                .collect::<Vec<u8>>()
        );
        assert_eq!(
            truncated,
            records.iter().map(|r| r.truncated_from).collect::<Vec<_>>()
        );
        assert_eq!(truncated[1], Some(docs[1].source.len()));
        // Sized up front: never grown past what the records take.
        let sized: usize = docs
            .iter()
            .map(|d| record_len(d).min(MAX_RECORD_BYTES))
            .sum();
        assert_eq!(body.capacity(), sized);
    }

    #[test]
    fn lines_without_an_id_are_not_split() {
        assert_eq!(split_id(r#"{"@timestamp":"x"}"#), None);
        assert_eq!(split_id(r#"{"_id":5,"a":1}"#), None);
        assert_eq!(split_id("not json"), None);
    }

    #[test]
    fn truncated_records_carry_the_id_first_too() {
        let d = doc(
            "id-1",
            &format!(r#"{{"a":1,"message":{{"log":"{}"}}}}"#, "x".repeat(500)),
        );
        let r = record_with_limit(&d, 200);
        assert!(r.bytes.len() <= 200, "{}", r.bytes.len());
        let line = std::str::from_utf8(&r.bytes).expect("utf-8");
        let (id, source) = split_id(line).expect("an id");
        assert_eq!(id, "id-1");
        let value: serde_json::Value = serde_json::from_str(&source).expect("JSON");
        assert_eq!(value[TRUNCATED_FIELD]["id"], "id-1");
    }
}
