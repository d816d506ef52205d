//! `csoc-forwarder replay` and S3 Batch Operations: dead letters and the archive back
//! into the sinks that missed them, on real parts (moto S3 + Firehose, osmem-server,
//! the fault-injecting server, cargo-lambda's runtime emulator).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_s3::primitives::ByteStream;
use csoc_forwarder::config;
use csoc_forwarder::dead_letter::DeadLetter;
use csoc_forwarder::document::Document;
use csoc_forwarder::replay::source::{LocalStore, Location};
use csoc_forwarder::replay::{Options, Replayer, Summary};
use csoc_forwarder::sinks::firehose::archive;
use csoc_forwarder::sinks::opensearch::OpenSearchIndex;
use serde_json::{Value, json};

use crate::common::fault_server::{Action, FaultServer, ItemFault};
use crate::common::lambda_emulator::LambdaEmulator;
use crate::common::moto::{self, Moto};
use crate::common::osmem::{self, Osmem};
use crate::common::{
    envelope, fixture, fixture_documents, fixture_path, gzip, invocation, kinesis_event,
    kinesis_fixtures, local_pipeline, pipeline_with, received_at, sinks_with_index,
};
use crate::opensearch::config_for;

/// The summary line's keys, exactly.
const SUMMARY_KEYS: [&str; 8] = [
    "objects",
    "dead_letters",
    "documents",
    "indexed",
    "archived",
    "still_failing",
    "skipped",
    "retryable",
];

fn rt() -> tokio::runtime::Runtime {
    crate::common::runtime()
}

/// The binary with none of the caller's configuration, and `env`.
fn binary(args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"));
    for name in config::ENV_VARS.iter().map(|v| v.name) {
        cmd.env_remove(name);
    }
    cmd.env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run binary")
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// stderr, without terminal colour codes.
fn stderr(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ … final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The one summary line on stdout, with exactly the summary keys.
fn summary(out: &Output) -> Summary {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one summary line: {stdout}\n{}",
        stderr(out)
    );
    let value: Value = serde_json::from_str(lines[0]).expect("summary is JSON");
    let keys: BTreeSet<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, SUMMARY_KEYS.into_iter().collect::<BTreeSet<_>>());
    serde_json::from_value(value).expect("summary")
}

/// Every `_id` in the cluster's `csoc-logs-*` indices.
async fn ids(os: &Osmem) -> BTreeSet<String> {
    os.refresh().await;
    let v = osmem::request(
        &os.client(),
        opensearch::http::Method::Post,
        "csoc-logs-*/_search",
        Some(json!({"query": {"match_all": {}}, "size": 10000})),
    )
    .await;
    v["hits"]["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {v}"))
        .iter()
        .map(|h| h["_id"].as_str().expect("_id").to_owned())
        .collect()
}

/// Files under `dir` (recursively), relative paths, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// An archive object's bytes for `docs`: NDJSON records as Firehose writes them.
fn archive_object(docs: &[Document]) -> Vec<u8> {
    let mut out = Vec::new();
    for doc in docs {
        out.extend(archive::record(doc).bytes);
    }
    out
}

/// A dead letter of a Kinesis record carrying `messages` (a good record now).
fn kinesis_letter(stream: &str, messages: &[&str], event_id: &str) -> DeadLetter {
    let data = csoc_forwarder::decode::encode(&envelope("/replay/group", stream, messages));
    DeadLetter::from_base64(
        "kinesis-test_stream",
        "refused by an older release",
        received_at(),
        data,
        Some(event_id),
    )
}

#[test]
fn the_archive_rebuilds_an_empty_cluster_with_the_same_ids_and_a_second_replay_changes_nothing() {
    let rt = rt();
    let moto = Moto::start();
    let sdk = rt.block_on(moto.sdk_config());
    let s3 = moto::s3(&sdk);
    rt.block_on(async {
        for bucket in ["archive", "archive-gz"] {
            s3.create_bucket()
                .bucket(bucket)
                .send()
                .await
                .expect("bucket");
        }
        moto::create_delivery_stream(&sdk, "replay_firehose", "archive").await;
    });
    let out = tempfile::TempDir::new().expect("out");
    let base = |os: &Osmem| {
        let mut env = moto.env();
        env.extend(pairs(&[
            ("OPENSEARCH_URL", &os.url),
            ("OPENSEARCH_AUTH", "none"),
            ("ARCHIVE_SINK", "firehose"),
            ("FIREHOSE_STREAM", "replay_firehose"),
            ("COMMON_NAME", "replaytest"),
            ("OUT_DIR", &out.path().display().to_string()),
        ]));
        env
    };

    // The original indexing: every fixture through `process`, into cluster 1 and the archive.
    let first = Osmem::start();
    let files: Vec<String> = kinesis_fixtures()
        .iter()
        .map(|f| fixture_path(f).display().to_string())
        .collect();
    let mut args = vec!["process"];
    args.extend(files.iter().map(String::as_str));
    let processed = binary(&args, &base(&first));
    assert_eq!(processed.status.code(), Some(0), "{}", stderr(&processed));
    let original = rt.block_on(ids(&first));
    assert!(original.len() >= 10, "{}", original.len());

    // Every archived line carries the id it was indexed under (fixtures repeat some log
    // events: the archive may hold a document more than once, the index never).
    let archived = rt.block_on(moto::objects(&s3, "archive", ""));
    let mut lines = 0;
    let mut archived_ids = BTreeSet::new();
    for (key, body) in &archived {
        for line in String::from_utf8(body.clone()).expect("utf-8").lines() {
            let (id, _) =
                archive::split_id(line).unwrap_or_else(|| panic!("{key}: no _id: {line}"));
            archived_ids.insert(id);
            lines += 1;
        }
    }
    assert_eq!(archived_ids, original);
    // A gzip'd copy of one archive object (Firehose's GZIP compression) elsewhere.
    let (_, first_object) = &archived[0];
    let gz_lines = first_object.iter().filter(|b| **b == b'\n').count();
    rt.block_on(async {
        s3.put_object()
            .bucket("archive-gz")
            .key("logs/replaytest/2018/03/08/replay_firehose-1.gz")
            .body(ByteStream::from(gzip(first_object)))
            .send()
            .await
            .expect("put gz");
    });

    // Replay the archive into an empty cluster: the same documents under the same ids.
    let second = Osmem::start();
    let replay_args = [
        "replay",
        "--concurrency",
        "3",
        "s3://archive/",
        "s3://archive-gz/logs/",
    ];
    let replayed = binary(&replay_args, &base(&second));
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    let expected = Summary {
        objects: archived.len() + 1,
        dead_letters: 0,
        documents: lines + gz_lines,
        indexed: lines + gz_lines,
        archived: 0,
        still_failing: 0,
        skipped: 0,
        retryable: 0,
    };
    assert_eq!(summary(&replayed), expected, "{}", stderr(&replayed));
    assert_eq!(rt.block_on(ids(&second)), original);
    let count = |os: &Osmem| rt.block_on(async { os.count("csoc-logs-*", None).await });
    assert_eq!(count(&second), count(&first));

    // Again: the same counts, nothing new in the cluster or the archive bucket.
    let again = binary(&replay_args, &base(&second));
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(summary(&again), expected);
    assert_eq!(rt.block_on(ids(&second)), original);
    assert_eq!(count(&second), original.len() as u64);
    let keys =
        |objects: &[(String, Vec<u8>)]| objects.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(
        keys(&rt.block_on(moto::objects(&s3, "archive", ""))),
        keys(&archived),
        "archive objects are never re-archived"
    );
}

#[test]
fn a_record_dead_lettered_as_too_large_is_indexed_once_the_cap_is_raised() {
    let os = Osmem::start();
    let out = tempfile::TempDir::new().expect("out");
    let messages: Vec<String> = (0..20)
        .map(|i| format!("GET /data/{i} {} 200", "x".repeat(200)))
        .collect();
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let big = csoc_forwarder::decode::encode(&envelope("/replay/big", "web", &refs));
    let event = kinesis_event(&[big, "!!! not base64 !!!".to_owned()]);
    let event_file = out.path().join("event.json");
    std::fs::write(&event_file, &event).expect("event file");
    let sinks = out.path().join("sinks");
    let env = |cap: Option<&str>| {
        let mut env = pairs(&[
            ("OPENSEARCH_URL", &os.url),
            ("OPENSEARCH_AUTH", "none"),
            ("OUT_DIR", &sinks.display().to_string()),
        ]);
        if let Some(cap) = cap {
            env.push(("MAX_DECOMPRESSED_BYTES".to_owned(), cap.to_owned()));
        }
        env
    };
    let processed = binary(
        &["process", &event_file.display().to_string()],
        &env(Some("2000")),
    );
    assert_eq!(processed.status.code(), Some(0), "{}", stderr(&processed));
    let letters_dir = sinks.join("dead-letter");
    let before = tree(&letters_dir);
    assert_eq!(before.len(), 2, "{before:?}");
    let bad_name = before
        .iter()
        .find(|name| {
            let letter: Value =
                serde_json::from_slice(&std::fs::read(letters_dir.join(name)).expect("read"))
                    .expect("json");
            letter["raw"] == "!!! not base64 !!!"
        })
        .expect("the bad record's letter")
        .clone();
    let bad_bytes = std::fs::read(letters_dir.join(&bad_name)).expect("read");

    let location = letters_dir.display().to_string();
    let replayed = binary(&["replay", &location], &env(None));
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    let s = summary(&replayed);
    assert_eq!(
        s,
        Summary {
            objects: 2,
            dead_letters: 2,
            documents: 20,
            indexed: 20,
            archived: 20,
            still_failing: 1,
            skipped: 0,
            retryable: 0,
        }
    );
    let count = || {
        rt().block_on(async {
            os.refresh().await;
            os.count("csoc-logs-*", None).await
        })
    };
    assert_eq!(count(), 20);
    // The replayed letter is marked done; the still-bad one stays, single and unchanged.
    let after = tree(&letters_dir);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.contains(&bad_name), "{after:?}");
    assert!(
        after.iter().any(|n| n.starts_with("replayed/")),
        "{after:?}"
    );
    assert_eq!(
        std::fs::read(letters_dir.join(&bad_name)).expect("read"),
        bad_bytes
    );

    // Again: only the still-bad letter is read; nothing changes.
    let again = binary(&["replay", &location], &env(None));
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        summary(&again),
        Summary {
            objects: 1,
            dead_letters: 1,
            still_failing: 1,
            ..Summary::default()
        }
    );
    assert_eq!(count(), 20);
    assert_eq!(tree(&letters_dir), after);
}

#[tokio::test]
async fn opensearch_dead_letters_are_indexed_once_the_fault_clears_and_go_nowhere_else() {
    let os = Osmem::start();
    let faulty = Arc::new(AtomicBool::new(true));
    let on = Arc::clone(&faulty);
    let fault: ItemFault = Arc::new(move |id: &str, _| {
        (on.load(Ordering::SeqCst) && id.as_bytes()[0].is_multiple_of(2)).then_some(422)
    });
    let server = FaultServer::proxy(&os.url, move |_| Action::Handle(Some(Arc::clone(&fault))));
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(
        &server.url,
        dir.path(),
        &[(config::OPENSEARCH_TEMPLATE, "false")],
    );
    let index = OpenSearchIndex::connect(config.opensearch.as_ref().expect("set"), "csoc-logs")
        .await
        .expect("client");
    let pipeline = pipeline_with(sinks_with_index(dir.path(), index));
    let report = pipeline
        .handle(&fixture("kinesis-mixed.json"), &invocation())
        .await;
    let refused = report.counts.dead_lettered;
    assert!(
        refused > 0 && refused < report.counts.documents,
        "{report:?}"
    );
    assert_eq!(report.counts.indexed + refused, report.counts.documents);
    let letters = crate::common::dead_letters(dir.path());
    assert!(letters.iter().all(|(_, l)| l["source"] == "opensearch"));
    let archive_before = tree(&dir.path().join("firehose"));

    // While the fault lasts the letters stay where they are, counted as still failing.
    let location = || Location {
        store: Box::new(LocalStore::new(dir.path().join("dead-letter"))),
        prefix: String::new(),
        single: false,
    };
    let replayer = Replayer::new(pipeline.replay_targets(), Options::default());
    let during = replayer.run(&[location()]).await;
    assert_eq!(during.still_failing, refused, "{during:?}");
    assert_eq!(
        crate::common::dead_letters(dir.path()).len(),
        refused,
        "not written again"
    );

    faulty.store(false, Ordering::SeqCst);
    let after = replayer.run(&[location()]).await;
    assert_eq!(
        after,
        Summary {
            objects: refused,
            dead_letters: refused,
            documents: refused,
            indexed: refused,
            ..Summary::default()
        }
    );
    os.refresh().await;
    assert_eq!(
        os.count("csoc-logs-*", None).await,
        report.counts.documents as u64
    );
    assert!(crate::common::dead_letters(dir.path()).is_empty());
    assert_eq!(
        tree(&dir.path().join("dead-letter/replayed")).len(),
        refused
    );
    assert_eq!(
        tree(&dir.path().join("firehose")),
        archive_before,
        "the index only"
    );

    let again = replayer.run(&[location()]).await;
    assert_eq!(again, Summary::default(), "nothing left to replay");
}

#[test]
fn s3_batch_operations_events_of_both_schemas_are_answered_per_task() {
    let rt = rt();
    let moto = Moto::start();
    let os = Osmem::start();
    let sdk = rt.block_on(moto.sdk_config());
    let s3 = moto::s3(&sdk);
    let syslog = fixture_documents("kinesis-syslog.json");
    let letter = kinesis_letter("web", &["one", "two", "three"], "shardId-000000000000:7");
    let bad = DeadLetter::from_base64(
        "kinesis-test_stream",
        "not base64",
        received_at(),
        "!!! not base64 !!!".to_owned(),
        Some("shardId-000000000000:8"),
    );
    let letter_key = csoc_forwarder::sinks::s3_dead_letter::object_key(&letter);
    let bad_key = csoc_forwarder::sinks::s3_dead_letter::object_key(&bad);
    rt.block_on(async {
        for bucket in ["batch-archive", "batch-firehose"] {
            s3.create_bucket()
                .bucket(bucket)
                .send()
                .await
                .expect("bucket");
        }
        moto::create_delivery_stream(&sdk, "batch_firehose", "batch-firehose").await;
        let put = |key: String, body: Vec<u8>| {
            s3.put_object()
                .bucket("batch-archive")
                .key(key)
                .body(ByteStream::from(body))
                .send()
        };
        put(
            "logs/c/2026/01/02/03/a.ndjson".into(),
            archive_object(&syslog),
        )
        .await
        .expect("put");
        put(
            "logs/c/2026/01/02/03/b.gz".into(),
            gzip(&archive_object(&syslog)),
        )
        .await
        .expect("put");
        put(
            letter_key.clone(),
            serde_json::to_vec(&letter).expect("json"),
        )
        .await
        .expect("put");
        put(bad_key.clone(), serde_json::to_vec(&bad).expect("json"))
            .await
            .expect("put");
        put("notes/readme.txt".into(), b"not a dead letter".to_vec())
            .await
            .expect("put");
    });

    let mut env = moto.env();
    env.extend(pairs(&[
        ("OPENSEARCH_URL", &os.url),
        ("OPENSEARCH_AUTH", "none"),
        ("DEAD_LETTER_BUCKET", "batch-archive"),
        ("FIREHOSE_STREAM", "batch_firehose"),
        ("COMMON_NAME", "batch"),
        ("RUST_LOG", "info"),
    ]));
    let mut lambda = LambdaEmulator::start(&env);

    let task = |id: &str, key: &str| json!({"taskId": id, "s3Key": key, "s3VersionId": null, "s3BucketArn": "arn:aws:s3:::batch-archive"});
    let v1 = json!({
        "invocationSchemaVersion": "1.0",
        "invocationId": "inv-1",
        "job": {"id": "job-1"},
        "tasks": [
            task("t-archive", "logs/c/2026/01/02/03/a.ndjson"),
            task("t-letter", &letter_key),
            task("t-bad", &bad_key),
            task("t-notes", "notes/readme.txt"),
            task("t-missing", "logs/c/2026/01/02/03/missing.gz"),
        ],
    });
    let answer = lambda.invoke(&serde_json::to_vec(&v1).expect("event"));
    assert_eq!(answer["invocationSchemaVersion"], "1.0", "{answer}");
    assert_eq!(answer["invocationId"], "inv-1");
    assert_eq!(answer["treatMissingKeysAs"], "PermanentFailure");
    let codes = |answer: &Value| -> Vec<(String, String)> {
        answer["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no results in {answer}"))
            .iter()
            .map(|r| {
                assert!(r["resultString"].is_string(), "{r}");
                (
                    r["taskId"].as_str().expect("id").to_owned(),
                    r["resultCode"].as_str().expect("code").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        codes(&answer),
        [
            ("t-archive", "Succeeded"),
            ("t-letter", "Succeeded"),
            ("t-bad", "PermanentFailure"),
            ("t-notes", "PermanentFailure"),
            ("t-missing", "PermanentFailure"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned())),
        "{answer}\n{}",
        lambda.logs()
    );
    assert!(
        answer["results"][2]["resultString"]
            .as_str()
            .expect("reason")
            .contains("base64"),
        "{answer}"
    );
    let indexed = || {
        rt.block_on(async {
            os.refresh().await;
            os.count("csoc-logs-*", None).await
        })
    };
    assert_eq!(indexed(), syslog.len() as u64 + 3);
    // The replayed letter moved under replayed/, the bad one stays where it was.
    let keys: BTreeSet<String> = rt
        .block_on(moto::objects(&s3, "batch-archive", ""))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(keys.contains(&format!("replayed/{letter_key}")), "{keys:?}");
    assert!(!keys.contains(&letter_key), "{keys:?}");
    assert!(keys.contains(&bad_key), "{keys:?}");
    // The letter's documents were archived (the whole pipeline), the archive object's not.
    let archived_lines: usize = rt
        .block_on(moto::objects(&s3, "batch-firehose", ""))
        .iter()
        .map(|(_, b)| b.iter().filter(|c| **c == b'\n').count())
        .sum();
    assert_eq!(archived_lines, 3);

    // Schema 2.0 (bucket by name, user arguments): the gzip'd copy and the first object
    // again change nothing.
    let v2 = json!({
        "invocationSchemaVersion": "2.0",
        "invocationId": "inv-2",
        "job": {"id": "job-2", "userArguments": {"alerts": "false"}},
        "tasks": [
            {"taskId": "t-gz", "s3Key": "logs/c/2026/01/02/03/b.gz", "s3VersionId": null, "s3Bucket": "batch-archive"},
            {"taskId": "t-again", "s3Key": "logs/c/2026/01/02/03/a.ndjson", "s3VersionId": null, "s3Bucket": "batch-archive"},
        ],
    });
    let answer = lambda.invoke(&serde_json::to_vec(&v2).expect("event"));
    assert_eq!(answer["invocationSchemaVersion"], "2.0", "{answer}");
    assert_eq!(
        codes(&answer),
        [("t-gz", "Succeeded"), ("t-again", "Succeeded")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(indexed(), syslog.len() as u64 + 3);
    let emf = lambda.emf_lines();
    assert_eq!(emf.len(), 2, "one EMF line per invocation");
}

#[test]
fn process_accepts_an_s3_batch_operations_event_file() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    // A task whose bucket cannot be named is answered without reaching S3.
    let event = json!({
        "invocationSchemaVersion": "1.0", "invocationId": "inv", "job": {"id": "j"},
        "tasks": [{"taskId": "t", "s3Key": "k", "s3VersionId": null, "s3BucketArn": "not-an-arn"}],
    });
    let file = dir.path().join("batch.json");
    std::fs::write(&file, serde_json::to_vec(&event).expect("json")).expect("write");
    let out = binary(
        &["process", &file.display().to_string()],
        &pairs(&[
            ("OUT_DIR", &dir.path().join("out").display().to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_REGION", "us-east-1"),
        ]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(line["kind"], "s3_batch");
    assert_eq!(
        line["response"]["results"][0]["resultCode"],
        "PermanentFailure"
    );
    assert!(
        crate::common::files(&dir.path().join("out"), "dead-letter").is_empty(),
        "not a dead letter"
    );
}

/// A directory of many objects: dead letters (pretty, as the local sink writes them),
/// archive objects, and one file that is neither.
fn many_objects(dir: &Path, letters: usize, archives: usize) -> usize {
    let mut documents = 0;
    for i in 0..letters {
        let letter = kinesis_letter(
            &format!("s{i}"),
            &["a", "b"],
            &format!("shardId-000000000000:{i}"),
        );
        std::fs::write(
            dir.join(letter.file_name()),
            serde_json::to_vec_pretty(&letter).expect("json"),
        )
        .expect("write");
        documents += 2;
    }
    let docs = fixture_documents("kinesis-syslog.json");
    let sub = dir.join("firehose/2018/03/08/14");
    std::fs::create_dir_all(&sub).expect("mkdir");
    for i in 0..archives {
        std::fs::write(sub.join(format!("part-{i:03}")), archive_object(&docs)).expect("write");
        documents += docs.len();
    }
    std::fs::write(dir.join("README.txt"), b"notes").expect("write");
    documents
}

#[test]
fn dry_run_on_a_directory_of_many_objects_reports_progress_and_one_summary() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let objects = dir.path().join("objects");
    std::fs::create_dir_all(&objects).expect("mkdir");
    let documents = many_objects(&objects, 240, 10);
    let before = tree(&objects);
    let out_dir = dir.path().join("out").display().to_string();
    let env = pairs(&[("OUT_DIR", &out_dir)]);
    let location = objects.display().to_string();

    let out = binary(
        &["replay", "--dry-run", "--progress-every", "100", &location],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        summary(&out),
        Summary {
            objects: 251,
            dead_letters: 240,
            documents,
            skipped: 1,
            ..Summary::default()
        }
    );
    let err = stderr(&out);
    let progress: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("replay progress"))
        .collect();
    assert_eq!(progress.len(), 2, "{err}");
    assert!(progress[0].contains("objects=100"), "{err}");
    // `done_through` is a key, as `--resume-after` takes it: every key up to it is done.
    let through = progress[0]
        .split("done_through=")
        .nth(1)
        .expect("done_through")
        .trim()
        .trim_matches('"')
        .to_owned();
    let at = before.iter().position(|k| *k == through);
    // At most `--concurrency` (4) keys are in flight past it.
    assert!(
        at.is_some_and(|i| (95..100).contains(&i)),
        "{through}: {err}"
    );
    assert!(progress[1].contains("objects=200"), "{err}");
    assert_eq!(tree(&objects), before, "a dry run moves nothing");
    assert!(!Path::new(&out_dir).exists(), "a dry run writes nothing");

    // --limit, and --resume-after from where a limited run stopped.
    let limited = binary(&["replay", "--dry-run", "--limit", "100", &location], &env);
    assert_eq!(summary(&limited).objects, 100);
    let keys = &before[..];
    let resumed = binary(
        &[
            "replay",
            "--dry-run",
            "--resume-after",
            &keys[99],
            &location,
        ],
        &env,
    );
    assert_eq!(summary(&resumed).objects, 151, "{}", stderr(&resumed));

    // On a terminal: the progress bar (objects, rate, ETA with --limit) on stderr.
    let cmd = format!(
        "env -u AWS_LAMBDA_RUNTIME_API OUT_DIR={out_dir} {} replay --dry-run --limit 251 {location}",
        env!("CARGO_BIN_EXE_csoc-forwarder")
    );
    let tty = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script(1)");
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(screen.contains("251/251 objects"), "{screen}");
    assert!(screen.contains("ETA"), "{screen}");
    assert!(screen.contains(r#""objects":251"#), "{screen}");
}

#[tokio::test]
async fn selection_by_source_and_date_path_and_deleting_replayed_letters() {
    let (pipeline, out) = local_pipeline();
    let letters = tempfile::TempDir::new().expect("letters");
    let mut keys = Vec::new();
    for (day, source) in [
        ("2026-01-01", "kinesis-a"),
        ("2026-01-02", "kinesis-a"),
        ("2026-01-02", "kinesis-b"),
        ("2026-01-03", "kinesis-a"),
    ] {
        let at = format!("{day}T10:00:00.000Z").parse().expect("time");
        let message = format!("m {day}");
        let stream = format!("{source}-{day}");
        let data = csoc_forwarder::decode::encode(&envelope("/g", &stream, &[message.as_str()]));
        let letter =
            DeadLetter::from_base64(source, "old", at, data, Some(&format!("{source}-{day}")));
        let key = csoc_forwarder::sinks::s3_dead_letter::object_key(&letter);
        let path = letters.path().join(&key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, serde_json::to_vec(&letter).expect("json")).expect("write");
        keys.push(key);
    }
    let location = || Location {
        store: Box::new(LocalStore::new(letters.path())),
        prefix: "dead-letter/".to_owned(),
        single: false,
    };
    let day = |s: &str| csoc_forwarder::replay::parse_time(s).expect("time");
    let run = |options: Options| {
        let targets = pipeline.replay_targets();
        let loc = location();
        async move { Replayer::new(targets, options).run(&[loc]).await }
    };
    let s = run(Options {
        since: Some(day("2026-01-02")),
        until: Some(day("2026-01-03")),
        source: Some("kinesis-b".to_owned()),
        delete_replayed: true,
        ..Options::default()
    })
    .await;
    // Two keys are out of the date range (left unread), one letter is of another source.
    assert_eq!(
        s,
        Summary {
            objects: 2,
            dead_letters: 2,
            documents: 1,
            indexed: 1,
            archived: 1,
            skipped: 3,
            ..Summary::default()
        }
    );
    let left = tree(letters.path());
    assert_eq!(left.len(), 3, "deleted, not moved: {left:?}");
    assert!(!left.iter().any(|k| k.contains("kinesis-b")), "{left:?}");

    // Resume after the first key: the two later kinesis-a letters only.
    let s = run(Options {
        resume_after: Some(keys[0].clone()),
        ..Options::default()
    })
    .await;
    assert_eq!((s.objects, s.indexed), (2, 2), "{s:?}");
    assert_eq!(tree(letters.path()).len(), 3);
    assert_eq!(tree(&letters.path().join("replayed")).len(), 2);
    assert!(out.path().join("opensearch").is_dir());
}

#[tokio::test]
async fn a_replayed_record_whose_document_the_index_refuses_leaves_a_narrower_letter() {
    use csoc_forwarder::sinks::ItemOutcome;
    let dir = tempfile::TempDir::new().expect("tempdir");
    let index = crate::common::ScriptedIndex::new(|d: &Document| {
        if d.source.contains("refuse me") {
            ItemOutcome::Rejected {
                reason: "mapper_parsing_exception".to_owned(),
            }
        } else {
            ItemOutcome::Delivered
        }
    });
    let pipeline = pipeline_with(sinks_with_index(dir.path(), index));
    let letters = dir.path().join("letters");
    std::fs::create_dir_all(&letters).expect("mkdir");
    let letter = kinesis_letter("web", &["keep me", "refuse me"], "shardId-000000000000:1");
    std::fs::write(
        letters.join(letter.file_name()),
        serde_json::to_vec_pretty(&letter).expect("json"),
    )
    .expect("write");
    let location = Location {
        store: Box::new(LocalStore::new(&letters)),
        prefix: String::new(),
        single: false,
    };
    let s = Replayer::new(pipeline.replay_targets(), Options::default())
        .run(&[location])
        .await;
    assert_eq!(
        s,
        Summary {
            objects: 1,
            dead_letters: 1,
            documents: 2,
            indexed: 1,
            archived: 2,
            ..Summary::default()
        }
    );
    // The record's letter is done; the refused document has a letter of its own.
    assert_eq!(tree(&letters), [format!("replayed/{}", letter.file_name())]);
    let new = crate::common::dead_letters(dir.path());
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].1["source"], "opensearch");
    assert_eq!(new[0].1["error"], "mapper_parsing_exception");
}

#[test]
fn usage_errors_exit_2_and_retryable_failures_exit_3() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let env = pairs(&[("OUT_DIR", &dir.path().join("out").display().to_string())]);
    for args in [
        vec!["replay", "/no/such/dir"],
        vec!["replay", "--since", "yesterday", "."],
        vec![
            "replay",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
            ".",
        ],
        vec!["replay", "--concurrency", "0", "."],
        vec!["replay"],
    ] {
        let out = binary(&args, &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // An archive object whose documents the index cannot take yet (an index that does
    // not answer): left for retry, exit 3.
    let objects = dir.path().join("objects");
    std::fs::create_dir_all(&objects).expect("mkdir");
    std::fs::write(
        objects.join("part"),
        archive_object(&fixture_documents("kinesis-syslog.json")),
    )
    .expect("write");
    let mut env = env;
    env.extend(pairs(&[
        ("OPENSEARCH_URL", "http://127.0.0.1:9"),
        ("OPENSEARCH_AUTH", "none"),
        ("OPENSEARCH_TEMPLATE", "false"),
        ("OPENSEARCH_TIMEOUT", "1"),
    ]));
    let out = binary(
        &[
            "replay",
            "--object-timeout",
            "2",
            &objects.display().to_string(),
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let s = summary(&out);
    assert_eq!((s.objects, s.retryable, s.indexed), (1, 1, 0), "{s:?}");
}

#[tokio::test]
async fn a_whole_event_letter_runs_the_pipeline_again_with_alerts_only_when_asked() {
    // An event dead-lettered as a whole (e.g. by an older release that did not know its
    // shape): its records run through the whole pipeline again.
    let event = fixture("kinesis-mixed.json");
    let letter = DeadLetter::from_bytes(
        "file-mixed",
        "not understood then",
        received_at(),
        &event,
        None,
    );
    for alerts in [false, true] {
        let (pipeline, out) = local_pipeline();
        let letters = out.path().join("letters");
        std::fs::create_dir_all(&letters).expect("mkdir");
        std::fs::write(
            letters.join(letter.file_name()),
            serde_json::to_vec(&letter).expect("json"),
        )
        .expect("write");
        let location = Location {
            store: Box::new(LocalStore::new(&letters)),
            prefix: String::new(),
            single: false,
        };
        let options = Options {
            alerts,
            ..Options::default()
        };
        let s = Replayer::new(pipeline.replay_targets(), options)
            .run(&[location])
            .await;
        assert_eq!(
            (s.dead_letters, s.documents, s.indexed, s.archived),
            (1, 15, 15, 15),
            "{s:?}"
        );
        let slack = crate::common::files(out.path(), "slack").len();
        if alerts {
            assert!(slack > 0, "--alerts runs the alert rules");
        } else {
            assert_eq!(slack, 0, "alerts are off by default");
        }
    }
}
