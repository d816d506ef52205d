//! One log event → one document: the JSON that is indexed and archived.
//!
//! The schema is written down in README.md ("Document schema"). Building a document
//! never reads the wall clock: the same input always gives the same bytes.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Utc};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::decode::{Envelope, LogEvent};
use crate::timestamp;

/// Default index prefix: documents go to `<prefix>-YYYY.MM.DD`.
pub const DEFAULT_INDEX_PREFIX: &str = "csoc-logs";

/// CloudTrail fields stored as JSON text so they cannot explode the index mapping.
pub const CLOUDTRAIL_TEXT_FIELDS: [&str; 4] = [
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "serviceEventDetails",
];
const CLOUDTRAIL_MARKERS: [&str; 4] = ["eventVersion", "eventSource", "eventName", "eventTime"];

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
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("log event timestamp {0} ms is out of range")]
    Timestamp(i64),
    #[error("document could not be serialized: {0}")]
    Serialize(String),
}

/// Builds documents for one deployment (commons, index prefix, limits).
#[derive(Debug, Clone)]
pub struct DocumentBuilder {
    commons: String,
    index_prefix: String,
    limits: Limits,
}

impl DocumentBuilder {
    pub fn new(
        commons: impl Into<String>,
        index_prefix: impl Into<String>,
        limits: Limits,
    ) -> Self {
        Self {
            commons: commons.into(),
            index_prefix: index_prefix.into(),
            limits,
        }
    }

    pub fn build(
        &self,
        env: &Envelope<'_>,
        event: &LogEvent<'_>,
    ) -> Result<Document, DocumentError> {
        // RFC 3339 and OpenSearch dates hold years 0000 to 9999 only.
        let at = timestamp::from_epoch_millis(event.timestamp)
            .filter(|t| (0..=9999).contains(&t.year()))
            .ok_or(DocumentError::Timestamp(event.timestamp))?;
        let parsed = parse_object(&event.message);
        let found = match &parsed {
            Some(obj) => time_in_object(obj, at),
            None => timestamp::find_in_text(&event.message, at),
        };
        let mut at_text = String::with_capacity(24);
        timestamp::write_rfc3339_millis(&mut at_text, at);
        let found_text = match found {
            Some(t) if t != at => {
                let mut s = String::with_capacity(24);
                timestamp::write_rfc3339_millis(&mut s, t);
                s
            }
            _ => at_text.clone(),
        };
        let budget = Cell::new(self.limits.max_fields);
        let message = match &parsed {
            Some(obj) => MessageView::Object(Sanitized {
                obj,
                depth: 1,
                limits: self.limits,
                budget: &budget,
                cloudtrail: is_cloudtrail(obj),
            }),
            None => MessageView::Text(&event.message),
        };
        let view = DocView {
            at: &at_text,
            timestamp: &found_text,
            message_type: &env.message_type,
            owner: &env.owner,
            log_group: &env.log_group,
            log_stream: &env.log_stream,
            subscription_filters: &env.subscription_filters,
            commons: &self.commons,
            message,
        };
        let source =
            serde_json::to_string(&view).map_err(|e| DocumentError::Serialize(e.to_string()))?;
        Ok(Document {
            id: document_id(&env.owner, &env.log_group, &env.log_stream, &event.id),
            index: index_name(&self.index_prefix, at),
            source,
        })
    }
}

/// `sha256(owner, logGroup, logStream, event id)` in hex: unique per log event, the same
/// on every run, 64 bytes (OpenSearch allows 512).
pub fn document_id(owner: &str, log_group: &str, log_stream: &str, event_id: &str) -> String {
    let mut h = Sha256::new();
    for part in [owner, log_group, log_stream, event_id] {
        // Length-prefixed so ("ab","c") and ("a","bc") differ.
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
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

/// The message as a JSON object, when it is one.
fn parse_object(message: &str) -> Option<Map<String, Value>> {
    if !message.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Value>(message) {
        Ok(Value::Object(obj)) => Some(obj),
        _ => None,
    }
}

fn is_cloudtrail(obj: &Map<String, Value>) -> bool {
    CLOUDTRAIL_MARKERS.iter().all(|k| obj.contains_key(*k))
}

/// The time inside a JSON message: CloudTrail's `eventTime`, then the well-known
/// fields, then the text of a `log` field (Kubernetes/fluentd).
fn time_in_object(obj: &Map<String, Value>, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if is_cloudtrail(obj)
        && let Some(t) = obj
            .get("eventTime")
            .and_then(|v| timestamp::parse_json_value(v, at))
    {
        return Some(t);
    }
    timestamp::WELL_KNOWN_FIELDS
        .iter()
        .filter_map(|k| obj.get(*k))
        .find_map(|v| timestamp::parse_json_value(v, at))
        .or_else(|| {
            obj.get("log")
                .and_then(Value::as_str)
                .and_then(|text| timestamp::find_in_text(text, at))
        })
}

#[derive(Serialize)]
struct DocView<'a> {
    #[serde(rename = "@timestamp")]
    at: &'a str,
    timestamp: &'a str,
    #[serde(rename = "messageType")]
    message_type: &'a str,
    owner: &'a str,
    #[serde(rename = "logGroup")]
    log_group: &'a str,
    #[serde(rename = "logStream")]
    log_stream: &'a str,
    #[serde(rename = "subscriptionFilters")]
    subscription_filters: &'a [Cow<'a, str>],
    commons: &'a str,
    message: MessageView<'a>,
}

enum MessageView<'a> {
    Object(Sanitized<'a>),
    Text(&'a str),
}

impl Serialize for MessageView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Object(obj) => obj.serialize(s),
            Self::Text(text) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("log", text)?;
                map.end()
            }
        }
    }
}

/// A JSON object written with `.` → `_` in keys, depth and field caps, and (at the top of
/// a CloudTrail event) the free-form fields as text.
struct Sanitized<'a> {
    obj: &'a Map<String, Value>,
    depth: usize,
    limits: Limits,
    budget: &'a Cell<usize>,
    cloudtrail: bool,
}

impl Sanitized<'_> {
    fn child<'b>(&'b self, value: &'b Value) -> SanitizedValue<'b> {
        SanitizedValue {
            value,
            depth: self.depth + 1,
            limits: self.limits,
            budget: self.budget,
        }
    }
}

impl Serialize for Sanitized<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut keys = OutputKeys::new(self.obj);
        let mut map = s.serialize_map(None)?;
        let mut entries = self.obj.iter();
        while let Some((key, value)) = entries.next() {
            if self.budget.get() == 0 {
                // Past the field cap: the rest of this object is kept as one text field.
                let mut rest = Map::new();
                rest.insert(key.clone(), value.clone());
                rest.extend(entries.map(|(k, v)| (k.clone(), v.clone())));
                let text = serde_json::to_string(&rest).map_err(serde::ser::Error::custom)?;
                map.serialize_entry(&keys.claim_overflow(), &text)?;
                break;
            }
            self.budget.set(self.budget.get() - 1);
            let out_key = keys.claim(key);
            if self.cloudtrail
                && CLOUDTRAIL_TEXT_FIELDS.contains(&key.as_str())
                && is_container(value)
            {
                let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
                map.serialize_entry(&out_key, &text)?;
            } else {
                map.serialize_entry(&out_key, &self.child(value))?;
            }
        }
        map.end()
    }
}

struct SanitizedValue<'a> {
    value: &'a Value,
    depth: usize,
    limits: Limits,
    budget: &'a Cell<usize>,
}

impl Serialize for SanitizedValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if is_container(self.value) && self.depth > self.limits.max_depth {
            let text = serde_json::to_string(self.value).map_err(serde::ser::Error::custom)?;
            return s.serialize_str(&text);
        }
        match self.value {
            Value::Object(obj) => Sanitized {
                obj,
                depth: self.depth,
                limits: self.limits,
                budget: self.budget,
                cloudtrail: false,
            }
            .serialize(s),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&SanitizedValue {
                        value: item,
                        depth: self.depth + 1,
                        limits: self.limits,
                        budget: self.budget,
                    })?;
                }
                seq.end()
            }
            scalar => scalar.serialize(s),
        }
    }
}

fn is_container(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Array(_))
}

/// Output key names for one object. Keys without `.` keep their names; a rewritten key
/// (`.` → `_`) or the synthetic overflow key that would collide with another key gets a
/// `_2`, `_3`, … suffix, so no field is lost.
struct OutputKeys<'a> {
    obj: &'a Map<String, Value>,
    /// Names taken, computed only once a rewrite happens: most objects need none.
    taken: Option<Vec<String>>,
}

impl<'a> OutputKeys<'a> {
    fn new(obj: &'a Map<String, Value>) -> Self {
        Self { obj, taken: None }
    }

    fn claim<'k>(&mut self, key: &'k str) -> Cow<'k, str> {
        if key.contains('.') {
            Cow::Owned(self.step_aside(key.replace('.', "_")))
        } else {
            Cow::Borrowed(key)
        }
    }

    fn claim_overflow(&mut self) -> String {
        self.step_aside(OVERFLOW_KEY.to_owned())
    }

    fn step_aside(&mut self, base: String) -> String {
        let obj = self.obj;
        let taken = self
            .taken
            .get_or_insert_with(|| obj.keys().filter(|k| !k.contains('.')).cloned().collect());
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        taken.push(candidate.clone());
        candidate
    }
}
