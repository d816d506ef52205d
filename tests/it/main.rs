//! The one integration-test crate: one `mod` per area, shared helpers in `common`.

mod common;

mod alerts;
mod alerts_slack;
mod arm64;
mod audit;
mod bulk;
mod cli;
mod config;
mod dashboards;
mod decode;
mod documents;
mod e2e;
mod firehose;
mod layout;
mod newcomer;
mod opensearch;
mod opensearch_auth;
mod opensearch_cluster;
mod opensearch_faults;
mod opensearch_fields;
mod packaging;
mod pipeline;
mod progress;
mod replay;
mod rewrite;
mod rules_cli;
mod scrub;
mod serve;
mod sigma;
mod suppression;
mod terraform;
