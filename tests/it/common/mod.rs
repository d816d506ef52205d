//! Shared test helpers: fixtures, event builders, a pipeline on temp-dir sinks, fakes.

pub mod lambda_emulator;
pub mod moto;
pub mod webhook;

use std::borrow::Cow;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use csoc_forwarder::decode::{Envelope, LogEvent};
use csoc_forwarder::document::{Document, DocumentBuilder, Limits};
use csoc_forwarder::event::{KinesisEvent, KinesisPayload, KinesisRecord};
use csoc_forwarder::invocation::Deadline;
use csoc_forwarder::invocation::Invocation;
use csoc_forwarder::pipeline::Pipeline;
use csoc_forwarder::report::Report;
use csoc_forwarder::sinks::{IndexSink, ItemOutcome, Sinks, local};
use tempfile::TempDir;

pub mod fault_server;
pub mod osmem;

/// Runs a command to its end; panics, with `what` and its stdout and stderr, unless it
/// succeeded. Returns its stdout.
pub fn stdout_of(command: &mut std::process::Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:999999999999:stream/test_stream";

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture")
}

/// Every `fixtures/kinesis-*.json`, sorted.
pub fn kinesis_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("kinesis-") && n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

pub fn received_at() -> DateTime<Utc> {
    "2026-01-02T03:04:05.678Z".parse().expect("time")
}

pub fn invocation() -> Invocation {
    Invocation {
        received_at: received_at(),
        deadline: Deadline::after(Duration::from_secs(300)),
        source: "test".to_owned(),
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A data envelope with `messages` as log events (ids 1.., timestamps from 2018-03-08).
pub fn envelope<'a>(log_group: &'a str, log_stream: &'a str, messages: &[&'a str]) -> Envelope<'a> {
    Envelope {
        message_type: Cow::Borrowed("DATA_MESSAGE"),
        owner: Cow::Borrowed("123456789012"),
        log_group: Cow::Borrowed(log_group),
        log_stream: Cow::Borrowed(log_stream),
        subscription_filters: vec![Cow::Borrowed("test-filter")],
        log_events: messages
            .iter()
            .enumerate()
            .map(|(i, m)| LogEvent {
                id: Cow::Owned(format!(
                    "3568926364839183747297373978172801970139024079824794{i:04}"
                )),
                timestamp: 1_520_520_148_130 + i as i64,
                message: Cow::Borrowed(m),
            })
            .collect(),
    }
}

/// A Kinesis event whose records carry `datas` (base64 text) in order.
pub fn kinesis_event(datas: &[String]) -> Vec<u8> {
    let event = KinesisEvent {
        records: datas
            .iter()
            .enumerate()
            .map(|(i, data)| KinesisRecord {
                event_id: format!("shardId-000000000000:4959{i:04}"),
                event_source_arn: STREAM_ARN.to_owned(),
                kinesis: KinesisPayload {
                    data: data.clone(),
                    sequence_number: format!("4959{i:04}"),
                    partition_key: "pk".to_owned(),
                    approximate_arrival_timestamp: None,
                },
            })
            .collect(),
    };
    serde_json::to_vec(&event).expect("event")
}

pub fn builder() -> DocumentBuilder {
    DocumentBuilder::new("testcommons", "csoc-logs", Limits::default())
}

/// An audit-records post read as the endpoint reads it, and the document of each of its
/// records, built as the endpoint builds them.
pub fn audit_documents(
    req: &aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest,
) -> (csoc_forwarder::audit::AuditRequest, Vec<Document>) {
    use csoc_forwarder::audit;
    let request = audit::read(req, 1 << 20).expect("a valid post is read");
    let docs = request
        .post
        .audit_records
        .iter()
        .map(|record| {
            audit::audit_document(
                &builder(),
                &request.node,
                &request.post.message_type,
                &audit::Caller::of(req),
                record,
            )
            .expect("document")
        })
        .collect();
    (request, docs)
}

/// The documents of the fixture audit-records post (`function-url-audit.json`).
pub fn fixture_audit_documents() -> (csoc_forwarder::audit::AuditRequest, Vec<Document>) {
    let req = serde_json::from_slice(&fixture("function-url-audit.json")).expect("request");
    audit_documents(&req)
}

/// Builds the documents of every log event in a fixture as the pipeline does (messages
/// scrubbed of credentials, then built), without the sinks.
pub fn fixture_documents(name: &str) -> Vec<Document> {
    let event: KinesisEvent = serde_json::from_slice(&fixture(name)).expect("kinesis fixture");
    let mut decoder = csoc_forwarder::decode::Decoder::new(1 << 20);
    let scrubber = csoc_forwarder::scrub::Scrubber::built_in();
    let mut redactions = csoc_forwarder::scrub::Redactions::new();
    let mut docs = Vec::new();
    for record in &event.records {
        let env = decoder
            .decode(&record.kinesis.data)
            .expect("fixture decodes");
        if env.is_control_message() {
            continue;
        }
        let builder = builder();
        let documents = builder.envelope(&env);
        for ev in &env.log_events {
            let ev = scrubber.scrub_event(ev, &mut redactions);
            docs.push(documents.build(&ev).expect("document"));
        }
    }
    docs
}

/// A pipeline on the local sinks in a fresh temp dir.
pub fn local_pipeline() -> (Pipeline, TempDir) {
    let dir = TempDir::new().expect("tempdir");
    let sinks = local::sinks(dir.path(), "test_firehose");
    (pipeline_with(sinks), dir)
}

pub fn pipeline_with(sinks: Sinks) -> Pipeline {
    Pipeline::new(1 << 20, builder(), sinks)
}

/// A current-thread Tokio runtime with I/O and timers, for a test's async steps.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The sequence numbers in a Kinesis response's `batchItemFailures`.
pub fn batch_item_failures(response: &serde_json::Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("not a Kinesis response: {response}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("identifier").to_owned())
        .collect()
}

pub fn run(pipeline: &Pipeline, event: &[u8]) -> Report {
    runtime().block_on(pipeline.handle(event, &invocation()))
}

/// Files under `dir/sub`, sorted by name.
pub fn files(dir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir.join(sub)) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    };
    out.retain(|p| p.is_file());
    out.sort();
    out
}

/// Parsed dead letters under `dir/dead-letter`.
pub fn dead_letters(dir: &Path) -> Vec<(String, serde_json::Value)> {
    files(dir, "dead-letter")
        .into_iter()
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            let value = serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("json");
            (name, value)
        })
        .collect()
}

/// An index sink that answers each document from a rule on its id, and records calls.
pub struct ScriptedIndex {
    pub rule: Box<dyn Fn(&Document) -> ItemOutcome + Send + Sync>,
    pub seen: Mutex<Vec<String>>,
}

impl ScriptedIndex {
    pub fn new(rule: impl Fn(&Document) -> ItemOutcome + Send + Sync + 'static) -> Self {
        Self {
            rule: Box::new(rule),
            seen: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl IndexSink for ScriptedIndex {
    async fn index(&self, docs: &[Document], _deadline: Deadline) -> Vec<ItemOutcome> {
        let mut seen = self.seen.lock().expect("lock");
        docs.iter()
            .map(|d| {
                seen.push(d.id.clone());
                (self.rule)(d)
            })
            .collect()
    }
}

/// Local sinks in `dir`, but with `index` in place of the local index.
pub fn sinks_with_index(dir: &Path, index: impl IndexSink + 'static) -> Sinks {
    let mut sinks = local::sinks(dir, "test_firehose");
    sinks.index = Box::new(index);
    sinks
}

/// How an audit-records body travels in a function URL event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditBody {
    /// JSON text, as function URLs deliver text bodies.
    Plain,
    /// JSON text, base64-encoded by the function URL.
    Base64,
    /// gzip'd JSON with `Content-Encoding: gzip`, base64-encoded by the function URL.
    Gzip,
}

/// The fixture's function URL event, re-aimed at `method path` and carrying `body`
/// (none when `None`) the way `how` says.
pub fn function_url_event(
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    how: AuditBody,
) -> Vec<u8> {
    let mut ev: serde_json::Value =
        serde_json::from_slice(&fixture("function-url-audit.json")).expect("fixture");
    ev["rawPath"] = path.into();
    ev["requestContext"]["http"]["path"] = path.into();
    ev["requestContext"]["http"]["method"] = method.into();
    match (body, how) {
        (None, _) => {
            ev.as_object_mut().expect("object").remove("body");
            ev["isBase64Encoded"] = false.into();
        }
        (Some(b), AuditBody::Plain) => {
            ev["body"] = String::from_utf8(b.to_vec()).expect("text body").into();
            ev["isBase64Encoded"] = false.into();
        }
        (Some(b), AuditBody::Base64) => {
            ev["body"] = b64(b).into();
            ev["isBase64Encoded"] = true.into();
        }
        (Some(b), AuditBody::Gzip) => {
            ev["body"] = b64(&gzip(b)).into();
            ev["isBase64Encoded"] = true.into();
            ev["headers"]["content-encoding"] = "gzip".into();
        }
    }
    serde_json::to_vec(&ev).expect("event")
}

/// An audit-records body with `n` records (`trackingId`s `t-0`, `t-1`, …).
pub fn audit_body(n: usize) -> Vec<u8> {
    let records: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "attributes": {"action": "download", "n": i},
                "datetime": "2026-11-22T08:15:30Z",
                "trackingId": format!("t-{i}"),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"messageType": "echo.text", "auditRecords": records}))
        .expect("body")
}

/// The status, JSON body and headers of a function URL response.
pub fn url_response(report: &Report) -> (u16, serde_json::Value, serde_json::Value) {
    let r = &report.response;
    let status = r["statusCode"].as_u64().expect("statusCode") as u16;
    let body = serde_json::from_str(r["body"].as_str().expect("body")).expect("JSON body");
    (status, body, r["headers"].clone())
}

/// The configuration `Config::from_lookup` reads from `pairs` alone (no environment).
pub fn config_from(
    pairs: &[(&str, &str)],
) -> Result<csoc_forwarder::config::Config, csoc_forwarder::config::ConfigError> {
    let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
    csoc_forwarder::config::Config::from_lookup(|k| map.get(k).map(|v| (*v).to_owned()))
}
