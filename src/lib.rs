//! csoc-forwarder: CloudWatch Logs subscription records from Kinesis → documents →
//! OpenSearch, the Firehose archive and Slack alerts. See README.md for the flow.
//!
//! Data flows one way: [`event`] in → [`decode`] → [`document`] → [`sinks`] →
//! [`report`]. Only [`pipeline`] knows the order; [`startup`] builds it once per cold
//! start from [`config`].

pub mod alerts;
pub mod audit;
pub mod aws;
pub mod batching;
pub mod cli;
pub mod config;
pub mod dashboards;
pub mod dead_letter;
pub mod decode;
pub mod document;
pub mod event;
pub mod invocation;
pub mod json_bytes;
pub mod lambda;
pub mod metrics;
pub mod pipeline;
pub mod replay;
pub mod report;
pub mod retry;
pub mod scrub;
pub mod serve;
pub mod sinks;
pub mod startup;
pub mod timestamp;
pub mod utf8;
