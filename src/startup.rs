//! Start-up wiring, once per cold start: the sinks and the alerter the configuration
//! asks for, and the [`Pipeline`] made of them. `main.rs` reads the configuration, then
//! calls [`pipeline`].

use crate::config::{ArchiveSinkKind, Config};
use crate::document::{DocumentBuilder, Limits};
use crate::pipeline::Pipeline;
use crate::sinks::{self, Sinks};
use crate::{alerts, aws};

/// The sinks `config` asks for, built once per cold start: the local file sinks under
/// `OUT_DIR`, with each configured remote sink in its place — the OpenSearch cluster
/// when `OPENSEARCH_URL` is set (one client, reused across invocations), Firehose for
/// the archive, S3 for dead letters, the Slack webhook for alerts. The AWS configuration is loaded once, and only
/// when a remote AWS sink needs it.
pub async fn build_sinks(config: &Config) -> Result<Sinks, StartError> {
    let mut built = sinks::local::sinks(&config.out_dir, &config.firehose_stream);
    if let Some(os) = &config.opensearch {
        built.index =
            Box::new(sinks::opensearch::OpenSearchIndex::connect(os, &config.index_prefix).await?);
    }
    let firehose = config.archive_sink == ArchiveSinkKind::Firehose;
    let slack_secret =
        config.slack_webhook_url.is_none() && config.slack_webhook_secret_arn.is_some();
    let sdk = if firehose || config.dead_letter_bucket.is_some() || slack_secret {
        Some(aws::sdk_config().await)
    } else {
        None
    };
    if let Some(sdk) = &sdk {
        if firehose {
            built.archive = Box::new(sinks::firehose::FirehoseArchive::from_sdk_config(
                sdk,
                &config.firehose_stream,
            ));
        }
        if let Some(bucket) = &config.dead_letter_bucket {
            built.dead_letter = Box::new(sinks::s3_dead_letter::S3DeadLetter::from_sdk_config(
                sdk, bucket,
            ));
        }
    }
    if let Some(alerts) = slack_alert_sink(config, sdk.as_ref()).await {
        built.alerts = alerts;
    }
    Ok(built)
}

/// The pipeline for `config` with [`build_sinks`]. The alert rules load first: a rule
/// that cannot be used stops the start, naming its file.
pub async fn pipeline(config: &Config) -> Result<Pipeline, StartError> {
    let mut alerter = alerts::Alerter::from_config(config)?;
    if let Some(table) = &config.suppression_table {
        let sdk = aws::sdk_config().await;
        alerter = alerter.with_suppression(std::sync::Arc::new(
            alerts::suppression::dynamodb::DynamoDbSuppression::from_sdk_config(&sdk, table),
        ));
    }
    let sinks = build_sinks(config).await?;
    // Documents carry the CloudTrail free-form objects as the index maps them.
    let builder =
        DocumentBuilder::new(&config.common_name, &config.index_prefix, Limits::default())
            .with_free_form_objects(sinks.index.free_form() == crate::config::FreeForm::FlatObject);
    Ok(Pipeline::with_parts(
        config.max_decompressed_bytes,
        builder,
        sinks,
        alerter,
        config.scrub.clone(),
    )
    .with_chunk_bytes(config.delivery_chunk_bytes))
}

/// Why the pipeline could not be built at start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    OpenSearch(#[from] sinks::opensearch::ConnectError),
    #[error(transparent)]
    Rules(#[from] alerts::sigma::LoadError),
}

/// Where Slack alerts go for `config`: `SLACK_WEBHOOK_URL`, else the webhook read from
/// the `SLACK_WEBHOOK_SECRET_ARN` secret (once, at cold start). `None`: neither is set,
/// keep the local files. A secret that cannot be read does not stop the function:
/// alerts are then disabled, and each one is logged and counted as failed.
async fn slack_alert_sink(
    config: &Config,
    sdk: Option<&aws_config::SdkConfig>,
) -> Option<Box<dyn sinks::AlertSink>> {
    use sinks::slack::{DisabledAlerts, SlackWebhook, webhook_from_secret};
    let url = match (
        &config.slack_webhook_url,
        &config.slack_webhook_secret_arn,
        sdk,
    ) {
        (Some(url), _, _) => Ok(url.clone()),
        (None, Some(arn), Some(sdk)) => webhook_from_secret(sdk, arn).await,
        _ => return None,
    };
    Some(match url.and_then(SlackWebhook::new) {
        Ok(sink) => Box::new(sink),
        Err(err) => {
            tracing::error!(error = %err, "Slack alerts disabled");
            Box::new(DisabledAlerts {
                reason: err.to_string(),
            })
        }
    })
}
