//! The embedded default: every sink writes what it would send as files under one
//! directory, so the whole pipeline runs on a laptop with no AWS.
//!
//! ```text
//! DIR/opensearch/*.ndjson          _bulk request bodies, exactly as they would be sent
//! DIR/firehose/<stream>/*.ndjson   one document per line, one file per PutRecordBatch
//! DIR/slack/*.json                 one webhook payload per file
//! DIR/dead-letter/<source>-<UTC timestamp>-<id>-<digest>.json
//! ```
//!
//! File names derive from content (the first document id, a payload hash, the dead
//! letter's digest), so running the same input twice rewrites the same files instead of
//! adding copies, and two dead letters never share a file.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::firehose::archive;
use super::opensearch::bulk;
use super::{AlertSink, ArchiveSink, DeadLetterSink, IndexSink, ItemOutcome, SinkError, SinkName};
use crate::dead_letter::DeadLetter;
use crate::document::Document;
use crate::invocation::Deadline;

/// All four local sinks under `dir`.
pub fn sinks(dir: &Path, firehose_stream: &str) -> super::Sinks {
    super::Sinks {
        index: Box::new(LocalIndex::new(dir.join("opensearch"))),
        archive: Box::new(LocalArchive::new(
            dir.join("firehose")
                .join(crate::dead_letter::sanitize(firehose_stream)),
        )),
        dead_letter: Box::new(LocalDeadLetter::new(dir.join("dead-letter"))),
        alerts: Box::new(LocalAlerts::new(dir.join("slack"))),
    }
}

/// Checks that files can be written under `dir` (creating it when missing): once at
/// start, so an unwritable directory is one clear error before any work.
pub fn check_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(
        ".csoc-forwarder-write-check-{}",
        std::process::id()
    ));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// Writes `bytes` (moved to the blocking write, not copied) to `dir/name`, creating
/// `dir` when missing. All of it runs in one blocking task: a file costs one hand-off
/// to the blocking pool and back, not one per file-system call.
async fn write_file(
    sink: SinkName,
    dir: &Path,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(), SinkError> {
    let io = |what: &Path, source| SinkError::Io {
        sink,
        what: what.display().to_string(),
        source,
    };
    let (blocking_dir, blocking_name) = (dir.to_owned(), name.to_owned());
    tokio::task::spawn_blocking(move || write_then_rename(&blocking_dir, &blocking_name, &bytes))
        .await
        .map_err(|e| io(&dir.join(name), std::io::Error::other(e)))?
        .map_err(|(what, source)| io(&what, source))
}

/// Writes `bytes` to a temporary file in `dir` (made when missing), then renames it to
/// `name`, so a reader never sees half a file. The temporary name is unique, so
/// concurrent writers of the same file (replay's `--concurrency`) never rename each
/// other's half-written file away; it is removed when the write or the rename fails.
/// An error comes with the path it is about.
fn write_then_rename(
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<(), (PathBuf, std::io::Error)> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    std::fs::create_dir_all(dir).map_err(|e| (dir.to_owned(), e))?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let path = dir.join(name);
    let result = std::fs::write(&tmp, bytes)
        .map_err(|e| (tmp.clone(), e))
        .and_then(|()| std::fs::rename(&tmp, &path).map_err(|e| (path, e)));
    if result.is_err() {
        // Nothing to report if it is gone already (or was never made).
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Outcomes for a group of documents written (or not) together.
fn outcomes_for(n: usize, result: Result<(), SinkError>) -> impl Iterator<Item = ItemOutcome> {
    let outcome = match result {
        Ok(()) => ItemOutcome::Delivered,
        // A full or read-only disk may clear: the records are retried, not dropped.
        Err(e) => ItemOutcome::Retryable {
            reason: e.to_string(),
        },
    };
    std::iter::repeat_n(outcome, n)
}

fn first_id_prefix(docs: &[Document]) -> &str {
    docs.first()
        .map_or("empty", |d| &d.id[..d.id.len().min(16)])
}

/// `_bulk` bodies as files.
#[derive(Debug, Clone)]
pub struct LocalIndex {
    dir: PathBuf,
    max_bytes: usize,
    max_docs: usize,
}

impl LocalIndex {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            max_bytes: crate::config::opensearch::DEFAULT_MAX_BYTES,
            max_docs: crate::config::opensearch::DEFAULT_MAX_DOCS,
        }
    }
}

#[async_trait]
impl IndexSink for LocalIndex {
    async fn index(&self, docs: &[Document], _deadline: Deadline) -> Vec<ItemOutcome> {
        let mut out = Vec::with_capacity(docs.len());
        for range in bulk::chunk_ranges(docs, self.max_bytes, self.max_docs) {
            let chunk = &docs[range];
            let name = format!("bulk-{}.ndjson", first_id_prefix(chunk));
            let result = write_file(
                SinkName::OpenSearch,
                &self.dir,
                &name,
                bulk::encode_body(chunk),
            )
            .await;
            out.extend(outcomes_for(chunk.len(), result));
        }
        out
    }
}

/// Firehose records as NDJSON files, one per PutRecordBatch call.
#[derive(Debug, Clone)]
pub struct LocalArchive {
    dir: PathBuf,
}

impl LocalArchive {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

#[async_trait]
impl ArchiveSink for LocalArchive {
    async fn archive(&self, docs: &[Document], _deadline: Deadline) -> Vec<ItemOutcome> {
        let mut out = Vec::with_capacity(docs.len());
        // The same records the Firehose sink sends: over-limit documents truncated.
        for range in archive::batch_ranges(docs) {
            let batch = &docs[range];
            let (body, truncated) = archive::encode_batch(batch);
            let name = format!("batch-{}.ndjson", first_id_prefix(batch));
            let result = write_file(SinkName::Firehose, &self.dir, &name, body).await;
            let written = result.is_ok();
            out.extend(outcomes_for(batch.len(), result).zip(truncated).map(
                |(outcome, truncated_from)| match truncated_from {
                    Some(bytes) if written => archive::truncated_outcome(bytes),
                    _ => outcome,
                },
            ));
        }
        out
    }
}

/// Dead letters as JSON files.
#[derive(Debug, Clone)]
pub struct LocalDeadLetter {
    dir: PathBuf,
}

impl LocalDeadLetter {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

#[async_trait]
impl DeadLetterSink for LocalDeadLetter {
    async fn put(&self, letter: &DeadLetter) -> Result<(), SinkError> {
        let bytes = serde_json::to_vec_pretty(letter).map_err(|e| SinkError::Failed {
            sink: SinkName::DeadLetter,
            message: e.to_string(),
        })?;
        write_file(SinkName::DeadLetter, &self.dir, &letter.file_name(), bytes).await
    }
}

/// Slack webhook payloads as JSON files.
#[derive(Debug, Clone)]
pub struct LocalAlerts {
    dir: PathBuf,
}

impl LocalAlerts {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

#[async_trait]
impl AlertSink for LocalAlerts {
    async fn post(
        &self,
        payload: &serde_json::Value,
        _deadline: Deadline,
    ) -> Result<(), SinkError> {
        let bytes = serde_json::to_vec_pretty(payload).map_err(|e| SinkError::Failed {
            sink: SinkName::Slack,
            message: e.to_string(),
        })?;
        let name = format!("alert-{}.json", hex::encode(&Sha256::digest(&bytes)[..8]));
        write_file(SinkName::Slack, &self.dir, &name, bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_file_lands_whole_in_a_new_directory_and_no_temporary_is_left() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("a").join("b");
        write_file(SinkName::OpenSearch, &dir, "x.ndjson", b"{}\n".to_vec())
            .await
            .expect("written");
        write_file(SinkName::OpenSearch, &dir, "x.ndjson", b"[]\n".to_vec())
            .await
            .expect("rewritten");
        assert_eq!(std::fs::read(dir.join("x.ndjson")).expect("read"), b"[]\n");
        assert_eq!(names(&dir), ["x.ndjson"]);
    }

    #[tokio::test]
    async fn a_directory_that_cannot_be_made_is_named_in_the_error() {
        let root = tempfile::tempdir().expect("temp dir");
        let file = root.path().join("file");
        std::fs::write(&file, b"").expect("file");
        let dir = file.join("sub");
        let err = write_file(SinkName::Firehose, &dir, "x.ndjson", b"x".to_vec())
            .await
            .expect_err("a file is in the way");
        let SinkError::Io { sink, what, .. } = &err else {
            panic!("not an I/O error: {err:?}");
        };
        assert_eq!(*sink, SinkName::Firehose);
        assert_eq!(what, &dir.display().to_string());
        assert!(
            err.to_string().starts_with("firehose: could not write "),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_failed_rename_is_named_in_the_error_and_leaves_no_temporary() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().to_owned();
        // A non-empty directory where the file should go: the rename fails.
        std::fs::create_dir_all(dir.join("x.json").join("inside")).expect("dir");
        let err = write_file(SinkName::Slack, &dir, "x.json", b"{}".to_vec())
            .await
            .expect_err("a directory is in the way");
        let SinkError::Io { what, .. } = &err else {
            panic!("not an I/O error: {err:?}");
        };
        assert_eq!(what, &dir.join("x.json").display().to_string());
        assert_eq!(names(&dir), ["x.json"]);
    }
}
