//! The document of one log event: the times (its own and the one written inside the
//! message), the deterministic id, the daily index, the envelope fields and the message.

use std::borrow::Cow;
use std::cell::Cell;

use chrono::{DateTime, Datelike, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::json::{Json, Object};
use super::sanitize::Sanitized;
use super::{CLOUDTRAIL_MARKERS, Document, DocumentError, Limits, document_id};
use crate::decode::{Envelope, LogEvent};
use crate::timestamp::{self, Rfc3339Millis};

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
                cloudtrail: is_cloudtrail(obj),
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
