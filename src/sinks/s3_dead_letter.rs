//! The dead letter in S3: one JSON object per letter at
//! `s3://$DEAD_LETTER_BUCKET/dead-letter/<source>/YYYY/MM/DD/<source>-<UTC timestamp>-<id>-<digest>.json`,
//! the date being the day the forwarder received the input (UTC). The name is unique per
//! letter ([`DeadLetter::file_name`]); the source is sanitised (never `.` or `..`).

use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};

use super::{DeadLetterSink, SinkError, SinkName};
use crate::dead_letter::DeadLetter;

/// The key prefix of every dead letter in the bucket.
pub const KEY_PREFIX: &str = "dead-letter";

/// `dead-letter/<source>/YYYY/MM/DD/<file name>` for `letter`.
pub fn object_key(letter: &DeadLetter) -> String {
    let day = DateTime::parse_from_rfc3339(&letter.received_at)
        .map(|t| t.with_timezone(&Utc).format("%Y/%m/%d").to_string())
        .unwrap_or_else(|_| "unknown-date".to_owned());
    format!(
        "{KEY_PREFIX}/{}/{day}/{}",
        crate::dead_letter::sanitize(&letter.source),
        letter.file_name()
    )
}

/// Dead letters as S3 objects.
#[derive(Debug, Clone)]
pub struct S3DeadLetter {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3DeadLetter {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// A sink whose client is built from the shared AWS configuration. With a custom
    /// endpoint (`AWS_ENDPOINT_URL`, e.g. an emulator) buckets are addressed by path.
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Self::new(aws_sdk_s3::Client::from_conf(conf), bucket)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl DeadLetterSink for S3DeadLetter {
    async fn put(&self, letter: &DeadLetter) -> Result<(), SinkError> {
        let body = serde_json::to_vec(letter).map_err(|e| SinkError::Failed {
            sink: SinkName::DeadLetter,
            message: e.to_string(),
        })?;
        let key = object_key(letter);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|err| SinkError::Failed {
                sink: SinkName::DeadLetter,
                message: format!("s3://{}/{key}: {}", self.bucket, DisplayErrorContext(&err)),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_has_source_and_received_day() {
        let at: DateTime<Utc> = "2026-01-02T03:04:05.678Z".parse().expect("time");
        let letter = DeadLetter::from_bytes("kinesis-s", "bad", at, b"x", Some("shardId-1:42"));
        let key = object_key(&letter);
        assert!(
            key.starts_with(
                "dead-letter/kinesis-s/2026/01/02/kinesis-s-20260102T030405.678Z-shardId-1_42-"
            ),
            "{key}"
        );
        assert_eq!(
            key,
            format!("dead-letter/kinesis-s/2026/01/02/{}", letter.file_name())
        );
    }

    #[test]
    fn keys_are_unique_per_letter() {
        let at: DateTime<Utc> = "2026-01-02T03:04:05.678Z".parse().expect("time");
        let keys: std::collections::HashSet<String> = ["a:b", "a/b", "a b"]
            .iter()
            .map(|id| object_key(&DeadLetter::from_bytes("s", "bad", at, b"x", Some(id))))
            .collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
    }

    #[test]
    fn a_dot_dot_source_is_no_path_segment() {
        let at: DateTime<Utc> = "2026-01-02T03:04:05.678Z".parse().expect("time");
        let key = object_key(&DeadLetter::from_bytes("..", "bad", at, b"x", None));
        assert!(key.starts_with("dead-letter/__/2026/01/02/__-"), "{key}");
        assert!(
            !key.split('/').any(|seg| seg == ".." || seg == "."),
            "{key}"
        );
    }
}
