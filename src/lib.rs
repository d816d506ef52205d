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
pub mod sinks;
pub mod timestamp;

use config::Config;
use document::{DocumentBuilder, Limits};
use handler::Pipeline;

/// The pipeline for `config`, writing to the local file sinks.
pub fn local_pipeline(config: &Config) -> Pipeline {
    Pipeline::new(
        config.max_decompressed_bytes,
        DocumentBuilder::new(&config.common_name, &config.index_prefix, Limits::default()),
        sinks::local::sinks(&config.out_dir, &config.firehose_stream),
    )
}
