################################################################################
# Alarms: the stream falls behind (IteratorAge) or is throttled on write, the commons goes
# silent, the function fails or is throttled, events reach the failure queue, the archive
# delivery fails, the audit-records endpoint (when enabled) fails.
# They notify the optional topic and/or alarm_topic_arn.
################################################################################

resource "aws_sns_topic" "alarms" {
  count = var.create_alarm_topic ? 1 : 0

  name              = "${local.name}-csoc-forwarder-alarms"
  kms_master_key_id = aws_kms_key.this.arn

  tags = local.tags
}

locals {
  alarm_actions = compact(concat(aws_sns_topic.alarms[*].arn, [var.alarm_topic_arn]))
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name          = "${local.function_name}-iterator-age"
  alarm_description   = "${var.common_name}: the function is falling behind its Kinesis stream (IteratorAge above ${var.iterator_age_threshold_ms} ms)."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 3
  threshold           = var.iterator_age_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${local.function_name}-errors"
  alarm_description   = "${var.common_name}: the function returned errors."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "audit_errors" {
  count = var.enable_audit_endpoint ? 1 : 0

  alarm_name          = "${local.audit_function_name}-errors"
  alarm_description   = "${var.common_name}: the audit-records endpoint's function returned errors."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.audit[0].function_name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${local.function_name}-throttles"
  alarm_description   = "${var.common_name}: invocations of the function were throttled."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "failure_queue_depth" {
  alarm_name          = "${local.function_name}-failure-queue-depth"
  alarm_description   = "${var.common_name}: batches or events the function gave up on wait in ${aws_sqs_queue.failures.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failures.name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "kinesis_write_throttled" {
  alarm_name          = "${local.function_name}-stream-write-throttled"
  alarm_description   = "${var.common_name}: CloudWatch Logs' writes into ${aws_kinesis_stream.this.name} were throttled (add shards or use ON_DEMAND)."
  namespace           = "AWS/Kinesis"
  metric_name         = "WriteProvisionedThroughputExceeded"
  dimensions          = { StreamName = aws_kinesis_stream.this.name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "kinesis_iterator_age" {
  alarm_name          = "${local.function_name}-stream-iterator-age"
  alarm_description   = "${var.common_name}: records wait in ${aws_kinesis_stream.this.name} (GetRecords.IteratorAgeMilliseconds above ${var.iterator_age_threshold_ms} ms); past the retention they are lost."
  namespace           = "AWS/Kinesis"
  metric_name         = "GetRecords.IteratorAgeMilliseconds"
  dimensions          = { StreamName = aws_kinesis_stream.this.name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 3
  threshold           = var.iterator_age_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

# Firehose's DeliveryToS3.Success is the share of successful S3 writes (1 when all succeed).
resource "aws_cloudwatch_metric_alarm" "firehose_delivery" {
  alarm_name          = "${local.function_name}-archive-delivery-failed"
  alarm_description   = "${var.common_name}: Firehose ${aws_kinesis_firehose_delivery_stream.archive.name} failed to write to the archive bucket (see ${aws_cloudwatch_log_group.firehose.name})."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.Success"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.archive.name }
  statistic           = "Minimum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

# No record on the commons' stream for silent_alarm_hours: the child stopped sending (a
# removed subscription, a broken destination policy). Missing data is breaching: a stream
# that never receives anything is silent too.
resource "aws_cloudwatch_metric_alarm" "silent" {
  alarm_name          = "${local.function_name}-silent"
  alarm_description   = "${var.common_name}: no log record reached ${aws_kinesis_stream.this.name} for ${var.silent_alarm_hours} hours; check the child account's subscriptions."
  namespace           = "AWS/Kinesis"
  metric_name         = "IncomingRecords"
  dimensions          = { StreamName = aws_kinesis_stream.this.name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = var.silent_alarm_hours
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}
