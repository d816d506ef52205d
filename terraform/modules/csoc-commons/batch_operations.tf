################################################################################
# Optional (enable_batch_operations_replay): replay at scale with S3 Batch Operations.
# A job lists archive objects (logs/<commons>/…) or dead letters (dead-letter/…) in a
# manifest (CSV or an S3 Inventory report) and invokes the forwarder once per batch of
# tasks (LambdaInvoke, schema 1.0 or 2.0); the function replays each object into the
# sinks that missed it and answers each task's result. This file creates:
#   - the role S3 Batch Operations assumes: read the manifest, invoke the forwarder,
#     write the completion report under batch-operations/reports/ of the archive bucket;
#   - the forwarder's extra permissions: read archive objects and dead letters, move a
#     replayed dead letter under replayed/ (copy, then delete the original).
# README.md ("Replay at scale") shows the `aws s3control create-job` command.
################################################################################

locals {
  batch_operations_reports_prefix = "batch-operations/reports"
}

data "aws_iam_policy_document" "batch_operations_assume" {
  count = var.enable_batch_operations_replay ? 1 : 0

  statement {
    sid     = "BatchOperationsAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["batchoperations.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "batch_operations" {
  count = var.enable_batch_operations_replay ? 1 : 0

  name               = "${local.name}-csoc-replay-batch"
  description        = "S3 Batch Operations jobs replaying the archive and dead letters of ${var.common_name} through csoc-forwarder"
  assume_role_policy = data.aws_iam_policy_document.batch_operations_assume[0].json

  tags = local.tags
}

data "aws_iam_policy_document" "batch_operations" {
  count = var.enable_batch_operations_replay ? 1 : 0

  statement {
    sid       = "InvokeForwarder"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn, "${aws_lambda_function.this.arn}:*"]
  }

  # Manifests (CSV or S3 Inventory reports) kept in the archive bucket.
  statement {
    sid    = "ReadManifests"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
    ]
    resources = ["${aws_s3_bucket.archive.arn}/batch-operations/manifests/*"]
  }

  statement {
    sid    = "WriteReports"
    effect = "Allow"
    actions = [
      "s3:PutObject",
    ]
    resources = ["${aws_s3_bucket.archive.arn}/${local.batch_operations_reports_prefix}/*"]
  }

  statement {
    sid       = "LocateBucket"
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation"]
    resources = [aws_s3_bucket.archive.arn]
  }

  statement {
    sid    = "UseCommonsKey"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "batch_operations" {
  count = var.enable_batch_operations_replay ? 1 : 0

  name   = "csoc-replay-batch"
  role   = aws_iam_role.batch_operations[0].id
  policy = data.aws_iam_policy_document.batch_operations[0].json
}

# The forwarder reads the objects the tasks name and marks replayed dead letters done.
data "aws_iam_policy_document" "replay" {
  count = var.enable_batch_operations_replay ? 1 : 0

  statement {
    sid     = "ReadArchiveAndDeadLetters"
    effect  = "Allow"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.archive.arn}/logs/${var.common_name}/*",
      "${aws_s3_bucket.archive.arn}/dead-letter/*",
    ]
  }

  statement {
    sid       = "MoveReplayedDeadLetters"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.archive.arn}/replayed/dead-letter/*"]
  }

  statement {
    sid       = "RemoveReplayedDeadLetters"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = ["${aws_s3_bucket.archive.arn}/dead-letter/*"]
  }
}

resource "aws_iam_role_policy" "replay" {
  count = var.enable_batch_operations_replay ? 1 : 0

  name   = "csoc-replay"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.replay[0].json
}
