//! The handler end to end on local sinks: accounting, dead letters, retries.

use csoc_forwarder::decode;
use csoc_forwarder::sinks::ItemOutcome;

use crate::common::{
    ScriptedIndex, b64, dead_letters, envelope, files, fixture, gzip, kinesis_event,
    local_pipeline, pipeline_with, run, sinks_with_index,
};

#[test]
fn every_fixture_event_is_fully_handled_and_accounted() {
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &fixture("kinesis-mixed.json"));
    let c = &report.counts;
    assert_eq!(report.kind, "kinesis");
    assert_eq!((c.records, c.control_messages), (4, 1));
    assert_eq!(c.log_events, 15);
    assert_eq!((c.documents, c.indexed, c.archived), (15, 15, 15));
    assert_eq!((c.dead_lettered, c.retryable_failures), (0, 0));
    assert_eq!(
        report.response,
        serde_json::json!({"batchItemFailures": []})
    );

    // What the sinks wrote: 14 bulk items and 14 archive lines with the same documents.
    let bulk: String = files(dir.path(), "opensearch")
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect();
    let archive: String = files(&dir.path().join("firehose"), "test_firehose")
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect();
    assert_eq!(bulk.lines().count(), 30);
    assert_eq!(archive.lines().count(), 15);
    // The archive carries each document's `_id` first; without it, the indexed bytes.
    let bulk_ids: Vec<String> = bulk
        .lines()
        .step_by(2)
        .map(|l| {
            let action: serde_json::Value = serde_json::from_str(l).expect("action");
            action["create"]["_id"].as_str().expect("_id").to_owned()
        })
        .collect();
    let bulk_docs: Vec<(String, String)> = bulk_ids
        .into_iter()
        .zip(bulk.lines().skip(1).step_by(2).map(str::to_owned))
        .collect();
    let archive_docs: Vec<(String, String)> = archive
        .lines()
        .map(|l| csoc_forwarder::sinks::firehose::archive::split_id(l).expect("an _id first"))
        .collect();
    assert_eq!(bulk_docs, archive_docs);
}

#[test]
fn processing_twice_gives_the_same_files() {
    let (pipeline, dir) = local_pipeline();
    run(&pipeline, &fixture("kinesis-mixed.json"));
    let first: Vec<_> = files(dir.path(), "opensearch")
        .into_iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    run(&pipeline, &fixture("kinesis-mixed.json"));
    let second: Vec<_> = files(dir.path(), "opensearch")
        .into_iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    assert_eq!(first, second);
}

#[test]
fn bad_records_are_dead_lettered_and_the_batch_goes_on() {
    let good = decode::encode(&envelope("g", "s", &["first", "second"]));
    let bad = [
        ("bad_base64", "*** not base64 ***".to_owned()),
        ("not_gzip", b64(b"{\"plain\":true}")),
        ("bad_gzip", {
            let gz = gzip(b"{\"messageType\":\"DATA_MESSAGE\"}");
            b64(&gz[..gz.len() - 6])
        }),
        ("invalid_utf8", b64(&gzip(b"{\"owner\":\"\xc3\x28\"}"))),
        ("bad_envelope", b64(&gzip(b"not json"))),
        ("too_large", b64(&gzip(&vec![b' '; (1 << 20) + 1]))),
    ];
    let mut datas = vec![good.clone()];
    datas.extend(bad.iter().map(|(_, d)| d.clone()));
    datas.push(good);
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &kinesis_event(&datas));
    let c = &report.counts;
    assert_eq!(c.records, 8);
    assert_eq!(c.dead_lettered, 6);
    // The good record appears twice: the same two documents (same ids), both times handled.
    assert_eq!(
        (c.log_events, c.documents, c.indexed, c.archived),
        (4, 4, 4, 4)
    );
    assert_eq!(c.retryable_failures, 0);
    assert_eq!(report.response["batchItemFailures"], serde_json::json!([]));

    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 6);
    for ((name, letter), (i, (kind, data))) in letters.iter().zip(bad.iter().enumerate()) {
        let n = i + 1;
        let prefix =
            format!("kinesis-test_stream-20260102T030405.678Z-shardId-000000000000_4959{n:04}-");
        assert!(
            name.starts_with(&prefix) && name.ends_with(".json"),
            "{name}"
        );
        assert_eq!(letter["source"], "kinesis-test_stream");
        assert_eq!(letter["raw"], data.as_str(), "raw data kept as received");
        assert_eq!(
            letter["event_id"],
            format!("shardId-000000000000:4959{n:04}")
        );
        assert_eq!(letter["received_at"], "2026-01-02T03:04:05.678Z");
        let error = letter["error"].as_str().expect("error");
        assert!(error.contains(kind), "{error} should name {kind}");
    }
}

#[test]
fn dead_letters_of_ids_that_sanitise_alike_do_not_overwrite_each_other() {
    let ids = ["a:b", "a/b", "a b"];
    let mut event: serde_json::Value = serde_json::from_slice(&kinesis_event(&vec![
        "*** not base64 ***".to_owned();
        ids.len()
    ]))
    .expect("json");
    for (record, id) in event["Records"]
        .as_array_mut()
        .expect("records")
        .iter_mut()
        .zip(ids)
    {
        record["eventID"] = id.into();
    }
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &serde_json::to_vec(&event).expect("json"));
    assert_eq!(report.counts.dead_lettered, 3);
    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 3, "one file per letter: {letters:?}");
    let mut kept: Vec<&str> = letters
        .iter()
        .map(|(_, l)| l["event_id"].as_str().expect("id"))
        .collect();
    kept.sort_unstable();
    assert_eq!(kept, ["a b", "a/b", "a:b"]);
}

#[test]
fn retryable_index_failures_report_the_first_record_not_handled() {
    let datas: Vec<String> = (0..4)
        .map(|i| {
            decode::encode(&envelope(
                "g",
                if i == 2 { "flaky" } else { "ok" },
                &["a", "b"],
            ))
        })
        .collect();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let flaky_ids: Vec<String> = {
        let env = envelope("g", "flaky", &["a", "b"]);
        env.log_events
            .iter()
            .map(|e| {
                csoc_forwarder::document::document_id(
                    &env.owner,
                    &env.log_group,
                    &env.log_stream,
                    &e.id,
                )
            })
            .collect()
    };
    let index = ScriptedIndex::new(move |d| {
        if flaky_ids.contains(&d.id) {
            ItemOutcome::Retryable {
                reason: "429 Too Many Requests".to_owned(),
            }
        } else {
            ItemOutcome::Delivered
        }
    });
    let pipeline = pipeline_with(sinks_with_index(dir.path(), index));
    let report = run(&pipeline, &kinesis_event(&datas));
    assert_eq!(
        report.response,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "49590002"}]})
    );
    assert_eq!(
        report.counts.retryable_failures, 2,
        "records 2 and 3 are retried"
    );
    assert_eq!(report.counts.indexed, 6);
    assert_eq!(report.counts.dead_lettered, 0);
}

#[test]
fn rejected_documents_go_to_the_dead_letter_and_count_as_handled() {
    let datas = vec![decode::encode(&envelope("g", "s", &["keep", "refuse"]))];
    let dir = tempfile::TempDir::new().expect("tempdir");
    let index = ScriptedIndex::new(|d| {
        if d.source.contains("refuse") {
            ItemOutcome::Rejected {
                reason: "mapper_parsing_exception: failed to parse".to_owned(),
            }
        } else {
            ItemOutcome::Delivered
        }
    });
    let pipeline = pipeline_with(sinks_with_index(dir.path(), index));
    let report = run(&pipeline, &kinesis_event(&datas));
    assert_eq!((report.counts.indexed, report.counts.dead_lettered), (1, 1));
    assert_eq!(report.counts.retryable_failures, 0);
    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 1);
    let (name, letter) = &letters[0];
    assert!(
        name.starts_with("opensearch-20260102T030405.678Z-"),
        "{name}"
    );
    assert!(
        letter["error"]
            .as_str()
            .expect("error")
            .contains("mapper_parsing_exception")
    );
    let raw = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        letter["raw"].as_str().expect("raw"),
    )
    .expect("b64");
    assert!(
        String::from_utf8(raw).expect("utf8").contains("refuse"),
        "the document itself is kept"
    );
}

#[test]
fn an_event_that_is_not_understood_is_kept_whole() {
    for (bytes, kind) in [
        (b"this is not json".to_vec(), "unknown"),
        (br#"{"hello":"world"}"#.to_vec(), "unknown"),
        (
            br#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{}}"#
                .to_vec(),
            "event_bridge",
        ),
        (
            br#"{"version":"2.0","rawPath":"/node","requestContext":{"http":{"method":"POST"}}}"#
                .to_vec(),
            "function_url",
        ),
        (
            br#"{"Records":[{"kinesis":{"data":"eA=="}}]}"#.to_vec(),
            "kinesis",
        ),
    ] {
        let (pipeline, dir) = local_pipeline();
        let report = run(&pipeline, &bytes);
        assert_eq!(report.kind, kind);
        assert!(report.error.is_some());
        assert_eq!(report.counts.dead_lettered, 1);
        let letters = dead_letters(dir.path());
        assert_eq!(letters.len(), 1);
        assert!(
            letters[0].0.starts_with("test-20260102T030405.678Z-"),
            "{}",
            letters[0].0
        );
        assert_eq!(letters[0].1["raw"], b64(&bytes));
    }
}

#[test]
fn a_failing_dead_letter_leaves_the_record_for_retry() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    // A file where the dead-letter directory should be: writing there fails.
    std::fs::write(dir.path().join("dead-letter"), b"in the way").expect("write");
    let pipeline = pipeline_with(csoc_forwarder::sinks::local::sinks(dir.path(), "f"));
    let datas = vec![
        decode::encode(&envelope("g", "s", &["ok"])),
        "%%%".to_owned(),
    ];
    let report = run(&pipeline, &kinesis_event(&datas));
    assert_eq!(report.counts.dead_lettered, 0);
    assert_eq!(report.counts.retryable_failures, 1);
    assert_eq!(
        report.response["batchItemFailures"][0]["itemIdentifier"],
        "49590001"
    );
}

#[test]
fn a_duplicate_id_with_different_content_is_archived_and_dead_lettered_not_dropped() {
    // Two log events with the same owner, group, stream and event id, different messages,
    // in two records of one batch; and an identical repeat of the first.
    let first = envelope("g", "s", &["the original"]);
    let second = envelope("g", "s", &["a different message"]);
    assert_eq!(first.log_events[0].id, second.log_events[0].id);
    let repeat = first.clone();
    let datas = vec![
        decode::encode(&first),
        decode::encode(&second),
        decode::encode(&repeat),
    ];
    let dir = tempfile::TempDir::new().expect("tempdir");
    let index = std::sync::Arc::new(ScriptedIndex::new(|_| ItemOutcome::Delivered));
    struct Shared(std::sync::Arc<ScriptedIndex>);
    #[async_trait::async_trait]
    impl csoc_forwarder::sinks::IndexSink for Shared {
        async fn index(
            &self,
            docs: &[csoc_forwarder::document::Document],
            deadline: csoc_forwarder::invocation::Deadline,
        ) -> Vec<ItemOutcome> {
            self.0.index(docs, deadline).await
        }
    }
    let pipeline = pipeline_with(sinks_with_index(
        dir.path(),
        Shared(std::sync::Arc::clone(&index)),
    ));
    let report = run(&pipeline, &kinesis_event(&datas));
    let c = &report.counts;
    assert_eq!(
        (c.documents, c.archived),
        (3, 3),
        "every document is archived"
    );
    assert_eq!(c.indexed, 2, "the original and its identical repeat");
    assert_eq!(c.dead_lettered, 1, "the different one is kept");
    assert_eq!(c.retryable_failures, 0);
    let sent = index.seen.lock().expect("lock").clone();
    assert_eq!(
        sent.len(),
        2,
        "the clashing document is not sent to the index"
    );
    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 1);
    let letter = &letters[0].1;
    assert_eq!(letter["source"], "opensearch");
    assert!(
        letter["error"]
            .as_str()
            .expect("error")
            .starts_with("duplicate id"),
        "{letter}"
    );
    assert_eq!(letter["event_id"], sent[0].as_str());
    let raw = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        letter["raw"].as_str().expect("raw"),
    )
    .expect("b64");
    assert!(
        String::from_utf8(raw)
            .expect("utf8")
            .contains("a different message")
    );
}
