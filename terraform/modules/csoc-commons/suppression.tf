################################################################################
# Alert suppression: the DynamoDB table where the forwarder's invocations claim an
# alert's fingerprint for a window (src/alerts/suppression/), so a noisy rule or a slow
# endpoint posts once per window instead of once per invocation.
################################################################################

resource "aws_dynamodb_table" "suppression" {
  count = var.enable_alert_suppression ? 1 : 0

  name         = "${local.name}-csoc-alert-suppression"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "fingerprint"

  attribute {
    name = "fingerprint"
    type = "S"
  }

  # Items outlive their window by a week (the count of suppressed matches is reported by
  # the next message), then expire.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  # Cheap for a table this small, and what checkov asks (CKV_AWS_28).
  point_in_time_recovery {
    enabled = true
  }

  tags = local.tags
}

# Least privilege: claim (PutItem), count (UpdateItem) and read (GetItem) on this table
# only. The table's key is the commons key, which the role already uses (iam_lambda.tf).
data "aws_iam_policy_document" "suppression" {
  count = var.enable_alert_suppression ? 1 : 0

  statement {
    sid    = "ClaimAlertFingerprints"
    effect = "Allow"
    actions = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:GetItem",
    ]
    resources = [aws_dynamodb_table.suppression[0].arn]
  }
}

resource "aws_iam_role_policy" "suppression" {
  count = var.enable_alert_suppression ? 1 : 0

  name   = "csoc-forwarder-alert-suppression"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.suppression[0].json
}
