//! The OpenSearch sink against osmem-server (a real in-memory OpenSearch-compatible
//! server): fixtures indexed and searchable, idempotent re-runs, the safe-form
//! fallback, the index template; and the `OPENSEARCH_*` configuration.

use std::collections::HashMap;
use std::time::Duration;

use csoc_forwarder::config::{self, Config};
use csoc_forwarder::invocation::Deadline;
use csoc_forwarder::invocation::Invocation;
use csoc_forwarder::report::Report;
use csoc_forwarder::sinks::opensearch::{Auth, BasicSource, OpenSearchConfig};
use opensearch::http::Method;
use serde_json::{Value, json};

use crate::common::osmem::{Osmem, request};
use crate::common::{b64, envelope, fixture, gzip, kinesis_event, received_at};

pub fn config_for(url: &str, out: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = HashMap::from([
        (config::OPENSEARCH_URL.to_owned(), url.to_owned()),
        (config::OUT_DIR.to_owned(), out.display().to_string()),
        (config::COMMON_NAME.to_owned(), "testcommons".to_owned()),
    ]);
    for (k, v) in extra {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    Config::from_lookup(|k| map.get(k).cloned()).expect("valid config")
}

pub fn invocation(time: Duration) -> Invocation {
    Invocation {
        received_at: received_at(),
        deadline: Deadline::after(time),
        source: "test".to_owned(),
    }
}

async fn handle(config: &Config, event: &[u8]) -> Report {
    let pipeline = csoc_forwarder::startup::pipeline(config)
        .await
        .expect("pipeline");
    pipeline
        .handle(event, &invocation(Duration::from_secs(60)))
        .await
}

#[tokio::test]
async fn every_fixture_document_is_indexed_and_searchable() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&os.url, dir.path(), &[]);
    let report = handle(&config, &fixture("kinesis-mixed.json")).await;
    assert_eq!(report.counts.documents, 15, "{report:?}");
    assert_eq!(report.counts.indexed, 15, "{report:?}");
    assert_eq!(report.counts.safe_indexed, 0);
    assert_eq!(report.counts.dead_lettered, 0);
    assert_eq!(report.counts.retryable_failures, 0);
    assert_eq!(report.response, json!({"batchItemFailures": []}));
    os.refresh().await;

    assert_eq!(os.count("csoc-logs-*", None).await, 15);
    let term = |field: &str, value: &str| json!({ "term": { field: value } });
    assert_eq!(
        os.count("csoc-logs-*", Some(term("owner", "123456789012")))
            .await,
        15
    );
    assert_eq!(
        os.count("csoc-logs-*", Some(term("commons", "testcommons")))
            .await,
        15
    );
    assert!(
        os.count("csoc-logs-*", Some(term("logGroup", "qaplanetv1")))
            .await
            > 0
    );
    assert!(
        os.count(
            "csoc-logs-*",
            Some(term("logGroup", "qaplanetv1-cloudtrail"))
        )
        .await
            > 0
    );
    // Message fields: nginx JSON, and CloudTrail's eventName.
    let hits = os
        .search(
            "csoc-logs-*",
            json!({ "match": { "message.http_verb": "GET" } }),
        )
        .await;
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["message"]["http_verb"] == "GET"));
    let hits = os
        .search(
            "csoc-logs-*",
            json!({ "match": { "message.eventName": "ConsoleLogin" } }),
        )
        .await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["message"]["eventSource"], "signin.amazonaws.com");
    // The template made the envelope fields keywords and the times dates.
    let mapping = request(
        &os.client(),
        Method::Get,
        "csoc-logs-2018.03.08/_mapping",
        None,
    )
    .await;
    let props = &mapping["csoc-logs-2018.03.08"]["mappings"]["properties"];
    assert_eq!(props["owner"]["type"], "keyword", "{mapping}");
    assert_eq!(props["@timestamp"]["type"], "date");
    assert_eq!(props["timestamp"]["type"], "date");
    assert_eq!(
        props["message"]["properties"]["http_response_time"]["type"],
        "float"
    );
}

#[tokio::test]
async fn processing_the_same_event_twice_leaves_the_counts_unchanged() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&os.url, dir.path(), &[]);
    let event = fixture("kinesis-mixed.json");
    let first = handle(&config, &event).await;
    os.refresh().await;
    let count = os.count("csoc-logs-*", None).await;
    let second = handle(&config, &event).await;
    os.refresh().await;
    assert_eq!(count, 15);
    assert_eq!(os.count("csoc-logs-*", None).await, count);
    // The second run's 409s count as indexed: nothing is retried or dead-lettered.
    assert_eq!(second.counts, first.counts);
    assert_eq!(second.counts.indexed, 15);
}

fn one_record(messages: &[&str]) -> Vec<u8> {
    let env = envelope("qaplanetv1", "revproxy", messages);
    kinesis_event(&[b64(&gzip(&serde_json::to_vec(&env).expect("json")))])
}

#[tokio::test]
async fn a_field_type_conflict_goes_through_the_safe_form() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&os.url, dir.path(), &[]);
    let event = one_record(&[
        r#"{"http_verb":"GET","http_response_time":"0.25"}"#,
        r#"{"http_verb":"GET","http_response_time":"slow"}"#,
    ]);
    let report = handle(&config, &event).await;
    assert_eq!(report.counts.documents, 2);
    assert_eq!(report.counts.indexed, 2, "{report:?}");
    assert_eq!(report.counts.safe_indexed, 1, "{report:?}");
    assert_eq!(report.counts.dead_lettered, 0);
    assert_eq!(report.counts.retryable_failures, 0);
    os.refresh().await;
    let hits = os
        .search(
            "csoc-logs-*",
            json!({ "term": { "ingest_error.type": "mapper_parsing_exception" } }),
        )
        .await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    let safe = &hits[0];
    let log = safe["message"]["log"].as_str().expect("message.log text");
    assert!(log.contains(r#""http_response_time":"slow""#), "{log}");
    assert!(
        safe["ingest_error"]["reason"]
            .as_str()
            .expect("reason")
            .contains("http_response_time")
    );
    assert_eq!(safe["owner"], "123456789012");
    // Processing it again: still two documents, and the safe one still counts.
    let again = handle(&config, &event).await;
    os.refresh().await;
    assert_eq!(os.count("csoc-logs-*", None).await, 2);
    assert_eq!(again.counts.indexed, 2, "{again:?}");
}

#[tokio::test]
async fn the_total_fields_limit_goes_through_the_safe_form() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&os.url, dir.path(), &[]);
    // A document adds at most 200 message fields (the document builder's cap), so the
    // index reaches the template's limit of 2,000 through many documents: 12 of 190
    // new fields each.
    let texts: Vec<String> = (0..12)
        .map(|d| {
            let fields: serde_json::Map<String, Value> =
                (0..190).map(|f| (format!("d{d}_f{f}"), json!(f))).collect();
            Value::Object(fields).to_string()
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let report = handle(&config, &one_record(&refs)).await;
    assert_eq!(report.counts.indexed, 12, "{report:?}");
    assert!(report.counts.safe_indexed >= 1, "{report:?}");
    assert_eq!(report.counts.dead_lettered, 0, "{report:?}");
    let safe = report.counts.safe_indexed;
    os.refresh().await;
    let hits = os
        .search(
            "csoc-logs-*",
            json!({ "exists": { "field": "ingest_error" } }),
        )
        .await;
    assert_eq!(hits.len(), safe);
    assert!(
        hits[0]["ingest_error"]["reason"]
            .as_str()
            .expect("reason")
            .contains("total fields"),
        "{}",
        hits[0]["ingest_error"]
    );
}

#[tokio::test]
async fn the_index_template_is_put_for_the_prefix() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&os.url, dir.path(), &[(config::INDEX_PREFIX, "other")]);
    csoc_forwarder::startup::pipeline(&config)
        .await
        .expect("pipeline");
    let v = request(&os.client(), Method::Get, "_index_template/other", None).await;
    let t = &v["index_templates"][0]["index_template"];
    assert_eq!(t["index_patterns"], json!(["other-*"]), "{v}");
    assert_eq!(
        t["template"]["mappings"]["properties"]["logGroup"]["type"],
        "keyword"
    );

    // Turned off: nothing is put.
    let os2 = Osmem::start();
    let config = config_for(
        &os2.url,
        dir.path(),
        &[(config::OPENSEARCH_TEMPLATE, "false")],
    );
    csoc_forwarder::startup::pipeline(&config)
        .await
        .expect("pipeline");
    let v = request(&os2.client(), Method::Get, "_index_template", None).await;
    assert_eq!(v["index_templates"], json!([]), "{v}");
}

#[tokio::test]
async fn an_unreachable_cluster_at_cold_start_is_a_warning_and_records_are_retried() {
    // A port nothing listens on: the template cannot be put, indexing fails, and the
    // records are reported for retry, not dropped.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = config_for(&format!("http://127.0.0.1:{port}"), dir.path(), &[]);
    let pipeline = csoc_forwarder::startup::pipeline(&config)
        .await
        .expect("cold start goes on");
    let started = std::time::Instant::now();
    let report = pipeline
        .handle(
            &fixture("kinesis-kubernetes.json"),
            &invocation(Duration::from_secs(5)),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(report.counts.indexed, 0);
    assert_eq!(report.counts.retryable_failures, 1, "{report:?}");
    assert_eq!(
        report.response["batchItemFailures"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{report:?}"
    );
}

#[test]
fn the_cli_indexes_into_the_cluster_when_opensearch_url_is_set() {
    let os = Osmem::start();
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .args(["process", "--out"])
        .arg(dir.path())
        .arg(crate::common::fixture_path("kinesis-mixed.json"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("INDEX_PREFIX")
        .env("OPENSEARCH_URL", &os.url)
        .env_remove("OPENSEARCH_AUTH")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(line["indexed"], 15);
    // Nothing went to the local index files.
    assert!(crate::common::files(dir.path(), "opensearch").is_empty());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        os.refresh().await;
        assert_eq!(os.count("csoc-logs-*", None).await, 15);
    });
}

fn parse(pairs: &[(&str, &str)]) -> Result<Option<OpenSearchConfig>, config::ConfigError> {
    crate::common::config_from(pairs).map(|c| c.opensearch)
}

#[test]
fn config_unset_url_keeps_the_local_sink_and_defaults_hold() {
    assert_eq!(parse(&[]).expect("valid"), None);
    let c = parse(&[("OPENSEARCH_URL", "http://localhost:9200")])
        .expect("valid")
        .expect("set");
    assert_eq!(c.auth, Auth::None);
    assert_eq!(c.max_bytes, 5 * 1024 * 1024);
    assert_eq!(c.max_docs, 5000);
    assert!(!c.gzip);
    assert!(c.template);
    assert_eq!(c.retention_days, 90);
    assert_eq!(c.timeout, Duration::from_secs(30));
}

#[test]
fn config_auth_defaults_to_sigv4_for_amazon_endpoints() {
    let c = parse(&[(
        "OPENSEARCH_URL",
        "https://search-csoc-abc.us-east-1.es.amazonaws.com",
    )])
    .expect("valid")
    .expect("set");
    assert_eq!(
        c.auth,
        Auth::SigV4 {
            service: "es",
            region: Some("us-east-1".to_owned())
        }
    );
    let c = parse(&[("OPENSEARCH_URL", "https://abc.us-west-2.aoss.amazonaws.com")])
        .expect("valid")
        .expect("set");
    assert_eq!(
        c.auth,
        Auth::SigV4 {
            service: "aoss",
            region: Some("us-west-2".to_owned())
        }
    );
    let c = parse(&[
        ("OPENSEARCH_URL", "https://logs.example.com"),
        ("OPENSEARCH_AUTH", "SigV4"),
    ])
    .expect("valid")
    .expect("set");
    assert_eq!(
        c.auth,
        Auth::SigV4 {
            service: "es",
            region: None
        }
    );
}

#[test]
fn config_basic_auth_from_a_secret_or_from_env() {
    let c = parse(&[
        ("OPENSEARCH_URL", "https://logs.example.com"),
        ("OPENSEARCH_AUTH", "basic"),
        (
            "OPENSEARCH_SECRET_ID",
            "arn:aws:secretsmanager:us-east-1:1:secret:os",
        ),
    ])
    .expect("valid")
    .expect("set");
    assert_eq!(
        c.auth,
        Auth::Basic(BasicSource::Secret(
            "arn:aws:secretsmanager:us-east-1:1:secret:os".to_owned()
        ))
    );
    let c = parse(&[
        ("OPENSEARCH_URL", "http://localhost:9200"),
        ("OPENSEARCH_AUTH", "basic"),
        ("OPENSEARCH_USERNAME", "admin"),
        ("OPENSEARCH_PASSWORD", "s3cret-Passw0rd"),
    ])
    .expect("valid")
    .expect("set");
    assert!(
        matches!(&c.auth, Auth::Basic(BasicSource::Inline { username, .. }) if username == "admin")
    );
    // The password never shows in debug output (logged configs, panics).
    assert!(!format!("{c:?}").contains("s3cret-Passw0rd"));
}

#[test]
fn config_bad_values_fail_with_the_variable_named() {
    let url = ("OPENSEARCH_URL", "http://localhost:9200");
    for (pairs, name) in [
        (vec![("OPENSEARCH_URL", "localhost:9200")], "OPENSEARCH_URL"),
        (vec![("OPENSEARCH_URL", "ftp://x")], "OPENSEARCH_URL"),
        (
            vec![("OPENSEARCH_URL", "https://admin:pw@x.example.com")],
            "OPENSEARCH_URL",
        ),
        (
            vec![url, ("OPENSEARCH_AUTH", "kerberos")],
            "OPENSEARCH_AUTH",
        ),
        (vec![url, ("OPENSEARCH_AUTH", "basic")], "OPENSEARCH_AUTH"),
        (
            vec![
                url,
                ("OPENSEARCH_AUTH", "basic"),
                ("OPENSEARCH_USERNAME", "u"),
            ],
            "OPENSEARCH_AUTH",
        ),
        (
            vec![
                url,
                ("OPENSEARCH_AUTH", "basic"),
                ("OPENSEARCH_SECRET_ID", "s"),
                ("OPENSEARCH_USERNAME", "u"),
                ("OPENSEARCH_PASSWORD", "p"),
            ],
            "OPENSEARCH_SECRET_ID",
        ),
        (vec![url, ("OPENSEARCH_GZIP", "maybe")], "OPENSEARCH_GZIP"),
        (
            vec![url, ("OPENSEARCH_BULK_MAX_BYTES", "10")],
            "OPENSEARCH_BULK_MAX_BYTES",
        ),
        (
            vec![url, ("OPENSEARCH_BULK_MAX_DOCS", "0")],
            "OPENSEARCH_BULK_MAX_DOCS",
        ),
        (vec![url, ("OPENSEARCH_TIMEOUT", "0")], "OPENSEARCH_TIMEOUT"),
        (
            vec![url, ("OPENSEARCH_TEMPLATE", "2")],
            "OPENSEARCH_TEMPLATE",
        ),
        (
            vec![url, ("OPENSEARCH_RETENTION_DAYS", "-1")],
            "OPENSEARCH_RETENTION_DAYS",
        ),
    ] {
        let err = parse(&pairs).expect_err(&format!("{pairs:?} must fail"));
        let text = err.to_string();
        assert!(text.contains(name), "{pairs:?}: {text}");
        assert!(!text.contains("pw@"), "no password in errors: {text}");
    }
}
