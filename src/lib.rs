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
pub mod sinks;
pub mod timestamp;

use config::{ArchiveSinkKind, Config};
use document::{DocumentBuilder, Limits};
use handler::Pipeline;
use sinks::Sinks;

/// The pipeline for `config`, writing to the local file sinks.
pub fn local_pipeline(config: &Config) -> Pipeline {
    Pipeline::new(
        config.max_decompressed_bytes,
        DocumentBuilder::new(&config.common_name, &config.index_prefix, Limits::default()),
        sinks::local::sinks(&config.out_dir, &config.firehose_stream),
    )
}

/// The pipeline for `config` writing to `sinks`.
pub fn pipeline(config: &Config, sinks: Sinks) -> Pipeline {
    Pipeline::new(
        config.max_decompressed_bytes,
        DocumentBuilder::new(&config.common_name, &config.index_prefix, Limits::default()),
        sinks,
    )
}

/// The sinks `config` asks for: the local ones, with each configured remote sink in
/// place of its local one. The AWS configuration is loaded here, once, and only when a
/// remote sink needs it.
pub async fn build_sinks(config: &Config) -> Sinks {
    let mut sinks = sinks::local::sinks(&config.out_dir, &config.firehose_stream);
    let firehose = config.archive_sink == ArchiveSinkKind::Firehose;
    if firehose || config.dead_letter_bucket.is_some() {
        let sdk = aws::sdk_config().await;
        if firehose {
            sinks.archive = Box::new(sinks::firehose::FirehoseArchive::from_sdk_config(
                &sdk,
                &config.firehose_stream,
            ));
        }
        if let Some(bucket) = &config.dead_letter_bucket {
            sinks.dead_letter = Box::new(sinks::s3_dead_letter::S3DeadLetter::from_sdk_config(
                &sdk, bucket,
            ));
        }
    }
    sinks
}
