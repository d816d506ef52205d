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

# One resource for every alarm: each entry names its metric, one dimension, and how it
# breaches; the actions and tags are the same for all.
locals {
  alarms = merge(
    {
      iterator_age = {
        name                = "${local.function_name}-iterator-age"
        description         = "${var.common_name}: the function is falling behind its Kinesis stream (IteratorAge above ${var.iterator_age_threshold_ms} ms)."
        namespace           = "AWS/Lambda"
        metric_name         = "IteratorAge"
        dimension           = "FunctionName"
        dimension_value     = aws_lambda_function.this.function_name
        statistic           = "Maximum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 3
        threshold           = var.iterator_age_threshold_ms
        comparison_operator = "GreaterThanThreshold"
        treat_missing_data  = "notBreaching"
      }
      errors = {
        name                = "${local.function_name}-errors"
        description         = "${var.common_name}: the function returned errors."
        namespace           = "AWS/Lambda"
        metric_name         = "Errors"
        dimension           = "FunctionName"
        dimension_value     = aws_lambda_function.this.function_name
        statistic           = "Sum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 1
        threshold           = 0
        comparison_operator = "GreaterThanThreshold"
        treat_missing_data  = "notBreaching"
      }
      throttles = {
        name                = "${local.function_name}-throttles"
        description         = "${var.common_name}: invocations of the function were throttled."
        namespace           = "AWS/Lambda"
        metric_name         = "Throttles"
        dimension           = "FunctionName"
        dimension_value     = aws_lambda_function.this.function_name
        statistic           = "Sum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 1
        threshold           = 0
        comparison_operator = "GreaterThanThreshold"
        treat_missing_data  = "notBreaching"
      }
      failure_queue_depth = {
        name                = "${local.function_name}-failure-queue-depth"
        description         = "${var.common_name}: batches or events the function gave up on wait in ${aws_sqs_queue.failures.name}."
        namespace           = "AWS/SQS"
        metric_name         = "ApproximateNumberOfMessagesVisible"
        dimension           = "QueueName"
        dimension_value     = aws_sqs_queue.failures.name
        statistic           = "Maximum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 1
        threshold           = 0
        comparison_operator = "GreaterThanThreshold"
        treat_missing_data  = "notBreaching"
      }
      kinesis_write_throttled = {
        name                = "${local.function_name}-stream-write-throttled"
        description         = "${var.common_name}: CloudWatch Logs' writes into ${aws_kinesis_stream.this.name} were throttled (add shards or use ON_DEMAND)."
        namespace           = "AWS/Kinesis"
        metric_name         = "WriteProvisionedThroughputExceeded"
        dimension           = "StreamName"
        dimension_value     = aws_kinesis_stream.this.name
        statistic           = "Sum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 1
        threshold           = 0
        comparison_operator = "GreaterThanThreshold"
        treat_missing_data  = "notBreaching"
      }
      kinesis_iterator_age = {
        name                = "${local.function_name}-stream-iterator-age"
        description         = "${var.common_name}: records wait in ${aws_kinesis_stream.this.name} (GetRecords.IteratorAgeMilliseconds above ${var.iterator_age_threshold_ms} ms); past the retention they are lost."
        namespace           = "AWS/Kinesis"
        metric_name         = "GetRecords.IteratorAgeMilliseconds"
        dimension           = "StreamName"
        dimension_value     = aws_kinesis_stream.this.name
        statistic           = "Maximum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 3
        threshold           = var.iterator_age_threshold_ms
        comparison_operator = "GreaterThanThreshold"
        treat_missing_data  = "notBreaching"
      }
      # Firehose's DeliveryToS3.Success is the share of successful S3 writes (1 when all succeed).
      firehose_delivery = {
        name                = "${local.function_name}-archive-delivery-failed"
        description         = "${var.common_name}: Firehose ${aws_kinesis_firehose_delivery_stream.archive.name} failed to write to the archive bucket (see ${aws_cloudwatch_log_group.firehose.name})."
        namespace           = "AWS/Firehose"
        metric_name         = "DeliveryToS3.Success"
        dimension           = "DeliveryStreamName"
        dimension_value     = aws_kinesis_firehose_delivery_stream.archive.name
        statistic           = "Minimum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 1
        threshold           = 1
        comparison_operator = "LessThanThreshold"
        treat_missing_data  = "notBreaching"
      }
      # No record on the commons' stream for silent_alarm_hours: the child stopped sending (a
      # removed subscription, a broken destination policy). Missing data is breaching: a
      # stream that never receives anything is silent too.
      silent = {
        name                = "${local.function_name}-silent"
        description         = "${var.common_name}: no log record reached ${aws_kinesis_stream.this.name} for ${var.silent_alarm_hours} hours; check the child account's subscriptions."
        namespace           = "AWS/Kinesis"
        metric_name         = "IncomingRecords"
        dimension           = "StreamName"
        dimension_value     = aws_kinesis_stream.this.name
        statistic           = "Sum"
        period              = 3600
        evaluation_periods  = var.silent_alarm_hours
        threshold           = 1
        comparison_operator = "LessThanThreshold"
        treat_missing_data  = "breaching"
      }
    },
    var.enable_audit_endpoint ? {
      audit_errors = {
        name                = "${local.audit_function_name}-errors"
        description         = "${var.common_name}: the audit-records endpoint's function returned errors."
        namespace           = "AWS/Lambda"
        metric_name         = "Errors"
        dimension           = "FunctionName"
        dimension_value     = aws_lambda_function.audit[0].function_name
        statistic           = "Sum"
        period              = var.alarm_period_seconds
        evaluation_periods  = 1
        threshold           = 0
        comparison_operator = "GreaterThanThreshold"
        treat_missing_data  = "notBreaching"
      }
    } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = { (each.value.dimension) = each.value.dimension_value }
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison_operator
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

# The alarms were one resource each before: existing state moves, nothing is recreated.
moved {
  from = aws_cloudwatch_metric_alarm.iterator_age
  to   = aws_cloudwatch_metric_alarm.this["iterator_age"]
}
moved {
  from = aws_cloudwatch_metric_alarm.errors
  to   = aws_cloudwatch_metric_alarm.this["errors"]
}
moved {
  from = aws_cloudwatch_metric_alarm.throttles
  to   = aws_cloudwatch_metric_alarm.this["throttles"]
}
moved {
  from = aws_cloudwatch_metric_alarm.failure_queue_depth
  to   = aws_cloudwatch_metric_alarm.this["failure_queue_depth"]
}
moved {
  from = aws_cloudwatch_metric_alarm.kinesis_write_throttled
  to   = aws_cloudwatch_metric_alarm.this["kinesis_write_throttled"]
}
moved {
  from = aws_cloudwatch_metric_alarm.kinesis_iterator_age
  to   = aws_cloudwatch_metric_alarm.this["kinesis_iterator_age"]
}
moved {
  from = aws_cloudwatch_metric_alarm.firehose_delivery
  to   = aws_cloudwatch_metric_alarm.this["firehose_delivery"]
}
moved {
  from = aws_cloudwatch_metric_alarm.silent
  to   = aws_cloudwatch_metric_alarm.this["silent"]
}
moved {
  from = aws_cloudwatch_metric_alarm.audit_errors[0]
  to   = aws_cloudwatch_metric_alarm.this["audit_errors"]
}
