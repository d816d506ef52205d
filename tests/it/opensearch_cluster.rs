//! Opt-in: the pipeline against a real OpenSearch cluster.
//!
//! Runs only when `OPENSEARCH_TEST_URL` is set (skipped otherwise, with a note). Auth
//! and the other `OPENSEARCH_*` variables are read from the environment as the binary
//! reads them (`OPENSEARCH_AUTH`, `OPENSEARCH_USERNAME`/`OPENSEARCH_PASSWORD`, AWS
//! credentials for SigV4). It writes under a fresh prefix and deletes what it made.

use std::time::Duration;

use csoc_forwarder::config::{self, Config};
use opensearch::http::Method;

use crate::common::fixture;
use crate::common::osmem::request;
use crate::opensearch::invocation;

#[tokio::test]
async fn a_real_cluster_indexes_the_fixtures_idempotently() {
    let Some(url) = std::env::var("OPENSEARCH_TEST_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: set OPENSEARCH_TEST_URL to run against a real cluster");
        return;
    };
    let prefix = format!(
        "csoc-forwarder-test-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis()
    );
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = dir.path().display().to_string();
    let config = Config::from_lookup(|name| match name {
        config::OPENSEARCH_URL => Some(url.clone()),
        config::INDEX_PREFIX => Some(prefix.clone()),
        config::OUT_DIR => Some(out.clone()),
        config::OPENSEARCH_RETENTION_DAYS => Some("1".to_owned()),
        _ => std::env::var(name).ok(),
    })
    .expect("valid config");
    let pipeline = csoc_forwarder::startup::pipeline(&config)
        .await
        .expect("pipeline");
    let event = fixture("kinesis-mixed.json");
    let first = pipeline
        .handle(&event, &invocation(Duration::from_secs(60)))
        .await;
    let second = pipeline
        .handle(&event, &invocation(Duration::from_secs(60)))
        .await;

    // A client with the same auth as the sink.
    let sink_client = csoc_forwarder::sinks::opensearch::client::build_client(
        config.opensearch.as_ref().expect("set"),
    )
    .await
    .expect("client");
    let pattern = format!("{prefix}-*");
    request(
        &sink_client,
        Method::Post,
        &format!("{pattern}/_refresh"),
        None,
    )
    .await;
    let count = request(
        &sink_client,
        Method::Get,
        &format!("{pattern}/_count"),
        None,
    )
    .await;
    // Clean up before asserting.
    request(&sink_client, Method::Delete, &pattern, None).await;
    request(
        &sink_client,
        Method::Delete,
        &format!("_index_template/{prefix}"),
        None,
    )
    .await;
    request(
        &sink_client,
        Method::Delete,
        &format!("_plugins/_ism/policies/{prefix}-retention"),
        None,
    )
    .await;

    assert_eq!(first.counts.indexed, 14, "{first:?}");
    assert_eq!(second.counts.indexed, 14, "{second:?}");
    assert_eq!(count["count"], 14, "{count}");
}
