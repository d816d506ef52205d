################################################################################
# Optional CloudTrail -> CloudWatch Logs group -> the CSOC destination.
################################################################################

resource "aws_kms_key" "cloudtrail" {
  count = var.enable_cloudtrail ? 1 : 0

  description             = "csoc-forwarder ${var.common_name}: CloudTrail log files and log group"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.cloudtrail_kms.json

  tags = local.tags
}

# The key policy. In a key policy "*" as the resource means "this key" and nothing else.
data "aws_iam_policy_document" "cloudtrail_kms" {
  #checkov:skip=CKV_AWS_111:Key policy: its resource "*" is this key alone, and the writers are this account and two AWS services scoped by conditions.
  #checkov:skip=CKV_AWS_356:Key policy: the resource "*" of a key policy is the key it is attached to; no other resource can be named.
  #checkov:skip=CKV_AWS_109:Key policy: key administration is granted to this account's root (IAM decides who), on this key only.
  statement {
    sid    = "AccountAdministersKey"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:CancelKeyDeletion",
      "kms:Create*",
      "kms:Delete*",
      "kms:Describe*",
      "kms:Disable*",
      "kms:Enable*",
      "kms:Get*",
      "kms:List*",
      "kms:Put*",
      "kms:Revoke*",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:Update*",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "AccountIamPoliciesUseKey"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "CloudTrailEncryptsLogFiles"
    effect = "Allow"
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    actions = [
      "kms:DescribeKey",
      "kms:GenerateDataKey*",
    ]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid    = "CloudWatchLogsEncryptsLogGroup"
    effect = "Allow"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_cloudwatch_log_group" "cloudtrail" {
  count = var.enable_cloudtrail ? 1 : 0

  name              = "/aws/cloudtrail/${var.common_name}-csoc"
  retention_in_days = var.cloudtrail_log_retention_days
  kms_key_id        = aws_kms_key.cloudtrail[0].arn

  tags = local.tags
}

data "aws_iam_policy_document" "cloudtrail_assume" {
  statement {
    sid     = "CloudTrailAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "cloudtrail" {
  count = var.enable_cloudtrail ? 1 : 0

  name                 = "${var.common_name}-csoc-cloudtrail-to-logs"
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary
  description          = "CloudTrail delivers ${var.common_name}'s trail to CloudWatch Logs"
  assume_role_policy   = data.aws_iam_policy_document.cloudtrail_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "cloudtrail_to_logs" {
  statement {
    sid    = "DeliverToLogGroup"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/cloudtrail/${var.common_name}-csoc:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "cloudtrail" {
  count = var.enable_cloudtrail ? 1 : 0

  name   = "deliver-to-log-group"
  role   = aws_iam_role.cloudtrail[0].id
  policy = data.aws_iam_policy_document.cloudtrail_to_logs.json
}

resource "aws_cloudtrail" "this" {
  #checkov:skip=CKV_AWS_252:The trail's consumer is the CloudWatch Logs subscription to the CSOC, not SNS notifications of log-file delivery.
  count = var.enable_cloudtrail ? 1 : 0

  name                          = "${var.common_name}-csoc"
  s3_bucket_name                = var.cloudtrail_s3_bucket_name
  include_global_service_events = true
  is_multi_region_trail         = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.cloudtrail[0].arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.cloudtrail[0].arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.cloudtrail[0].arn

  lifecycle {
    precondition {
      condition     = var.cloudtrail_s3_bucket_name != null
      error_message = "cloudtrail_s3_bucket_name is required when enable_cloudtrail is true."
    }
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.cloudtrail]
}

resource "aws_cloudwatch_log_subscription_filter" "cloudtrail" {
  count = var.enable_cloudtrail ? 1 : 0

  name            = "${var.common_name}-csoc"
  log_group_name  = aws_cloudwatch_log_group.cloudtrail[0].name
  filter_pattern  = var.filter_pattern
  destination_arn = var.destination_arn
}
