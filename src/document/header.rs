//! What a document is, known while it was built: the kind of message, the envelope
//! fields, the times, and where in the JSON the message and the fields alerts read
//! were written. Alerts read these instead of parsing the document's JSON again, and the
//! index's safe form and the archive's truncated record are spliced from them
//! ([`super::rewrite`]).
//!
//! The header holds spans into [`Document::source`], not copies: building a document
//! allocates nothing more for it. A span covers a JSON value exactly as it was written
//! (a string with its quotes), so what a reader gets from it is what a parse of the
//! document would have given, field caps, key rewrites and all.

use std::borrow::Cow;

mod read_back;

use super::Document;
use super::rewrite::Members;

/// What kind of message a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A CloudTrail event: CloudTrail's four marker fields at the top of the message
    /// (its free-form fields are then kept as text, or as `flat_object`s).
    CloudTrail,
    /// An access log: a JSON message with `http_response_time` or `http_request` at
    /// its top.
    AccessLog,
    /// Any other JSON object.
    Json,
    /// A message that is not a JSON object, kept as `{"log": text}`.
    Text,
    /// An audit record from the audit-records endpoint (`attributes`, no `message`).
    Audit,
    /// A document read back (replay) that is none of these, or not one of ours.
    #[default]
    Other,
}

/// The top-level message fields the slow-response check reads (as written: after the
/// `.` → `_` key rewrite), in sorted order.
pub const ACCESS_FIELDS: [&str; 8] = [
    "date_access",
    "http_referer",
    "http_request",
    "http_response_time",
    "http_verb",
    "kubernetes",
    "kubernetes_pod_name",
    "network_client_ip",
];

/// The top-level message fields of a CloudTrail document the Sigma prefilter reads (as
/// written), in sorted order, `_overflow` (fields past the cap) included: with it, the
/// event alerts see has more top fields than the document.
pub const CLOUDTRAIL_FIELDS: [&str; 5] = [
    "_overflow",
    "errorCode",
    "eventName",
    "eventSource",
    "userIdentity",
];

/// A byte range of [`Document::source`]; `end == 0` is "absent" (no value ends at 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    pub(super) fn new(start: usize, end: usize) -> Self {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) if start < end => Self { start, end },
            _ => Self::default(),
        }
    }

    pub(super) fn range(self) -> Option<std::ops::Range<usize>> {
        (self.end != 0).then_some(self.start as usize..self.end as usize)
    }

    pub(super) fn get(self, source: &str) -> Option<&str> {
        source.get(self.range()?)
    }
}

/// Where the [`ACCESS_FIELDS`], then the [`CLOUDTRAIL_FIELDS`], were written in a message
/// (spans into the document), and whether a top key holds a dot (only documents read back:
/// the builders rewrite dots; the Sigma prefilter relies on there being none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct TopFields([Span; ACCESS_FIELDS.len() + CLOUDTRAIL_FIELDS.len()], bool);

impl TopFields {
    /// Notes a top-level field written as `key` (the output name) whose value is at
    /// `start..end` of the message.
    pub(super) fn note(&mut self, key: &[u8], start: usize, end: usize) {
        // Called for every top-level field of every message: a match (by length, then
        // bytes) costs less than a search of the list.
        let i = match key {
            b"date_access" => 0,
            b"http_referer" => 1,
            b"http_request" => 2,
            b"http_response_time" => 3,
            b"http_verb" => 4,
            b"kubernetes" => 5,
            b"kubernetes_pod_name" => 6,
            b"network_client_ip" => 7,
            b"_overflow" => 8,
            b"errorCode" => 9,
            b"eventName" => 10,
            b"eventSource" => 11,
            b"userIdentity" => 12,
            _ => return,
        };
        self.0[i] = Span::new(start, end);
    }

    fn has(&self, key: &str) -> bool {
        ACCESS_FIELDS
            .binary_search(&key)
            .is_ok_and(|i| self.0[i].end != 0)
    }

    /// The kind of a JSON object message with these fields.
    pub(super) fn kind(&self, cloudtrail: bool) -> Kind {
        if cloudtrail {
            Kind::CloudTrail
        } else if self.has("http_response_time") || self.has("http_request") {
            Kind::AccessLog
        } else {
            Kind::Json
        }
    }
}

/// The header of a document (see the module documentation). Read it through the
/// accessors on [`Document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub kind: Kind,
    /// `@timestamp`, epoch milliseconds: the log event's time in CloudWatch Logs (its
    /// ingestion), the record's `datetime` for an audit record.
    pub at_millis: Option<i64>,
    /// `timestamp`, epoch milliseconds: the time written inside the message, else
    /// `@timestamp`.
    pub time_millis: Option<i64>,
    at: Span,
    owner: Span,
    log_group: Span,
    log_stream: Span,
    commons: Span,
    /// The message value (`{…}`).
    message: Span,
    access: TopFields,
    /// Where the members a rewrite replaces were written ([`super::rewrite`]).
    pub(super) members: Members,
}

/// Spans of a log document's envelope fields, as the builder wrote them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Envelope {
    pub(super) at: Span,
    pub(super) owner: Span,
    pub(super) log_group: Span,
    pub(super) log_stream: Span,
    pub(super) commons: Span,
}

impl Header {
    /// The header of a log document: the envelope fields, the message written at
    /// `message_at..message_at + message_len`, its top fields (spans into the document).
    pub(super) fn log(
        kind: Kind,
        times: (i64, i64),
        env: Envelope,
        message_at: usize,
        message_len: usize,
        top: TopFields,
    ) -> Self {
        Self {
            kind,
            at_millis: Some(times.0),
            time_millis: Some(times.1),
            at: env.at,
            owner: env.owner,
            log_group: env.log_group,
            log_stream: env.log_stream,
            commons: env.commons,
            message: Span::new(message_at, message_at + message_len),
            access: top,
            members: Members::log(message_at, message_at + message_len),
        }
    }

    /// Every byte range of the source the header points at (tests: what a reader of
    /// the header may read).
    #[cfg(test)]
    pub(crate) fn spans(&self) -> Vec<std::ops::Range<usize>> {
        [
            self.at,
            self.owner,
            self.log_group,
            self.log_stream,
            self.commons,
            self.message,
        ]
        .iter()
        .chain(&self.access.0)
        .filter(|s| s.end != 0)
        .map(|s| s.start as usize..s.end as usize)
        .collect()
    }

    /// The same kind and times with no spans: for another JSON of the same document
    /// (the index's safe form), whose fields are elsewhere.
    pub fn detached(&self) -> Self {
        Self {
            kind: self.kind,
            at_millis: self.at_millis,
            time_millis: self.time_millis,
            ..Self::default()
        }
    }

    /// The header of an audit-record document, `source`, which starts with its
    /// `@timestamp` (`{"@timestamp":"…"`, RFC 3339: no escapes), then its `attributes`,
    /// whose value is `attributes_len` bytes long.
    pub(crate) fn audit(at_millis: i64, source: &str, attributes_len: usize) -> Self {
        const AT_KEY: &str = "{\"@timestamp\":\"";
        const ATTRIBUTES_KEY: &str = ",\"attributes\":";
        let at = source
            .strip_prefix(AT_KEY)
            .and_then(|rest| rest.find('"'))
            .map_or_else(Span::default, |len| {
                Span::new(AT_KEY.len() - 1, AT_KEY.len() + len + 1)
            });
        let attributes = at
            .range()
            .filter(|r| {
                source
                    .get(r.end..)
                    .is_some_and(|s| s.starts_with(ATTRIBUTES_KEY))
            })
            .map(|r| Span::new(r.end + 1, r.end + ATTRIBUTES_KEY.len() + attributes_len));
        Self {
            kind: Kind::Audit,
            at_millis: Some(at_millis),
            time_millis: Some(at_millis),
            at,
            members: attributes.map_or_else(Members::default, Members::audit),
            ..Self::default()
        }
    }
}

/// A JSON string token as text: borrowed when it has no escape. `""` for anything
/// else (absent, not a string).
fn text(token: Option<&str>) -> Cow<'_, str> {
    let Some(token) = token else {
        return Cow::Borrowed("");
    };
    match token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Cow::Borrowed(inner),
        // One string token with escapes, unescaped.
        Some(_) => serde_json::from_str::<String>(token).map_or(Cow::Borrowed(""), Cow::Owned),
        None => Cow::Borrowed(""),
    }
}

impl Document {
    /// A document read back from its JSON (replay, tests): its header is found by
    /// reading `source` once. Documents built here get theirs while being built.
    pub fn from_source(id: String, index: String, source: String) -> Self {
        let header = read_back::read_header(&source).unwrap_or_default();
        Self {
            id,
            index,
            source,
            header,
        }
    }

    /// What kind of message the document holds.
    pub fn kind(&self) -> Kind {
        self.header.kind
    }

    /// `@timestamp` as written (RFC 3339, milliseconds, `Z`); `""` when absent.
    pub fn at(&self) -> Cow<'_, str> {
        text(self.header.at.get(&self.source))
    }

    /// The account that owns the log group (`owner`); `""` when absent.
    pub fn owner(&self) -> Cow<'_, str> {
        text(self.header.owner.get(&self.source))
    }

    pub fn log_group(&self) -> Cow<'_, str> {
        text(self.header.log_group.get(&self.source))
    }

    pub fn log_stream(&self) -> Cow<'_, str> {
        text(self.header.log_stream.get(&self.source))
    }

    pub fn commons(&self) -> Cow<'_, str> {
        text(self.header.commons.get(&self.source))
    }

    /// The message's JSON (an object) as written in the document.
    pub fn message_json(&self) -> Option<&str> {
        self.header.message.get(&self.source)
    }

    /// The JSON value of one of the message's [`ACCESS_FIELDS`] as written, if present.
    pub fn access_field(&self, name: &str) -> Option<&str> {
        let i = ACCESS_FIELDS.binary_search(&name).ok()?;
        self.header.access.0[i].get(&self.source)
    }

    /// The JSON value of one of the message's [`CLOUDTRAIL_FIELDS`] as written, if
    /// present; `Err(())` when a top key of the message holds a dot (then a dotted Sigma
    /// field name may name it: only the whole message answers).
    #[allow(clippy::result_unit_err)]
    pub fn cloudtrail_field(&self, name: &str) -> Result<Option<&str>, ()> {
        if self.header.access.1 {
            return Err(());
        }
        let i = CLOUDTRAIL_FIELDS.binary_search(&name).map_err(|_| ())?;
        Ok(self.header.access.0[ACCESS_FIELDS.len() + i].get(&self.source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_access_field_is_noted_at_its_place_and_nothing_else() {
        for (i, name) in ACCESS_FIELDS.iter().enumerate() {
            let mut top = TopFields::default();
            top.note(name.as_bytes(), 10, 20);
            assert_eq!(top.0[i], Span::new(10, 20), "{name}");
            assert_eq!(top.0.iter().filter(|s| s.end != 0).count(), 1);
        }
        for (i, name) in CLOUDTRAIL_FIELDS.iter().enumerate() {
            let mut top = TopFields::default();
            top.note(name.as_bytes(), 10, 20);
            assert_eq!(top.0[ACCESS_FIELDS.len() + i], Span::new(10, 20), "{name}");
            assert_eq!(top.0.iter().filter(|s| s.end != 0).count(), 1);
            assert!(!top.1);
        }
        let read = |message: &str| {
            let doc = Document::from_source(
                "i".to_owned(),
                "x".to_owned(),
                format!(r#"{{"message":{message}}}"#),
            );
            doc.cloudtrail_field("eventName")
                .map(|v| v.map(str::to_owned))
        };
        assert_eq!(
            read(r#"{"eventName":"A","b":1}"#),
            Ok(Some("\"A\"".to_owned()))
        );
        assert_eq!(read(r#"{"b":1}"#), Ok(None));
        assert_eq!(
            read(r#"{"eventName":"A","userIdentity.type":"Root"}"#),
            Err(())
        );
        assert!(CLOUDTRAIL_FIELDS.windows(2).all(|w| w[0] < w[1]), "sorted");
        let mut top = TopFields::default();
        for other in ["http", "http_response_time_2", "kubernetes.pod_name", ""] {
            top.note(other.as_bytes(), 1, 2);
        }
        assert_eq!(top, TopFields::default());
        assert!(ACCESS_FIELDS.windows(2).all(|w| w[0] < w[1]), "sorted");
    }
}
