resource "aws_kms_key" "this" {
  description             = "csoc-forwarder OpenSearch domain ${var.domain_name}: data at rest and logs"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.kms.json

  # Deleting the key makes every index of the domain unreadable.
  lifecycle {
    prevent_destroy = true
  }

  tags = local.tags
}

# The key policy. In a key policy "*" as the resource means "this key" and nothing else.
data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:Key policy: its resource "*" is this key alone, and the writers are this account and CloudWatch Logs scoped by a condition.
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

  # OpenSearch Service uses the key through grants created by the calling principal,
  # which IAM policies in this account authorise.
  statement {
    sid    = "AccountIamPoliciesUseKey"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "CloudWatchLogsEncryptsLogGroups"
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
