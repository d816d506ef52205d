//! The OpenSearch `_bulk` body: a `create` action line with the deterministic `_id`
//! (no `_type`: OpenSearch 2.x refuses it), then the document, for each document.
//! Bodies are split by bytes and by document count, and gzip'd item by item when the
//! sink is set to.

use std::io::Write as _;
use std::ops::Range;

use crate::batching;
use crate::document::Document;

pub use crate::config::opensearch::{DEFAULT_MAX_BYTES, DEFAULT_MAX_DOCS};

/// Appends the two lines of one `create` item.
pub fn encode_create(out: &mut Vec<u8>, doc: &Document) {
    out.extend_from_slice(b"{\"create\":{\"_index\":");
    push_json_str(out, &doc.index);
    out.extend_from_slice(b",\"_id\":");
    push_json_str(out, &doc.id);
    out.extend_from_slice(b"}}\n");
    out.extend_from_slice(doc.source.as_bytes());
    out.push(b'\n');
}

/// The byte length `encode_create` will write for `doc`, for request splitting.
pub fn encoded_len(doc: &Document) -> usize {
    // Index names and ids are plain ASCII with no characters that need escaping.
    35 + doc.index.len() + doc.id.len() + doc.source.len()
}

/// `s` as a JSON string: copied as it is when nothing in it needs escaping (index names
/// and ids as a rule), else through serde_json; the same bytes either way.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // A fold with no early exit, so the loop vectorizes.
    let plain = !s.bytes().fold(false, |esc, b| {
        esc | (b == b'"') | (b == b'\\') | (b < 0x20)
    });
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // serde_json cannot fail writing a str into a Vec.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Splits `docs` into request-sized ranges: at most `max_bytes` each (a single document
/// larger than that gets a request of its own) and at most `max_docs` documents.
pub fn chunk_ranges(docs: &[Document], max_bytes: usize, max_docs: usize) -> Vec<Range<usize>> {
    batching::ranges(docs.iter().map(encoded_len), max_bytes, max_docs)
}

/// One request body for `docs`.
pub fn encode_body<'d, I>(docs: I) -> Vec<u8>
where
    I: IntoIterator<Item = &'d Document>,
    I::IntoIter: Clone,
{
    let docs = docs.into_iter();
    let mut out = Vec::with_capacity(docs.clone().map(encoded_len).sum());
    for doc in docs {
        encode_create(&mut out, doc);
    }
    out
}

/// [`encode_body`] gzip'd, compressed one item at a time: the whole uncompressed body is
/// never held.
pub fn encode_body_gzip<'d, I>(docs: I) -> Vec<u8>
where
    I: IntoIterator<Item = &'d Document>,
    I::IntoIter: Clone,
{
    let docs = docs.into_iter();
    let len: usize = docs.clone().map(encoded_len).sum();
    let mut gz =
        flate2::write::GzEncoder::new(Vec::with_capacity(len / 4), flate2::Compression::fast());
    let mut item = Vec::new();
    for doc in docs {
        item.clear();
        encode_create(&mut item, doc);
        // Writing into a Vec cannot fail.
        let _ = gz.write_all(&item);
    }
    gz.finish().unwrap_or_default()
}
