//! The DynamoDB adapter of [`SuppressionStore`]: one item per fingerprint.
//!
//! Item: `fingerprint` (S, the hash key), `until` (N, epoch seconds the claim holds),
//! `suppressed` (N, matches held back since the last message), `label` (S, readable)
//! and `expires_at` (N, the table's TTL attribute: a week after `until`, so a count
//! outlives its window long enough to be reported).
//!
//! A claim is one conditional `PutItem` (`attribute_not_exists(fingerprint) OR until <=
//! :now`, returning the old item for its count); when the condition fails another
//! message holds the fingerprint, and an `UpdateItem` adds the matches to `suppressed`.
//! DynamoDB serialises conditional writes on an item: of concurrent claims, one wins.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{Claim, ClaimRequest, SuppressionError, SuppressionStore, until};

/// How long an item outlives its window (seconds) before TTL removes it.
const KEEP_AFTER_WINDOW: i64 = 7 * 24 * 3600;

/// Claims fingerprints in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoDbSuppression {
    client: Client,
    table: String,
}

impl DynamoDbSuppression {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// With a client built from the shared AWS configuration.
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), table)
    }

    fn err(&self, what: &str, e: impl std::error::Error) -> SuppressionError {
        SuppressionError(format!(
            "{what} on table {}: {}",
            self.table,
            DisplayErrorContext(e)
        ))
    }

    /// Claims when the fingerprint is free or its window is over; `None` when held.
    async fn put(&self, req: &ClaimRequest<'_>) -> Result<Option<u64>, SuppressionError> {
        let until = until(req.now, req.window);
        let n = |v: i64| AttributeValue::N(v.to_string());
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("fingerprint", AttributeValue::S(req.fingerprint.to_owned()))
            .item("until", n(until))
            .item("expires_at", n(until.saturating_add(KEEP_AFTER_WINDOW)))
            .item("suppressed", n(0))
            .item("label", AttributeValue::S(req.label.to_owned()))
            .condition_expression("attribute_not_exists(fingerprint) OR #until <= :now")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", n(req.now.timestamp()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match out {
            Ok(out) => Ok(Some(count(out.attributes()))),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(None)
            }
            Err(e) => Err(self.err("PutItem", e)),
        }
    }

    /// Adds the matches to a held fingerprint; `false` when it is no longer held.
    async fn count_suppressed(&self, req: &ClaimRequest<'_>) -> Result<bool, SuppressionError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("fingerprint", AttributeValue::S(req.fingerprint.to_owned()))
            .update_expression("ADD suppressed :m")
            .condition_expression("attribute_exists(fingerprint) AND #until > :now")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":m", AttributeValue::N(req.matches.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(req.now.timestamp().to_string()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(false)
            }
            Err(e) => Err(self.err("UpdateItem", e)),
        }
    }
}

fn count(item: Option<&HashMap<String, AttributeValue>>) -> u64 {
    item.and_then(|i| i.get("suppressed"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[async_trait]
impl SuppressionStore for DynamoDbSuppression {
    async fn claim(&self, req: &ClaimRequest<'_>) -> Result<Claim, SuppressionError> {
        // Twice at most: a window may end between the failed put and the update.
        for _ in 0..2 {
            if let Some(suppressed) = self.put(req).await? {
                return Ok(Claim::Post { suppressed });
            }
            if self.count_suppressed(req).await? {
                return Ok(Claim::Suppressed);
            }
        }
        Err(SuppressionError(format!(
            "fingerprint {} neither claimed nor held on table {}",
            req.fingerprint, self.table
        )))
    }
}
