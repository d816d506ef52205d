//! What one invocation did: counts, and the response the Lambda handler returns.

use serde::Serialize;

use crate::event::EventKind;

/// Per-invocation counts. They add up: every log event ends as a document or a dead
/// letter, and every document is indexed (or safe-indexed), dead-lettered, or left in a
/// record reported for retry.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Records (Kinesis) in the event.
    pub records: usize,
    pub control_messages: usize,
    pub log_events: usize,
    pub documents: usize,
    /// Documents the index holds after this invocation (created or already there),
    /// safe-indexed ones included.
    pub indexed: usize,
    /// Documents indexed in the safe form after a mapping error.
    pub safe_indexed: usize,
    pub archived: usize,
    /// Slack messages posted (or written to `DIR/slack/`).
    pub alerts: usize,
    /// Slack messages that could not be delivered (logged; never retried with the batch).
    pub alert_failures: usize,
    pub dead_lettered: usize,
    /// Records left for retry: from the first record not fully handled to the end.
    pub retryable_failures: usize,
    /// Credential-like values redacted, per pattern (absent from the summary when none).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub redacted: crate::scrub::Redactions,
}

/// The outcome of one invocation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub kind: EventKind,
    #[serde(flatten)]
    pub counts: Counts,
    /// What the Lambda handler returns for this event.
    pub response: serde_json::Value,
    /// Why the event as a whole could not be handled, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
