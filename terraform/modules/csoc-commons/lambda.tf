################################################################################
# The function (the csoc-forwarder binary) and its log group.
################################################################################

# Looked up only when no endpoint is given and the function is given a URL of the domain, so
# a commons can be applied before the shared domain exists while the binary does not use it.
data "aws_opensearch_domain" "this" {
  count = var.opensearch_endpoint == null && anytrue([for name in local.lambda_env_later_enabled : contains(["OPENSEARCH_URL", "DASHBOARDS_URL"], name)]) ? 1 : 0

  domain_name = var.elasticsearch_domain
}

locals {
  opensearch_domain_arn = "arn:${local.partition}:es:${local.region}:${local.account_id}:domain/${var.elasticsearch_domain}"
  opensearch_url        = var.opensearch_endpoint != null ? var.opensearch_endpoint : try("https://${data.aws_opensearch_domain.this[0].endpoint}", "")

  # The environment the binary reads today: exactly csoc_forwarder::config::lambda_env_names()
  # (src/config/env.rs); tests/it/terraform/ checks the two agree.
  lambda_env = {
    COMMON_NAME     = var.common_name
    INDEX_PREFIX    = local.index_prefix
    THRESHOLD       = var.threshold == null ? "" : tostring(var.threshold)
    FIREHOSE_STREAM = aws_kinesis_firehose_delivery_stream.archive.name
    RUST_LOG        = var.rust_log
  }

  # Values for the variables later versions of the binary read; their resources and
  # permissions exist already. When src/config/env.rs marks one `lambda: true`, add its name
  # to lambda_env_later_enabled (one line).
  lambda_env_later = {
    OPENSEARCH_URL           = local.opensearch_url
    OPENSEARCH_AUTH          = var.opensearch_auth
    DEAD_LETTER_BUCKET       = aws_s3_bucket.archive.id
    SLACK_WEBHOOK_SECRET_ARN = aws_secretsmanager_secret.slack_webhook.arn
    DASHBOARDS_URL           = var.dashboards_url != null ? var.dashboards_url : "${local.opensearch_url}/_dashboards"
    SLOW_LOG_STREAMS         = join(",", var.slow_log_streams)
    # index_retention.tf
    OPENSEARCH_RETENTION_DAYS = tostring(var.index_retention_days)
    SUPPRESSION_TABLE         = var.enable_alert_suppression ? aws_dynamodb_table.suppression[0].name : ""
  }
  lambda_env_later_enabled = [
    "OPENSEARCH_URL",
    "OPENSEARCH_AUTH",
    "DEAD_LETTER_BUCKET",
    "SLOW_LOG_STREAMS",
    "SLACK_WEBHOOK_SECRET_ARN",
    "DASHBOARDS_URL",
    "OPENSEARCH_RETENTION_DAYS",
    "SUPPRESSION_TABLE",
  ]

  # The forwarder's environment: the names above with their values.
  forwarder_env = merge(local.lambda_env, { for name in local.lambda_env_later_enabled : name => local.lambda_env_later[name] })

  # The audit-records endpoint (audit_endpoint.tf) runs the same binary with the forwarder's
  # environment minus the names only the slow-response and Slack alerts read: a name added
  # above reaches both functions unless it is listed here.
  audit_env_excluded = ["THRESHOLD", "SLOW_LOG_STREAMS", "SLACK_WEBHOOK_SECRET_ARN", "DASHBOARDS_URL", "SUPPRESSION_TABLE"]
  audit_env          = { for name, value in local.forwarder_env : name => value if !contains(local.audit_env_excluded, name) }
}

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = local.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function reaches only AWS service endpoints (Kinesis, Firehose, S3, Secrets Manager, a public OpenSearch endpoint with SigV4) and Slack; it needs no VPC, and putting it in one is a deployment choice outside this module.
  #checkov:skip=CKV_AWS_272:The zip is built by `make package` from this repository and deployed by path; AWS Signer code signing is not part of that pipeline.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional by design (var.reserved_concurrency); concurrency is already bounded by shards x parallelization_factor of the one event source.
  function_name = local.function_name
  description   = "csoc-forwarder for ${var.common_name}: Kinesis -> OpenSearch, Firehose archive, Slack alerts"
  role          = aws_iam_role.lambda.arn

  filename          = var.lambda_zip_path
  s3_bucket         = var.lambda_zip_path == null ? var.lambda_s3_bucket : null
  s3_key            = var.lambda_zip_path == null ? var.lambda_s3_key : null
  s3_object_version = var.lambda_zip_path == null ? var.lambda_s3_object_version : null
  source_code_hash  = var.lambda_zip_path == null ? null : filebase64sha256(var.lambda_zip_path)
  runtime           = "provided.al2023"
  handler           = "bootstrap"
  architectures     = [var.architecture]

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    # OPENSEARCH_URL, OPENSEARCH_AUTH, DEAD_LETTER_BUCKET, SLACK_WEBHOOK_SECRET_ARN, DASHBOARDS_URL, SLOW_LOG_STREAMS are wired in local.lambda_env_later (this file): name them in local.lambda_env_later_enabled when the binary reads them.
    variables = local.forwarder_env
  }

  # Asynchronous invocations (the EventBridge rule) that fail end in the failure queue.
  dead_letter_config {
    target_arn = aws_sqs_queue.failures.arn
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
    aws_iam_role_policy.suppression,
  ]
}
