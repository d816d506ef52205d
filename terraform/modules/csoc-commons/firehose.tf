################################################################################
# Firehose: the function archives every record here; GZIP objects under a
# per-commons prefix of the archive bucket.
################################################################################

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/aws/kinesisfirehose/${local.firehose_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = local.tags
}

resource "aws_cloudwatch_log_stream" "firehose_s3" {
  name           = "S3Delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_kinesis_firehose_delivery_stream" "archive" {
  name        = local.firehose_name
  destination = "extended_s3"

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = aws_kms_key.this.arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = aws_s3_bucket.archive.arn
    prefix              = "logs/${var.common_name}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/"
    error_output_prefix = "errors/${var.common_name}/!{firehose:error-output-type}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/"
    compression_format  = "GZIP"
    buffering_size      = var.firehose_buffering_size
    buffering_interval  = var.firehose_buffering_interval
    kms_key_arn         = aws_kms_key.this.arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose_s3.name
    }
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.firehose]
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    sid     = "FirehoseAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name                 = "${local.name}-csoc-firehose"
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary
  description          = "Firehose of ${var.common_name} writes the archive to S3"
  assume_role_policy   = data.aws_iam_policy_document.firehose_assume.json

  tags = local.tags
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid    = "ArchiveBucket"
    effect = "Allow"
    actions = [
      "s3:GetBucketLocation",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
    ]
    resources = [aws_s3_bucket.archive.arn]
  }

  statement {
    sid    = "ArchiveObjects"
    effect = "Allow"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetObject",
      "s3:PutObject",
    ]
    resources = [
      "${aws_s3_bucket.archive.arn}/logs/${var.common_name}/*",
      "${aws_s3_bucket.archive.arn}/errors/${var.common_name}/*",
    ]
  }

  statement {
    sid    = "EncryptArchive"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [aws_kms_key.this.arn]
  }

  statement {
    sid       = "DeliveryErrorLogs"
    effect    = "Allow"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:*"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "archive-to-s3"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}
