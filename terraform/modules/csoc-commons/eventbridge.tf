################################################################################
# Optional: CloudTrail API calls and console sign-ins on an event bus go to the
# function too (asynchronously: failed invocations land in the function's
# dead-letter queue, the failure queue).
################################################################################

resource "aws_cloudwatch_event_rule" "cloudtrail" {
  count = var.enable_cloudtrail_events ? 1 : 0

  name           = "${local.name}-csoc-cloudtrail"
  description    = "CloudTrail API calls and console sign-ins to csoc-forwarder (${var.common_name})"
  event_bus_name = var.event_bus_name
  event_pattern = jsonencode({
    detail-type = [
      "AWS API Call via CloudTrail",
      "AWS Console Sign In via CloudTrail",
    ]
  })

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "cloudtrail" {
  count = var.enable_cloudtrail_events ? 1 : 0

  rule           = aws_cloudwatch_event_rule.cloudtrail[0].name
  event_bus_name = var.event_bus_name
  target_id      = "csoc-forwarder"
  arn            = aws_lambda_function.this.arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 3
  }
}

resource "aws_lambda_permission" "cloudtrail" {
  count = var.enable_cloudtrail_events ? 1 : 0

  statement_id  = "AllowEventBridgeCloudTrail"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.cloudtrail[0].arn
}
