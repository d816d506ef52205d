//! S3 Batch Operations "Invoke AWS Lambda function" events, schema 1.0 and 2.0: each
//! task names one object (an archive object or a dead letter) to replay; the answer
//! gives each task's result code.
//!
//! Schema 1.0 names the bucket by ARN (`s3BucketArn`), 2.0 by name (`s3Bucket`) and adds
//! the job's `userArguments`. Keys arrive URL-encoded (`+` for a space).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An S3 Batch Operations invocation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchEvent {
    pub invocation_schema_version: String,
    pub invocation_id: String,
    #[serde(default)]
    pub job: Job,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    #[serde(default)]
    pub id: String,
    /// Schema 2.0: the `UserArguments` of the job (see [`Options`]).
    #[serde(default)]
    pub user_arguments: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_id: String,
    /// URL-encoded.
    pub s3_key: String,
    #[serde(default)]
    pub s3_version_id: Option<String>,
    /// Schema 1.0.
    #[serde(default)]
    pub s3_bucket_arn: Option<String>,
    /// Schema 2.0.
    #[serde(default)]
    pub s3_bucket: Option<String>,
}

impl Task {
    /// The bucket name, from `s3Bucket` or the ARN.
    pub fn bucket(&self) -> Option<&str> {
        match (&self.s3_bucket, &self.s3_bucket_arn) {
            (Some(b), _) if !b.is_empty() => Some(b),
            (_, Some(arn)) => arn
                .strip_prefix("arn:")
                .and_then(|a| a.split_once(":s3:::"))
                .map(|(_, bucket)| bucket)
                .filter(|b| !b.is_empty()),
            _ => None,
        }
    }

    /// The object key, URL-decoded.
    pub fn key(&self) -> String {
        let spaced = self.s3_key.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    }
}

/// What the job's `userArguments` may set (schema 2.0): `alerts` (`true` runs the alert
/// rules on dead-lettered Kinesis records replayed) and `deleteReplayed` (`true` deletes
/// a replayed dead letter instead of moving it under `replayed/`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub alerts: bool,
    pub delete_replayed: bool,
}

impl Options {
    pub fn of(job: &Job) -> Self {
        let yes = |k: &str| {
            job.user_arguments
                .get(k)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        };
        Self {
            alerts: yes("alerts"),
            delete_replayed: yes("deleteReplayed"),
        }
    }
}

/// A task's result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultCode {
    Succeeded,
    /// S3 Batch Operations retries the task.
    TemporaryFailure,
    /// The task failed for good; `resultString` says why.
    PermanentFailure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub task_id: String,
    pub result_code: ResultCode,
    pub result_string: String,
}

/// The function's answer to S3 Batch Operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub invocation_schema_version: String,
    pub treat_missing_keys_as: ResultCode,
    pub invocation_id: String,
    pub results: Vec<TaskResult>,
}

impl BatchResponse {
    /// The answer to `event` with `results` (one per task, in order).
    pub fn new(event: &BatchEvent, results: Vec<TaskResult>) -> Self {
        Self {
            invocation_schema_version: event.invocation_schema_version.clone(),
            treat_missing_keys_as: ResultCode::PermanentFailure,
            invocation_id: event.invocation_id.clone(),
            results,
        }
    }
}

/// The longest `resultString` kept (S3 writes it into the completion report).
pub const MAX_RESULT_STRING: usize = 1024;

/// `text` cut to [`MAX_RESULT_STRING`] bytes at a character boundary.
pub fn result_string(text: &str) -> String {
    if text.len() <= MAX_RESULT_STRING {
        return text.to_owned();
    }
    let mut cut = MAX_RESULT_STRING;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemas_name_bucket_and_key() {
        let v1: BatchEvent = serde_json::from_str(
            r#"{"invocationSchemaVersion":"1.0","invocationId":"inv","job":{"id":"j"},
                "tasks":[{"taskId":"t","s3Key":"dead-letter/a+b/x%2By.json","s3VersionId":null,
                          "s3BucketArn":"arn:aws:s3:::my-bucket"}]}"#,
        )
        .expect("1.0");
        assert_eq!(v1.tasks[0].bucket(), Some("my-bucket"));
        assert_eq!(v1.tasks[0].key(), "dead-letter/a b/x+y.json");
        assert_eq!(Options::of(&v1.job), Options::default());
        let v2: BatchEvent = serde_json::from_str(
            r#"{"invocationSchemaVersion":"2.0","invocationId":"inv","job":{"id":"j",
                "userArguments":{"alerts":"true"}},
                "tasks":[{"taskId":"t","s3Key":"2026/01/02/03/x.gz","s3VersionId":"1",
                          "s3Bucket":"archive"}]}"#,
        )
        .expect("2.0");
        assert_eq!(v2.tasks[0].bucket(), Some("archive"));
        assert_eq!(v2.tasks[0].key(), "2026/01/02/03/x.gz");
        assert!(Options::of(&v2.job).alerts);
        let answer = serde_json::to_value(BatchResponse::new(
            &v2,
            vec![TaskResult {
                task_id: "t".into(),
                result_code: ResultCode::TemporaryFailure,
                result_string: "later".into(),
            }],
        ))
        .expect("json");
        assert_eq!(
            answer,
            serde_json::json!({"invocationSchemaVersion":"2.0","treatMissingKeysAs":"PermanentFailure",
                "invocationId":"inv","results":[{"taskId":"t","resultCode":"TemporaryFailure","resultString":"later"}]})
        );
    }

    #[test]
    fn the_event_kind_is_detected_by_shape() {
        let event = br#"{"invocationSchemaVersion":"1.0","invocationId":"i","job":{"id":"j"},
            "tasks":[{"taskId":"t","s3Key":"k","s3VersionId":null,"s3BucketArn":"arn:aws:s3:::b"}]}"#;
        match crate::event::parse(event) {
            Ok(crate::event::Input::S3Batch(batch)) => assert_eq!(batch.tasks.len(), 1),
            other => panic!("{other:?}"),
        }
        let err = crate::event::parse(br#"{"invocationSchemaVersion":"1.0","tasks":[{}]}"#)
            .expect_err("malformed");
        assert_eq!(err.kind(), crate::event::EventKind::S3Batch);
    }

    #[test]
    fn result_strings_are_capped_at_a_character_boundary() {
        let long = "é".repeat(MAX_RESULT_STRING);
        let cut = result_string(&long);
        assert!(cut.len() <= MAX_RESULT_STRING);
        assert!(long.starts_with(&cut));
    }
}
