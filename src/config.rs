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
pub const OPENSEARCH_URL: &str = "OPENSEARCH_URL";
pub const OPENSEARCH_AUTH: &str = "OPENSEARCH_AUTH";
pub const OPENSEARCH_SECRET_ID: &str = "OPENSEARCH_SECRET_ID";
pub const OPENSEARCH_USERNAME: &str = "OPENSEARCH_USERNAME";
pub const OPENSEARCH_PASSWORD: &str = "OPENSEARCH_PASSWORD";
pub const OPENSEARCH_BULK_MAX_BYTES: &str = "OPENSEARCH_BULK_MAX_BYTES";
pub const OPENSEARCH_BULK_MAX_DOCS: &str = "OPENSEARCH_BULK_MAX_DOCS";
pub const OPENSEARCH_GZIP: &str = "OPENSEARCH_GZIP";
pub const OPENSEARCH_TIMEOUT: &str = "OPENSEARCH_TIMEOUT";
pub const OPENSEARCH_TEMPLATE: &str = "OPENSEARCH_TEMPLATE";
pub const OPENSEARCH_RETENTION_DAYS: &str = "OPENSEARCH_RETENTION_DAYS";
pub const ARCHIVE_SINK: &str = "ARCHIVE_SINK";
pub const DEAD_LETTER_BUCKET: &str = "DEAD_LETTER_BUCKET";
pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
pub const SLOW_LOG_STREAMS: &str = "SLOW_LOG_STREAMS";
pub const SLACK_WEBHOOK_SECRET_ARN: &str = "SLACK_WEBHOOK_SECRET_ARN";
pub const SLACK_WEBHOOK_URL: &str = "SLACK_WEBHOOK_URL";
pub const DASHBOARDS_URL: &str = "DASHBOARDS_URL";
pub const ALERT_RULES: &str = "ALERT_RULES";
pub const SUPPRESSION_TABLE: &str = "SUPPRESSION_TABLE";

/// Default `SLOW_LOG_STREAMS`.
pub const DEFAULT_SLOW_LOG_STREAMS: &str = "revproxy,sheepdog,peregrine";

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
        doc: "Hard cap on the gunzipped size of one Kinesis record, and on an audit-records body as sent and once gunzipped (bytes).",
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
    EnvVar {
        name: OPENSEARCH_URL,
        default: None,
        doc: "The OpenSearch cluster, e.g. `https://search-x.us-east-1.es.amazonaws.com`. Required in Lambda; unset, `process` writes `_bulk` bodies under `OUT_DIR`.",
        lambda: true,
    },
    EnvVar {
        name: OPENSEARCH_AUTH,
        default: Some("sigv4 for Amazon endpoints, else none"),
        doc: "`sigv4` (service `es`, or `aoss` for Serverless hosts), `basic` or `none`.",
        lambda: true,
    },
    EnvVar {
        name: OPENSEARCH_SECRET_ID,
        default: None,
        doc: "Basic auth: the Secrets Manager secret (ARN or name) holding `{\"username\", \"password\"}`.",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_USERNAME,
        default: None,
        doc: "Basic auth for local use, with `OPENSEARCH_PASSWORD` (instead of a secret).",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_PASSWORD,
        default: None,
        doc: "Basic auth for local use, with `OPENSEARCH_USERNAME`. Never logged.",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_BULK_MAX_BYTES,
        default: Some("5242880"),
        doc: "Cap on one `_bulk` request body in bytes (before gzip).",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_BULK_MAX_DOCS,
        default: Some("5000"),
        doc: "Cap on documents in one `_bulk` request.",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_GZIP,
        default: Some("false"),
        doc: "gzip `_bulk` request bodies.",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_TIMEOUT,
        default: Some("30"),
        doc: "Timeout of one request in seconds (also cut to the time the invocation has left).",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_TEMPLATE,
        default: Some("true"),
        doc: "Put the index template (and the retention policy) once per cold start.",
        lambda: false,
    },
    EnvVar {
        name: OPENSEARCH_RETENTION_DAYS,
        default: Some("90"),
        doc: "Days an index is kept (ISM policy, where the cluster supports it); `0` puts no policy.",
        lambda: false,
    },
    EnvVar {
        name: ARCHIVE_SINK,
        default: Some("`firehose` in Lambda, `local` for `process`"),
        doc: "Where the archive goes: `firehose` (PutRecordBatch to `FIREHOSE_STREAM`) or `local` (files under `OUT_DIR`; refused in Lambda).",
        lambda: false,
    },
    EnvVar {
        name: DEAD_LETTER_BUCKET,
        default: None,
        doc: "S3 bucket for dead letters (`dead-letter/<source>/YYYY/MM/DD/…`). Required in Lambda; unset, `process` writes them under `OUT_DIR`.",
        lambda: true,
    },
    EnvVar {
        name: METRICS_NAMESPACE,
        default: Some("CSOC/Forwarder"),
        doc: "CloudWatch namespace of the per-invocation Embedded Metric Format line (Lambda only).",
        lambda: false,
    },
    EnvVar {
        name: SLOW_LOG_STREAMS,
        default: Some(DEFAULT_SLOW_LOG_STREAMS),
        doc: "Comma-separated parts of log stream names checked for slow responses.",
        lambda: true,
    },
    EnvVar {
        name: SLACK_WEBHOOK_SECRET_ARN,
        default: None,
        doc: "Secrets Manager secret holding the Slack incoming-webhook URL (plain, or JSON with a `url` key); read once per cold start.",
        lambda: true,
    },
    EnvVar {
        name: SLACK_WEBHOOK_URL,
        default: None,
        doc: "The Slack incoming-webhook URL itself, for local use; wins over the secret. Neither set: payloads go to `OUT_DIR/slack/`.",
        lambda: false,
    },
    EnvVar {
        name: DASHBOARDS_URL,
        default: None,
        doc: "OpenSearch Dashboards base URL; alerts link each document into Discover when set.",
        lambda: true,
    },
    EnvVar {
        name: ALERT_RULES,
        default: None,
        doc: "Sigma rules replacing the built-in ones: a rule file, or a directory searched recursively for `.yml`/`.yaml` (see \"Slack alerts\"). A rule that cannot be used stops the start.",
        lambda: false,
    },
    EnvVar {
        name: SUPPRESSION_TABLE,
        default: None,
        doc: "DynamoDB table where alert fingerprints are claimed, so the commons' invocations post an alert once per window; unset, suppression is per run.",
        lambda: true,
    },
];

/// The names the deployed Lambda function is given by Terraform.
pub fn lambda_env_names() -> impl Iterator<Item = &'static str> {
    ENV_VARS.iter().filter(|v| v.lambda).map(|v| v.name)
}

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
    pub firehose_stream: String,
    pub out_dir: PathBuf,
    /// The cluster to index into; `None` (no `OPENSEARCH_URL`) keeps the local file sink.
    pub opensearch: Option<crate::sinks::opensearch::OpenSearchConfig>,
    pub archive_sink: ArchiveSinkKind,
    /// `None`: dead letters are files under `out_dir`.
    pub dead_letter_bucket: Option<String>,
    pub metrics_namespace: String,
    /// Parts of log stream names checked for slow responses.
    pub slow_log_streams: Vec<String>,
    pub slack_webhook_secret_arn: Option<String>,
    /// Redacted in `Debug`: the URL is a credential.
    pub slack_webhook_url: Option<crate::sinks::slack::WebhookUrl>,
    /// Without a trailing `/`.
    pub dashboards_url: Option<String>,
    /// Where the Sigma rules are (`ALERT_RULES`); `None` means the built-in rules.
    /// Loaded (and refused) when alerting is built, not here.
    pub alert_rules: Option<Vec<PathBuf>>,
    /// The DynamoDB suppression table; `None`: suppression per run.
    pub suppression_table: Option<String>,
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
            index_prefix: get(INDEX_PREFIX)
                .unwrap_or_else(|| crate::document::DEFAULT_INDEX_PREFIX.to_owned()),
            threshold: get(THRESHOLD).map(|v| parse_threshold(&v)).transpose()?,
            max_decompressed_bytes: match get(MAX_DECOMPRESSED_BYTES) {
                Some(v) => parse_bytes(&v)?,
                None => crate::decode::DEFAULT_MAX_DECOMPRESSED_BYTES,
            },
            out_dir: get(OUT_DIR).map_or_else(|| PathBuf::from("./out"), PathBuf::from),
            opensearch: crate::sinks::opensearch::OpenSearchConfig::from_lookup(&get)?,
            archive_sink: match get(ARCHIVE_SINK) {
                Some(v) => parse_archive_sink(&v)?,
                None => default_archive,
            },
            dead_letter_bucket: get(DEAD_LETTER_BUCKET).map(|v| v.trim().to_owned()),
            metrics_namespace: get(METRICS_NAMESPACE)
                .unwrap_or_else(|| crate::metrics::DEFAULT_NAMESPACE.to_owned()),
            common_name,
            firehose_stream,
            slow_log_streams: parse_list(
                &get(SLOW_LOG_STREAMS).unwrap_or_else(|| DEFAULT_SLOW_LOG_STREAMS.to_owned()),
            ),
            slack_webhook_secret_arn: get(SLACK_WEBHOOK_SECRET_ARN).map(|v| v.trim().to_owned()),
            slack_webhook_url: get(SLACK_WEBHOOK_URL)
                .map(|v| {
                    crate::sinks::slack::WebhookUrl::parse(&v).map_err(|reason| {
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
            alert_rules: get(ALERT_RULES).map(|v| vec![PathBuf::from(v.trim())]),
            suppression_table: get(SUPPRESSION_TABLE).map(|v| v.trim().to_owned()),
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
        if let Some(table) = &self.suppression_table {
            check(
                SUPPRESSION_TABLE,
                table,
                (3..=255).contains(&table.len())
                    && table
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')),
                "a DynamoDB table name: 3 to 255 characters, letters, digits, `_`, `-` and `.`",
            )?;
        }
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

fn parse_bytes(v: &str) -> Result<usize, ConfigError> {
    match v.trim().parse::<usize>() {
        Ok(n) if n >= 1024 => Ok(n),
        _ => Err(ConfigError::Invalid {
            name: MAX_DECOMPRESSED_BYTES,
            value: v.to_owned(),
            reason: "a whole number of bytes, at least 1024".to_owned(),
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
