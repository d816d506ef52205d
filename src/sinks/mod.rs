//! Where documents go. Each outside service sits behind one small trait here, with a
//! real adapter and a local one ([`local`]: files under `--out`).
//!
//! Sinks report one [`ItemOutcome`] per document, in input order, and never return an
//! error for the batch: the handler turns outcomes into dead letters and retries.

pub mod firehose;
pub mod local;
pub mod opensearch;
pub mod s3_dead_letter;
pub mod slack;

use async_trait::async_trait;
use thiserror::Error;

use crate::dead_letter::DeadLetter;
use crate::document::Document;
use crate::invocation::Deadline;

/// What happened to one document in one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Stored as sent (for the index: created, or already there from an earlier try).
    Delivered,
    /// Stored in a safe form after the original was refused for good (index only).
    SafeDelivered { reason: String },
    /// Stored in a truncated form because it is over the sink's size limit (archive
    /// only): the handler keeps the full original in the dead letter with the reason.
    Truncated { reason: String },
    /// Not stored yet; the source record must be retried later.
    Retryable { reason: String },
    /// Refused for good: the document goes to the dead letter with the reason.
    Rejected { reason: String },
}

/// Which sink an outcome or error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SinkName {
    /// The search index.
    OpenSearch,
    /// The per-commons archive.
    Firehose,
    /// Where undeliverable input is kept.
    DeadLetter,
    /// Alert payloads.
    Slack,
}

impl SinkName {
    /// The name in logs, errors, dead-letter sources and the local sinks' folders.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenSearch => "opensearch",
            Self::Firehose => "firehose",
            Self::DeadLetter => "dead-letter",
            Self::Slack => "slack",
        }
    }
}

impl std::fmt::Display for SinkName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a sink that has no per-item outcomes (dead letter, alerts).
#[derive(Debug, Error)]
pub enum SinkError {
    #[error("{sink}: could not write {what}: {source}")]
    Io {
        sink: SinkName,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{sink}: {message}")]
    Failed { sink: SinkName, message: String },
}

/// The search index (OpenSearch).
#[async_trait]
pub trait IndexSink: Send + Sync {
    async fn index(&self, docs: &[Document], deadline: Deadline) -> Vec<ItemOutcome>;

    /// How the index maps the CloudTrail free-form objects, and so how documents must
    /// carry them (decided once, at cold start). The local files keep the text form.
    fn free_form(&self) -> crate::config::FreeForm {
        crate::config::FreeForm::Text
    }

    /// Whether the index answers at all (any HTTP answer counts), within `timeout`: the
    /// reason when it cannot be reached (refused, no such host, timed out). Local sinks
    /// are always reachable.
    async fn reachable(&self, _timeout: std::time::Duration) -> Result<(), String> {
        Ok(())
    }
}

/// The per-commons archive (Firehose → S3).
#[async_trait]
pub trait ArchiveSink: Send + Sync {
    async fn archive(&self, docs: &[Document], deadline: Deadline) -> Vec<ItemOutcome>;
}

/// Where undeliverable input is kept.
#[async_trait]
pub trait DeadLetterSink: Send + Sync {
    async fn put(&self, letter: &DeadLetter) -> Result<(), SinkError>;
}

/// Where alert payloads (Slack webhook bodies) go. Best effort: an error is logged and
/// counted by the caller; `deadline` bounds waiting (rate limit, Retry-After, timeouts).
#[async_trait]
pub trait AlertSink: Send + Sync {
    async fn post(&self, payload: &serde_json::Value, deadline: Deadline) -> Result<(), SinkError>;
}

/// The four sinks one pipeline writes to.
pub struct Sinks {
    pub index: Box<dyn IndexSink>,
    pub archive: Box<dyn ArchiveSink>,
    pub dead_letter: Box<dyn DeadLetterSink>,
    pub alerts: Box<dyn AlertSink>,
}
