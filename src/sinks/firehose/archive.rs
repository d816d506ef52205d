//! The Firehose archive encoding: one newline-terminated JSON document per record, so
//! the S3 objects Firehose writes are NDJSON. Records are grouped into PutRecordBatch
//! calls of at most 500 records and 4 MiB.

use std::ops::Range;

use crate::batching;
use crate::document::Document;

/// PutRecordBatch limits.
pub const MAX_BATCH_RECORDS: usize = 500;
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Firehose's limit for one record (before base64).
pub const MAX_RECORD_BYTES: usize = 1_000 * 1024;

/// Appends the record bytes for one document.
pub fn encode_record(out: &mut Vec<u8>, doc: &Document) {
    out.extend_from_slice(doc.source.as_bytes());
    out.push(b'\n');
}

/// Splits documents into PutRecordBatch-sized ranges. A document over the record limit
/// counts as [`MAX_RECORD_BYTES`]: its record is truncated to that (see [`record`]).
pub fn batch_ranges(docs: &[Document]) -> Vec<Range<usize>> {
    batching::ranges(
        docs.iter()
            .map(|d| (d.source.len() + 1).min(MAX_RECORD_BYTES)),
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
    if doc.source.len() < limit {
        let mut bytes = Vec::with_capacity(doc.source.len() + 1);
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
    fields.insert("message".to_owned(), json!({ "log": "" }));
    // Everything but the text, the newline included.
    let overhead = serde_json::to_vec(&fields).map_or(0, |v| v.len()) + 1;
    let mut keep = text.len().min(limit);
    for round in 0.. {
        let cut = floor_char_boundary(&text, keep);
        fields.insert("message".to_owned(), json!({ "log": &text[..cut] }));
        let mut bytes = serde_json::to_vec(&fields).unwrap_or_default();
        bytes.push(b'\n');
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
