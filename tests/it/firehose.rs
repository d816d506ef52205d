//! The Firehose archive and the S3 dead letter against moto, and the archive record
//! encoding (truncation of documents over the record limit).

use std::time::{Duration, Instant};

use csoc_forwarder::dead_letter::DeadLetter;
use csoc_forwarder::document::Document;
use csoc_forwarder::invocation::Deadline;
use csoc_forwarder::retry::Backoff;
use csoc_forwarder::sinks::firehose::FirehoseArchive;
use csoc_forwarder::sinks::firehose::archive::{self, MAX_RECORD_BYTES, TRUNCATED_FIELD};
use csoc_forwarder::sinks::s3_dead_letter::{S3DeadLetter, object_key};
use csoc_forwarder::sinks::{ArchiveSink as _, DeadLetterSink as _, ItemOutcome};
use serde_json::{Value, json};

use crate::common::fault_server::{Action, FaultServer};
use crate::common::moto::{self, Moto};

fn doc(i: usize, message: &str) -> Document {
    Document::from_source(
        format!("{i:064x}"),
        "csoc-logs-2018.03.08".to_owned(),
        json!({
            "@timestamp": "2018-03-08T14:42:28.130Z",
            "commons": "testcommons",
            "logGroup": "/g",
            "message": { "log": message },
        })
        .to_string(),
    )
}

fn rt() -> tokio::runtime::Runtime {
    crate::common::runtime()
}

const FAST: Backoff = Backoff::new(Duration::from_millis(5), Duration::from_millis(20))
    .with_min_attempt(Duration::from_millis(1));

#[test]
fn a_small_document_is_its_id_then_its_json_and_a_newline() {
    let d = doc(1, "hello");
    let r = archive::record(&d);
    assert_eq!(r.truncated_from, None);
    let fields = d.source.strip_prefix('{').expect("an object");
    assert_eq!(
        r.bytes,
        format!("{{\"_id\":\"{}\",{fields}\n", d.id).into_bytes()
    );
    // Replay takes the id off again: the indexed bytes, exactly.
    let line = std::str::from_utf8(&r.bytes).expect("utf-8");
    assert_eq!(
        archive::split_id(line),
        Some((d.id.clone(), d.source.clone()))
    );
}

#[test]
fn an_oversized_document_is_truncated_to_the_limit_with_a_marker() {
    // Quotes and control characters grow when escaped: the cut must allow for it.
    let message = "\"\u{1}é".repeat(MAX_RECORD_BYTES / 2);
    let d = doc(7, &message);
    assert!(d.source.len() > MAX_RECORD_BYTES);
    let r = archive::record(&d);
    assert_eq!(r.truncated_from, Some(d.source.len()));
    assert!(r.bytes.len() <= MAX_RECORD_BYTES, "{}", r.bytes.len());
    assert!(
        r.bytes.len() > MAX_RECORD_BYTES - 16,
        "kept as much as fits"
    );
    assert_eq!(r.bytes.last(), Some(&b'\n'));
    let v: Value = serde_json::from_slice(&r.bytes).expect("valid JSON");
    assert_eq!(v[TRUNCATED_FIELD]["original_bytes"], d.source.len());
    assert_eq!(v[TRUNCATED_FIELD]["id"], d.id.as_str());
    assert_eq!(v[archive::ID_FIELD], d.id.as_str());
    assert_eq!(v["commons"], "testcommons");
    assert_eq!(v["@timestamp"], "2018-03-08T14:42:28.130Z");
    let kept = v["message"]["log"].as_str().expect("text");
    assert!(message.starts_with(kept));
}

#[test]
fn truncation_fits_any_limit() {
    for limit in [64, 300, 1000, 4096] {
        for message in [
            "plain".repeat(500),
            "\n\"\\".repeat(700),
            "ü€😀".repeat(400),
        ] {
            let d = doc(1, &message);
            let r = archive::record_with_limit(&d, limit);
            assert!(
                r.bytes.len() <= limit || limit < 200,
                "{limit}: {}",
                r.bytes.len()
            );
            serde_json::from_slice::<Value>(&r.bytes).expect("valid JSON");
        }
    }
}

#[test]
fn batches_respect_the_record_and_byte_limits() {
    let docs: Vec<Document> = (0..1201).map(|i| doc(i, "x")).collect();
    let ranges = archive::batch_ranges(&docs);
    assert_eq!(
        ranges.iter().map(|r| r.len()).collect::<Vec<_>>(),
        [500, 500, 201]
    );
    let big: Vec<Document> = (0..9)
        .map(|i| doc(i, &"y".repeat(MAX_RECORD_BYTES + 10)))
        .collect();
    for range in archive::batch_ranges(&big) {
        let bytes: usize = big[range]
            .iter()
            .map(|d| archive::record(d).bytes.len())
            .sum();
        assert!(bytes <= archive::MAX_BATCH_BYTES, "{bytes}");
    }
}

#[test]
fn every_document_reaches_s3_as_ndjson_in_put_record_batch_sized_calls() {
    let moto = Moto::start();
    rt().block_on(async {
        let sdk = moto.sdk_config().await;
        let s3 = moto::s3(&sdk);
        s3.create_bucket().bucket("archive").send().await.expect("bucket");
        moto::create_delivery_stream(&sdk, "t_firehose", "archive").await;
        let sink = FirehoseArchive::from_sdk_config(&sdk, "t_firehose").with_backoff(FAST, 3);

        let mut docs: Vec<Document> = (0..1100).map(|i| doc(i, &format!("line {i}"))).collect();
        docs.push(doc(5000, &"z".repeat(MAX_RECORD_BYTES)));
        let outcomes = sink.archive(&docs, Deadline::after(Duration::from_secs(60))).await;
        assert_eq!(outcomes.len(), docs.len());
        assert!(outcomes[..1100].iter().all(|o| *o == ItemOutcome::Delivered));
        assert!(
            matches!(&outcomes[1100], ItemOutcome::Truncated { reason } if reason.contains("over the Firehose record limit")),
            "{:?}",
            outcomes[1100]
        );

        // moto writes one object per call, the record bytes concatenated as sent.
        let objects = moto::objects(&s3, "archive", "").await;
        assert_eq!(objects.len(), 3, "one object per PutRecordBatch call");
        let lines: Vec<String> = objects
            .iter()
            .flat_map(|(_, body)| String::from_utf8(body.clone()).expect("utf-8").lines().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        assert_eq!(lines.len(), 1101);
        let mut expected: Vec<(String, String)> = docs[..1100].iter().map(|d| (d.id.clone(), d.source.clone())).collect();
        let mut got: Vec<(String, String)> = lines.iter().filter(|l| !l.contains(TRUNCATED_FIELD)).map(|l| archive::split_id(l).expect("an _id first")).collect();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected);
        let truncated: Value = serde_json::from_str(lines.iter().find(|l| l.contains(TRUNCATED_FIELD)).expect("truncated line")).expect("json");
        assert_eq!(truncated[TRUNCATED_FIELD]["id"], docs[1100].id.as_str());
    });
}

#[test]
fn a_missing_stream_is_retryable_at_once() {
    let moto = Moto::start();
    rt().block_on(async {
        let sdk = moto.sdk_config().await;
        let sink = FirehoseArchive::from_sdk_config(&sdk, "missing_firehose").with_backoff(FAST, 50);
        let docs: Vec<Document> = (0..3).map(|i| doc(i, "x")).collect();
        let outcomes = sink.archive(&docs, Deadline::after(Duration::from_secs(60))).await;
        for o in &outcomes {
            assert!(
                matches!(o, ItemOutcome::Retryable { reason } if reason.contains("ResourceNotFound") && reason.contains("after 1 attempt")),
                "{o:?}"
            );
        }
    });
}

#[test]
fn an_unreachable_service_is_retried_within_the_deadline_then_retryable() {
    let mut moto = Moto::start();
    moto.stop();
    rt().block_on(async {
        let sdk = moto.sdk_config().await;
        let docs: Vec<Document> = (0..2).map(|i| doc(i, "x")).collect();

        let sink = FirehoseArchive::from_sdk_config(&sdk, "t_firehose").with_backoff(FAST, 3);
        let outcomes = sink.archive(&docs, Deadline::after(Duration::from_secs(60))).await;
        for o in &outcomes {
            assert!(matches!(o, ItemOutcome::Retryable { reason } if reason.contains("after 3 attempts")), "{o:?}");
        }

        // Many attempts allowed, but the deadline bounds them.
        let sink = FirehoseArchive::from_sdk_config(&sdk, "t_firehose").with_backoff(Backoff::new(Duration::from_millis(50), Duration::from_millis(100)), 1000);
        let start = Instant::now();
        let outcomes = sink.archive(&docs, Deadline::after(Duration::from_millis(400))).await;
        assert!(start.elapsed() < Duration::from_millis(1500), "{:?}", start.elapsed());
        assert!(outcomes.iter().all(|o| matches!(o, ItemOutcome::Retryable { .. })));
    });
}

#[test]
fn dead_letters_land_under_their_source_and_day() {
    let moto = Moto::start();
    rt().block_on(async {
        let sdk = moto.sdk_config().await;
        let s3 = moto::s3(&sdk);
        s3.create_bucket()
            .bucket("dead-letters")
            .send()
            .await
            .expect("bucket");
        let sink = S3DeadLetter::from_sdk_config(&sdk, "dead-letters");
        let at = "2026-01-02T03:04:05.678Z".parse().expect("time");
        let letter = DeadLetter::from_bytes(
            "kinesis-s",
            "not gzip (not_gzip)",
            at,
            b"\x00bad",
            Some("shardId-000000000000:42"),
        );
        sink.put(&letter).await.expect("put");
        let objects = moto::objects(&s3, "dead-letters", "dead-letter/").await;
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].0, object_key(&letter));
        assert!(
            objects[0]
                .0
                .starts_with("dead-letter/kinesis-s/2026/01/02/kinesis-s-20260102T030405.678Z-")
        );
        let stored: DeadLetter = serde_json::from_slice(&objects[0].1).expect("json");
        assert_eq!(stored, letter);

        // Ids that sanitise alike, in the same millisecond: one object each.
        for id in ["a:b", "a/b", "a b"] {
            let letter = DeadLetter::from_bytes("kinesis-s", "bad", at, b"x", Some(id));
            sink.put(&letter).await.expect("put");
        }
        let objects = moto::objects(&s3, "dead-letters", "dead-letter/").await;
        assert_eq!(objects.len(), 4, "one object per letter");

        let missing = S3DeadLetter::from_sdk_config(&sdk, "no-such-bucket");
        let err = missing.put(&letter).await.expect_err("missing bucket");
        assert!(err.to_string().contains("no-such-bucket"), "{err}");
    });
}

/// The local archive (`process --out`, replay to files) writes the records the Firehose
/// sink sends, each straight into its batch file: the same bytes, a document over the
/// record limit truncated and reported so, and no temporary file left behind.
#[test]
fn the_local_archive_writes_the_firehose_records_truncation_included() {
    use csoc_forwarder::sinks::local::LocalArchive;

    let dir = tempfile::tempdir().expect("temp dir");
    let mut docs: Vec<Document> = (0..3).map(|i| doc(i, &format!("line {i}"))).collect();
    docs.insert(1, doc(7, &"z".repeat(MAX_RECORD_BYTES)));
    let outcomes = rt().block_on(
        LocalArchive::new(dir.path().to_path_buf())
            .archive(&docs, Deadline::after(Duration::from_secs(60))),
    );
    assert_eq!(outcomes.len(), 4);
    assert!(
        matches!(&outcomes[1], ItemOutcome::Truncated { reason } if reason.contains("over the Firehose record limit")),
        "{:?}",
        outcomes[1]
    );
    for i in [0, 2, 3] {
        assert_eq!(outcomes[i], ItemOutcome::Delivered, "{i}");
    }

    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one batch file, no temporary file: {files:?}"
    );
    let written = std::fs::read(&files[0]).expect("read");
    let expected: Vec<u8> = docs.iter().flat_map(|d| archive::record(d).bytes).collect();
    assert_eq!(written, expected);
    let truncated = &archive::record(&docs[1]).bytes;
    assert!(truncated.len() <= MAX_RECORD_BYTES);
    let line: Value = serde_json::from_slice(truncated).expect("JSON");
    assert_eq!(line[TRUNCATED_FIELD]["id"], docs[1].id);
}

/// The records of one PutRecordBatch request body, base64-decoded.
fn put_records(body: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let request: Value = serde_json::from_slice(body).expect("a JSON request");
    let records = request["Records"].as_array().expect("records");
    records
        .iter()
        .map(|r| {
            let data = r["Data"].as_str().expect("data");
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .expect("base64")
        })
        .collect()
}

/// A record Firehose refuses is sent again, alone, as the same bytes (encoded again from
/// its document, not kept), and the others are not sent twice.
#[test]
fn a_record_refused_in_a_batch_is_sent_again_alone_as_the_same_bytes() {
    let server = FaultServer::memory(|seen| {
        let answer = if seen.n == 0 {
            r#"{"FailedPutCount":1,"Encrypted":false,"RequestResponses":[{"RecordId":"a"},{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},{"RecordId":"c"}]}"#
        } else {
            r#"{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[{"RecordId":"d"}]}"#
        };
        Action::Respond(200, answer.to_owned())
    });
    rt().block_on(async {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&server.url)
            .region(aws_sdk_firehose::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_firehose::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .load()
            .await;
        let sink = FirehoseArchive::from_sdk_config(&sdk, "t_firehose").with_backoff(FAST, 3);
        let docs: Vec<Document> = (0..3).map(|i| doc(i, &format!("message {i}"))).collect();
        let outcomes = sink
            .archive(&docs, Deadline::after(Duration::from_secs(60)))
            .await;
        assert!(
            outcomes.iter().all(|o| *o == ItemOutcome::Delivered),
            "{outcomes:?}"
        );

        let seen = server.seen();
        assert_eq!(seen.len(), 2, "one call, then one retry");
        let first = put_records(&seen[0].body);
        let expected: Vec<Vec<u8>> = docs.iter().map(|d| archive::record(d).bytes).collect();
        assert_eq!(first, expected);
        assert_eq!(put_records(&seen[1].body), vec![expected[1].clone()]);
    });
}
