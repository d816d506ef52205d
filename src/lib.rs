//! csoc-forwarder: CloudWatch Logs subscription records from Kinesis → documents →
//! OpenSearch, Firehose archive, Slack alerts. See README.md for the flow.

pub mod config;
pub mod timestamp;
