output "destination_arn" {
  description = "ARN of the CloudWatch Logs destination; give it to the child account (child-subscription module's destination_arn)."
  value       = aws_cloudwatch_log_destination.this.arn
}

output "kinesis_stream_arn" {
  description = "ARN of the commons' Kinesis stream."
  value       = aws_kinesis_stream.this.arn
}

output "lambda_function_name" {
  description = "Name of the csoc-forwarder function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_arn" {
  description = "ARN of the csoc-forwarder function."
  value       = aws_lambda_function.this.arn
}

output "lambda_role_arn" {
  description = "ARN of the function's role; admit it in the OpenSearch domain's access policy (opensearch-domain module's function_role_arns) and map it to an OpenSearch role."
  value       = aws_iam_role.lambda.arn
}

output "lambda_environment_names" {
  description = "Names of the environment variables set on the function."
  value       = sort(keys(aws_lambda_function.this.environment[0].variables))
}

output "firehose_stream_name" {
  description = "Name of the Firehose delivery stream (FIREHOSE_STREAM)."
  value       = aws_kinesis_firehose_delivery_stream.archive.name
}

output "archive_bucket_name" {
  description = "Name of the commons' archive bucket (logs/<commons>/, errors/<commons>/, dead-letter/)."
  value       = aws_s3_bucket.archive.id
}

output "failure_queue_url" {
  description = "URL of the SQS queue holding batches and events the function gave up on."
  value       = aws_sqs_queue.failures.url
}

output "slack_webhook_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the Slack webhook."
  value       = aws_secretsmanager_secret.slack_webhook.arn
}

output "kms_key_arn" {
  description = "ARN of the commons' KMS key."
  value       = aws_kms_key.this.arn
}

output "alarm_topic_arn" {
  description = "ARN of the created alarm topic, or null."
  value       = one(aws_sns_topic.alarms[*].arn)
}

output "audit_endpoint_url" {
  description = "URL of the audit-records endpoint (POST /<node-name>, SigV4-signed for service lambda), or null when enable_audit_endpoint is false."
  value       = one(aws_lambda_function_url.audit[*].function_url)
}

output "audit_function_name" {
  description = "Name of the audit-records endpoint's function, or null when enable_audit_endpoint is false."
  value       = one(aws_lambda_function.audit[*].function_name)
}

output "audit_invoker_policy_json" {
  description = "Identity policy (JSON) for the audit endpoint's callers, to attach in their own account: lambda:InvokeFunctionUrl (AWS_IAM) and lambda:InvokeFunction only via the function URL; null when enable_audit_endpoint is false."
  value       = one(data.aws_iam_policy_document.audit_invoker[*].json)
}

output "audit_role_arn" {
  description = "ARN of the audit-records endpoint's role, or null when enable_audit_endpoint is false; admit it in the OpenSearch domain's access policy (opensearch-domain module's function_role_arns) and map it to an OpenSearch role."
  value       = one(aws_iam_role.audit[*].arn)
}

output "index_prefix" {
  description = "Index prefix of this commons (INDEX_PREFIX): its documents are in <prefix>-YYYY.MM.DD, and its role may write only there."
  value       = local.index_prefix
}

output "batch_operations_role_arn" {
  description = "ARN of the role for S3 Batch Operations replay jobs (`aws s3control create-job --role-arn`), or null when enable_batch_operations_replay is false."
  value       = one(aws_iam_role.batch_operations[*].arn)
}

output "event_bus_arn" {
  description = "ARN of the CSOC event bus the child side forwards CloudTrail events to (its csoc_event_bus_arn); null unless enable_cloudtrail_events."
  value       = var.enable_cloudtrail_events ? "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${var.event_bus_name}" : null
}
