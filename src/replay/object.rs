//! One object: opened, told apart by content, replayed as a dead letter
//! ([`letter`](super::letter)) or an archive object ([`archive`](super::archive)), and how
//! it ended.

use tracing::warn;

use super::batch_operations::{self, ResultCode, TaskResult};
use super::classify::{self, Content};
use super::source::{self, ObjectStore};
use super::{MAX_LINE_BYTES, Replayer, Summary, key_span};
use crate::invocation::Deadline;

/// How one object ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Replayed (or nothing to do).
    Done,
    /// Left for a later try.
    Retryable(String),
    /// Fails for good (still bad, or not something replay reads).
    Permanent(String),
}

/// One object's counts and verdict.
#[derive(Debug, Clone)]
pub struct ObjectOutcome {
    pub summary: Summary,
    pub verdict: Verdict,
}

impl ObjectOutcome {
    pub(super) fn new(summary: Summary, verdict: Verdict) -> Self {
        Self { summary, verdict }
    }

    /// The S3 Batch Operations result of this outcome.
    pub fn task_result(&self, task_id: &str) -> TaskResult {
        let s = &self.summary;
        let (code, text) = match &self.verdict {
            Verdict::Done => (
                ResultCode::Succeeded,
                format!(
                    "documents {}, indexed {}, archived {}",
                    s.documents, s.indexed, s.archived
                ),
            ),
            Verdict::Retryable(reason) => (ResultCode::TemporaryFailure, reason.clone()),
            Verdict::Permanent(reason) => (ResultCode::PermanentFailure, reason.clone()),
        };
        TaskResult {
            task_id: task_id.to_owned(),
            result_code: code,
            result_string: batch_operations::result_string(&text),
        }
    }
}

impl Replayer<'_> {
    /// Replays one object, whatever it holds.
    pub async fn replay_object(
        &self,
        store: &dyn ObjectStore,
        key: &str,
        deadline: Deadline,
    ) -> ObjectOutcome {
        let shown = store.display(key);
        let mut reader = match source::open(store, key).await {
            Ok(reader) => reader,
            Err(err @ source::SourceError::Missing(_)) => {
                warn!(object = %shown, "object skipped: it does not exist");
                return ObjectOutcome::new(
                    Summary {
                        skipped: 1,
                        ..Summary::default()
                    },
                    Verdict::Permanent(err.to_string()),
                );
            }
            Err(err) => {
                warn!(object = %shown, error = %err, "object could not be read");
                return retry_object(err.to_string());
            }
        };
        let content = match classify::classify(&mut reader, MAX_LINE_BYTES, self.letter_cap()).await
        {
            Ok(content) => content,
            Err(err) => {
                warn!(object = %shown, error = %err, "object could not be read");
                return retry_object(format!("{shown}: {err}"));
            }
        };
        let dated = key_span(key).is_some();
        match content {
            Content::Empty => ObjectOutcome::new(
                Summary {
                    objects: 1,
                    ..Summary::default()
                },
                Verdict::Done,
            ),
            Content::Unknown(reason) => {
                warn!(object = %shown, reason, "object skipped");
                ObjectOutcome::new(
                    Summary {
                        objects: 1,
                        skipped: 1,
                        ..Summary::default()
                    },
                    Verdict::Permanent(format!("{shown}: {reason}")),
                )
            }
            Content::DeadLetter(letter) => {
                self.replay_letter(store, key, &letter, dated, deadline)
                    .await
            }
            Content::Archive { first_line } => {
                self.replay_archive(&shown, reader, first_line, dated, deadline)
                    .await
            }
        }
    }
}

fn retry_object(reason: String) -> ObjectOutcome {
    ObjectOutcome::new(
        Summary {
            objects: 1,
            retryable: 1,
            ..Summary::default()
        },
        Verdict::Retryable(reason),
    )
}
