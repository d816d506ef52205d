################################################################################
# Optional: the commons' CloudTrail management events (API calls and console sign-ins),
# sent by the child account's rule (child-subscription module,
# enable_eventbridge_forwarding) to event_bus_name in the CSOC account, go to the function
# too (asynchronously: failed invocations land in the function's dead-letter queue, the
# failure queue). The rule matches only events of child_account_id: 30 commons share the
# bus and each indexes only its own account's events.
################################################################################

# One statement per commons on the shared bus (a whole-bus policy resource would let the
# last commons applied replace the others').
resource "aws_cloudwatch_event_permission" "child" {
  count = var.enable_cloudtrail_events ? 1 : 0

  principal      = var.child_account_id
  statement_id   = "csoc-${var.common_name}"
  action         = "events:PutEvents"
  event_bus_name = var.event_bus_name
}

resource "aws_cloudwatch_event_rule" "cloudtrail" {
  count = var.enable_cloudtrail_events ? 1 : 0

  name           = "${local.name}-csoc-cloudtrail"
  description    = "CloudTrail API calls and console sign-ins to csoc-forwarder (${var.common_name})"
  event_bus_name = var.event_bus_name
  event_pattern = jsonencode({
    account = [var.child_account_id]
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
