//! csoc-forwarder: CloudWatch Logs subscription records from Kinesis → documents →
//! OpenSearch, the Firehose archive and Slack alerts. See README.md for the flow.
//!
//! Data flows one way: [`event`] in → [`decode`] → [`document`] → [`sinks`] →
//! [`report`]. Only [`handler`] knows the order.

pub mod archive;
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
pub mod report;
pub mod retry;
pub mod sinks;
pub mod timestamp;

use config::Config;
use document::{DocumentBuilder, Limits};
use handler::Pipeline;

/// The sinks for `config`, built once per cold start: the OpenSearch cluster when
/// `OPENSEARCH_URL` is set (one client, reused across invocations), else the local
/// file sinks under `OUT_DIR`.
pub async fn build_sinks(config: &Config) -> Result<sinks::Sinks, StartError> {
    let mut built = sinks::local::sinks(&config.out_dir, &config.firehose_stream);
    if let Some(os) = &config.opensearch {
        built.index =
            Box::new(sinks::opensearch::OpenSearchIndex::connect(os, &config.index_prefix).await?);
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

/// The pipeline for `config`, writing to the local file sinks.
pub fn local_pipeline(config: &Config) -> Pipeline {
    Pipeline::new(
        config.max_decompressed_bytes,
        DocumentBuilder::new(&config.common_name, &config.index_prefix, Limits::default()),
        sinks::local::sinks(&config.out_dir, &config.firehose_stream),
    )
}
