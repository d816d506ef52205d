//! The Lambda runtime glue: the same [`Pipeline`] as the CLI, fed by `lambda_runtime`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

use crate::handler::{Invocation, Pipeline};
use crate::sinks::Deadline;

/// Serves invocations until the runtime stops.
pub async fn run(pipeline: Pipeline) -> Result<(), Error> {
    let pipeline = Arc::new(pipeline);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let pipeline = Arc::clone(&pipeline);
        async move {
            let now = chrono::Utc::now();
            let remaining_ms = i64::try_from(event.context.deadline)
                .unwrap_or(i64::MAX)
                .saturating_sub(now.timestamp_millis())
                .max(0);
            let inv = Invocation {
                received_at: now,
                deadline: Deadline::at(Instant::now() + Duration::from_millis(remaining_ms as u64)),
                source: "event".to_owned(),
            };
            let report = pipeline.handle(event.payload.get().as_bytes(), &inv).await;
            // An EventBridge event (asynchronous invocation) not fully handled fails the
            // invocation, so Lambda retries it and then sends it to the failure queue.
            if report.kind == "event_bridge" && report.counts.retryable_failures > 0 {
                return Err::<serde_json::Value, Error>(
                    format!("eventbridge event left for retry: {}", report.response).into(),
                );
            }
            Ok::<_, Error>(report.response)
        }
    }))
    .await
}
