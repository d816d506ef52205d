//! S3 Batch Operations (LambdaInvoke, schema 1.0 or 2.0): each task names one archive
//! object or dead letter, which is replayed into the sinks that missed it
//! ([`crate::replay`]); the answer gives each task's result code.

use tracing::info;

use crate::event::EventKind;
use crate::invocation::Invocation;
use crate::replay::batch_operations::{BatchEvent, ResultCode};
use crate::replay::{Replayer, source::S3Store};
use crate::report::{Counts, Report};

use super::{Pipeline, SAFETY_MARGIN};

impl Pipeline {
    /// Replays each task's object; tasks left when the time is nearly up are answered
    /// `TemporaryFailure`, so S3 Batch Operations retries them.
    pub(super) async fn handle_s3_batch(&self, batch: &BatchEvent, inv: &Invocation) -> Report {
        let s3 = self
            .s3
            .get_or_init(|| async { S3Store::client(&crate::aws::sdk_config().await) })
            .await;
        let (response, summary) = Replayer::batch(
            self.replay_targets(),
            s3,
            batch,
            inv.deadline,
            SAFETY_MARGIN,
        )
        .await;
        let temporary = response
            .results
            .iter()
            .filter(|r| r.result_code == ResultCode::TemporaryFailure)
            .count();
        let counts = Counts {
            records: batch.tasks.len(),
            documents: summary.documents,
            indexed: summary.indexed,
            archived: summary.archived,
            retryable_failures: temporary,
            ..Counts::default()
        };
        info!(
            job = %batch.job.id,
            tasks = batch.tasks.len(),
            documents = counts.documents,
            indexed = counts.indexed,
            archived = counts.archived,
            still_failing = summary.still_failing,
            temporary_failures = temporary,
            "s3 batch operations tasks handled"
        );
        Report {
            kind: EventKind::S3Batch,
            counts,
            response: serde_json::to_value(&response).unwrap_or_default(),
            error: None,
        }
    }
}
