//! One archive object: its documents re-indexed in batches (never re-archived); lines
//! without an `_id`, archived truncated or out of the time range are left out.

use tracing::warn;

use super::classify::{self, Line};
use super::select::{document_time, is_truncated};
use super::source;
use super::{MAX_LINE_BYTES, ObjectOutcome, Replayer, Summary, Verdict};
use crate::document::Document;
use crate::invocation::Deadline;
use crate::sinks::ItemOutcome;
use crate::sinks::firehose::archive;

/// Archived documents sent to the index at a time.
const INDEX_BATCH_DOCS: usize = 500;
const INDEX_BATCH_BYTES: usize = 4 * 1024 * 1024;

impl Replayer<'_> {
    /// Re-indexes the documents of an archive object (never re-archives them).
    pub(super) async fn replay_archive(
        &self,
        shown: &str,
        mut reader: source::ObjectReader,
        first_line: String,
        dated: bool,
        deadline: Deadline,
    ) -> ObjectOutcome {
        let mut summary = Summary {
            objects: 1,
            ..Summary::default()
        };
        if self.options.source.is_some() {
            // `--source` selects dead letters only.
            summary.skipped = 1;
            return ObjectOutcome::new(summary, Verdict::Done);
        }
        let mut batch: Vec<Document> = Vec::new();
        let mut batch_bytes = 0;
        let mut retry: Option<String> = None;
        let mut refused: Option<String> = None;
        let mut no_id = 0usize;
        let mut line = first_line.into_bytes();
        loop {
            if let Ok(text) = std::str::from_utf8(&line)
                && !text.trim().is_empty()
            {
                match archive::split_id(text) {
                    None => no_id += 1,
                    Some((id, source)) => match self.archived_document(id, source, dated) {
                        Ok(Some(doc)) => {
                            summary.documents += 1;
                            batch_bytes += doc.source.len();
                            batch.push(doc);
                        }
                        Ok(None) => summary.skipped += 1,
                        Err(reason) => {
                            summary.still_failing += 1;
                            refused.get_or_insert(reason);
                        }
                    },
                }
            } else if !line.trim_ascii().is_empty() {
                summary.still_failing += 1;
                refused.get_or_insert_with(|| "a line is not UTF-8".to_owned());
            }
            if batch.len() >= INDEX_BATCH_DOCS || batch_bytes >= INDEX_BATCH_BYTES {
                self.index_archived(&mut summary, &batch, deadline, &mut retry, &mut refused)
                    .await;
                batch.clear();
                batch_bytes = 0;
            }
            match classify::read_line(&mut reader, &mut line, MAX_LINE_BYTES).await {
                Ok(Line::Read) => {}
                Ok(Line::TooLong) => {
                    summary.still_failing += 1;
                    refused.get_or_insert_with(|| format!("a line is over {MAX_LINE_BYTES} bytes"));
                    line.clear();
                }
                Ok(Line::Eof) => break,
                Err(err) => {
                    retry.get_or_insert_with(|| format!("{shown}: {err}"));
                    break;
                }
            }
        }
        self.index_archived(&mut summary, &batch, deadline, &mut retry, &mut refused)
            .await;
        if no_id > 0 {
            warn!(object = %shown, lines = no_id, "archived lines without an `_id` skipped (archived before ids were added)");
            summary.skipped += no_id;
        }
        let verdict = match (retry, refused) {
            (Some(reason), _) => {
                summary.retryable = 1;
                warn!(object = %shown, reason, "archive object left for retry");
                Verdict::Retryable(reason)
            }
            (None, Some(reason)) => {
                warn!(object = %shown, documents = summary.still_failing, reason, "archived documents refused for good");
                Verdict::Permanent(format!(
                    "{} archived document(s) refused for good; the first: {reason}",
                    summary.still_failing
                ))
            }
            (None, None) => Verdict::Done,
        };
        ObjectOutcome::new(summary, verdict)
    }

    /// One archived document, or `None` when it is left out (out of the time range,
    /// or archived truncated: its full original is a `firehose` dead letter).
    fn archived_document(
        &self,
        id: String,
        source: String,
        dated: bool,
    ) -> Result<Option<Document>, String> {
        if is_truncated(&source) {
            return Ok(None);
        }
        let at = document_time(&source)?;
        if !dated && !self.time_in_range(at) {
            return Ok(None);
        }
        let index = self.index_of(&source)?;
        Ok(Some(Document::from_source(id, index, source)))
    }

    async fn index_archived(
        &self,
        summary: &mut Summary,
        batch: &[Document],
        deadline: Deadline,
        retry: &mut Option<String>,
        refused: &mut Option<String>,
    ) {
        if batch.is_empty() || self.options.dry_run {
            return;
        }
        let outcomes = self.targets.sinks.index.index(batch, deadline).await;
        for (doc, outcome) in batch
            .iter()
            .zip(
                outcomes
                    .into_iter()
                    .chain(std::iter::repeat(ItemOutcome::Retryable {
                        reason: "the index gave no outcome".to_owned(),
                    })),
            )
        {
            match outcome {
                ItemOutcome::Delivered
                | ItemOutcome::SafeDelivered { .. }
                | ItemOutcome::Truncated { .. } => summary.indexed += 1,
                ItemOutcome::Retryable { reason } => {
                    retry.get_or_insert(reason);
                }
                ItemOutcome::Rejected { reason } => {
                    warn!(id = %doc.id, reason, "archived document refused by the index");
                    summary.still_failing += 1;
                    refused.get_or_insert(reason);
                }
            }
        }
    }
}
