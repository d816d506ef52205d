//! The document of one log event: the times (its own and the one written inside the
//! message), the deterministic id, the daily index, the envelope fields and the message.

use std::borrow::Cow;
use std::cell::Cell;

use chrono::{DateTime, Datelike, Utc};
use serde_json::Number;

use super::escape;
use super::fast::{self, Field};
use super::header::{self, Header, Kind, Span, TopFields};
use super::json::{Json, Object};
use super::sanitize::{FreeForm, Sanitized, Tap, Tracked};
use super::{CLOUDTRAIL_MARKERS, Document, DocumentError, IdHasher, Limits};
use crate::decode::{Envelope, LogEvent};
use crate::timestamp::{self, Rfc3339Millis};

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

    /// The document of one log event of `env`. For several log events of one envelope,
    /// [`Self::envelope`] writes what they share once.
    pub fn build(
        &self,
        env: &Envelope<'_>,
        event: &LogEvent<'_>,
    ) -> Result<Document, DocumentError> {
        self.envelope(env).build(event)
    }

    /// [`Self::build`] without the one-pass path: every JSON message through the tree.
    /// The same bytes as `build`; for the tests that hold the two paths to that.
    #[doc(hidden)]
    pub fn build_by_tree(
        &self,
        env: &Envelope<'_>,
        event: &LogEvent<'_>,
    ) -> Result<Document, DocumentError> {
        let envelope = self.envelope(env);
        self.build_with(envelope.shared()?, event, false)
    }

    /// The builder of `env`'s documents: the envelope fields every one of them holds
    /// (`messageType` to `commons`) are escaped once, here, and copied into each; the
    /// id's hash of owner, group and stream is taken once and finished for each.
    pub fn envelope(&self, env: &Envelope<'_>) -> EnvelopeBuilder<'_> {
        let mut json = Vec::with_capacity(
            env.message_type.len()
                + env.owner.len()
                + env.log_group.len()
                + env.log_stream.len()
                + env
                    .subscription_filters
                    .iter()
                    .map(|f| f.len() + 3)
                    .sum::<usize>()
                + self.commons.len()
                + 96,
        );
        let shared = write_envelope(&mut json, env, &self.commons)
            .map(|spans| Shared {
                json,
                spans,
                ids: IdHasher::new(&env.owner, &env.log_group, &env.log_stream),
            })
            .map_err(|e| DocumentError::Serialize(e.to_string()));
        EnvelopeBuilder {
            builder: self,
            shared,
        }
    }

    fn build_with(
        &self,
        shared: &Shared,
        event: &LogEvent<'_>,
        one_pass: bool,
    ) -> Result<Document, DocumentError> {
        // RFC 3339 and OpenSearch dates hold years 0000 to 9999 only.
        let at = timestamp::from_epoch_millis(event.timestamp)
            .filter(|t| (0..=9999).contains(&t.year()))
            .ok_or(DocumentError::Timestamp(event.timestamp))?;
        // Both times are in years 0000..=9999 (`at` by the filter above, found times by
        // the time finder), so they fit the stack buffer.
        let at_text = Rfc3339Millis::new(at).ok_or(DocumentError::Timestamp(event.timestamp))?;
        // The message is written straight into the document, after the two times (a
        // fixed 24 bytes each: `timestamp` is patched once the message has given its
        // time) and the envelope's fields. Room for what is written: a text message
        // (not an object) is escaped, which reserves more than it writes.
        let len = event.message.len();
        let message_room = if event.message.trim_start().starts_with('{') {
            len + len / 8 + 16
        } else {
            b"{\"log\":}".len() + escape::room_for(len)
        };
        let mut source = Vec::with_capacity(HEAD_BYTES + shared.json.len() + message_room + 1);
        // The two times (RFC 3339: nothing to escape), then the envelope's fields.
        source.extend_from_slice(b"{\"@timestamp\":");
        let at_span = quoted(&mut source, at_text.as_str());
        source.extend_from_slice(b",\"timestamp\":");
        let time_at = source.len() + 1;
        quoted(&mut source, at_text.as_str());
        let fields = shared.spans.at(source.len(), at_span);
        source.extend_from_slice(&shared.json);
        // `"message":` last, as one JSON object: in one pass when it is in canonical form
        // but for its key order (`fast`), else through the sorted tree; any other
        // message as `{"log": text}`.
        source.extend_from_slice(b",\"message\":");
        let message_at = source.len();
        let one_pass = one_pass
            .then(|| {
                fast::write_message(
                    &event.message,
                    self.limits,
                    self.free_form_objects,
                    &mut source,
                )
            })
            .flatten();
        let (found, kind, top) = match one_pass {
            Some(fields) => (
                time_in_fields(
                    |k| {
                        fields.get(k).map(|f| match f {
                            Field::Number(n) => FieldRef::Number(n),
                            Field::String(raw) => FieldRef::String(Field::unescaped(raw)),
                            Field::Other => FieldRef::Other,
                        })
                    },
                    fields.cloudtrail,
                    at,
                ),
                fields.top.kind(fields.cloudtrail),
                fields.top,
            ),
            None => {
                source.truncate(message_at);
                self.tree_message(&event.message, at, &mut source)?
            }
        };
        let message_len = source.len() - message_at;
        source.push(b'}');
        // Room reserved for escaping that was not used is given back: the document is
        // kept until its batch is delivered. (Shrinking leaves it where it is.)
        if source.capacity() > source.len() + source.len() / 4 + 64 {
            source.shrink_to_fit();
        }
        let found = found.filter(|t| *t != at);
        let found_text = found.and_then(Rfc3339Millis::new);
        if let Some(text) = &found_text
            && let Some(slot) = source.get_mut(time_at..time_at + text.as_bytes().len())
        {
            slot.copy_from_slice(text.as_bytes());
        }
        let source = crate::utf8::into_string(source)
            .map_err(|e| DocumentError::Serialize(e.to_string()))?;
        let at_millis = at.timestamp_millis();
        let times = match (found, &found_text) {
            (Some(t), Some(_)) => (at_millis, t.timestamp_millis()),
            _ => (at_millis, at_millis),
        };
        Ok(Document {
            id: shared.ids.id(&event.id),
            index: index_name_from_rfc3339(&self.index_prefix, &at_text),
            header: Header::log(kind, times, fields, message_at, message_len, top),
            source,
        })
    }
}

/// The bytes of a document around its envelope fields and message:
/// `{"@timestamp":"…","timestamp":"…"`, `,"message":` and the closing `}` (79 + 11 + 1),
/// rounded up.
const HEAD_BYTES: usize = 96;

/// Builds the documents of one envelope's log events ([`DocumentBuilder::envelope`]).
#[derive(Debug)]
pub struct EnvelopeBuilder<'a> {
    builder: &'a DocumentBuilder,
    /// What the envelope's documents share; the error, if it could not be written, that
    /// every document of the envelope then gets.
    shared: Result<Shared, DocumentError>,
}

impl EnvelopeBuilder<'_> {
    /// The document of `event`, one of the envelope's log events.
    pub fn build(&self, event: &LogEvent<'_>) -> Result<Document, DocumentError> {
        self.builder.build_with(self.shared()?, event, true)
    }

    fn shared(&self) -> Result<&Shared, DocumentError> {
        self.shared.as_ref().map_err(Clone::clone)
    }
}

/// The envelope fields every document of an envelope holds, as JSON
/// (`,"messageType":…,"commons":…`), where the header's fields are in it, and the id's
/// hash of owner, group and stream.
#[derive(Debug)]
struct Shared {
    json: Vec<u8>,
    spans: EnvelopeSpans,
    ids: IdHasher,
}

/// `text` as a JSON string, for text with nothing to escape; its span.
fn quoted(out: &mut Vec<u8>, text: &str) -> Span {
    let start = out.len();
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
    Span::new(start, out.len())
}

/// Where `owner`, `logGroup`, `logStream` and `commons` are in the envelope fields as
/// [`write_envelope`] wrote them (start, end).
#[derive(Debug, Clone, Copy)]
struct EnvelopeSpans([(usize, usize); 4]);

impl EnvelopeSpans {
    /// The header's envelope spans of a document whose envelope fields start at `base`
    /// (its `@timestamp` at `at`).
    fn at(&self, base: usize, at: Span) -> header::Envelope {
        let [owner, log_group, log_stream, commons] = self
            .0
            .map(|(start, end)| Span::new(base + start, base + end));
        header::Envelope {
            at,
            owner,
            log_group,
            log_stream,
            commons,
        }
    }
}

/// The envelope fields of a log document, in this order (after `@timestamp` and
/// `timestamp`; the message follows): `,"messageType":…,"owner":…,"logGroup":…,
/// "logStream":…,"subscriptionFilters":[…],"commons":…`; where the header's fields are.
fn write_envelope(
    out: &mut Vec<u8>,
    env: &Envelope<'_>,
    commons: &str,
) -> serde_json::Result<EnvelopeSpans> {
    let string = |out: &mut Vec<u8>, key: &[u8], value: &str| {
        out.extend_from_slice(key);
        let start = out.len();
        serde_json::to_writer(&mut *out, value).map(|()| (start, out.len()))
    };
    string(out, b",\"messageType\":", &env.message_type)?;
    let owner = string(out, b",\"owner\":", &env.owner)?;
    let log_group = string(out, b",\"logGroup\":", &env.log_group)?;
    let log_stream = string(out, b",\"logStream\":", &env.log_stream)?;
    out.extend_from_slice(b",\"subscriptionFilters\":");
    serde_json::to_writer(&mut *out, &env.subscription_filters)?;
    let commons = string(out, b",\"commons\":", commons)?;
    Ok(EnvelopeSpans([owner, log_group, log_stream, commons]))
}

impl DocumentBuilder {
    /// The message through the sorted tree (any JSON object) or as `{"log": text}`;
    /// returns the time found in it, its kind and where its header fields were written.
    fn tree_message(
        &self,
        text: &str,
        at: DateTime<Utc>,
        out: &mut Vec<u8>,
    ) -> Result<(Option<DateTime<Utc>>, Kind, TopFields), DocumentError> {
        let serialize = |e: serde_json::Error| DocumentError::Serialize(e.to_string());
        let Some(obj) = parse_object(text) else {
            let found = timestamp::find_in_text(text, at);
            out.extend_from_slice(b"{\"log\":");
            escape::json_string(out, text);
            out.push(b'}');
            return Ok((found, Kind::Text, TopFields::default()));
        };
        let found = time_in_fields(
            |k| {
                obj.get(k).map(|v| match v {
                    Json::Number(n) => FieldRef::Number(n),
                    Json::String(s) => FieldRef::String(Cow::Borrowed(s.as_ref())),
                    _ => FieldRef::Other,
                })
            },
            is_cloudtrail(&obj),
            at,
        );
        let budget = Cell::new(self.limits.max_fields);
        let tap = Tap::default();
        tap.pos.set(out.len());
        let cloudtrail = is_cloudtrail(&obj);
        let view = Sanitized {
            obj: &obj,
            depth: 1,
            limits: self.limits,
            budget: &budget,
            cloudtrail: cloudtrail.then_some(if self.free_form_objects {
                FreeForm::Objects
            } else {
                FreeForm::Text
            }),
            tap: Some(&tap),
        };
        let writer = Tracked { out, pos: &tap.pos };
        serde_json::to_writer(writer, &view).map_err(serialize)?;
        let top = tap.top.into_inner();
        Ok((found, top.kind(cloudtrail), top))
    }
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

pub(super) fn is_cloudtrail(obj: &Object<'_>) -> bool {
    CLOUDTRAIL_MARKERS.iter().all(|k| obj.get(k).is_some())
}

/// A top-level field of a message, as the time finder reads it.
enum FieldRef<'a> {
    Number(&'a Number),
    String(Cow<'a, str>),
    Other,
}

/// The time inside a JSON message (its top-level fields by `get`): CloudTrail's
/// `eventTime`, then the well-known fields, then the text of a `log` field
/// (Kubernetes/fluentd).
fn time_in_fields<'a>(
    get: impl Fn(&str) -> Option<FieldRef<'a>>,
    cloudtrail: bool,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    // As `timestamp::parse_json_value` reads a `serde_json::Value`.
    let parse = |v: FieldRef<'_>| match v {
        FieldRef::Number(n) => timestamp::parse_json_number(n),
        FieldRef::String(s) => timestamp::parse_json_string(&s, at),
        FieldRef::Other => None,
    };
    if cloudtrail && let Some(t) = get("eventTime").and_then(parse) {
        return Some(t);
    }
    timestamp::WELL_KNOWN_FIELDS
        .iter()
        .filter_map(|k| get(k))
        .find_map(parse)
        .or_else(|| match get("log") {
            Some(FieldRef::String(text)) => timestamp::find_in_text(&text, at),
            _ => None,
        })
}
