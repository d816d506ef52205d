################################################################################
# Optional: this account's CloudTrail management events go to the CSOC's event bus,
# where the commons' rule (csoc-commons, enable_cloudtrail_events) matches only this
# account and invokes the forwarder.
################################################################################

resource "aws_cloudwatch_event_rule" "to_csoc" {
  count = var.enable_eventbridge_forwarding ? 1 : 0

  name        = "${var.common_name}-csoc-cloudtrail"
  description = "CloudTrail management events of ${var.common_name} to the CSOC event bus"
  event_pattern = jsonencode({
    detail-type = [
      "AWS API Call via CloudTrail",
      "AWS Console Sign In via CloudTrail",
    ]
  })

  lifecycle {
    precondition {
      condition     = var.csoc_event_bus_arn != null
      error_message = "csoc_event_bus_arn is required when enable_eventbridge_forwarding is true."
    }
  }

  tags = local.tags
}

resource "aws_cloudwatch_event_target" "to_csoc" {
  count = var.enable_eventbridge_forwarding ? 1 : 0

  rule      = aws_cloudwatch_event_rule.to_csoc[0].name
  target_id = "csoc-event-bus"
  arn       = var.csoc_event_bus_arn
  role_arn  = aws_iam_role.eventbridge[0].arn
}

data "aws_iam_policy_document" "eventbridge_assume" {
  statement {
    sid     = "EventBridgeAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "eventbridge" {
  count = var.enable_eventbridge_forwarding ? 1 : 0

  name                 = "${var.common_name}-csoc-events-to-csoc"
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary
  description          = "EventBridge sends ${var.common_name}'s CloudTrail events to the CSOC event bus"
  assume_role_policy   = data.aws_iam_policy_document.eventbridge_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "eventbridge" {
  statement {
    sid       = "PutOnCsocBus"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [coalesce(var.csoc_event_bus_arn, "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/unset")]
  }
}

resource "aws_iam_role_policy" "eventbridge" {
  count = var.enable_eventbridge_forwarding ? 1 : 0

  name   = "put-on-csoc-bus"
  role   = aws_iam_role.eventbridge[0].id
  policy = data.aws_iam_policy_document.eventbridge.json
}
