//! The table of every environment variable the binary reads: [`ENV_VARS`] is the one
//! source of truth for names, defaults and docs (the README table and the Terraform
//! Lambda environment are checked against it by tests).

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
pub const DELIVERY_CHUNK_BYTES: &str = "DELIVERY_CHUNK_BYTES";
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
pub const OPENSEARCH_FREEFORM: &str = "OPENSEARCH_FREEFORM";
pub const SCRUB: &str = "SCRUB";
pub const SCRUB_PATTERNS: &str = "SCRUB_PATTERNS";
pub const ARCHIVE_SINK: &str = "ARCHIVE_SINK";
pub const DEAD_LETTER_BUCKET: &str = "DEAD_LETTER_BUCKET";
pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
pub const SLOW_LOG_STREAMS: &str = "SLOW_LOG_STREAMS";
pub const SLACK_WEBHOOK_SECRET_ARN: &str = "SLACK_WEBHOOK_SECRET_ARN";
pub const SLACK_WEBHOOK_URL: &str = "SLACK_WEBHOOK_URL";
pub const DASHBOARDS_URL: &str = "DASHBOARDS_URL";
pub const ALERT_RULES: &str = "ALERT_RULES";
pub const PROCESS_TIME_BUDGET: &str = "PROCESS_TIME_BUDGET";

/// Default `PROCESS_TIME_BUDGET`, in seconds.
pub const DEFAULT_PROCESS_TIME_BUDGET_SECS: u64 = 60;
/// The smallest `PROCESS_TIME_BUDGET`: more than the handler's safety margin.
pub const MIN_PROCESS_TIME_BUDGET_SECS: u64 = 5;

/// Default `INDEX_PREFIX`: documents go to `<prefix>-YYYY.MM.DD`.
pub const DEFAULT_INDEX_PREFIX: &str = "csoc-logs";
/// Default `MAX_DECOMPRESSED_BYTES`: 8 MiB.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 8 * 1024 * 1024;
/// `MAX_DECOMPRESSED_BYTES` may not exceed this (64 MiB): memory is bounded by it.
pub const MAX_MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;
/// Default `DELIVERY_CHUNK_BYTES`: 4 MiB of documents are flushed to the sinks at once.
pub const DEFAULT_DELIVERY_CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// The range `DELIVERY_CHUNK_BYTES` may take: 64 KiB to 32 MiB.
pub const DELIVERY_CHUNK_BYTES_RANGE: std::ops::RangeInclusive<usize> =
    64 * 1024..=32 * 1024 * 1024;
/// Default `METRICS_NAMESPACE`.
pub const DEFAULT_METRICS_NAMESPACE: &str = "CSOC/Forwarder";
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
        doc: "Hard cap on the gunzipped size of one Kinesis record, and on an audit-records body as sent and once gunzipped (bytes, 1024 to 67108864).",
        lambda: false,
    },
    EnvVar {
        name: DELIVERY_CHUNK_BYTES,
        default: Some("4194304"),
        doc: "Documents of a Kinesis batch are delivered in chunks: a chunk goes to the index and the archive when its documents reach this many bytes (65536 to 33554432); bounds memory (README, \"Memory and time\").",
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
        doc: "Days an index is kept (ISM policy for `<INDEX_PREFIX>-*`, where the cluster supports it; overrides the shared `csoc-logs-*` policy for a longer prefix); `0` puts no policy.",
        lambda: true,
    },
    EnvVar {
        name: OPENSEARCH_FREEFORM,
        default: Some("auto"),
        doc: "How CloudTrail `requestParameters`, `responseElements`, `additionalEventData`, `serviceEventDetails` are mapped and stored: `flat_object` (OpenSearch 2.7+, objects kept), `text` (JSON text), or `auto`: `flat_object` unless the cluster refuses the type when the template is put (text without a template, and in the local files).",
        lambda: false,
    },
    EnvVar {
        name: SCRUB,
        default: Some("on"),
        doc: "`off` turns [credential scrubbing](#credential-scrubbing) off.",
        lambda: false,
    },
    EnvVar {
        name: SCRUB_PATTERNS,
        default: None,
        doc: "More scrubbing patterns: a JSON object of names to regular expressions (a group named `secret` is what gets redacted, else the whole match). Validated at start.",
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
        doc: "CloudTrail alert rules replacing the defaults: inline JSON, or the path of a JSON file (format in \"Slack alerts\"). Validated at start.",
        lambda: false,
    },
    EnvVar {
        name: PROCESS_TIME_BUDGET,
        default: Some("60"),
        doc: "`process` only: seconds each input file may take, retries included (at least 5); what is still failing then is left for retry (exit 3).",
        lambda: false,
    },
];

/// The names the deployed Lambda function is given by Terraform.
pub fn lambda_env_names() -> impl Iterator<Item = &'static str> {
    ENV_VARS.iter().filter(|v| v.lambda).map(|v| v.name)
}
