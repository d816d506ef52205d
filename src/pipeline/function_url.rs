//! An audit-records request (function URL): every record becomes a document, delivered
//! like a log event; the answer is the HTTP response.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use tracing::{info, warn};

use crate::audit::{self, Refusal};
use crate::dead_letter::DeadLetter;
use crate::event::EventKind;
use crate::invocation::Invocation;
use crate::report::Counts;
use crate::report::Report;

use super::Pipeline;
use super::delivery::Batch;

impl Pipeline {
    /// An audit-records request (function URL): every record becomes a document,
    /// indexed and archived like a log event; no alert rules apply. A refused request
    /// that carried a body is dead-lettered, with the node as its source, before it is
    /// answered; 503 only when the sinks still fail after their retries (or the body
    /// could not be kept), so the caller retries.
    pub(super) async fn handle_audit(
        &self,
        req: &LambdaFunctionUrlRequest,
        raw: &[u8],
        inv: &Invocation,
    ) -> Report {
        let request = match audit::read(req, self.max_decompressed_bytes) {
            Ok(request) => request,
            Err(refusal) => return self.refuse_audit(req, refusal, raw, inv).await,
        };
        let caller = audit::Caller::of(req);
        let (node, post) = (&request.node, &request.post);
        let mut batch = Batch::new(false);
        batch.counts.records = 1;
        for record in &post.audit_records {
            batch.counts.log_events += 1;
            match audit::audit_document(&self.builder, node, &post.message_type, &caller, record) {
                Ok(doc) => batch.push(doc, 0),
                Err(err) => {
                    let refusal =
                        Refusal::bad_request(format!("trackingId {:?}: {err}", record.tracking_id))
                            .for_node(node);
                    return self.refuse_audit(req, refusal, raw, inv).await;
                }
            }
        }
        self.flush(&mut batch, inv).await;
        let n = post.audit_records.len();
        let (status, body) = if batch.first_failed().is_some() {
            batch.counts.retryable_failures = 1;
            (
                audit::SERVICE_UNAVAILABLE,
                serde_json::json!({
                    "error": "the records could not be stored yet: retry the same request (no duplicates are created)"
                }),
            )
        } else {
            (
                audit::CREATED,
                serde_json::json!({
                    "commons": self.builder.commons(),
                    "messageType": post.message_type,
                    "node": node,
                    "recordsProcessed": n,
                }),
            )
        };
        let c = &batch.counts;
        info!(
            node = %node,
            message_type = %post.message_type,
            status,
            records = n,
            indexed = c.indexed,
            archived = c.archived,
            dead_lettered = c.dead_lettered,
            "audit records handled"
        );
        Report {
            kind: EventKind::FunctionUrl,
            counts: batch.counts,
            response: audit::response::response(status, &body),
            error: None,
        }
    }

    /// Answers a refused audit-records request; keeps its body first when it had one
    /// (the whole event, credentials redacted, so it can be replayed).
    async fn refuse_audit(
        &self,
        req: &LambdaFunctionUrlRequest,
        refusal: Refusal,
        raw: &[u8],
        inv: &Invocation,
    ) -> Report {
        let mut counts = Counts {
            records: 1,
            ..Counts::default()
        };
        let node = refusal.node.as_deref().unwrap_or("");
        warn!(node, status = refusal.status, error = %refusal.error, "audit request refused");
        let mut status = refusal.status;
        let mut error = refusal.error.clone();
        if refusal.keeps_body() {
            let source = if node.is_empty() { "audit" } else { node };
            let letter = DeadLetter::from_bytes(
                source,
                refusal.error.clone(),
                inv.received_at,
                &audit::redact::event(raw),
                req.request_context.request_id.as_deref(),
            );
            match self.sinks.dead_letter.put(&letter).await {
                Ok(()) => counts.dead_lettered = 1,
                Err(dl) => {
                    warn!(node, error = %dl, "refused audit request could not be kept");
                    status = audit::SERVICE_UNAVAILABLE;
                    error = format!("{error}; and the request could not be kept ({dl}): retry");
                    counts.retryable_failures = 1;
                }
            }
        }
        Report {
            kind: EventKind::FunctionUrl,
            counts,
            response: audit::response::error(status, &error),
            error: (status != audit::SERVICE_UNAVAILABLE).then_some(error),
        }
    }
}
