//! End to end on emulated AWS: moto (Kinesis, Firehose → S3, S3, Secrets Manager,
//! CloudWatch Logs with a subscription filter to the stream) and the real function
//! binary serving cargo-lambda's runtime API emulator, invoked as the Kinesis event
//! source mapping does and through the emulator's function URL (audit records).
//!
//! Known emulator differences allowed for: log event ids are integers, filter patterns
//! are not applied, Firehose writes one S3 object per call with the record bytes
//! concatenated as sent, the emulator's deadline header is a duration, and its function
//! URL answers 500 to a gzip body sent as `application/json` (it reads it as text).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_kinesis::types::ShardIteratorType;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use csoc_forwarder::decode::Decoder;
use csoc_forwarder::document::{DocumentBuilder, Limits};
use csoc_forwarder::sinks::firehose::archive::{MAX_RECORD_BYTES, TRUNCATED_FIELD};
use serde_json::{Value, json};

use crate::common::lambda_emulator::LambdaEmulator;
use crate::common::moto::{self, ACCOUNT, Moto, REGION};
use crate::common::osmem::Osmem;
use crate::common::{audit_body, gzip};

const STREAM: &str = "csoc-e2e-stream";
const FIREHOSE: &str = "e2e_firehose";
const ARCHIVE_BUCKET: &str = "e2e-archive";
const DEAD_LETTER_BUCKET: &str = "e2e-dead-letter";
const LOG_GROUP: &str = "/csoc/e2e";
const COMMONS: &str = "e2e";
const SECRET_KEY: &str = "e2e-secret-access-key-never-logged";
const SECRET_VALUE: &str = "https://hooks.slack.example/services/T000/B000/never-logged";

/// A Kinesis record as read with GetRecords.
struct StreamRecord {
    sequence: String,
    partition_key: String,
    data: Vec<u8>,
    arrival: f64,
}

/// The Kinesis event the event source mapping would build from `records`.
fn esm_event(stream_arn: &str, records: &[(String, String, String, f64)]) -> Vec<u8> {
    let records: Vec<Value> = records
        .iter()
        .map(|(sequence, partition_key, data_b64, arrival)| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": partition_key,
                    "sequenceNumber": sequence,
                    "data": data_b64,
                    "approximateArrivalTimestamp": arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{sequence}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": format!("arn:aws:iam::{ACCOUNT}:role/csoc-forwarder"),
                "awsRegion": REGION,
                "eventSourceARN": stream_arn,
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "Records": records })).expect("event")
}

fn good(records: &[StreamRecord]) -> Vec<(String, String, String, f64)> {
    records
        .iter()
        .map(|r| {
            (
                r.sequence.clone(),
                r.partition_key.clone(),
                STANDARD.encode(&r.data),
                r.arrival,
            )
        })
        .collect()
}

async fn setup(sdk: &SdkConfig) -> String {
    let kinesis = aws_sdk_kinesis::Client::new(sdk);
    kinesis
        .create_stream()
        .stream_name(STREAM)
        .shard_count(1)
        .send()
        .await
        .expect("create stream");
    let stream_arn = kinesis
        .describe_stream_summary()
        .stream_name(STREAM)
        .send()
        .await
        .expect("describe stream")
        .stream_description_summary()
        .expect("summary")
        .stream_arn()
        .to_owned();
    let s3 = moto::s3(sdk);
    for bucket in [ARCHIVE_BUCKET, DEAD_LETTER_BUCKET] {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket");
    }
    moto::create_delivery_stream(sdk, FIREHOSE, ARCHIVE_BUCKET).await;
    aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name("csoc/e2e/slack-webhook")
        .secret_string(SECRET_VALUE)
        .send()
        .await
        .expect("secret");
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    logs.create_log_group()
        .log_group_name(LOG_GROUP)
        .send()
        .await
        .expect("log group");
    for stream in ["syslog", "kubernetes", "cloudtrail", "late"] {
        logs.create_log_stream()
            .log_group_name(LOG_GROUP)
            .log_stream_name(stream)
            .send()
            .await
            .expect("log stream");
    }
    logs.put_subscription_filter()
        .log_group_name(LOG_GROUP)
        .filter_name("to-csoc")
        .filter_pattern("")
        .destination_arn(&stream_arn)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/cwl-to-kinesis"))
        .send()
        .await
        .expect("subscription filter");
    stream_arn
}

async fn put_log_events(sdk: &SdkConfig, stream: &str, messages: &[String]) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let now = chrono::Utc::now().timestamp_millis();
    let events = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            InputLogEvent::builder()
                .timestamp(now + i as i64)
                .message(m)
                .build()
                .expect("event")
        })
        .collect();
    aws_sdk_cloudwatchlogs::Client::new(sdk)
        .put_log_events()
        .log_group_name(LOG_GROUP)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("put log events");
}

/// Reads the stream from `iterator` (or its start): the records and the next iterator.
async fn get_records(sdk: &SdkConfig, iterator: Option<String>) -> (Vec<StreamRecord>, String) {
    let kinesis = aws_sdk_kinesis::Client::new(sdk);
    let iterator = match iterator {
        Some(it) => it,
        None => kinesis
            .get_shard_iterator()
            .stream_name(STREAM)
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("iterator")
            .shard_iterator()
            .expect("iterator")
            .to_owned(),
    };
    let out = kinesis
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .expect("get records");
    let records = out
        .records()
        .iter()
        .map(|r| StreamRecord {
            sequence: r.sequence_number().to_owned(),
            partition_key: r.partition_key().to_owned(),
            data: r.data().as_ref().to_vec(),
            arrival: r
                .approximate_arrival_timestamp()
                .map_or(0.0, |t| t.as_secs_f64()),
        })
        .collect();
    (records, out.next_shard_iterator().expect("next").to_owned())
}

/// The documents the forwarder builds from `records`, as JSON text: messages scrubbed,
/// and CloudTrail's free-form objects kept as objects, since osmem-server takes the
/// `flat_object` template.
fn expected_documents(records: &[StreamRecord]) -> Vec<String> {
    let builder =
        DocumentBuilder::new(COMMONS, "csoc-logs", Limits::default()).with_free_form_objects(true);
    let scrubber = csoc_forwarder::scrub::Scrubber::built_in();
    let mut redactions = csoc_forwarder::scrub::Redactions::new();
    let mut decoder = Decoder::new(8 << 20);
    let mut docs = Vec::new();
    for r in records {
        let env = decoder
            .decode(&STANDARD.encode(&r.data))
            .expect("moto record decodes");
        for ev in &env.log_events {
            let ev = scrubber.scrub_event(ev, &mut redactions);
            docs.push(builder.build(&env, &ev).expect("document").source);
        }
    }
    docs
}

/// The archived documents as they were indexed: each line's leading `_id` taken off
/// (every line must carry one).
fn archive_lines(objects: &[(String, Vec<u8>)]) -> Vec<String> {
    objects
        .iter()
        .flat_map(|(_, body)| {
            let text = String::from_utf8(body.clone()).expect("utf-8");
            assert!(text.ends_with('\n'), "NDJSON objects end with a newline");
            text.lines()
                .map(|l| {
                    csoc_forwarder::sinks::firehose::archive::split_id(l)
                        .unwrap_or_else(|| panic!("archived line without _id: {l}"))
                        .1
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn forwards_from_cloudwatch_logs_through_kinesis_to_the_archive_and_the_dead_letter() {
    let rt = crate::common::runtime();
    let moto = Moto::start();
    let sdk = rt.block_on(moto.sdk_config());
    let stream_arn = rt.block_on(setup(&sdk));

    // Real-looking log lines: syslog, Kubernetes fluentd JSON, CloudTrail.
    let syslog: Vec<String> = (0..5)
        .map(|i| format!("Mar  8 14:42:0{i} ip-10-0-1-23 sshd[2345{i}]: Accepted publickey for ubuntu from 10.0.0.{i} port 5123{i} ssh2: RSA SHA256:abc"))
        .collect();
    let kubernetes: Vec<String> = (0..5)
        .map(|i| json!({
            "log": format!("10.0.0.{i} - - [08/Mar/2018:14:42:2{i} +0000] \"GET /user/user HTTP/1.1\" 200 512"),
            "stream": "stdout",
            "time": format!("2018-03-08T14:42:2{i}.570065Z"),
            "kubernetes": {"pod_name": format!("fence-deployment-7c9-{i}"), "namespace_name": "default",
                           "labels": {"app.kubernetes.io/name": "fence"}},
        }).to_string())
        .collect();
    let cloudtrail: Vec<String> = (0..3)
        .map(|i| json!({
            "eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "eventTime": format!("2018-03-08T14:43:0{i}Z"), "awsRegion": "us-east-1",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/x/y"},
            "requestParameters": {"bucketName": "data", "key": format!("k{i}")},
            "responseElements": null,
        }).to_string())
        .collect();
    rt.block_on(async {
        put_log_events(&sdk, "syslog", &syslog).await;
        put_log_events(&sdk, "kubernetes", &kubernetes).await;
        put_log_events(&sdk, "cloudtrail", &cloudtrail).await;
    });
    let (records, next) = rt.block_on(get_records(&sdk, None));
    assert_eq!(
        records.len(),
        3,
        "one subscription record per PutLogEvents call"
    );
    let expected = expected_documents(&records);
    assert_eq!(expected.len(), 13);

    // Bad records, and a document over the Firehose record limit.
    let oversized_message = "x".repeat(MAX_RECORD_BYTES + 1000);
    let oversized = json!({
        "messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": LOG_GROUP,
        "logStream": "big", "subscriptionFilters": ["to-csoc"],
        "logEvents": [{"id": "1", "timestamp": 1_520_520_148_130_i64, "message": oversized_message}],
    });
    let mut event_records = good(&records);
    let bad: [(&str, String); 3] = [
        ("9001", "!!! not base64 !!!".to_owned()),
        ("9002", STANDARD.encode(b"plain text, not gzip")),
        ("9003", STANDARD.encode(gzip(b"{\"not\": \"an envelope\""))),
    ];
    for (seq, data) in &bad {
        event_records.push((seq.to_string(), "pk".to_owned(), data.clone(), 0.0));
    }
    event_records.push((
        "9004".to_owned(),
        "pk".to_owned(),
        STANDARD.encode(gzip(oversized.to_string().as_bytes())),
        0.0,
    ));
    let event = esm_event(&stream_arn, &event_records);

    let os = Osmem::start();
    let out_dir = tempfile::TempDir::new().expect("out dir");
    let mut env = moto.env();
    env.retain(|(k, _)| k != "AWS_SECRET_ACCESS_KEY");
    env.extend(
        [
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("COMMON_NAME", COMMONS),
            ("FIREHOSE_STREAM", FIREHOSE),
            ("DEAD_LETTER_BUCKET", DEAD_LETTER_BUCKET),
            ("OPENSEARCH_URL", os.url.as_str()),
            ("OPENSEARCH_AUTH", "none"),
            ("RUST_LOG", "info"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env.push(("OUT_DIR".to_owned(), out_dir.path().display().to_string()));
    let mut lambda = LambdaEmulator::start(&env);

    // 1. Everything handled: good records archived, bad ones dead-lettered.
    let response = lambda.invoke(&event);
    assert_eq!(
        crate::common::batch_item_failures(&response),
        Vec::<String>::new(),
        "{response}"
    );

    let s3 = moto::s3(&sdk);
    let lines = archive_lines(&rt.block_on(moto::objects(&s3, ARCHIVE_BUCKET, "")));
    for doc in &expected {
        assert!(lines.contains(doc), "archive lacks {doc}");
    }
    // Every document, the oversized one included, is in OpenSearch.
    let indexed = rt.block_on(async {
        os.refresh().await;
        os.count("csoc-logs-*", None).await
    });
    assert_eq!(indexed, expected.len() as u64 + 1);
    let truncated: Vec<Value> = lines
        .iter()
        .filter(|l| l.contains(TRUNCATED_FIELD))
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(truncated.len(), 1, "the oversized document, truncated");
    assert!(truncated[0].to_string().len() <= MAX_RECORD_BYTES);
    assert_eq!(lines.len(), expected.len() + 1);

    let letters: BTreeMap<String, Value> = rt
        .block_on(moto::objects(&s3, DEAD_LETTER_BUCKET, "dead-letter/"))
        .into_iter()
        .map(|(k, body)| (k, serde_json::from_slice(&body).expect("dead letter json")))
        .collect();
    assert_eq!(letters.len(), 4, "{:?}", letters.keys().collect::<Vec<_>>());
    let today = chrono::Utc::now().format("%Y/%m/%d").to_string();
    for (seq, data) in &bad {
        let (key, letter) = letters
            .iter()
            .find(|(_, l)| l["event_id"] == format!("shardId-000000000000:{seq}"))
            .unwrap_or_else(|| panic!("no dead letter for record {seq}"));
        assert!(
            key.starts_with(&format!(
                "dead-letter/kinesis-{STREAM}/{today}/kinesis-{STREAM}-"
            )),
            "{key}"
        );
        assert_eq!(letter["raw"], data.as_str());
        assert_eq!(letter["source"], format!("kinesis-{STREAM}"));
        assert!(letter["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (key, full) = letters
        .iter()
        .find(|(k, _)| k.starts_with("dead-letter/firehose/"))
        .expect("the oversized original in the dead letter");
    let original = STANDARD
        .decode(full["raw"].as_str().expect("raw"))
        .expect("base64");
    assert!(
        original.len() > MAX_RECORD_BYTES,
        "{key}: the full original"
    );
    assert_eq!(
        Some(full["event_id"].clone()),
        truncated[0][TRUNCATED_FIELD].get("id").cloned()
    );

    // The accounting, from the EMF line.
    let emf = lambda.emf_lines();
    assert_eq!(emf.len(), 1, "one EMF line per invocation");
    let m = &emf[0];
    assert_eq!(m["commons"], COMMONS);
    assert_eq!(m["Records"], event_records.len());
    assert_eq!(m["LogEvents"], 14);
    assert_eq!(m["Documents"], 14);
    assert_eq!(m["Archived"], 14);
    assert_eq!(m["Indexed"], 14);
    assert_eq!(m["DeadLettered"], 4);
    assert_eq!(m["Retried"], 0);
    assert!(m["cold_start_ms"].as_f64().is_some(), "{m}");
    assert!(m["max_rss_kb"].as_u64().is_some(), "{m}");
    eprintln!(
        "e2e: cold start {} ms (process start to first batch handled, debug build), peak RSS {} kB",
        m["cold_start_ms"], m["max_rss_kb"]
    );

    // 2. The archive unavailable: the batch is reported from its first record.
    rt.block_on(async {
        aws_sdk_firehose::Client::new(&sdk)
            .delete_delivery_stream()
            .delivery_stream_name(FIREHOSE)
            .send()
            .await
            .expect("delete delivery stream");
        put_log_events(&sdk, "late", &syslog[..2]).await;
    });
    let (late, _) = rt.block_on(get_records(&sdk, Some(next)));
    assert_eq!(late.len(), 1);
    let late_event = esm_event(&stream_arn, &good(&late));
    let response = lambda.invoke(&late_event);
    assert_eq!(
        crate::common::batch_item_failures(&response),
        vec![late[0].sequence.clone()],
        "{response}"
    );
    let emf = lambda.emf_lines();
    assert_eq!(emf[1]["Retried"], 1);
    assert_eq!(emf[1]["Archived"], 0);
    assert!(emf[1].get("cold_start_ms").is_none());

    // Lambda retries from there once the stream is back: nothing lost, nothing twice.
    rt.block_on(moto::create_delivery_stream(&sdk, FIREHOSE, ARCHIVE_BUCKET));
    let response = lambda.invoke(&late_event);
    assert_eq!(
        crate::common::batch_item_failures(&response),
        Vec::<String>::new(),
        "{response}"
    );
    let lines = archive_lines(&rt.block_on(moto::objects(&s3, ARCHIVE_BUCKET, "")));
    let late_docs = expected_documents(&late);
    for doc in &late_docs {
        assert_eq!(
            lines.iter().filter(|l| *l == doc).count(),
            1,
            "archived once: {doc}"
        );
    }
    // Indexed once too: the retried batch's `create`s answer 409 for what is there.
    let indexed_after = rt.block_on(async {
        os.refresh().await;
        os.count("csoc-logs-*", None).await
    });
    assert_eq!(indexed_after, indexed + late_docs.len() as u64);

    // 3. An event that is not understood as a whole is kept too.
    let response = lambda.invoke(br#"{"hello":"world"}"#);
    assert!(response["error"].as_str().is_some(), "{response}");
    let event_letters = rt.block_on(moto::objects(&s3, DEAD_LETTER_BUCKET, "dead-letter/event/"));
    assert_eq!(event_letters.len(), 1);

    // 4. Audit records through the function URL (the emulator builds the function URL
    // event, base64-encoding the gzip'd body): indexed, archived, bad bodies kept.
    let (status, head, body) = lambda.function_url(
        "POST",
        "/fence-node-1",
        &[("content-type", "application/json")],
        &audit_body(2),
    );
    assert_eq!(
        status,
        201,
        "{}\n{}",
        String::from_utf8_lossy(&body),
        lambda.logs()
    );
    assert!(head.contains("content-type: application/json"), "{head}");
    let answer: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        answer,
        json!({"commons": COMMONS, "messageType": "echo.text", "node": "fence-node-1", "recordsProcessed": 2})
    );
    let (status, _, body) = lambda.function_url(
        "POST",
        "/fence-node-2",
        // The emulator reads an `application/json` body as text and answers 500 to gzip
        // bytes; as octet-stream it passes them base64-encoded, as function URLs do.
        &[
            ("content-type", "application/octet-stream"),
            ("content-encoding", "gzip"),
        ],
        &gzip(&audit_body(3)),
    );
    assert_eq!(
        status,
        201,
        "{}\n{}",
        String::from_utf8_lossy(&body),
        lambda.logs()
    );
    let lines = archive_lines(&rt.block_on(moto::objects(&s3, ARCHIVE_BUCKET, "")));
    let audit_docs: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|d| d.get("trackingId").is_some())
        .collect();
    assert_eq!(audit_docs.len(), 5, "{audit_docs:?}");
    assert!(audit_docs.iter().all(|d| d["sourceIp"] == "127.0.0.1"));
    let indexed_audit = rt.block_on(async {
        os.refresh().await;
        os.count(
            "csoc-logs-*",
            Some(json!({"terms": {"node": ["fence-node-1", "fence-node-2"]}})),
        )
        .await
    });
    assert_eq!(indexed_audit, 5);
    let (status, _, body) = lambda.function_url(
        "POST",
        "/fence-node-1",
        &[("content-type", "application/json")],
        br#"{"messageType": "echo.text", "auditRecords": [{"trackingId": 7}]}"#,
    );
    assert_eq!(status, 400);
    let error: Value = serde_json::from_slice(&body).expect("json");
    assert!(
        error["error"]
            .as_str()
            .expect("error")
            .starts_with("auditRecords[0].trackingId: invalid type: integer `7`"),
        "{error}"
    );
    let (status, head, _) = lambda.function_url("GET", "/fence-node-1", &[], b"");
    assert_eq!(status, 405);
    assert!(head.contains("allow: post"), "{head}");
    let node_letters = rt.block_on(moto::objects(
        &s3,
        DEAD_LETTER_BUCKET,
        "dead-letter/fence-node-1/",
    ));
    assert_eq!(node_letters.len(), 1, "the bad body is kept under its node");

    // Logs are JSON, and no secret is in them.
    let log = lambda.function_log();
    assert!(!log.contains(SECRET_KEY) && !log.contains(SECRET_VALUE));
    for line in log.lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    assert!(
        lambda.function_exit().is_none(),
        "the function keeps serving"
    );
}

#[test]
fn a_bad_configuration_fails_the_cold_start_with_the_variable_named() {
    let moto = Moto::start();
    let mut env = moto.env();
    env.push(("COMMON_NAME".to_owned(), "e2e".to_owned()));
    // DEAD_LETTER_BUCKET unset.
    let mut lambda = LambdaEmulator::start(&env);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = lambda.function_exit() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the function did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    assert!(
        lambda
            .function_log()
            .contains("DEAD_LETTER_BUCKET must be set"),
        "{}",
        lambda.function_log()
    );
}
