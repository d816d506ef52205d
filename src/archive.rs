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

/// Splits documents into PutRecordBatch-sized ranges.
pub fn batch_ranges(docs: &[Document]) -> Vec<Range<usize>> {
    batching::ranges(
        docs.iter().map(|d| d.source.len() + 1),
        MAX_BATCH_BYTES,
        MAX_BATCH_RECORDS,
    )
}
