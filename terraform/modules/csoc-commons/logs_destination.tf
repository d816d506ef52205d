################################################################################
# The CloudWatch Logs destination the child account subscribes its log groups to.
# It lives in the child's region (aws.destination); its target stream may be elsewhere.
################################################################################

data "aws_region" "destination" {
  provider = aws.destination
}

resource "aws_cloudwatch_log_destination" "this" {
  provider = aws.destination

  name       = "${local.name}_destination"
  role_arn   = aws_iam_role.logs_to_kinesis.arn
  target_arn = aws_kinesis_stream.this.arn

  lifecycle {
    precondition {
      condition     = data.aws_region.destination.id == var.child_account_region
      error_message = "The aws.destination provider must be configured for child_account_region."
    }
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.logs_to_kinesis]
}

data "aws_iam_policy_document" "destination" {
  statement {
    sid    = "ChildAccountSubscribes"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = [var.child_account_id]
    }
    actions   = ["logs:PutSubscriptionFilter"]
    resources = [aws_cloudwatch_log_destination.this.arn]
  }
}

resource "aws_cloudwatch_log_destination_policy" "this" {
  provider = aws.destination

  destination_name = aws_cloudwatch_log_destination.this.name
  access_policy    = data.aws_iam_policy_document.destination.json
}

################################################################################
# The role CloudWatch Logs assumes to put subscription data into the stream.
################################################################################

data "aws_iam_policy_document" "logs_assume" {
  statement {
    sid     = "CloudWatchLogsAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.child_account_region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = distinct([var.child_account_id, local.csoc_account_id])
    }
    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values = distinct([
        "arn:${local.partition}:logs:${var.child_account_region}:${var.child_account_id}:*",
        "arn:${local.partition}:logs:${var.child_account_region}:${local.csoc_account_id}:*",
      ])
    }
  }
}

resource "aws_iam_role" "logs_to_kinesis" {
  name                 = "${local.name}-csoc-logs-to-kinesis"
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary
  description          = "CloudWatch Logs puts ${var.common_name}'s subscription data into its Kinesis stream"
  assume_role_policy   = data.aws_iam_policy_document.logs_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "logs_to_kinesis" {
  statement {
    sid       = "PutIntoStream"
    effect    = "Allow"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
    resources = [aws_kinesis_stream.this.arn]
  }

  statement {
    sid       = "EncryptForStream"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "logs_to_kinesis" {
  name   = "put-into-stream"
  role   = aws_iam_role.logs_to_kinesis.id
  policy = data.aws_iam_policy_document.logs_to_kinesis.json
}
