//! The dead letter: input that could not be delivered for good, kept with its reason.
//!
//! Undeserialisable or rejected input is never dropped: it is written as one JSON file
//! (or S3 object) named `<source>-<UTC timestamp>-<id>.json`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest `<id>` part kept readable in a name; longer ones are hashed.
const MAX_NAME_ID: usize = 96;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Where it came from, e.g. `kinesis-<stream>`, `opensearch`, `firehose`, `event`.
    pub source: String,
    /// Why it is here.
    pub error: String,
    /// When the forwarder received it (RFC 3339 UTC).
    pub received_at: String,
    /// The original bytes, base64 (for Kinesis records: the record data as received).
    pub raw: String,
    /// The Kinesis event id or document id, when there is one.
    pub event_id: Option<String>,
}

impl DeadLetter {
    /// A dead letter for `raw` bytes, which are base64-encoded here.
    pub fn from_bytes(
        source: &str,
        error: impl Into<String>,
        received_at: DateTime<Utc>,
        raw: &[u8],
        event_id: Option<&str>,
    ) -> Self {
        Self::from_base64(source, error, received_at, STANDARD.encode(raw), event_id)
    }

    /// A dead letter whose raw data is already base64 text (Kinesis record data).
    pub fn from_base64(
        source: &str,
        error: impl Into<String>,
        received_at: DateTime<Utc>,
        raw_base64: String,
        event_id: Option<&str>,
    ) -> Self {
        Self {
            source: sanitize(source),
            error: error.into(),
            received_at: received_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            raw: raw_base64,
            event_id: event_id.map(str::to_owned),
        }
    }

    /// `<source>-<UTC timestamp>-<id>.json`; safe as a file name and an S3 key part.
    pub fn file_name(&self) -> String {
        let when = DateTime::parse_from_rfc3339(&self.received_at)
            .map(|t| {
                t.with_timezone(&Utc)
                    .format("%Y%m%dT%H%M%S%.3fZ")
                    .to_string()
            })
            .unwrap_or_else(|_| sanitize(&self.received_at));
        format!("{}-{}-{}.json", self.source, when, self.name_id())
    }

    /// The event id made safe for a name; without one, a hash of the raw data, so the
    /// same input always gets the same name and distinct inputs do not overwrite.
    fn name_id(&self) -> String {
        match &self.event_id {
            Some(id) if !id.is_empty() && id.len() <= MAX_NAME_ID => sanitize(id),
            Some(id) if !id.is_empty() => short_hash(id.as_bytes()),
            _ => short_hash(self.raw.as_bytes()),
        }
    }
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..16])
}

/// Keeps `[A-Za-z0-9._-]`, replaces anything else with `_`.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
