//! Configuration: every environment variable the binary reads, read and validated once.
//!
//! [`ENV_VARS`] is the one source of truth for variable names: the README table, the
//! Terraform Lambda environment and this module are all checked against it by tests.

use std::path::PathBuf;

use thiserror::Error;

pub mod alert_rules;
mod env;
pub mod opensearch;
pub mod slack;

pub use env::*;
pub use opensearch::{Auth, BasicSource, FreeForm, FreeFormChoice, OpenSearchConfig, Redacted};
pub use slack::WebhookUrl;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{name} must be set: {reason}")]
    Missing { name: &'static str, reason: String },
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// Where the archive goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveSinkKind {
    /// Files under `OUT_DIR` (`process` default).
    Local,
    /// PutRecordBatch to `FIREHOSE_STREAM` (Lambda default).
    Firehose,
}

/// The validated configuration, read once at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub common_name: String,
    pub index_prefix: String,
    /// Seconds; `None` turns the slow-response check off.
    pub threshold: Option<f64>,
    pub max_decompressed_bytes: usize,
    /// Bytes of documents delivered to the sinks at once (a Kinesis batch streams).
    pub delivery_chunk_bytes: usize,
    pub firehose_stream: String,
    pub out_dir: PathBuf,
    /// The cluster to index into; `None` (no `OPENSEARCH_URL`) keeps the local file sink.
    pub opensearch: Option<OpenSearchConfig>,
    pub archive_sink: ArchiveSinkKind,
    /// `None`: dead letters are files under `out_dir`.
    pub dead_letter_bucket: Option<String>,
    pub metrics_namespace: String,
    /// Parts of log stream names checked for slow responses.
    pub slow_log_streams: Vec<String>,
    pub slack_webhook_secret_arn: Option<String>,
    /// Redacted in `Debug`: the URL is a credential.
    pub slack_webhook_url: Option<WebhookUrl>,
    /// Without a trailing `/`.
    pub dashboards_url: Option<String>,
    /// The alert rules from `ALERT_RULES`, validated; `None` means the defaults.
    pub alert_rules: Option<alert_rules::RuleSet>,
    /// Credential scrubbing (`SCRUB`, `SCRUB_PATTERNS`); `None`: off.
    pub scrub: Option<crate::scrub::Scrubber>,
    /// `process` only: the time each input file gets (`PROCESS_TIME_BUDGET`).
    pub process_time_budget: std::time::Duration,
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// For the Lambda function, from the process environment: the archive defaults to
    /// Firehose, and the remote sinks are required (local files do not outlive an
    /// invocation).
    pub fn lambda_from_env() -> Result<Self, ConfigError> {
        Self::lambda_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Config::lambda_from_env`] from any name → value lookup.
    pub fn lambda_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let config = Self::read(get, ArchiveSinkKind::Firehose)?;
        if config.archive_sink == ArchiveSinkKind::Local {
            return Err(ConfigError::Invalid {
                name: ARCHIVE_SINK,
                value: "local".to_owned(),
                reason: "the Lambda function archives to Firehose: local files do not outlive an invocation".to_owned(),
            });
        }
        if config.dead_letter_bucket.is_none() {
            return Err(ConfigError::Missing {
                name: DEAD_LETTER_BUCKET,
                reason: "the Lambda function keeps dead letters in S3".to_owned(),
            });
        }
        if config.opensearch.is_none() {
            return Err(ConfigError::Missing {
                name: OPENSEARCH_URL,
                reason: "the Lambda function indexes into OpenSearch: local files do not outlive an invocation".to_owned(),
            });
        }
        Ok(config)
    }

    /// From any name → value lookup (tests pass a map). Empty values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(get, ArchiveSinkKind::Local)
    }

    fn read(
        get: impl Fn(&str) -> Option<String>,
        default_archive: ArchiveSinkKind,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let common_name = get(COMMON_NAME).unwrap_or_else(|| "local".to_owned());
        let firehose_stream =
            get(FIREHOSE_STREAM).unwrap_or_else(|| format!("{common_name}_firehose"));
        let config = Self {
            index_prefix: get(INDEX_PREFIX).unwrap_or_else(|| DEFAULT_INDEX_PREFIX.to_owned()),
            threshold: get(THRESHOLD).map(|v| parse_threshold(&v)).transpose()?,
            max_decompressed_bytes: match get(MAX_DECOMPRESSED_BYTES) {
                Some(v) => parse_bytes(&v)?,
                None => DEFAULT_MAX_DECOMPRESSED_BYTES,
            },
            delivery_chunk_bytes: match get(DELIVERY_CHUNK_BYTES) {
                Some(v) => parse_chunk_bytes(&v)?,
                None => DEFAULT_DELIVERY_CHUNK_BYTES,
            },
            out_dir: get(OUT_DIR).map_or_else(|| PathBuf::from("./out"), PathBuf::from),
            opensearch: OpenSearchConfig::from_lookup(&get)?,
            archive_sink: match get(ARCHIVE_SINK) {
                Some(v) => parse_archive_sink(&v)?,
                None => default_archive,
            },
            dead_letter_bucket: get(DEAD_LETTER_BUCKET).map(|v| v.trim().to_owned()),
            metrics_namespace: get(METRICS_NAMESPACE)
                .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned()),
            common_name,
            firehose_stream,
            slow_log_streams: parse_list(
                &get(SLOW_LOG_STREAMS).unwrap_or_else(|| DEFAULT_SLOW_LOG_STREAMS.to_owned()),
            ),
            slack_webhook_secret_arn: get(SLACK_WEBHOOK_SECRET_ARN).map(|v| v.trim().to_owned()),
            slack_webhook_url: get(SLACK_WEBHOOK_URL)
                .map(|v| {
                    WebhookUrl::parse(&v).map_err(|reason| {
                        ConfigError::Invalid {
                            name: SLACK_WEBHOOK_URL,
                            // Never echo the value: it is a credential.
                            value: "<redacted>".to_owned(),
                            reason,
                        }
                    })
                })
                .transpose()?,
            dashboards_url: get(DASHBOARDS_URL)
                .map(|v| parse_http_url(DASHBOARDS_URL, &v))
                .transpose()?,
            alert_rules: get(ALERT_RULES).map(|v| read_rules(&v)).transpose()?,
            scrub: read_scrub(get(SCRUB), get(SCRUB_PATTERNS))?,
            process_time_budget: match get(PROCESS_TIME_BUDGET) {
                Some(v) => parse_time_budget(&v)?,
                None => std::time::Duration::from_secs(DEFAULT_PROCESS_TIME_BUDGET_SECS),
            },
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks the values that may have been set after reading (CLI flags).
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(
            COMMON_NAME,
            &self.common_name,
            valid_common_name(&self.common_name),
            "1 to 64 characters: letters, digits, `-` and `_`, starting with a letter or digit",
        )?;
        check(
            INDEX_PREFIX,
            &self.index_prefix,
            valid_index_prefix(&self.index_prefix),
            "1 to 200 characters: lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit",
        )?;
        check(
            FIREHOSE_STREAM,
            &self.firehose_stream,
            valid_stream_name(&self.firehose_stream),
            "1 to 64 characters: letters, digits, `-`, `_` and `.`",
        )?;
        if let Some(bucket) = &self.dead_letter_bucket {
            check(
                DEAD_LETTER_BUCKET,
                bucket,
                valid_bucket_name(bucket),
                "an S3 bucket name: 3 to 63 characters, lowercase letters, digits, `.` and `-`",
            )?;
        }
        check(
            METRICS_NAMESPACE,
            &self.metrics_namespace,
            (1..=255).contains(&self.metrics_namespace.len())
                && !self.metrics_namespace.starts_with(':')
                && self.metrics_namespace.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '.' | '-' | '_' | '/' | '#' | ':' | ' ')
                }),
            "1 to 255 characters: letters, digits, `.`, `-`, `_`, `/`, `#`, `:` and spaces",
        )?;
        if let Some(t) = self.threshold {
            check(
                THRESHOLD,
                &t.to_string(),
                t.is_finite() && t > 0.0,
                "a positive number of seconds",
            )?;
        }
        Ok(())
    }
}

fn check(name: &'static str, value: &str, ok: bool, reason: &str) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            name,
            value: value.to_owned(),
            reason: reason.to_owned(),
        })
    }
}

/// `THRESHOLD` / `--threshold`: positive seconds.
pub fn parse_threshold(v: &str) -> Result<f64, ConfigError> {
    match v.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 => Ok(t),
        _ => Err(ConfigError::Invalid {
            name: THRESHOLD,
            value: v.to_owned(),
            reason: "a positive number of seconds".to_owned(),
        }),
    }
}

/// `PROCESS_TIME_BUDGET` / `--time-budget`: whole seconds, at least
/// [`MIN_PROCESS_TIME_BUDGET_SECS`].
pub fn parse_time_budget(v: &str) -> Result<std::time::Duration, ConfigError> {
    match v.trim().parse::<u64>() {
        Ok(n) if (MIN_PROCESS_TIME_BUDGET_SECS..=86_400).contains(&n) => {
            Ok(std::time::Duration::from_secs(n))
        }
        _ => Err(ConfigError::Invalid {
            name: PROCESS_TIME_BUDGET,
            value: v.to_owned(),
            reason: format!(
                "a whole number of seconds from {MIN_PROCESS_TIME_BUDGET_SECS} to 86400"
            ),
        }),
    }
}

/// Comma-separated, trimmed, empty items dropped.
fn parse_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_http_url(name: &'static str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() > "https://".len()
        && !v.contains(char::is_whitespace);
    check(name, v, ok, "an http:// or https:// URL")?;
    Ok(v.trim_end_matches('/').to_owned())
}

/// `SCRUB` (on by default) and `SCRUB_PATTERNS` (compiled here, once).
fn read_scrub(
    on: Option<String>,
    patterns: Option<String>,
) -> Result<Option<crate::scrub::Scrubber>, ConfigError> {
    let on = match on.map(|v| v.trim().to_ascii_lowercase()) {
        None => true,
        Some(v) if matches!(v.as_str(), "on" | "true" | "1" | "yes") => true,
        Some(v) if matches!(v.as_str(), "off" | "false" | "0" | "no") => false,
        Some(v) => {
            return Err(ConfigError::Invalid {
                name: SCRUB,
                value: v,
                reason: "on or off".to_owned(),
            });
        }
    };
    let invalid = |e: crate::scrub::ScrubError| ConfigError::Invalid {
        name: SCRUB_PATTERNS,
        // Patterns may describe secrets: name the problem, not the value.
        value: "<patterns>".to_owned(),
        reason: e.to_string(),
    };
    let extra = match patterns {
        Some(text) => crate::scrub::Scrubber::parse_extra(&text).map_err(invalid)?,
        None => Vec::new(),
    };
    if !on {
        return Ok(None);
    }
    crate::scrub::Scrubber::with_extra(&extra)
        .map(Some)
        .map_err(invalid)
}

/// `ALERT_RULES`: inline JSON (starts with `{`) or a file path; validated here.
fn read_rules(v: &str) -> Result<alert_rules::RuleSet, ConfigError> {
    let v = v.trim();
    let invalid = |value: &str, reason: String| ConfigError::Invalid {
        name: ALERT_RULES,
        value: value.to_owned(),
        reason,
    };
    let text = if v.starts_with('{') {
        v.to_owned()
    } else {
        std::fs::read_to_string(v).map_err(|e| invalid(v, format!("cannot read the file: {e}")))?
    };
    let shown = if v.starts_with('{') {
        "<inline JSON>"
    } else {
        v
    };
    alert_rules::RuleSet::parse(&text).map_err(|e| invalid(shown, e.to_string()))
}

fn parse_bytes(v: &str) -> Result<usize, ConfigError> {
    match v.trim().parse::<usize>() {
        Ok(n) if (1024..=MAX_MAX_DECOMPRESSED_BYTES).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name: MAX_DECOMPRESSED_BYTES,
            value: v.to_owned(),
            reason: format!(
                "a whole number of bytes, at least 1024 and at most {MAX_MAX_DECOMPRESSED_BYTES}"
            ),
        }),
    }
}

fn parse_chunk_bytes(v: &str) -> Result<usize, ConfigError> {
    let range = DELIVERY_CHUNK_BYTES_RANGE;
    match v.trim().parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name: DELIVERY_CHUNK_BYTES,
            value: v.to_owned(),
            reason: format!(
                "a whole number of bytes from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}

fn parse_archive_sink(v: &str) -> Result<ArchiveSinkKind, ConfigError> {
    match v.trim() {
        "local" => Ok(ArchiveSinkKind::Local),
        "firehose" => Ok(ArchiveSinkKind::Firehose),
        _ => Err(ConfigError::Invalid {
            name: ARCHIVE_SINK,
            value: v.to_owned(),
            reason: "`firehose` or `local`".to_owned(),
        }),
    }
}

fn valid_bucket_name(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
}

fn valid_common_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn valid_index_prefix(s: &str) -> bool {
    (1..=200).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn valid_stream_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
