//! Configuration: every environment variable the binary reads, read and validated once.
//!
//! [`ENV_VARS`] is the one source of truth for variable names: the README table, the
//! Terraform Lambda environment and this module are all checked against it by tests.

use std::path::PathBuf;

use thiserror::Error;

/// One environment variable the binary reads.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    pub name: &'static str,
    /// Shown in the README; `None` means unset by default.
    pub default: Option<&'static str>,
    pub doc: &'static str,
    /// Whether the Terraform module sets it on the deployed Lambda function.
    pub lambda: bool,
}

pub const COMMON_NAME: &str = "COMMON_NAME";
pub const INDEX_PREFIX: &str = "INDEX_PREFIX";
pub const THRESHOLD: &str = "THRESHOLD";
pub const MAX_DECOMPRESSED_BYTES: &str = "MAX_DECOMPRESSED_BYTES";
pub const FIREHOSE_STREAM: &str = "FIREHOSE_STREAM";
pub const OUT_DIR: &str = "OUT_DIR";
pub const RUST_LOG: &str = "RUST_LOG";

pub const ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: COMMON_NAME,
        default: Some("local"),
        doc: "The commons this deployment forwards for; stored as `commons` in every document.",
        lambda: true,
    },
    EnvVar {
        name: INDEX_PREFIX,
        default: Some("csoc-logs"),
        doc: "OpenSearch index prefix; documents go to `<prefix>-YYYY.MM.DD`.",
        lambda: true,
    },
    EnvVar {
        name: THRESHOLD,
        default: None,
        doc: "Slow-response alert threshold in seconds; unset turns the check off.",
        lambda: true,
    },
    EnvVar {
        name: MAX_DECOMPRESSED_BYTES,
        default: Some("8388608"),
        doc: "Hard cap on the gunzipped size of one Kinesis record (bytes).",
        lambda: false,
    },
    EnvVar {
        name: FIREHOSE_STREAM,
        default: Some("<COMMON_NAME>_firehose"),
        doc: "The commons' Firehose delivery stream for the archive.",
        lambda: true,
    },
    EnvVar {
        name: OUT_DIR,
        default: Some("./out"),
        doc: "Where the local file sinks write when no remote endpoint is configured.",
        lambda: false,
    },
    EnvVar {
        name: RUST_LOG,
        default: Some("info"),
        doc: "Log filter (tracing `EnvFilter` syntax). Logs are JSON in Lambda.",
        lambda: true,
    },
];

/// The names the deployed Lambda function is given by Terraform.
pub fn lambda_env_names() -> impl Iterator<Item = &'static str> {
    ENV_VARS.iter().filter(|v| v.lambda).map(|v| v.name)
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}
