//! One log event → one document: the JSON that is indexed and archived.
//!
//! The schema is written down in README.md ("Document schema"). Building a document
//! never reads the wall clock: the same input always gives the same bytes.

//!
//! - [`builder`]: the document of one log event (times, id, index, envelope fields);
//! - [`sanitize`]: a JSON message made safe for the index mapping (key rewrites, caps);
//! - [`json`]: the borrowed JSON tree messages are parsed into;
//! - [`header`]: what a document is (kind, envelope fields, times, where its message
//!   and the fields alerts read were written), known while it was built;
//! - [`rewrite`]: its safe and truncated forms, spliced from the header's spans;
//! - [`escape`]: text written as a JSON string, SIMD, serde_json's bytes.

mod builder;
mod escape;
mod fast;
mod header;
mod json;
mod rewrite;
mod sanitize;
mod scan;
mod time_fields;

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Utc};
use sha2::{Digest, Sha256};
use thiserror::Error;

pub use builder::{DocumentBuilder, EnvelopeBuilder};
pub use header::{ACCESS_FIELDS, CLOUDTRAIL_FIELDS, Header, Kind};
pub(crate) use json::Str;
pub use rewrite::{ARCHIVE_TRUNCATED, INGEST_ERROR, Parts, cut_escaped, escape_into};
pub(crate) use sanitize::OutputKeys;

pub use crate::config::DEFAULT_INDEX_PREFIX;

/// CloudTrail's free-form fields: stored as JSON text so they cannot explode the index
/// mapping, or kept as objects where the index maps them as `flat_object`
/// ([`DocumentBuilder::with_free_form_objects`]).
pub const CLOUDTRAIL_TEXT_FIELDS: [&str; 4] = [
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "serviceEventDetails",
];
/// The fields that make a JSON message a CloudTrail event: all four at its top.
pub const CLOUDTRAIL_MARKERS: [&str; 4] = ["eventVersion", "eventSource", "eventName", "eventTime"];

/// Key under which the fields past the field cap are kept, as JSON text.
pub const OVERFLOW_KEY: &str = "_overflow";

/// Caps on what a JSON message may add to the index mapping. What is over a cap is
/// kept as JSON text, never dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Objects and arrays nested deeper than this (the message object is depth 1) are
    /// stored as JSON text.
    pub max_depth: usize,
    /// Fields (keys at every depth) kept as fields; the rest of each object past the cap
    /// goes to one `_overflow` text field.
    pub max_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 8,
            max_fields: 200,
        }
    }
}

/// A finished document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Deterministic, unique, at most 64 bytes: becomes the OpenSearch `_id`.
    pub id: String,
    /// `<prefix>-YYYY.MM.DD` from `@timestamp`.
    pub index: String,
    /// The document as compact JSON.
    pub source: String,
    /// What the document is and where its fields are in `source` (spans into it: it
    /// describes `source` as built). Read through the accessors ([`Document::kind`],
    /// [`Document::log_stream`], …).
    pub header: Header,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("log event timestamp {0} ms is out of range")]
    Timestamp(i64),
    #[error("document could not be serialized: {0}")]
    Serialize(String),
}

/// `sha256(owner, logGroup, logStream, event id)` in hex: unique per log event, the same
/// on every run, 64 bytes (OpenSearch allows 512).
pub fn document_id(owner: &str, log_group: &str, log_stream: &str, event_id: &str) -> String {
    IdHasher::new(owner, log_group, log_stream).id(event_id)
}

/// [`document_id`] for the log events of one log stream: owner, group and stream are
/// hashed once, the hash finished per event id (a copy of the state).
#[derive(Debug, Clone)]
pub(crate) struct IdHasher(Sha256);

/// Each part of the id length-prefixed, so ("ab","c") and ("a","bc") differ.
fn update(h: &mut Sha256, part: &str) {
    h.update((part.len() as u64).to_le_bytes());
    h.update(part.as_bytes());
}

impl IdHasher {
    pub(crate) fn new(owner: &str, log_group: &str, log_stream: &str) -> Self {
        let mut h = Sha256::new();
        for part in [owner, log_group, log_stream] {
            update(&mut h, part);
        }
        Self(h)
    }

    /// The id of the log event `event_id`.
    pub(crate) fn id(&self, event_id: &str) -> String {
        let mut h = self.0.clone();
        update(&mut h, event_id);
        let mut hex = [0u8; 64];
        // 32 bytes of digest always fit 64 hex digits.
        let _ = hex::encode_to_slice(h.finalize(), &mut hex);
        std::str::from_utf8(&hex).unwrap_or_default().to_owned()
    }
}

/// `<prefix>-YYYY.MM.DD` in UTC.
pub fn index_name(prefix: &str, at: DateTime<Utc>) -> String {
    let mut s = String::with_capacity(prefix.len() + 11);
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        "{prefix}-{:04}.{:02}.{:02}",
        at.year(),
        at.month(),
        at.day()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id as one SHA-256 of the four length-prefixed parts, written out apart from
    /// the code under test.
    fn one_hash(parts: [&str; 4]) -> String {
        let mut bytes = Vec::new();
        for part in parts {
            bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
            bytes.extend_from_slice(part.as_bytes());
        }
        hex::encode(Sha256::digest(&bytes))
    }

    #[test]
    fn ids_of_one_stream_are_finished_from_its_hash_each_on_its_own() {
        let long = "é".repeat(100);
        for (owner, group, stream) in [("123456789012", "g", "s"), ("", "", ""), ("o", &long, "x")]
        {
            let ids = IdHasher::new(owner, group, stream);
            // Several events from one state: none sees another's bytes.
            for event in [
                "1",
                "",
                "35689263648391837472973739781728019701390240798247940000",
                &long,
            ] {
                let expected = one_hash([owner, group, stream, event]);
                assert_eq!(ids.id(event), expected);
                assert_eq!(document_id(owner, group, stream, event), expected);
            }
        }
    }
}
