//! Guaranteed progress (issue #11): whatever the time each record takes, every
//! invocation handles at least one record (or dead-letters it) and answers before its
//! deadline, and `batchItemFailures` names a record after every one fully handled.
//!
//! Through the cargo-lambda runtime emulator with a short function timeout (the
//! `Lambda-Runtime-Deadline-Ms` Lambda would send), the real binary, moto for Firehose
//! and S3, and the fault-injecting server as an OpenSearch cluster that takes most of
//! the invocation to answer each `_bulk` request.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use csoc_forwarder::document::Document;
use csoc_forwarder::invocation::{Deadline, Invocation};
use csoc_forwarder::pipeline::{Pipeline, SAFETY_MARGIN};
use csoc_forwarder::sinks::{IndexSink, ItemOutcome};
use serde_json::Value;

use crate::common::fault_server::{Action, FaultServer};
use crate::common::lambda_emulator::LambdaEmulator;
use crate::common::moto::{self, Moto};
use crate::common::{b64, builder, dead_letters, envelope, gzip, kinesis_event, sinks_with_index};

/// Records in the batch, log events per record and bytes per message: each record's
/// documents (about 40 KB) stay under the smallest chunk, two records fill one.
const RECORDS: usize = 4;
const EVENTS_PER_RECORD: usize = 20;
const MESSAGE_BYTES: usize = 1900;
/// The function timeout, and how long the cluster takes to answer one `_bulk` request:
/// with the 3 s safety margin, one delivery fits an invocation and two do not.
const TIMEOUT: Duration = Duration::from_secs(8);
const SLOW_BULK: Duration = Duration::from_secs(3);

/// `n` records of `events` log events each, the first numbered `first`; every message
/// (and every log event id, by log stream) is unique.
fn records(first: usize, n: usize, events: usize, message_bytes: usize) -> Vec<String> {
    (first..first + n)
        .map(|r| {
            let messages: Vec<String> = (0..events)
                .map(|e| format!("record {r} event {e} {}", "x".repeat(message_bytes)))
                .collect();
            let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
            let stream = format!("stream-{r}");
            let env = envelope("/csoc/progress", &stream, &refs);
            b64(&gzip(&serde_json::to_vec(&env).expect("envelope")))
        })
        .collect()
}

#[test]
fn slow_records_make_progress_every_invocation_and_answer_before_the_deadline() {
    let rt = crate::common::runtime();
    let moto = Moto::start();
    let sdk = rt.block_on(moto.sdk_config());
    rt.block_on(async {
        let s3 = moto::s3(&sdk);
        for bucket in ["progress-archive", "progress-dead-letter"] {
            s3.create_bucket()
                .bucket(bucket)
                .send()
                .await
                .expect("bucket");
        }
        moto::create_delivery_stream(&sdk, "progress_firehose", "progress-archive").await;
    });
    let cluster = FaultServer::memory(|seen| {
        if seen.is_bulk() {
            Action::Slow(SLOW_BULK, Box::new(Action::Handle(None)))
        } else {
            Action::Handle(None)
        }
    });
    let mut env = moto.env();
    env.extend(
        [
            ("COMMON_NAME", "progress"),
            ("FIREHOSE_STREAM", "progress_firehose"),
            ("DEAD_LETTER_BUCKET", "progress-dead-letter"),
            ("OPENSEARCH_URL", cluster.url.as_str()),
            ("OPENSEARCH_AUTH", "none"),
            ("OPENSEARCH_TEMPLATE", "false"),
            ("DELIVERY_CHUNK_BYTES", "65536"),
            ("RUST_LOG", "info"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut lambda = LambdaEmulator::start_with_timeout(&env, TIMEOUT);

    let datas = records(0, RECORDS, EVENTS_PER_RECORD, MESSAGE_BYTES);
    let all = kinesis_event(&datas);
    let event: Value = serde_json::from_slice(&all).expect("event");
    let all_records = event["Records"].as_array().expect("records").clone();
    let sequence = |r: &Value| {
        r["kinesis"]["sequenceNumber"]
            .as_str()
            .expect("seq")
            .to_owned()
    };

    // Invoke as the event source mapping does: from the reported record on, until done.
    let mut from = 0;
    let mut invocations = 0;
    while from < all_records.len() {
        invocations += 1;
        assert!(
            invocations <= RECORDS,
            "more invocations than records: no progress\n{}",
            lambda.logs()
        );
        let batch = serde_json::json!({ "Records": all_records[from..] });
        let started = Instant::now();
        let response = lambda.invoke(batch.to_string().as_bytes());
        let took = started.elapsed();
        assert!(
            took < TIMEOUT,
            "invocation {invocations} answered after {took:?}, past the {TIMEOUT:?} timeout\n{}",
            lambda.logs()
        );
        match crate::common::batch_item_failures(&response).as_slice() {
            [] => from = all_records.len(),
            [seq] => {
                let at = all_records
                    .iter()
                    .position(|r| sequence(r) == *seq)
                    .unwrap_or_else(|| panic!("unknown sequence number {seq}"));
                assert!(
                    at > from,
                    "invocation {invocations} reported the record it started with ({seq}): no progress\n{}",
                    lambda.logs()
                );
                from = at;
            }
            more => panic!("one failure at most, got {more:?}"),
        }
    }
    assert!(
        invocations >= 2,
        "every record fit one invocation: the test did not make records slow\n{}",
        lambda.logs()
    );

    // Everything indexed once, nothing dead-lettered.
    assert_eq!(cluster.stored(), RECORDS * EVENTS_PER_RECORD);
    let dead = rt.block_on(moto::objects(&moto::s3(&sdk), "progress-dead-letter", ""));
    assert!(dead.is_empty(), "{} dead letters", dead.len());
}

/// An index that takes `delay` for every call, then stores everything.
struct SlowIndex {
    delay: Duration,
    ids: std::sync::Mutex<HashSet<String>>,
}

#[async_trait]
impl IndexSink for SlowIndex {
    async fn index(&self, docs: &[Document], deadline: Deadline) -> Vec<ItemOutcome> {
        if deadline.remaining() < self.delay {
            tokio::time::sleep(deadline.remaining()).await;
            return docs
                .iter()
                .map(|_| ItemOutcome::Retryable {
                    reason: "deadline".to_owned(),
                })
                .collect();
        }
        tokio::time::sleep(self.delay).await;
        let mut ids = self.ids.lock().expect("lock");
        docs.iter()
            .map(|d| {
                ids.insert(d.id.clone());
                ItemOutcome::Delivered
            })
            .collect()
    }
}

/// Runs `event` with an index taking 400 ms a call, 64 KiB chunks and `usable` time
/// before the sinks must stop: the report, the time it took, and the temp dir.
fn run_slow(
    event: &[u8],
    usable: Duration,
) -> (csoc_forwarder::report::Report, Duration, tempfile::TempDir) {
    let dir = tempfile::TempDir::new().expect("dir");
    let index = SlowIndex {
        delay: Duration::from_millis(400),
        ids: Default::default(),
    };
    let pipeline = Pipeline::new(8 << 20, builder(), sinks_with_index(dir.path(), index))
        .with_chunk_bytes(64 * 1024);
    let inv = Invocation {
        received_at: Utc::now(),
        deadline: Deadline::after(SAFETY_MARGIN + usable),
        source: "event".to_owned(),
    };
    let rt = crate::common::runtime();
    let started = Instant::now();
    let report = rt.block_on(pipeline.handle(event, &inv));
    (report, started.elapsed(), dir)
}

#[test]
fn a_first_record_that_cannot_be_handled_in_a_whole_invocation_is_dead_lettered() {
    // Record 0: about 1 MB of documents, 16 chunks of 400 ms; the invocation has 1.5 s.
    let datas = records(0, 1, 500, MESSAGE_BYTES);
    let mut all = datas.clone();
    all.extend(records(1, 1, 2, 100));
    let event = kinesis_event(&all);
    let usable = Duration::from_millis(1500);
    let (report, took, dir) = run_slow(&event, usable);
    assert!(took < SAFETY_MARGIN + usable, "answered after {took:?}");
    assert_eq!(
        report.response["batchItemFailures"][0]["itemIdentifier"], "49590001",
        "{}",
        report.response
    );
    assert_eq!(report.counts.dead_lettered, 1);
    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 1);
    let letter = &letters[0].1;
    assert!(
        letter["error"]
            .as_str()
            .is_some_and(|e| e.contains("within one invocation")),
        "{letter}"
    );
    assert_eq!(
        letter["raw"],
        serde_json::json!(datas[0]),
        "the record, replayable"
    );
}

#[test]
fn a_later_record_out_of_time_is_left_for_retry_not_dead_lettered() {
    // Record 0 small; record 1 as large as above: it is retried, first, next time.
    let mut all = records(0, 1, 2, 100);
    all.extend(records(1, 1, 500, MESSAGE_BYTES));
    let event = kinesis_event(&all);
    let usable = Duration::from_millis(1500);
    let (report, took, dir) = run_slow(&event, usable);
    assert!(took < SAFETY_MARGIN + usable, "answered after {took:?}");
    assert_eq!(
        report.response["batchItemFailures"][0]["itemIdentifier"], "49590001",
        "{}",
        report.response
    );
    assert_eq!(report.counts.dead_lettered, 0);
    assert!(dead_letters(dir.path()).is_empty());
    assert!(report.counts.indexed >= 2, "record 0 is done");
}
