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
  name               = "${local.name}-csoc-forwarder"
  description        = "csoc-forwarder function of ${var.common_name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

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

  statement {
    sid    = "IndexIntoOpenSearch"
    effect = "Allow"
    actions = [
      "es:ESHttpGet",
      "es:ESHttpPost",
      "es:ESHttpPut",
    ]
    resources = [
      local.opensearch_domain_arn,
      "${local.opensearch_domain_arn}/*",
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

  # On-failure destination of the event source mapping and dead-letter queue of
  # asynchronous invocations.
  statement {
    sid       = "SendFailures"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
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
