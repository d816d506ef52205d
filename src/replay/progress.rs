//! What a replay did: the [`Summary`] (the JSON line's keys) and progress on stderr (a
//! bar on a terminal, else a log line every N objects).

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tracing::info;

/// What a replay did: the summary line's keys, exactly.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Objects read (a dead letter or an archive object each).
    pub objects: usize,
    /// Of those, dead letters.
    pub dead_letters: usize,
    /// Documents rebuilt from dead letters or read from archive objects.
    pub documents: usize,
    pub indexed: usize,
    pub archived: usize,
    /// Dead letters that still fail for good (left where they are) and archived
    /// documents the index refused for good.
    pub still_failing: usize,
    /// Objects and archived documents left out: filters, `replayed/`, content that is
    /// neither a dead letter nor an archive object, archived lines without an `_id`
    /// or truncated (the full document is in a `firehose` dead letter).
    pub skipped: usize,
    /// Dead letters and archive objects left for a later replay (retryable failures).
    pub retryable: usize,
}

impl std::ops::AddAssign<&Summary> for Summary {
    fn add_assign(&mut self, o: &Summary) {
        self.objects += o.objects;
        self.dead_letters += o.dead_letters;
        self.documents += o.documents;
        self.indexed += o.indexed;
        self.archived += o.archived;
        self.still_failing += o.still_failing;
        self.skipped += o.skipped;
        self.retryable += o.retryable;
    }
}

/// Progress on stderr: a bar when it is a terminal, else a log line every N objects.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    every: usize,
    started: Instant,
}

impl Progress {
    pub(super) fn new(limit: Option<usize>, every: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match limit {
                Some(n) => (
                    indicatif::ProgressBar::new(n as u64),
                    "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} objects, {per_sec}, ETA {eta} | {msg}",
                ),
                None => (
                    indicatif::ProgressBar::new_spinner(),
                    "{spinner} {elapsed_precise} {pos} objects, {per_sec} | {msg}",
                ),
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            every: every.max(1),
            started: Instant::now(),
        }
    }

    pub(super) fn object(&self, total: &Summary, done_through: Option<&str>) {
        if let Some(bar) = &self.bar {
            bar.set_position(total.objects as u64);
            bar.set_message(format!(
                "{} documents, {} indexed, {} archived, {} still failing, {} retryable",
                total.documents,
                total.indexed,
                total.archived,
                total.still_failing,
                total.retryable
            ));
            return;
        }
        if total.objects > 0 && total.objects.is_multiple_of(self.every) {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            info!(
                objects = total.objects,
                documents = total.documents,
                indexed = total.indexed,
                archived = total.archived,
                still_failing = total.still_failing,
                skipped = total.skipped,
                retryable = total.retryable,
                objects_per_sec = format!("{:.1}", total.objects as f64 / secs),
                done_through = done_through.unwrap_or(""),
                "replay progress"
            );
        }
    }

    pub(super) fn finish(&self, total: &Summary) {
        match &self.bar {
            Some(bar) => bar.finish(),
            None => info!(
                objects = total.objects,
                documents = total.documents,
                seconds = format!("{:.1}", self.started.elapsed().as_secs_f64()),
                "replay finished"
            ),
        }
    }
}
