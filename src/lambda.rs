//! The Lambda runtime glue: the same [`Pipeline`] as the CLI, fed by `lambda_runtime`.
//!
//! After each invocation one CloudWatch Embedded Metric Format line goes to stdout
//! ([`crate::metrics`]).

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

use crate::event::EventKind;
use crate::invocation::{Deadline, Invocation};
use crate::metrics;
use crate::pipeline::Pipeline;

/// What the runtime loop needs besides the pipeline.
#[derive(Debug, Clone)]
pub struct Settings {
    /// When the process started: the first invocation reports its cold start from it.
    pub started: Instant,
    pub commons: String,
    pub metrics_namespace: String,
}

/// Serves invocations until the runtime stops.
pub async fn run(pipeline: Pipeline, settings: Settings) -> Result<(), Error> {
    let pipeline = Arc::new(pipeline);
    let settings = Arc::new(settings);
    let cold = Arc::new(AtomicBool::new(true));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let pipeline = Arc::clone(&pipeline);
        let settings = Arc::clone(&settings);
        let cold = Arc::clone(&cold);
        async move {
            let start = Instant::now();
            let now = chrono::Utc::now();
            let inv = Invocation {
                received_at: now,
                deadline: Deadline::at(
                    start + time_left(event.context.deadline, now.timestamp_millis()),
                ),
                source: "event".to_owned(),
            };
            let report = pipeline.handle(event.payload.get().as_bytes(), &inv).await;
            let extra = metrics::Extra {
                cold_start: cold
                    .swap(false, Ordering::Relaxed)
                    .then(|| settings.started.elapsed()),
                max_rss_kb: metrics::peak_rss_kb(),
                request_id: Some(event.context.request_id.clone()),
            };
            let line = metrics::emf_line(
                &settings.metrics_namespace,
                &settings.commons,
                &report,
                start.elapsed(),
                &extra,
                chrono::Utc::now().timestamp_millis(),
            );
            // One write of one whole line, so it never interleaves with a log line.
            let _ = std::io::stdout()
                .lock()
                .write_all(format!("{line}\n").as_bytes());
            // An EventBridge event (asynchronous invocation) not fully handled fails the
            // invocation, so Lambda retries it and then sends it to the failure queue.
            if report.kind == EventKind::EventBridge && report.counts.retryable_failures > 0 {
                return Err::<serde_json::Value, Error>(
                    format!("eventbridge event left for retry: {}", report.response).into(),
                );
            }
            Ok::<_, Error>(report.response)
        }
    }))
    .await
}

/// Epoch milliseconds before this are not a deadline but a duration: the cargo-lambda
/// runtime emulator sends the time left (e.g. `600000`) in `Lambda-Runtime-Deadline-Ms`.
const EPOCH_2001_MS: u64 = 978_307_200_000;

/// The time left before `deadline_ms` (Lambda: epoch milliseconds) at `now_ms`.
pub fn time_left(deadline_ms: u64, now_ms: i64) -> Duration {
    if deadline_ms < EPOCH_2001_MS {
        return Duration::from_millis(deadline_ms);
    }
    let now_ms = u64::try_from(now_ms).unwrap_or(0);
    Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_epoch_ms_or_an_emulators_duration() {
        let now = 1_767_000_000_000;
        assert_eq!(
            time_left(now as u64 + 2_500, now),
            Duration::from_millis(2_500)
        );
        assert_eq!(time_left(now as u64 - 10, now), Duration::ZERO);
        assert_eq!(time_left(600_000, now), Duration::from_secs(600));
    }
}
