//! The Firehose archive encoding: one newline-terminated JSON document per record, so
//! the S3 objects Firehose writes are NDJSON. Records are grouped into PutRecordBatch
//! calls of at most 500 records and 4 MiB.
//!
//! Every archived document carries its OpenSearch id as its first field, `_id`, so
//! `csoc-forwarder replay` can re-index it under the same id ([`split_id`] takes it
//! off again, giving back the indexed bytes exactly).

use std::ops::Range;

use crate::batching;
use crate::document::Document;

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

/// The marker field of a document archived truncated: `{"original_bytes": N, "id": …}`.
/// The full original is in the dead letter under the document id.
pub const TRUNCATED_FIELD: &str = "_archive_truncated";

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
    if record_len(doc) <= limit {
        let mut bytes = Vec::new();
        encode_record(&mut bytes, doc);
        return ArchiveRecord {
            bytes,
            truncated_from: None,
        };
    }
    ArchiveRecord {
        bytes: truncate(doc, limit),
        truncated_from: Some(doc.source.len()),
    }
}

/// Every field but `message` kept; `message` becomes `{"log": <the start of its text>}`,
/// cut at a character boundary so the record fits in `limit` bytes.
///
/// The one place here that reads a built document's JSON again, on purpose: only for
/// a document over the Firehose record limit (1000 KiB), which is also dead-lettered
/// whole; the record is serde_json's rendering of the parsed document (fields sorted,
/// the message's text as serde_json writes it), which the header could not give byte
/// for byte without carrying every field (see `sinks::opensearch::safe`). Records of
/// every other document are written without a parse ([`encode_record`]).
fn truncate(doc: &Document, limit: usize) -> Vec<u8> {
    use serde_json::{Map, Value, json};
    let mut fields: Map<String, Value> = serde_json::from_str(&doc.source).unwrap_or_default();
    let text = match fields.remove("message") {
        Some(Value::String(s)) => s,
        Some(Value::Object(mut m))
            if m.len() == 1 && m.get("log").is_some_and(Value::is_string) =>
        {
            match m.remove("log") {
                Some(Value::String(s)) => s,
                _ => String::new(),
            }
        }
        Some(other) => other.to_string(),
        None if fields.is_empty() => doc.source.clone(),
        None => String::new(),
    };
    fields.insert(
        TRUNCATED_FIELD.to_owned(),
        json!({ "original_bytes": doc.source.len(), "id": doc.id }),
    );
    fields.insert(ID_FIELD.to_owned(), json!(doc.id));
    fields.insert("message".to_owned(), json!({ "log": "" }));
    // Everything but the text, the newline included.
    let overhead = serde_json::to_vec(&fields).map_or(0, |v| v.len()) + 1;
    let mut keep = text.len().min(limit);
    for round in 0.. {
        let cut = floor_char_boundary(&text, keep);
        fields.insert("message".to_owned(), json!({ "log": &text[..cut] }));
        let bytes = id_first(&fields);
        if bytes.len() <= limit || cut == 0 {
            return bytes;
        }
        // Escapes make the text longer once serialized: shrink it by the ratio seen,
        // which converges in a round or two; stop guessing after a few rounds.
        let over = bytes.len() - limit;
        let escaped = bytes.len().saturating_sub(overhead).max(1);
        let scaled =
            (cut as u128 * escaped.saturating_sub(over) as u128 / escaped as u128) as usize;
        keep = if round < 8 {
            scaled.min(cut - 1)
        } else {
            cut.saturating_sub(over)
        };
    }
    unreachable!("the loop returns")
}

/// `fields` as one record, `_id` first (the map keeps its keys sorted), and `\n`.
fn id_first(fields: &serde_json::Map<String, serde_json::Value>) -> Vec<u8> {
    let mut rest = fields.clone();
    let id = rest.remove(ID_FIELD).unwrap_or_default();
    let source = serde_json::to_string(&rest).unwrap_or_default();
    let mut bytes = Vec::with_capacity(source.len() + 80);
    encode_record(
        &mut bytes,
        &Document {
            id: id.as_str().unwrap_or_default().to_owned(),
            index: String::new(),
            source,
            header: crate::document::Header::default(),
        },
    );
    bytes
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
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
