//! csoc-forwarder: CloudWatch Logs subscription records from Kinesis → documents →
//! OpenSearch, the Firehose archive and Slack alerts. See README.md for the flow.
//!
//! Data flows one way: [`event`] in → [`decode`] → [`document`] → [`sinks`] →
//! [`report`]. Only [`handler`] knows the order.

pub mod archive;
pub mod aws;
pub mod batching;
pub mod bulk;
pub mod cli;
pub mod config;
pub mod dead_letter;
pub mod decode;
pub mod document;
pub mod event;
pub mod handler;
pub mod lambda;
pub mod metrics;
pub mod report;
pub mod retry;
pub mod sinks;
pub mod timestamp;

use config::{ArchiveSinkKind, Config};
use document::{DocumentBuilder, Limits};
use handler::Pipeline;
use sinks::Sinks;

/// The sinks `config` asks for, built once per cold start: the local file sinks under
/// `OUT_DIR`, with each configured remote sink in its place — the OpenSearch cluster
/// when `OPENSEARCH_URL` is set (one client, reused across invocations), Firehose for
/// the archive, S3 for dead letters. The AWS configuration is loaded once, and only
/// when a remote AWS sink needs it.
pub async fn build_sinks(config: &Config) -> Result<Sinks, StartError> {
    let mut built = sinks::local::sinks(&config.out_dir, &config.firehose_stream);
    if let Some(os) = &config.opensearch {
        built.index =
            Box::new(sinks::opensearch::OpenSearchIndex::connect(os, &config.index_prefix).await?);
    }
    let firehose = config.archive_sink == ArchiveSinkKind::Firehose;
    if firehose || config.dead_letter_bucket.is_some() {
        let sdk = aws::sdk_config().await;
        if firehose {
            built.archive = Box::new(sinks::firehose::FirehoseArchive::from_sdk_config(
                &sdk,
                &config.firehose_stream,
            ));
        }
        if let Some(bucket) = &config.dead_letter_bucket {
            built.dead_letter = Box::new(sinks::s3_dead_letter::S3DeadLetter::from_sdk_config(
                &sdk, bucket,
            ));
        }
    }
    Ok(built)
}

/// The pipeline for `config` with [`build_sinks`].
pub async fn pipeline(config: &Config) -> Result<Pipeline, StartError> {
    Ok(Pipeline::new(
        config.max_decompressed_bytes,
        DocumentBuilder::new(&config.common_name, &config.index_prefix, Limits::default()),
        build_sinks(config).await?,
    ))
}

/// Why the pipeline could not be built at start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    OpenSearch(#[from] sinks::opensearch::ConnectError),
}
