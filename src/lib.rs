//! csoc-forwarder: CloudWatch Logs subscription records from Kinesis → documents →
//! OpenSearch, the Firehose archive and Slack alerts. See README.md for the flow.
//!
//! Data flows one way: [`event`] in → [`decode`] → [`document`] → [`sinks`] →
//! [`report`]. Only [`handler`] knows the order.

pub mod alerts;
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
    .with_alerts(alerts::Alerter::from_config(config))
}

/// Where Slack alerts go for `config`: `SLACK_WEBHOOK_URL`, else the webhook read from
/// the `SLACK_WEBHOOK_SECRET_ARN` secret (once: call this at cold start). `None`: neither
/// is set, keep the local files. A secret that cannot be read does not stop the
/// function: alerts are then disabled, and each one is logged and counted as failed.
pub async fn slack_alert_sink(config: &Config) -> Option<Box<dyn sinks::AlertSink>> {
    use sinks::slack::{DisabledAlerts, SlackWebhook, webhook_from_secret};
    let url = match (&config.slack_webhook_url, &config.slack_webhook_secret_arn) {
        (Some(url), _) => Ok(url.clone()),
        (None, Some(arn)) => {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            webhook_from_secret(&sdk, arn).await
        }
        (None, None) => return None,
    };
    let sink = url.and_then(SlackWebhook::new);
    Some(match sink {
        Ok(sink) => Box::new(sink),
        Err(err) => {
            tracing::error!(error = %err, "Slack alerts disabled");
            Box::new(DisabledAlerts {
                reason: err.to_string(),
            })
        }
    })
}
