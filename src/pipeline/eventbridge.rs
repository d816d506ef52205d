//! One EventBridge event (a CloudTrail API call or console sign-in): one document,
//! delivered like a log event, then the alert rules.

use tracing::info;

use crate::dead_letter::DeadLetter;
use crate::event::EventBridgeEvent;
use crate::event::EventKind;
use crate::invocation::Invocation;
use crate::report::Report;

use super::Pipeline;
use super::delivery::Batch;

impl Pipeline {
    /// One EventBridge event (CloudTrail API call or console sign-in): one document,
    /// indexed and archived like a log event, then the alert rules. The response is a
    /// small summary; `retry` tells the Lambda glue to fail the invocation so that
    /// Lambda's asynchronous retries (then the failure queue) take over.
    pub(super) async fn handle_eventbridge(
        &self,
        ev: &EventBridgeEvent,
        raw: &[u8],
        inv: &Invocation,
    ) -> Report {
        let env = match ev.to_envelope() {
            Ok(env) => env,
            Err(err) => return self.reject_event(raw, err, inv).await,
        };
        let mut batch = Batch::new(true);
        batch.counts.records = 1;
        batch.counts.log_events = 1;
        let log_event = self.scrub(&env.log_events[0], &mut batch.counts);
        match self.builder.build(&env, &log_event) {
            Ok(doc) => batch.push(doc, 0),
            Err(err) => {
                let letter = DeadLetter::from_bytes(
                    "eventbridge",
                    err.to_string(),
                    inv.received_at,
                    raw,
                    Some(&ev.id),
                );
                self.dead_letter(&mut batch, 0, &letter, inv).await;
            }
        }
        self.flush(&mut batch, inv).await;
        self.alert(&mut batch, inv).await;
        let retry = batch.first_failed().is_some();
        if retry {
            batch.counts.retryable_failures = 1;
        }
        let c = &batch.counts;
        info!(
            id = %ev.id,
            detail_type = %ev.detail_type,
            indexed = c.indexed,
            archived = c.archived,
            alerts = c.alerts,
            alert_failures = c.alert_failures,
            dead_lettered = c.dead_lettered,
            retry,
            "eventbridge event handled"
        );
        let response = serde_json::json!({
            "id": ev.id,
            "documents": c.documents,
            "indexed": c.indexed,
            "archived": c.archived,
            "alerts": c.alerts,
            "dead_lettered": c.dead_lettered,
            "retry": retry,
        });
        Report {
            kind: EventKind::EventBridge,
            counts: batch.counts,
            response,
            error: None,
        }
    }
}
