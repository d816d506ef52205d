//! The dead letter: input that could not be delivered for good, kept with its reason.
//!
//! Undeserialisable or rejected input is never dropped: it is written as one JSON file
//! (or S3 object) named `<source>-<UTC timestamp>-<id>-<digest>.json`, the digest being
//! of the whole letter, so two letters never share a name (ids that sanitise alike,
//! `a:b` and `a/b`, included) and the same letter always gets the same one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest `<id>` part kept readable in a name; longer ones are cut (the digest keeps
/// the name unique).
const MAX_NAME_ID: usize = 96;

/// Longest `<source>` part of a name (a node name may be 255 bytes; a file name may not
/// be longer than that).
const MAX_NAME_SOURCE: usize = 64;

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

    /// `<source>-<UTC timestamp>-<id>-<digest>.json` (without an id:
    /// `<source>-<UTC timestamp>-<digest>.json`); safe as a file name and an S3 key part.
    /// The digest covers every field, so distinct letters never overwrite each other.
    pub fn file_name(&self) -> String {
        let when = DateTime::parse_from_rfc3339(&self.received_at)
            .map(|t| {
                t.with_timezone(&Utc)
                    .format("%Y%m%dT%H%M%S%.3fZ")
                    .to_string()
            })
            .unwrap_or_else(|_| sanitize(&self.received_at));
        let source = cut(&self.source, MAX_NAME_SOURCE);
        match self.event_id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => format!(
                "{source}-{when}-{}-{}.json",
                cut(&sanitize(id), MAX_NAME_ID),
                self.digest()
            ),
            None => format!("{source}-{when}-{}.json", self.digest()),
        }
    }

    /// 16 hex digits of the SHA-256 of every field (each length-prefixed).
    fn digest(&self) -> String {
        let mut h = Sha256::new();
        for field in [
            self.source.as_bytes(),
            self.error.as_bytes(),
            self.received_at.as_bytes(),
            self.raw.as_bytes(),
            self.event_id.as_deref().unwrap_or("").as_bytes(),
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field);
        }
        h.update([u8::from(self.event_id.is_some())]);
        hex::encode(&h.finalize()[..8])
    }
}

/// The first `max` characters of `s` (ASCII once sanitised, so bytes too).
fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Keeps `[A-Za-z0-9._-]`, replaces anything else with `_`, and leading dots too, so
/// the result is a visible name that is never `.` or `..` (safe as a path segment).
pub fn sanitize(s: &str) -> String {
    let mut leading = true;
    s.chars()
        .map(|c| {
            let keep =
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-') || (c == '.' && !leading);
            leading &= c == '.';
            if keep { c } else { '_' }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-01-02T03:04:05.678Z".parse().expect("time")
    }

    #[test]
    fn ids_that_sanitise_alike_get_distinct_names() {
        let names: std::collections::HashSet<String> = ["a:b", "a/b", "a b", "a_b"]
            .iter()
            .map(|id| DeadLetter::from_bytes("s", "bad", at(), b"x", Some(id)).file_name())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
    }

    #[test]
    fn letters_without_id_or_with_long_ids_differ_by_content() {
        let long = "x".repeat(200);
        let a = DeadLetter::from_bytes("s", "bad", at(), b"one", Some(&long));
        let b = DeadLetter::from_bytes("s", "bad", at(), b"two", Some(&long));
        assert_ne!(a.file_name(), b.file_name());
        let a = DeadLetter::from_bytes("s", "bad", at(), b"one", None);
        let b = DeadLetter::from_bytes("s", "worse", at(), b"one", None);
        assert_ne!(a.file_name(), b.file_name());
        assert_eq!(
            a.file_name(),
            DeadLetter::from_bytes("s", "bad", at(), b"one", None).file_name(),
            "the same letter gets the same name"
        );
    }

    #[test]
    fn names_stay_within_file_name_limits() {
        let node = "n".repeat(255);
        let id = "i".repeat(255);
        let name = DeadLetter::from_bytes(&node, "bad", at(), b"x", Some(&id)).file_name();
        assert!(name.len() <= 255, "{} bytes", name.len());
    }

    #[test]
    fn dot_names_become_visible_safe_names() {
        assert_eq!(sanitize(".."), "__");
        assert_eq!(sanitize("."), "_");
        assert_eq!(sanitize(".hidden"), "_hidden");
        assert_eq!(sanitize("a..b"), "a..b");
        assert_eq!(sanitize("./x"), "__x");
        let letter = DeadLetter::from_bytes("..", "bad", at(), b"x", None);
        assert_eq!(letter.source, "__");
        assert!(!letter.file_name().starts_with('.'));
    }
}
