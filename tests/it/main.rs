//! The one integration-test crate: one `mod` per area, shared helpers in `common`.

mod common;

mod alerts;
mod alerts_slack;
mod bulk;
mod cli;
mod config;
mod decode;
mod documents;
mod pipeline;
mod terraform_contract;
