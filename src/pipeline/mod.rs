//! The one place that knows the order: event in → decode → document → sinks → report.
//!
//! The Lambda runtime, `csoc-forwarder process` and `serve` all call [`Pipeline::handle`],
//! which dispatches by event kind to one file per source:
//! - [`kinesis`]: a batch of CloudWatch Logs subscription records;
//! - [`eventbridge`]: one CloudTrail event from EventBridge;
//! - [`function_url`]: an audit-records request.
//!
//! [`delivery`] sends a source's documents to the index and the archive, settles the
//! per-document outcomes (dead letters, retries) and runs the alerts.

mod delivery;
mod eventbridge;
mod function_url;
mod kinesis;

use std::time::Duration;

use tracing::warn;

use crate::alerts::Alerter;
use crate::dead_letter::DeadLetter;
use crate::document::DocumentBuilder;
use crate::event::{self, EventError, Input};
use crate::invocation::Invocation;
use crate::report::{Counts, Report};
use crate::sinks::{AlertSink, Sinks};

/// Stop starting new work when less than this is left of the invocation, so the
/// function answers (with what is left for retry) instead of timing out mid-batch.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(3);

/// Everything that is built once per cold start.
pub struct Pipeline {
    max_decompressed_bytes: usize,
    builder: DocumentBuilder,
    sinks: Sinks,
    alerts: Alerter,
}

impl Pipeline {
    pub fn new(max_decompressed_bytes: usize, builder: DocumentBuilder, sinks: Sinks) -> Self {
        Self {
            max_decompressed_bytes,
            builder,
            sinks,
            alerts: Alerter::default(),
        }
    }

    /// Replaces the alerting configuration (default: the default rules, no slow check).
    pub fn with_alerts(mut self, alerts: Alerter) -> Self {
        self.alerts = alerts;
        self
    }

    /// Replaces where alert payloads go (e.g. the Slack webhook).
    pub fn with_alert_sink(mut self, sink: Box<dyn AlertSink>) -> Self {
        self.sinks.alerts = sink;
        self
    }

    /// Whether the index sink answers at all within `timeout` (see
    /// [`crate::sinks::IndexSink::reachable`]).
    pub async fn index_reachable(&self, timeout: Duration) -> Result<(), String> {
        self.sinks.index.reachable(timeout).await
    }

    /// Handles one event, whatever its kind. Never fails: what cannot be handled is
    /// dead-lettered, and what should be retried is in the response.
    pub async fn handle(&self, event: &[u8], inv: &Invocation) -> Report {
        match event::parse(event) {
            Ok(Input::Kinesis(kinesis)) => self.handle_kinesis(&kinesis, inv).await,
            Ok(Input::EventBridge(ev)) => self.handle_eventbridge(&ev, event, inv).await,
            Ok(Input::FunctionUrl(req)) => self.handle_audit(&req, event, inv).await,
            Err(err) => self.reject_event(event, err, inv).await,
        }
    }

    /// The whole event is not understood: keep it in the dead letter, answer with the error.
    async fn reject_event(&self, event: &[u8], err: EventError, inv: &Invocation) -> Report {
        warn!(source = %inv.source, error = %err, "event dead-lettered");
        let letter =
            DeadLetter::from_bytes(&inv.source, err.to_string(), inv.received_at, event, None);
        let mut counts = Counts::default();
        let error = match self.sinks.dead_letter.put(&letter).await {
            Ok(()) => {
                counts.dead_lettered = 1;
                err.to_string()
            }
            Err(dl) => format!("{err}; and the dead letter failed: {dl}"),
        };
        Report {
            kind: err.kind(),
            counts,
            response: serde_json::json!({ "error": error }),
            error: Some(error),
        }
    }
}
