//! One log event → one document: the JSON that is indexed and archived.
//!
//! The schema is written down in README.md ("Document schema"). Building a document
//! never reads the wall clock: the same input always gives the same bytes.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Utc};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Number;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::decode::{Envelope, LogEvent};
use crate::timestamp::{self, Rfc3339Millis};

/// Default index prefix: documents go to `<prefix>-YYYY.MM.DD`.
pub const DEFAULT_INDEX_PREFIX: &str = "csoc-logs";

/// CloudTrail's free-form fields: stored as JSON text so they cannot explode the index
/// mapping, or kept as objects where the index maps them as `flat_object`
/// ([`DocumentBuilder::with_free_form_objects`]).
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
    free_form_objects: bool,
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
            free_form_objects: false,
        }
    }

    /// Keep CloudTrail's free-form fields as objects (the index maps them as
    /// `flat_object`): their inner fields add nothing to the mapping, so they are not
    /// counted against the field cap. Default: JSON text.
    pub fn with_free_form_objects(mut self, objects: bool) -> Self {
        self.free_form_objects = objects;
        self
    }

    /// The commons name stored in every document.
    pub fn commons(&self) -> &str {
        &self.commons
    }

    /// The index for a document whose `@timestamp` is `at`.
    pub fn index_for(&self, at: &Rfc3339Millis) -> String {
        index_name_from_rfc3339(&self.index_prefix, at)
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
        // Both times are in years 0000..=9999 (`at` by the filter above, found times by
        // the time finder), so they fit the stack buffer.
        let at_text = Rfc3339Millis::new(at).ok_or(DocumentError::Timestamp(event.timestamp))?;
        let found_text = found.filter(|t| *t != at).and_then(Rfc3339Millis::new);
        let budget = Cell::new(self.limits.max_fields);
        let message = match &parsed {
            Some(obj) => MessageView::Object(Sanitized {
                obj,
                depth: 1,
                limits: self.limits,
                budget: &budget,
                cloudtrail: is_cloudtrail(obj).then_some(if self.free_form_objects {
                    FreeForm::Objects
                } else {
                    FreeForm::Text
                }),
            }),
            None => MessageView::Text(&event.message),
        };
        let view = DocView {
            at: at_text.as_str(),
            timestamp: found_text.as_ref().unwrap_or(&at_text).as_str(),
            message_type: &env.message_type,
            owner: &env.owner,
            log_group: &env.log_group,
            log_stream: &env.log_stream,
            subscription_filters: &env.subscription_filters,
            commons: &self.commons,
            message,
        };
        // Sized up front: the document is the message plus the envelope fields, and
        // growing a ~1 KB string by doubling costs more than the estimate.
        let mut source = Vec::with_capacity(
            event.message.len()
                + event.message.len() / 8
                + env.owner.len()
                + env.log_group.len()
                + env.log_stream.len()
                + env
                    .subscription_filters
                    .iter()
                    .map(|f| f.len() + 3)
                    .sum::<usize>()
                + self.commons.len()
                + 256,
        );
        serde_json::to_writer(&mut source, &view)
            .map_err(|e| DocumentError::Serialize(e.to_string()))?;
        let source =
            String::from_utf8(source).map_err(|e| DocumentError::Serialize(e.to_string()))?;
        Ok(Document {
            id: document_id(&env.owner, &env.log_group, &env.log_stream, &event.id),
            index: index_name_from_rfc3339(&self.index_prefix, &at_text),
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
    let mut hex = [0u8; 64];
    // 32 bytes of digest always fit 64 hex digits.
    let _ = hex::encode_to_slice(h.finalize(), &mut hex);
    String::from_utf8_lossy(&hex).into_owned()
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

/// [`index_name`] from the RFC 3339 text of the same time (`YYYY-MM-DD…`): no
/// formatting machinery, one allocation.
fn index_name_from_rfc3339(prefix: &str, at: &Rfc3339Millis) -> String {
    let at = at.as_str();
    let mut s = String::with_capacity(prefix.len() + 11);
    s.push_str(prefix);
    s.push('-');
    s.push_str(&at[0..4]);
    s.push('.');
    s.push_str(&at[5..7]);
    s.push('.');
    s.push_str(&at[8..10]);
    s
}

/// The message as a JSON object, when it is one.
fn parse_object(message: &str) -> Option<Object<'_>> {
    if !message.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Json>(message) {
        Ok(Json::Object(obj)) => Some(obj),
        _ => None,
    }
}

fn is_cloudtrail(obj: &Object<'_>) -> bool {
    CLOUDTRAIL_MARKERS.iter().all(|k| obj.get(k).is_some())
}

/// The time inside a JSON message: CloudTrail's `eventTime`, then the well-known
/// fields, then the text of a `log` field (Kubernetes/fluentd).
fn time_in_object(obj: &Object<'_>, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // As `timestamp::parse_json_value` reads a `serde_json::Value`.
    let parse = |v: &Json<'_>| match v {
        Json::Number(n) => timestamp::parse_json_number(n),
        Json::String(s) => timestamp::parse_json_string(s, at),
        _ => None,
    };
    if is_cloudtrail(obj)
        && let Some(t) = obj.get("eventTime").and_then(parse)
    {
        return Some(t);
    }
    timestamp::WELL_KNOWN_FIELDS
        .iter()
        .filter_map(|k| obj.get(k))
        .find_map(parse)
        .or_else(|| match obj.get("log") {
            Some(Json::String(text)) => timestamp::find_in_text(text, at),
            _ => None,
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

/// How the free-form fields at the top of a CloudTrail event are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FreeForm {
    Text,
    /// Objects outside the field budget (the index maps them as `flat_object`).
    Objects,
}

/// A JSON object written with `.` → `_` in keys, depth and field caps, and (at the top of
/// a CloudTrail event) the free-form fields as text or as uncounted objects.
struct Sanitized<'a> {
    obj: &'a Object<'a>,
    depth: usize,
    limits: Limits,
    budget: &'a Cell<usize>,
    cloudtrail: Option<FreeForm>,
}

impl Sanitized<'_> {
    fn child<'b>(&'b self, value: &'b Json<'b>) -> SanitizedValue<'b> {
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
        let mut keys = OutputKeys::new(self.obj.keys());
        let mut map = s.serialize_map(None)?;
        for (i, (key, value)) in self.obj.entries.iter().enumerate() {
            if self.budget.get() == 0 {
                // Past the field cap: the rest of this object is kept as one text field.
                let rest = Entries(&self.obj.entries[i..]);
                let text = serde_json::to_string(&rest).map_err(serde::ser::Error::custom)?;
                map.serialize_entry(&keys.claim_overflow(), &text)?;
                break;
            }
            self.budget.set(self.budget.get() - 1);
            let out_key = keys.claim(key);
            let free_form = self
                .cloudtrail
                .filter(|_| CLOUDTRAIL_TEXT_FIELDS.contains(&key.as_ref()) && is_container(value));
            if free_form == Some(FreeForm::Text) {
                let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
                map.serialize_entry(&out_key, &text)?;
            } else if free_form == Some(FreeForm::Objects) {
                // A budget of its own: a flat_object adds one field to the mapping.
                let unlimited = Cell::new(usize::MAX);
                let child = SanitizedValue {
                    value,
                    depth: self.depth + 1,
                    limits: self.limits,
                    budget: &unlimited,
                };
                map.serialize_entry(&out_key, &child)?;
            } else {
                map.serialize_entry(&out_key, &self.child(value))?;
            }
        }
        map.end()
    }
}

struct SanitizedValue<'a> {
    value: &'a Json<'a>,
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
            Json::Object(obj) => Sanitized {
                obj,
                depth: self.depth,
                limits: self.limits,
                budget: self.budget,
                cloudtrail: None,
            }
            .serialize(s),
            Json::Array(items) => {
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

fn is_container(v: &Json<'_>) -> bool {
    matches!(v, Json::Object(_) | Json::Array(_))
}

/// Output key names for one object (its input keys are `keys`). Keys without `.` keep
/// their names; a rewritten key (`.` → `_`) or the synthetic overflow key that would
/// collide with another key gets a `_2`, `_3`, … suffix, so no field is lost. Audit-record
/// attributes ([`crate::audit`]) are named by the same rule.
pub(crate) struct OutputKeys<'a, K> {
    keys: K,
    /// Names taken, computed only once a rewrite happens: most objects need none.
    taken: Option<Vec<Cow<'a, str>>>,
}

impl<'a, K: Iterator<Item = &'a str> + Clone> OutputKeys<'a, K> {
    pub(crate) fn new(keys: K) -> Self {
        Self { keys, taken: None }
    }

    pub(crate) fn claim<'k>(&mut self, key: &'k str) -> Cow<'k, str> {
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
        let keys = &self.keys;
        let taken = self.taken.get_or_insert_with(|| {
            keys.clone()
                .filter(|k| !k.contains('.'))
                .map(Cow::Borrowed)
                .collect()
        });
        let is_taken = |name: &str| taken.iter().any(|t| t == name);
        let mut candidate = base;
        if is_taken(&candidate) {
            let base = std::mem::take(&mut candidate);
            let mut n = 2;
            loop {
                candidate = format!("{base}_{n}");
                if !is_taken(&candidate) {
                    break;
                }
                n += 1;
            }
        }
        taken.push(Cow::Owned(candidate.clone()));
        candidate
    }
}

// Why a tree of our own and not a crate: `serde_json_borrow` 0.9 (a borrowed, Vec-backed
// DOM, the obvious candidate) was measured in its place on 2026-11-22 (BENCHMARKS.md,
// "Second round"): with its objects sorted and de-duplicated as they are written, to
// keep these bytes, the pipeline ran 2.0% more instructions per log event (callgrind,
// 1,584.6 M against 1,552.8 M a pass; 0.6% more with mimalloc), an extra vector per
// object. Timed runs could not tell them apart, but the count repeats exactly, so the
// tree stays. Revisit if the crate can sort at parse time.

/// A JSON value parsed from a message. It behaves as `serde_json::Value` does, with
/// fewer allocations: strings borrow from the message when there is nothing to unescape,
/// and an object is one sorted vector (keys in `serde_json::Map` order, a repeated key
/// keeping its last value) instead of a tree of nodes. Serialized plainly it gives the
/// same bytes as the `Value` would; the tests below hold it to that.
#[derive(Debug, Clone, PartialEq)]
enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// A JSON object: entries sorted by key, keys unique.
#[derive(Debug, Clone, PartialEq, Default)]
struct Object<'a> {
    entries: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Object<'a> {
    /// Entries in input order → sorted by key; of a repeated key the last value is kept,
    /// as `serde_json::Map::insert` does.
    fn from_entries(mut entries: Vec<(Cow<'a, str>, Json<'a>)>) -> Self {
        // A stable sort keeps repeated keys in input order…
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        // …and `dedup_by` drops the later of two equal neighbours, so move the later
        // value into the kept slot first.
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        Self { entries }
    }

    fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.entries
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }
}

impl Json<'_> {
    #[cfg(test)]
    fn to_value(&self) -> serde_json::Value {
        use serde_json::{Map, Value};
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.as_ref().to_owned()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(obj) => Value::Object(
                obj.entries
                    .iter()
                    .map(|(k, v)| (k.as_ref().to_owned(), v.to_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Number(n) => Json::Number(n),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(items) => Json::Array(items.into_iter().map(Json::into_owned).collect()),
            Json::Object(obj) => Json::Object(Object {
                entries: obj
                    .entries
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            }),
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(text) => s.serialize_str(text),
            Json::Array(items) => s.collect_seq(items),
            Json::Object(obj) => Entries(&obj.entries).serialize(s),
        }
    }
}

/// Object entries written as a JSON object.
struct Entries<'e, 'a>(&'e [(Cow<'a, str>, Json<'a>)]);

impl Serialize for Entries<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// The key `serde_json::Value` reads as "the JSON text in this string" (its raw-value
/// token, active with the `raw_value` feature this crate uses).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Mirrors `serde_json::Value`'s visitor, call for call.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(v)))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Json::deserialize(d)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(Str(first)) = map.next_key()? else {
            return Ok(Json::Object(Object::default()));
        };
        if first == RAW_VALUE_TOKEN {
            // As `Value` does: the value is a string holding JSON text, which is parsed,
            // and the object ends there.
            let Str(text) = map.next_value()?;
            return serde_json::from_str::<Json>(&text)
                .map(Json::into_owned)
                .map_err(de::Error::custom);
        }
        let mut entries = Vec::with_capacity(8);
        entries.push((first, map.next_value()?));
        while let Some(Str(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Json::Object(Object::from_entries(entries)))
    }
}

/// A string that borrows from the input when it can (keys and raw-value text).
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// `Json` must read and write every message exactly as `serde_json::Value` does.
    fn same_as_value(text: &str) {
        let value = serde_json::from_str::<Value>(text);
        let json = serde_json::from_str::<Json>(text);
        match (&value, &json) {
            (Ok(v), Ok(j)) => {
                assert_eq!(&j.to_value(), v, "{text}");
                assert_eq!(
                    serde_json::to_string(j).unwrap(),
                    serde_json::to_string(v).unwrap(),
                    "{text}"
                );
            }
            (Err(_), Err(_)) => {}
            _ => panic!("{text}: Value gave {value:?}, Json gave {json:?}"),
        }
    }

    #[test]
    fn json_reads_and_writes_like_serde_json_value() {
        for text in [
            r#"{"b":1,"a":2,"c":{"z":[1,2.50,-3,1e3,18446744073709551615,-9223372036854775808]}}"#,
            r#"{"k":1,"k":2,"j":0,"k":3}"#,
            r#"{"esc\"aped":"a\nb\u00e9\ud83d\ude00","plain":"x","n":null,"t":true,"f":false}"#,
            r#"{"a.b":1,"a_b":2,"nested":{"x.y":{"deep":[{"a":{}}]}}}"#,
            r#"{"$serde_json::private::RawValue":"{\"b\":1,\"a\":[2]}"}"#,
            r#"{"$serde_json::private::RawValue":"[1]"}"#,
            r#"{"$serde_json::private::RawValue":"{}","more":1}"#,
            r#"{"$serde_json::private::RawValue":5}"#,
            r#"{"x":{"$serde_json::private::RawValue":"\"s\""}}"#,
            r#"{"a":1e400}"#,
            r#"{"a":1} trailing"#,
            r#"{"a":"#,
            "{}",
            "[]",
            "\"text\"",
            "1.0",
        ] {
            same_as_value(text);
        }
        let deep = format!("{}{}", "{\"a\":".repeat(200), "}".repeat(200));
        same_as_value(&deep);
    }

    #[test]
    fn object_keeps_the_last_of_a_repeated_key() {
        let Ok(Json::Object(obj)) = serde_json::from_str::<Json>(r#"{"k":1,"a":0,"k":2,"k":3}"#)
        else {
            panic!("an object")
        };
        assert_eq!(obj.keys().collect::<Vec<_>>(), ["a", "k"]);
        assert_eq!(obj.get("k"), Some(&Json::Number(3.into())));
    }
}
