//! Alert suppression across invocations: the DynamoDB adapter against moto (windows,
//! counts, concurrent claims) and the Alerter replaying one batch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use chrono::{DateTime, Utc};
use csoc_forwarder::alerts::Alerter;
use csoc_forwarder::alerts::suppression::dynamodb::DynamoDbSuppression;
use csoc_forwarder::alerts::suppression::{Claim, ClaimRequest, SuppressionStore};
use csoc_forwarder::document::Document;
use csoc_forwarder::invocation::Deadline;
use csoc_forwarder::sinks::{AlertSink, SinkError};
use serde_json::Value;

use crate::common::moto::Moto;
use crate::common::{builder, envelope, fixture};

fn rt() -> tokio::runtime::Runtime {
    crate::common::runtime()
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn minutes(n: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::minutes(n)
}

/// A table like the Terraform module's: hash key `fingerprint`.
async fn table(moto: &Moto, name: &str) -> DynamoDbSuppression {
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("fingerprint")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("fingerprint")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("create table");
    DynamoDbSuppression::new(client, name)
}

fn req(now: DateTime<Utc>, matches: u64) -> ClaimRequest<'static> {
    ClaimRequest {
        fingerprint: "abc123",
        label: "rule kms-key-deletion commons test",
        now,
        window: Duration::from_secs(30 * 60),
        matches,
    }
}

#[test]
fn the_table_holds_a_fingerprint_for_its_window_and_counts_what_it_held_back() {
    let moto = Moto::start();
    rt().block_on(async {
        let store = table(&moto, "csoc-suppression-a").await;
        assert_eq!(
            store.claim(&req(t0(), 1)).await.expect("claim"),
            Claim::Post { suppressed: 0 }
        );
        assert_eq!(
            store.claim(&req(minutes(1), 2)).await.expect("claim"),
            Claim::Suppressed
        );
        assert_eq!(
            store.claim(&req(minutes(29), 3)).await.expect("claim"),
            Claim::Suppressed
        );
        // The window is over: post, with the count; the count starts again.
        assert_eq!(
            store.claim(&req(minutes(30), 1)).await.expect("claim"),
            Claim::Post { suppressed: 5 }
        );
        assert_eq!(
            store.claim(&req(minutes(31), 4)).await.expect("claim"),
            Claim::Suppressed
        );
        assert_eq!(
            store.claim(&req(minutes(61), 1)).await.expect("claim"),
            Claim::Post { suppressed: 4 }
        );
        // Another fingerprint is independent.
        let other = ClaimRequest {
            fingerprint: "def456",
            ..req(minutes(62), 1)
        };
        assert_eq!(
            store.claim(&other).await.expect("claim"),
            Claim::Post { suppressed: 0 }
        );
    });
}

#[test]
fn of_concurrent_claims_on_one_fingerprint_exactly_one_wins() {
    let moto = Moto::start();
    rt().block_on(async {
        let store = Arc::new(table(&moto, "csoc-suppression-b").await);
        for round in 0..3 {
            let now = minutes(60 * round);
            let claims = (0..8).map(|_| {
                let store = Arc::clone(&store);
                async move { store.claim(&req(now, 1)).await.expect("claim") }
            });
            let results = futures_join_all(claims).await;
            let won = results
                .iter()
                .filter(|c| matches!(c, Claim::Post { .. }))
                .count();
            assert_eq!(won, 1, "round {round}: {results:?}");
        }
    });
}

/// `join_all` without another crate: spawn on the current-thread runtime.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let handles: Vec<_> = futures.map(tokio::task::spawn_local).collect();
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.expect("task"));
            }
            out
        })
        .await
}

/// Records what was posted.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Value>>);

#[async_trait]
impl AlertSink for Recorder {
    async fn post(&self, payload: &Value, _deadline: Deadline) -> Result<(), SinkError> {
        self.0.lock().expect("lock").push(payload.clone());
        Ok(())
    }
}

impl Recorder {
    fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

/// One KMS key deletion, as a CloudTrail log stream document.
fn batch() -> Vec<Document> {
    let mut ev: Value =
        serde_json::from_slice(&fixture("eventbridge-kms-key-deletion.json")).expect("json");
    let msg = serde_json::to_string(&ev["detail"].take()).expect("json");
    let env = envelope("ct", "s", &[msg.as_str()]);
    env.log_events
        .iter()
        .map(|e| builder().build(&env, e).expect("doc"))
        .collect()
}

#[test]
fn a_batch_replayed_three_times_posts_once_then_reports_what_was_suppressed() {
    let moto = Moto::start();
    rt().block_on(async {
        let store: Arc<dyn SuppressionStore> = Arc::new(table(&moto, "csoc-suppression-c").await);
        let alerter = Alerter::default().with_suppression(Arc::clone(&store));
        let sink = Recorder::default();
        let docs = batch();
        let deadline = Deadline::after(Duration::from_secs(30));
        let mut sent = Vec::new();
        for t in [0, 1, 2] {
            let d = alerter.run_at(&docs, &sink, deadline, minutes(t)).await;
            sent.push((d.sent, d.suppressed));
        }
        assert_eq!(sent, [(1, 0), (0, 1), (0, 1)]);
        let first = sink.take();
        assert!(!first[0].to_string().contains("suppressed"), "{}", first[0]);

        // After the window: one message, saying how many were held back.
        let d = alerter.run_at(&docs, &sink, deadline, minutes(31)).await;
        assert_eq!((d.sent, d.suppressed), (1, 0));
        let text = sink.take()[0].to_string();
        assert!(
            text.contains(
                "2 more matching events were suppressed since the last message (window 30 min)"
            ),
            "{text}"
        );

        // Two invocations at once (another instance, same table): exactly one posts.
        let other = Alerter::default().with_suppression(store);
        let (a, b) = tokio::join!(
            alerter.run_at(&docs, &sink, deadline, minutes(90)),
            other.run_at(&docs, &sink, deadline, minutes(90)),
        );
        assert_eq!(a.sent + b.sent, 1, "{a:?} {b:?}");
        assert_eq!(a.suppressed + b.suppressed, 1);
    });
}

#[test]
fn without_a_table_suppression_is_per_run_and_a_rule_can_set_its_window() {
    rt().block_on(async {
        let sink = Recorder::default();
        let docs = batch();
        let deadline = Deadline::after(Duration::from_secs(30));
        let alerter = Alerter::default();
        assert_eq!(alerter.run_at(&docs, &sink, deadline, t0()).await.sent, 1);
        assert_eq!(alerter.run_at(&docs, &sink, deadline, minutes(1)).await.suppressed, 1);
        // A new run (a new Alerter) knows nothing of the last.
        assert_eq!(Alerter::default().run_at(&docs, &sink, deadline, minutes(1)).await.sent, 1);

        // `suppression_window: 0` in the rule: every batch posts.
        let rule = "title: KMS\nid: kms\nsuppression_window: 0\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: ScheduleKeyDeletion\n  condition: sel\n";
        let set = csoc_forwarder::alerts::sigma::RuleSet::from_yaml("kms.yml", rule).expect("rule");
        let alerter = Alerter::new(None, set, None);
        for t in 0..3 {
            assert_eq!(alerter.run_at(&docs, &sink, deadline, minutes(t)).await.sent, 1);
        }
    });
}

/// A store that fails, or never answers.
#[derive(Debug)]
struct Broken {
    hang: bool,
}

#[async_trait]
impl SuppressionStore for Broken {
    async fn claim(
        &self,
        _req: &ClaimRequest<'_>,
    ) -> Result<Claim, csoc_forwarder::alerts::suppression::SuppressionError> {
        if self.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Err(csoc_forwarder::alerts::suppression::SuppressionError(
            "unreachable".to_owned(),
        ))
    }
}

#[test]
fn a_store_that_fails_or_hangs_does_not_stop_the_alert() {
    rt().block_on(async {
        let sink = Recorder::default();
        let docs = batch();
        for hang in [false, true] {
            let alerter = Alerter::default().with_suppression(Arc::new(Broken { hang }));
            // A short deadline: the hanging claim gives up when the time is spent.
            let deadline = Deadline::after(Duration::from_millis(if hang { 300 } else { 30_000 }));
            let started = std::time::Instant::now();
            let d = alerter.run_at(&docs, &sink, deadline, t0()).await;
            assert!(started.elapsed() < Duration::from_secs(2), "{hang}");
            // Posted (when the deadline allows) or counted as failed: never held back.
            assert_eq!(d.suppressed, 0, "{hang}");
            assert_eq!(d.sent + d.failed, 1, "{hang}");
        }
    });
}

/// The same Kinesis batch through the pipeline three times (Lambda redelivering it, or
/// the stream carrying the same activity again): the streaming delivery posts its alert
/// candidates through suppression, so one message, then none within the window.
#[test]
fn the_pipeline_posts_a_kinesis_batch_alert_once_within_the_window() {
    use crate::common::{b64, gzip, kinesis_event, local_pipeline, run};

    let mut ev: Value =
        serde_json::from_slice(&fixture("eventbridge-kms-key-deletion.json")).expect("json");
    let msg = serde_json::to_string(&ev["detail"].take()).expect("json");
    let env = envelope("ct", "s", &[msg.as_str()]);
    let data = b64(&gzip(&serde_json::to_vec(&env).expect("json")));
    let event = kinesis_event(&[data]);

    let (pipeline, _dir) = local_pipeline();
    let posted = Arc::new(Recorder::default());
    struct Shared(Arc<Recorder>);
    #[async_trait]
    impl AlertSink for Shared {
        async fn post(&self, payload: &Value, deadline: Deadline) -> Result<(), SinkError> {
            self.0.post(payload, deadline).await
        }
    }
    let pipeline = pipeline
        .with_alerts(Alerter::default())
        .with_alert_sink(Box::new(Shared(Arc::clone(&posted))));
    let alerts: Vec<usize> = (0..3)
        .map(|_| run(&pipeline, &event).counts.alerts)
        .collect();
    assert_eq!(alerts, [1, 0, 0]);
    let text = posted.take();
    assert_eq!(text.len(), 1);
    assert!(text[0].to_string().contains("KMS"), "{}", text[0]);
}
