//! The OpenSearch index sink: `_bulk` `create` requests into one shared cluster.
//!
//! - [`bulk`]: the `_bulk` request body and its splitting.
//! - [`client`]: the one HTTP client and its authentication (none, basic, SigV4).
//! - [`classify`]: what a bulk answer means, per request and per item.
//! - [`safe`]: the safe form of a document the index refused for its content.
//! - [`template`]: the index template and the retention policy.
//!
//! Every document ends as delivered (created, or already there: 409), safe-delivered,
//! rejected (dead letter) or, when still failing at the deadline, retryable. Requests are
//! bounded by bytes and documents; 413 splits them in halves; 429, 5xx and transport
//! errors are retried with exponential backoff and full jitter until the deadline.

pub mod bulk;
pub mod classify;
pub mod client;
pub mod safe;
pub mod template;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use opensearch::OpenSearch;
use opensearch::http::Method;
use opensearch::http::headers::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue};
use tracing::{debug, warn};

pub use crate::config::opensearch::{Auth, BasicSource, OpenSearchConfig};
pub use client::ConnectError;
pub use template::{FreeForm, FreeFormChoice};

use self::classify::{ItemClass, RequestClass};
use super::{IndexSink, ItemOutcome};
use crate::document::Document;
use crate::invocation::Deadline;
use crate::retry::{self, Backoff};

/// The retry schedule: up to 100 ms before the first retry, doubling to 5 s.
pub const BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));

/// How long the cold start gives the template and the retention policy, in all (Lambda
/// allows 10 s for the whole init phase), and each request.
const TEMPLATE_BUDGET: Duration = Duration::from_secs(6);
const TEMPLATE_TIMEOUT: Duration = Duration::from_secs(3);

/// The sink. Cheap to share: one client, one connection pool, reused across invocations.
pub struct OpenSearchIndex {
    client: OpenSearch,
    /// The cluster's URL without credentials, for messages.
    url: String,
    max_bytes: usize,
    max_docs: usize,
    gzip: bool,
    timeout: Duration,
    backoff: Backoff,
    free_form: FreeForm,
}

impl OpenSearchIndex {
    /// Builds the client, then (unless turned off) puts the index template and the
    /// retention policy for `index_prefix`. Fails only when the client cannot be built
    /// (no credentials, unreadable secret); an unreachable cluster is a warning.
    pub async fn connect(
        config: &OpenSearchConfig,
        index_prefix: &str,
    ) -> Result<Self, ConnectError> {
        let client = client::build_client(config).await?;
        let mut free_form = template::fallback(config.free_form);
        if config.template {
            let serverless = matches!(
                config.auth,
                Auth::SigV4 {
                    service: "aoss",
                    ..
                }
            );
            let install = template::install(
                &client,
                index_prefix,
                config.retention_days,
                serverless,
                config.free_form,
                TEMPLATE_TIMEOUT,
            );
            match tokio::time::timeout(TEMPLATE_BUDGET, install).await {
                Ok(installed) => free_form = installed.free_form,
                Err(_) => {
                    warn!("index template and retention policy not put in time: going on without")
                }
            }
        }
        tracing::info!(url = %config.display_url(), gzip = config.gzip, ?free_form, "indexing into OpenSearch");
        Ok(Self::with_client(client, config).with_free_form(free_form))
    }

    /// Documents for this sink carry the CloudTrail free-form objects in `form`.
    pub fn with_free_form(mut self, form: FreeForm) -> Self {
        self.free_form = form;
        self
    }

    /// The sink on an already built client (no template).
    pub fn with_client(client: OpenSearch, config: &OpenSearchConfig) -> Self {
        Self {
            client,
            url: config.display_url(),
            max_bytes: config.max_bytes,
            max_docs: config.max_docs,
            gzip: config.gzip,
            timeout: config.timeout,
            backoff: BACKOFF,
            free_form: template::fallback(config.free_form),
        }
    }

    /// Another retry schedule (tests use a fast one).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn client(&self) -> &OpenSearch {
        &self.client
    }

    /// Sends one `_bulk` request (its body gzip'd when the sink is set to): `(status,
    /// body)`, or the transport error.
    async fn send_bulk(&self, body: Vec<u8>, timeout: Duration) -> Result<(u16, Bytes), String> {
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        if self.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let response = self
            .client
            .send(
                Method::Post,
                "_bulk",
                headers,
                None::<&()>,
                Some(Bytes::from(body)),
                Some(timeout),
            )
            .await
            .map_err(|e| describe_transport_error(&e))?;
        let status = response.status_code().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| describe_transport_error(&e))?;
        Ok((status, body))
    }

    /// Sends `items` (split into requests by bytes and count, and in halves on 413),
    /// settling each into `outcomes` or pushing it onto `next` for another round.
    async fn round(
        &self,
        docs: &[Document],
        items: Vec<Pending>,
        deadline: Deadline,
        outcomes: &mut [Option<ItemOutcome>],
        next: &mut Round,
    ) {
        let lens = items.iter().map(|p| bulk::encoded_len(p.doc(docs)));
        let mut ranges = crate::batching::ranges(lens, self.max_bytes, self.max_docs);
        ranges.reverse();
        let mut stack = ranges;
        while let Some(range) = stack.pop() {
            let chunk = &items[range.clone()];
            let remaining = deadline.remaining();
            if remaining < self.backoff.min_attempt {
                for p in chunk {
                    next.retry(
                        p.clone(),
                        "the invocation ran out of time before it was sent",
                    );
                }
                continue;
            }
            let items = chunk.iter().map(|p| p.doc(docs));
            let body = if self.gzip {
                bulk::encode_body_gzip(items)
            } else {
                bulk::encode_body(items)
            };
            let started = Instant::now();
            let answer = self.send_bulk(body, self.timeout.min(remaining)).await;
            let class = match &answer {
                Ok((status, body)) => classify::classify_response(*status, body, chunk.len()),
                Err(err) => RequestClass::Retry(err.clone()),
            };
            debug!(
                docs = chunk.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                status = answer.as_ref().map(|a| a.0).unwrap_or(0),
                "bulk request"
            );
            match class {
                RequestClass::Items(classes) => {
                    for (p, class) in chunk.iter().zip(classes) {
                        settle(docs, p, class, outcomes, next);
                    }
                }
                RequestClass::Retry(reason) => {
                    warn!(docs = chunk.len(), reason, "bulk request failed: retrying");
                    for p in chunk {
                        next.retry(p.clone(), &reason);
                    }
                }
                RequestClass::Split(reason) if chunk.len() > 1 => {
                    warn!(
                        docs = chunk.len(),
                        reason, "bulk request refused as a whole: splitting it in halves"
                    );
                    let mid = range.start + chunk.len() / 2;
                    stack.push(mid..range.end);
                    stack.push(range.start..mid);
                }
                RequestClass::Split(reason) => {
                    let p = &chunk[0];
                    outcomes[p.idx] = Some(ItemOutcome::Rejected {
                        reason: format!("refused even alone: {reason}"),
                    });
                }
            }
        }
    }
}

/// One document still to send: as built, or in its safe form.
#[derive(Debug, Clone)]
struct Pending {
    idx: usize,
    safe: Option<Box<SafeDoc>>,
    last_error: String,
}

#[derive(Debug, Clone)]
struct SafeDoc {
    doc: Document,
    /// Why the original was refused.
    reason: String,
}

impl Pending {
    fn doc<'a>(&'a self, docs: &'a [Document]) -> &'a Document {
        match &self.safe {
            Some(safe) => &safe.doc,
            None => &docs[self.idx],
        }
    }
}

/// What the next round sends, and whether it must wait (backoff) first.
#[derive(Default)]
struct Round {
    items: Vec<Pending>,
    /// Some item failed in a way worth waiting for (not only fresh safe forms).
    backoff: bool,
}

impl Round {
    fn retry(&mut self, mut p: Pending, reason: &str) {
        reason.clone_into(&mut p.last_error);
        self.items.push(p);
        self.backoff = true;
    }
}

/// Applies one item's class.
fn settle(
    docs: &[Document],
    p: &Pending,
    class: ItemClass,
    outcomes: &mut [Option<ItemOutcome>],
    next: &mut Round,
) {
    let outcome = match (class, &p.safe) {
        (ItemClass::Indexed | ItemClass::AlreadyIndexed, None) => ItemOutcome::Delivered,
        (ItemClass::Indexed | ItemClass::AlreadyIndexed, Some(safe)) => {
            ItemOutcome::SafeDelivered {
                reason: safe.reason.clone(),
            }
        }
        (ItemClass::Retry(reason), _) => {
            next.retry(p.clone(), &reason);
            return;
        }
        (ItemClass::BadDocument { error_type, reason }, None) => {
            let said = format!("{error_type}: {reason}");
            match safe::safe_form(&docs[p.idx], &error_type, &reason) {
                Some(doc) => {
                    next.items.push(Pending {
                        idx: p.idx,
                        safe: Some(Box::new(SafeDoc { doc, reason: said })),
                        last_error: String::new(),
                    });
                    return;
                }
                None => ItemOutcome::Rejected {
                    reason: format!("{said}; and no safe form could be built"),
                },
            }
        }
        (ItemClass::BadDocument { error_type, reason }, Some(safe)) => ItemOutcome::Rejected {
            reason: format!(
                "{}; the safe form was refused too: {error_type}: {reason}",
                safe.reason
            ),
        },
        (ItemClass::Rejected(reason), _) => ItemOutcome::Rejected { reason },
    };
    outcomes[p.idx] = Some(outcome);
}

#[async_trait]
impl IndexSink for OpenSearchIndex {
    fn free_form(&self) -> FreeForm {
        self.free_form
    }

    async fn index(&self, docs: &[Document], deadline: Deadline) -> Vec<ItemOutcome> {
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; docs.len()];
        let items: Vec<Pending> = (0..docs.len())
            .map(|idx| Pending {
                idx,
                safe: None,
                last_error: String::new(),
            })
            .collect();
        let mut retry = self.backoff.retrying(items, u32::MAX, deadline);
        while let Some((items, _)) = retry.next_round() {
            let mut next = Round::default();
            self.round(docs, items, deadline, &mut outcomes, &mut next)
                .await;
            retry
                .settle(retry::Round {
                    back_off: next.backoff,
                    ..retry::Round::retry(next.items)
                })
                .await;
        }
        let finished = retry.finish();
        if !finished.left.is_empty() {
            let attempt = finished.backoffs;
            warn!(
                docs = finished.left.len(),
                attempts = attempt,
                "OpenSearch still failing at the deadline: left for retry"
            );
            for p in finished.left {
                outcomes[p.idx] = Some(ItemOutcome::Retryable {
                    reason: format!(
                        "still failing at the deadline ({} retries): {}",
                        attempt.saturating_sub(1),
                        p.last_error
                    ),
                });
            }
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| ItemOutcome::Retryable {
                    reason: "not sent".to_owned(),
                })
            })
            .collect()
    }

    async fn reachable(&self, timeout: Duration) -> Result<(), String> {
        match self
            .client
            .send(
                Method::Head,
                "",
                HeaderMap::new(),
                None::<&()>,
                None::<Bytes>,
                Some(timeout),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => Err(format!(
                "cannot reach the OpenSearch cluster at {}: {}",
                self.url,
                describe_transport_error(&err)
            )),
        }
    }
}

/// A transport error as one line with its causes (refused, reset, timed out).
fn describe_transport_error(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
