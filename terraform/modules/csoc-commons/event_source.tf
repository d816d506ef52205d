################################################################################
# Kinesis -> function. Partial failures are reported per record
# (ReportBatchItemFailures); a batch that keeps failing is bisected, retried a bounded
# number of times, and then written whole to the archive bucket (S3 on-failure
# destination: the invocation record with the batch's records, under
# aws/lambda/<mapping uuid>/<shard id>/YYYY/MM/DD/). An SQS destination would keep only
# the batch's shard and sequence numbers, which point at records the stream deletes after
# its retention (24 h by default): nothing is lost after 24 hours with S3.
################################################################################

resource "aws_lambda_event_source_mapping" "kinesis" {
  event_source_arn  = aws_kinesis_stream.this.arn
  function_name     = aws_lambda_function.this.arn
  starting_position = "TRIM_HORIZON"

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor

  bisect_batch_on_function_error = true
  maximum_retry_attempts         = var.maximum_retry_attempts
  maximum_record_age_in_seconds  = var.maximum_record_age_in_seconds
  function_response_types        = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_s3_bucket.archive.arn
    }
  }

  depends_on = [aws_iam_role_policy.lambda]
}

resource "aws_sqs_queue" "failures" {
  name                              = "${local.name}-csoc-forwarder-failures"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 300

  tags = local.tags
}
