################################################################################
# The function's role: least privilege, every statement scoped to this commons'
# resources (or the shared OpenSearch domain).
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name                 = "${local.name}-csoc-forwarder"
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary
  description          = "csoc-forwarder function of ${var.common_name}"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json

  tags = local.tags
}

# What both functions need to deliver documents (the forwarder here, the audit-records
# endpoint in audit_endpoint.tf): the commons key, the Firehose archive, the dead letter,
# the OpenSearch domain.
data "aws_iam_policy_document" "deliver" {
  statement {
    sid    = "UseCommonsKey"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [aws_kms_key.this.arn]
  }

  statement {
    sid    = "ArchiveToFirehose"
    effect = "Allow"
    actions = [
      "firehose:PutRecord",
      "firehose:PutRecordBatch",
    ]
    resources = [aws_kinesis_firehose_delivery_stream.archive.arn]
  }

  statement {
    sid       = "WriteDeadLetters"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.archive.arn}/dead-letter/*"]
  }

  # Only this commons' indices (<index_prefix>-*), its index template and retention policy,
  # and _bulk (whose body names the index: the domain's fine-grained access control role
  # for this commons limits it to the same pattern, see the opensearch-domain README).
  statement {
    sid    = "IndexIntoOpenSearch"
    effect = "Allow"
    actions = [
      "es:ESHttpGet",
      "es:ESHttpPost",
      "es:ESHttpPut",
    ]
    resources = [
      "${local.opensearch_domain_arn}/_bulk",
      "${local.opensearch_domain_arn}/${local.index_prefix}-*",
      "${local.opensearch_domain_arn}/_index_template/${local.index_prefix}",
      "${local.opensearch_domain_arn}/_plugins/_ism/policies/${local.index_prefix}-retention",
    ]
  }
}

data "aws_iam_policy_document" "lambda" {
  source_policy_documents = [data.aws_iam_policy_document.deliver.json]

  statement {
    sid    = "ReadStream"
    effect = "Allow"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
      "kinesis:SubscribeToShard",
    ]
    resources = [aws_kinesis_stream.this.arn]
  }

  statement {
    sid    = "WriteOwnLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  statement {
    sid       = "ReadSlackWebhook"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.slack_webhook.arn]
  }

  # Dead-letter queue of asynchronous invocations (the EventBridge rule).
  statement {
    sid       = "SendFailures"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  # The event source mapping's S3 on-failure destination (event_source.tf) writes with the
  # function's role: the bucket must be listable and the mapping's prefix writable.
  statement {
    sid       = "OnFailureBucket"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.archive.arn]
  }

  statement {
    sid       = "OnFailureRecords"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.archive.arn}/aws/lambda/*"]
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "csoc-forwarder"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

# Active tracing sends segments to X-Ray, whose write actions take no resource-level
# permissions: AWS's managed write-only policy, attached only when tracing is Active.
resource "aws_iam_role_policy_attachment" "lambda_xray" {
  count = var.tracing_mode == "Active" ? 1 : 0

  role       = aws_iam_role.lambda.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}
