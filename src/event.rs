//! What the function was invoked with: the event kind is detected by its shape.
//!
//! Kinesis records are typed here rather than with `aws_lambda_events`' `KinesisEvent`,
//! whose `data` is base64-decoded while the whole event is parsed: one bad record would
//! fail the batch. Here `data` stays text and is decoded record by record.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The shapes the forwarder recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Kinesis,
    EventBridge,
    FunctionUrl,
    S3Batch,
    Unknown,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kinesis => "kinesis",
            Self::EventBridge => "event_bridge",
            Self::FunctionUrl => "function_url",
            Self::S3Batch => "s3_batch",
            Self::Unknown => "unknown",
        }
    }
}

/// Lets tests and logs compare a kind with its name.
impl PartialEq<&str> for EventKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error)]
pub enum EventError {
    #[error("event is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error(
        "event is a JSON {0}, not an object: expected a Kinesis, EventBridge, function URL or S3 Batch Operations event (a JSON object)"
    )]
    NotAnObject(&'static str),
    #[error(
        "event shape is not recognised (expected a Kinesis, EventBridge, function URL or S3 Batch Operations event)"
    )]
    Unrecognised,
    #[error("{} event is malformed: {source}", kind.as_str())]
    Malformed {
        kind: EventKind,
        source: serde_json::Error,
    },
    #[error("{} event is invalid: {reason}", kind.as_str())]
    Invalid { kind: EventKind, reason: String },
}

impl EventError {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Malformed { kind, .. } | Self::Invalid { kind, .. } => *kind,
            Self::NotJson(_) | Self::NotAnObject(_) | Self::Unrecognised => EventKind::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KinesisEvent {
    #[serde(rename = "Records")]
    pub records: Vec<KinesisRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecord {
    #[serde(rename = "eventID", default)]
    pub event_id: String,
    #[serde(rename = "eventSourceARN", default)]
    pub event_source_arn: String,
    pub kinesis: KinesisPayload,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisPayload {
    /// Base64 text, decoded later record by record.
    pub data: String,
    pub sequence_number: String,
    #[serde(default)]
    pub partition_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_arrival_timestamp: Option<f64>,
}

impl KinesisRecord {
    /// `kinesis-<stream name>` from the event source ARN, the dead-letter source.
    pub fn source(&self) -> String {
        match self.event_source_arn.rsplit_once(":stream/") {
            Some((_, stream)) if !stream.is_empty() => format!("kinesis-{stream}"),
            _ => "kinesis".to_owned(),
        }
    }
}

/// An event the forwarder can handle.
#[derive(Debug)]
pub enum Input {
    Kinesis(KinesisEvent),
    EventBridge(EventBridgeEvent),
    /// An audit-records request through the function URL (or `csoc-forwarder serve`).
    FunctionUrl(Box<LambdaFunctionUrlRequest>),
    /// S3 Batch Operations (Lambda invoke, schema 1.0 or 2.0): objects to replay.
    S3Batch(crate::replay::batch_operations::BatchEvent),
}

/// The EventBridge detail types of CloudTrail events (the Terraform rule sends these).
pub const CLOUDTRAIL_DETAIL_TYPES: [&str; 2] = [
    "AWS API Call via CloudTrail",
    "AWS Console Sign In via CloudTrail",
];

/// An EventBridge event, delivered to the function directly (one per invocation).
/// `detail` stays JSON text: it becomes the document's `message`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventBridgeEvent {
    #[serde(default)]
    pub version: String,
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub account: String,
    pub time: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub resources: Vec<serde_json::Value>,
    pub detail: Box<serde_json::value::RawValue>,
}

/// `logGroup` of documents built from EventBridge events.
pub const EVENTBRIDGE_LOG_GROUP: &str = "eventbridge";
/// `messageType` of documents built from EventBridge events.
pub const EVENTBRIDGE_MESSAGE_TYPE: &str = "EVENTBRIDGE";

impl EventBridgeEvent {
    /// The event as a one-event CloudWatch Logs envelope, so it becomes a document exactly
    /// like a log event: `owner` = account, `logGroup` = `eventbridge`, `logStream` = the
    /// detail type, `messageType` = `EVENTBRIDGE`, log event id = the EventBridge id,
    /// timestamp = `time`, message = `detail`.
    pub fn to_envelope(&self) -> Result<crate::decode::Envelope<'_>, EventError> {
        use std::borrow::Cow;
        let invalid = |reason: String| EventError::Invalid {
            kind: EventKind::EventBridge,
            reason,
        };
        if self.id.is_empty() {
            return Err(invalid("`id` is empty".to_owned()));
        }
        let at = chrono::DateTime::parse_from_rfc3339(&self.time)
            .map_err(|e| invalid(format!("`time` {:?} is not RFC 3339: {e}", self.time)))?;
        Ok(crate::decode::Envelope {
            message_type: Cow::Borrowed(EVENTBRIDGE_MESSAGE_TYPE),
            owner: Cow::Borrowed(&self.account),
            log_group: Cow::Borrowed(EVENTBRIDGE_LOG_GROUP),
            log_stream: Cow::Borrowed(&self.detail_type),
            subscription_filters: Vec::new(),
            log_events: vec![crate::decode::LogEvent {
                id: Cow::Borrowed(&self.id),
                timestamp: at.timestamp_millis(),
                message: Cow::Borrowed(self.detail.get()),
            }],
        })
    }
}

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "Records")]
    records: Option<Vec<RecordProbe>>,
    #[serde(rename = "detail-type")]
    detail_type: Option<IgnoredAny>,
    #[serde(rename = "requestContext")]
    request_context: Option<IgnoredAny>,
    #[serde(rename = "invocationSchemaVersion")]
    invocation_schema_version: Option<IgnoredAny>,
    tasks: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RecordProbe {
    kinesis: Option<IgnoredAny>,
}

/// Why the probe failed, in the user's terms: not JSON at all, JSON that is not an
/// object (`[]`, `42`, `null`), or an object of no known shape.
fn probe_error(bytes: &[u8], err: serde_json::Error) -> EventError {
    if err.classify() != serde_json::error::Category::Data {
        return EventError::NotJson(err);
    }
    let first = bytes
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
        .unwrap_or(b'{');
    match first {
        b'[' => EventError::NotAnObject("array"),
        b'"' => EventError::NotAnObject("string"),
        b'n' => EventError::NotAnObject("null"),
        b't' | b'f' => EventError::NotAnObject("boolean"),
        b'-' | b'0'..=b'9' => EventError::NotAnObject("number"),
        _ => EventError::Unrecognised,
    }
}

/// Detects the kind of `bytes` by shape and parses it.
pub fn parse(bytes: &[u8]) -> Result<Input, EventError> {
    // Nearly every invocation is a Kinesis batch: try that shape first, so the (~1 MB)
    // event is read once. Whatever this parse accepts, the probe below would call
    // Kinesis too (short of a repeated `detail-type` or `requestContext` key, which the
    // probe rejects as an unrecognised shape); anything else goes through the probe.
    if let Ok(event) = serde_json::from_slice::<KinesisEvent>(bytes)
        && !event.records.is_empty()
    {
        return Ok(Input::Kinesis(event));
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(|err| probe_error(bytes, err))?;
    let kind = match probe {
        Probe {
            records: Some(records),
            ..
        } if !records.is_empty() && records.iter().all(|r| r.kinesis.is_some()) => {
            EventKind::Kinesis
        }
        Probe {
            detail_type: Some(_),
            ..
        } => EventKind::EventBridge,
        Probe {
            request_context: Some(_),
            ..
        } => EventKind::FunctionUrl,
        Probe {
            invocation_schema_version: Some(_),
            tasks: Some(_),
            ..
        } => EventKind::S3Batch,
        _ => return Err(EventError::Unrecognised),
    };
    match kind {
        EventKind::Kinesis => serde_json::from_slice(bytes)
            .map(Input::Kinesis)
            .map_err(|source| EventError::Malformed { kind, source }),
        EventKind::EventBridge => serde_json::from_slice(bytes)
            .map(Input::EventBridge)
            .map_err(|source| EventError::Malformed { kind, source }),
        EventKind::FunctionUrl => serde_json::from_slice(bytes)
            .map(|req| Input::FunctionUrl(Box::new(req)))
            .map_err(|source| EventError::Malformed { kind, source }),
        EventKind::S3Batch => serde_json::from_slice(bytes)
            .map(Input::S3Batch)
            .map_err(|source| EventError::Malformed { kind, source }),
        EventKind::Unknown => Err(EventError::Unrecognised),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_that_is_not_an_event_is_named_in_the_users_terms() {
        for (input, want) in [
            ("[]", "event is a JSON array, not an object"),
            ("42", "event is a JSON number, not an object"),
            (" null", "event is a JSON null, not an object"),
            ("\"text\"", "event is a JSON string, not an object"),
            ("true", "event is a JSON boolean, not an object"),
            (r#"{"Records": 5}"#, "event shape is not recognised"),
            ("not json", "event is not JSON"),
        ] {
            let err = parse(input.as_bytes()).expect_err(input).to_string();
            assert!(err.starts_with(want), "{input}: {err}");
            assert!(!err.contains("Probe"), "{input}: {err}");
            assert!(!err.contains("struct"), "{input}: {err}");
        }
    }
}
