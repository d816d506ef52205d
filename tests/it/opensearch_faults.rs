//! The OpenSearch sink under faults, through a fault-injecting HTTP server (standing
//! alone with an in-memory store, or in front of osmem-server): retries, 413 splits,
//! deadlines, gzip, and the final accounting.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use csoc_forwarder::config;
use csoc_forwarder::document::Document;
use csoc_forwarder::invocation::Deadline;
use csoc_forwarder::retry::Backoff;
use csoc_forwarder::sinks::opensearch::OpenSearchIndex;
use csoc_forwarder::sinks::{IndexSink, ItemOutcome};

use crate::common::fault_server::{Action, FaultServer, ItemFault, Seen};
use crate::common::osmem::Osmem;
use crate::common::{b64, builder, envelope, gzip, kinesis_event, pipeline_with, sinks_with_index};
use crate::opensearch::{config_for, invocation};

const FAST: Backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(200))
    .with_min_attempt(Duration::from_millis(20));

/// `n` distinct documents, 10 per log stream.
fn docs(n: usize) -> Vec<Document> {
    let messages: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"http_verb":"GET","n":{i}}}"#))
        .collect();
    let mut out = Vec::new();
    for (s, chunk) in messages.chunks(10).enumerate() {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let stream = format!("stream-{s}");
        let env = envelope("qaplanetv1", &stream, &refs);
        for ev in &env.log_events {
            out.push(builder().build(&env, ev).expect("doc"));
        }
    }
    out
}

async fn sink(url: &str, extra: &[(&str, &str)]) -> OpenSearchIndex {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let mut pairs = vec![(config::OPENSEARCH_TEMPLATE, "false")];
    pairs.extend_from_slice(extra);
    let config = config_for(url, dir.path(), &pairs);
    OpenSearchIndex::connect(config.opensearch.as_ref().expect("set"), "csoc-logs")
        .await
        .expect("client")
        .with_backoff(FAST)
}

fn count(outcomes: &[ItemOutcome], f: impl Fn(&ItemOutcome) -> bool) -> usize {
    outcomes.iter().filter(|o| f(o)).count()
}

fn delivered(o: &ItemOutcome) -> bool {
    *o == ItemOutcome::Delivered
}

/// Fails an id the first `times` times it is seen when `pick(id)`.
fn fail_first(
    times: u32,
    status: u16,
    pick: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> ItemFault {
    Arc::new(move |id: &str, seen: u32| (seen < times && pick(id)).then_some(status))
}

fn half(id: &str) -> bool {
    id.as_bytes()[0].is_multiple_of(2)
}

#[tokio::test]
async fn item_level_429s_are_retried_until_indexed_without_duplicates() {
    let server = FaultServer::memory(|_| Action::Handle(Some(fail_first(2, 429, half))));
    let docs = docs(40);
    let failing = docs.iter().filter(|d| half(&d.id)).count();
    assert!(failing > 0 && failing < docs.len());
    let out = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), docs.len(), "{out:?}");
    let bulks = server.bulk_requests();
    assert_eq!(bulks.len(), 3, "two retries of the failing items");
    assert_eq!(bulks[0].ids.len(), docs.len());
    assert_eq!(
        bulks[1].ids.len(),
        failing,
        "only the failed items are retried"
    );
    assert_eq!(bulks[2].ids.len(), failing);
    assert_eq!(server.stored(), docs.len());
    assert_eq!(server.max_creates_per_id(), 1);
}

#[tokio::test]
async fn server_errors_and_connection_resets_are_retried() {
    let server = FaultServer::memory(|seen: &Seen| match seen.n {
        0 => Action::Respond(500, r#"{"error":"boom"}"#.into()),
        1 => Action::Reset,
        2 => Action::Respond(503, String::new()),
        3 => Action::Respond(200, "<html>bad gateway</html>".into()),
        _ => Action::Handle(None),
    });
    let docs = docs(12);
    let out = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), docs.len(), "{out:?}");
    assert_eq!(server.bulk_requests().len(), 5);
    assert_eq!(server.stored(), docs.len());
}

#[tokio::test]
async fn a_413_splits_the_request_in_halves() {
    let server = FaultServer::memory(|seen: &Seen| {
        if seen.ids.len() > 3 {
            Action::Respond(413, String::new())
        } else {
            Action::Handle(None)
        }
    });
    let docs = docs(10);
    let out = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), docs.len(), "{out:?}");
    let sizes: Vec<usize> = server.bulk_requests().iter().map(|s| s.ids.len()).collect();
    // 10 → 5 + 5 → (2 + 3) + (2 + 3): halves, in order.
    assert_eq!(sizes, vec![10, 5, 2, 3, 5, 2, 3]);
    assert_eq!(server.stored(), docs.len());
}

#[tokio::test]
async fn a_document_too_large_even_alone_is_rejected_and_the_rest_indexed() {
    let docs = docs(6);
    let big = docs[4].id.clone();
    let server = FaultServer::memory(move |seen: &Seen| {
        if seen.ids.contains(&big) {
            Action::Respond(413, String::new())
        } else {
            Action::Handle(None)
        }
    });
    let out = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), 5, "{out:?}");
    assert!(matches!(&out[4], ItemOutcome::Rejected { reason } if reason.contains("413")));
}

#[tokio::test]
async fn requests_are_bounded_by_documents_and_bytes() {
    let server = FaultServer::memory(|_| Action::Handle(None));
    let docs = docs(25);
    let out = sink(&server.url, &[(config::OPENSEARCH_BULK_MAX_DOCS, "10")])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), 25);
    let sizes: Vec<usize> = server.bulk_requests().iter().map(|s| s.ids.len()).collect();
    assert_eq!(sizes, vec![10, 10, 5]);

    let server = FaultServer::memory(|_| Action::Handle(None));
    let max = 4096;
    let out = sink(&server.url, &[(config::OPENSEARCH_BULK_MAX_BYTES, "4096")])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), 25);
    let bulks = server.bulk_requests();
    assert!(bulks.len() > 1);
    assert!(bulks.iter().all(|s| s.bytes <= max), "{bulks:?}");
    let ids: HashSet<String> = bulks.iter().flat_map(|s| s.ids.clone()).collect();
    assert_eq!(ids.len(), 25);
}

#[tokio::test]
async fn gzip_request_bodies() {
    let server = FaultServer::memory(|_| Action::Handle(None));
    let docs = docs(30);
    let plain: usize = docs
        .iter()
        .map(csoc_forwarder::sinks::opensearch::bulk::encoded_len)
        .sum();
    let out = sink(&server.url, &[(config::OPENSEARCH_GZIP, "true")])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), 30);
    let bulks = server.bulk_requests();
    assert_eq!(bulks.len(), 1);
    assert!(bulks[0].gzip);
    assert!(bulks[0].bytes < plain / 3, "{} vs {plain}", bulks[0].bytes);
    assert_eq!(server.stored(), 30);
    // Compressed one item at a time: the same body as sent plain.
    let mut sent = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&bulks[0].body[..]),
        &mut sent,
    )
    .expect("one gzip member");
    assert_eq!(
        sent,
        csoc_forwarder::sinks::opensearch::bulk::encode_body(&docs)
    );
}

#[tokio::test]
async fn slow_answers_do_not_outlive_the_deadline() {
    let server = FaultServer::memory(|_| {
        Action::Slow(Duration::from_secs(30), Box::new(Action::Handle(None)))
    });
    let docs = docs(5);
    let budget = Duration::from_millis(1500);
    let started = Instant::now();
    let out = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(budget))
        .await;
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1000), "{elapsed:?}");
    assert!(elapsed < budget + Duration::from_millis(700), "{elapsed:?}");
    assert_eq!(
        count(&out, |o| matches!(o, ItemOutcome::Retryable { .. })),
        5,
        "{out:?}"
    );
}

#[tokio::test]
async fn a_cluster_failing_until_the_deadline_leaves_everything_for_retry() {
    let server = FaultServer::memory(|_| Action::Respond(503, r#"{"error":"unavailable"}"#.into()));
    let docs = docs(8);
    let budget = Duration::from_millis(1200);
    let started = Instant::now();
    let out = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(budget))
        .await;
    let elapsed = started.elapsed();
    assert!(elapsed < budget + Duration::from_millis(500), "{elapsed:?}");
    assert!(server.bulk_requests().len() >= 3, "retried with backoff");
    for o in &out {
        assert!(
            matches!(o, ItemOutcome::Retryable { reason } if reason.contains("503")),
            "{o:?}"
        );
    }
}

#[tokio::test]
async fn other_item_errors_are_rejected_for_good() {
    let server = FaultServer::memory(|_| Action::Handle(Some(fail_first(99, 422, |_| true))));
    let out = sink(&server.url, &[])
        .await
        .index(&docs(3), Deadline::after(Duration::from_secs(10)))
        .await;
    assert_eq!(server.bulk_requests().len(), 1, "not retried");
    assert!(
        out.iter()
            .all(|o| matches!(o, ItemOutcome::Rejected { reason } if reason.contains("422")))
    );
}

#[tokio::test]
async fn item_429s_in_front_of_osmem_end_indexed_once() {
    let os = Osmem::start();
    let server = FaultServer::proxy(&os.url, |_| Action::Handle(Some(fail_first(1, 429, half))));
    let docs = docs(30);
    let out = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&out, delivered), 30, "{out:?}");
    assert!(server.bulk_requests().len() >= 2);
    // Send them all again: 409s, still 30 documents.
    let again = sink(&server.url, &[])
        .await
        .index(&docs, Deadline::after(Duration::from_secs(20)))
        .await;
    assert_eq!(count(&again, delivered), 30);
    os.refresh().await;
    assert_eq!(os.count("csoc-logs-*", None).await, 30);
}

/// Through the whole pipeline: every document is indexed, safe-indexed, dead-lettered,
/// or in a record reported for retry.
#[tokio::test]
async fn the_final_accounting_holds() {
    // Four records of five events. By message:
    //   "ok"     indexed (after a 429 the first time for some)
    //   "bad"    400 the first time, its safe form indexed
    //   "worse"  400 every time, its safe form too: dead letter
    //   "stuck"  429 every time: its record is left for retry
    let records: [&[&str]; 4] = [
        &[
            r#"{"m":"ok"}"#,
            r#"{"m":"bad"}"#,
            r#"{"m":"ok2"}"#,
            r#"{"m":"ok3"}"#,
            r#"{"m":"worse"}"#,
        ],
        &[
            r#"{"m":"ok"}"#,
            r#"{"m":"ok2"}"#,
            r#"{"m":"ok3"}"#,
            r#"{"m":"ok4"}"#,
            r#"{"m":"ok5"}"#,
        ],
        &[
            r#"{"m":"ok"}"#,
            r#"{"m":"stuck"}"#,
            r#"{"m":"ok2"}"#,
            r#"{"m":"bad"}"#,
            r#"{"m":"ok3"}"#,
        ],
        &[
            r#"{"m":"ok"}"#,
            r#"{"m":"ok2"}"#,
            r#"{"m":"ok3"}"#,
            r#"{"m":"ok4"}"#,
            r#"{"m":"ok5"}"#,
        ],
    ];
    let mut datas = Vec::new();
    let mut all_docs: Vec<(usize, Document)> = Vec::new();
    for (r, messages) in records.iter().enumerate() {
        let stream = format!("stream-{r}");
        let env = envelope("qaplanetv1", &stream, messages);
        for ev in &env.log_events {
            all_docs.push((r, builder().build(&env, ev).expect("doc")));
        }
        datas.push(b64(&gzip(&serde_json::to_vec(&env).expect("json"))));
    }
    let kind = |id: &str| -> &'static str {
        let (_, doc) = all_docs.iter().find(|(_, d)| d.id == id).expect("known id");
        ["stuck", "worse", "bad"]
            .into_iter()
            .find(|k| doc.source.contains(&format!(r#""m":"{k}""#)))
            .unwrap_or("ok")
    };
    let kinds: std::collections::HashMap<String, &'static str> = all_docs
        .iter()
        .map(|(_, d)| (d.id.clone(), kind(&d.id)))
        .collect();
    let fault: ItemFault = Arc::new(move |id: &str, seen: u32| match kinds[id] {
        "stuck" => Some(429),
        "worse" => Some(400),
        "bad" if seen == 0 => Some(400),
        "ok" if seen == 0 && half(id) => Some(429),
        _ => None,
    });
    let server = FaultServer::memory(move |_| Action::Handle(Some(Arc::clone(&fault))));
    let dir = tempfile::TempDir::new().expect("tempdir");
    let index = sink(&server.url, &[]).await;
    let pipeline = pipeline_with(sinks_with_index(dir.path(), index));
    // The handler keeps 3 s of margin: the sink gets about 1.5 s.
    let started = Instant::now();
    let report = pipeline
        .handle(
            &kinesis_event(&datas),
            &invocation(Duration::from_millis(4500)),
        )
        .await;
    assert!(started.elapsed() < Duration::from_millis(4500));

    let c = &report.counts;
    assert_eq!(c.documents, 20);
    assert_eq!(c.safe_indexed, 2, "{report:?}");
    assert_eq!(c.indexed, 18, "{report:?}");
    assert_eq!(c.dead_lettered, 1, "{report:?}");
    // The stuck document is in record 2: records 2 and 3 are reported for retry.
    assert_eq!(c.retryable_failures, 2, "{report:?}");
    assert_eq!(
        report.response["batchItemFailures"][0]["itemIdentifier"],
        "49590002"
    );
    let letters = crate::common::dead_letters(dir.path());
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].1["source"], "opensearch");
    assert!(
        letters[0].1["error"]
            .as_str()
            .expect("error")
            .contains("safe form was refused too")
    );

    // Each document: in the store, dead-lettered, or in a record left for retry.
    let first_retry = 2;
    let lettered: HashSet<String> = letters
        .iter()
        .map(|(_, l)| l["event_id"].as_str().expect("id").to_owned())
        .collect();
    for (r, doc) in &all_docs {
        let stored = server.source(&doc.id).is_some();
        assert!(
            stored || lettered.contains(&doc.id) || *r >= first_retry,
            "document {} of record {r} is nowhere",
            doc.id
        );
    }
    assert_eq!(server.max_creates_per_id(), 1);
    let safe: Vec<_> = all_docs
        .iter()
        .filter_map(|(_, d)| server.source(&d.id))
        .filter(|s| s.get("ingest_error").is_some())
        .collect();
    assert_eq!(safe.len(), 2);
    assert!(safe.iter().all(|s| s["message"]["log"] == r#"{"m":"bad"}"#));
}

/// The retention policy: created when missing, updated (with the stored sequence
/// number) when its days differ, left alone when they match.
#[tokio::test]
async fn the_retention_policy_is_created_updated_or_left_alone() {
    let policy_path = "/_plugins/_ism/policies/csoc-logs-retention";
    let stored = |days: u32| {
        let mut p =
            csoc_forwarder::sinks::opensearch::template::retention_policy("csoc-logs", days);
        // What a cluster adds to what it stores.
        p["policy"]["states"][1]["actions"][0]["retry"] = serde_json::json!({"count": 3});
        p["policy"]["policy_id"] = serde_json::json!("csoc-logs-retention");
        p["_seq_no"] = serde_json::json!(7);
        p["_primary_term"] = serde_json::json!(2);
        p.to_string()
    };
    for (stored_days, expect_put) in [
        (None, Some(policy_path.to_owned())),
        (
            Some(30),
            Some(format!("{policy_path}?if_seq_no=7&if_primary_term=2")),
        ),
        (Some(90), None),
    ] {
        let answer = stored_days.map(stored);
        let server = FaultServer::memory(move |seen: &Seen| {
            if seen.method == "GET" && seen.path == policy_path {
                match &answer {
                    Some(body) => Action::Respond(200, body.clone()),
                    None => Action::Respond(
                        404,
                        r#"{"error":{"type":"status_exception","reason":"Policy not found"},"status":404}"#.into(),
                    ),
                }
            } else {
                Action::Respond(200, r#"{"acknowledged":true}"#.into())
            }
        });
        let dir = tempfile::TempDir::new().expect("tempdir");
        let config = config_for(&server.url, dir.path(), &[]);
        OpenSearchIndex::connect(config.opensearch.as_ref().expect("set"), "csoc-logs")
            .await
            .expect("client");
        let seen: Vec<(String, String)> = server
            .seen()
            .into_iter()
            .map(|s| (s.method, s.path))
            .collect();
        assert_eq!(
            seen[0],
            ("PUT".to_owned(), "/_index_template/csoc-logs".to_owned())
        );
        assert_eq!(seen[1], ("GET".to_owned(), policy_path.to_owned()));
        let puts: Vec<&String> = seen[2..]
            .iter()
            .filter(|(m, _)| m == "PUT")
            .map(|(_, p)| p)
            .collect();
        assert_eq!(
            puts,
            expect_put.iter().collect::<Vec<_>>(),
            "stored {stored_days:?}"
        );
    }
}
