################################################################################
# Optional (enable_audit_endpoint): the audit-records endpoint. The same binary as
# the forwarder, deployed as a second function behind a Lambda function URL with
# AWS_IAM auth: services outside AWS sign `POST /<node-name>` (JSON body) with SigV4;
# the function indexes the records into OpenSearch, archives them through the
# commons' Firehose and dead-letters bad bodies under dead-letter/ of the archive
# bucket. Its own role: no Kinesis, SQS or Slack permissions.
################################################################################

locals {
  audit_function_name = "${var.common_name}-csoc-audit"
}

resource "aws_cloudwatch_log_group" "audit" {
  count = var.enable_audit_endpoint ? 1 : 0

  name              = "/aws/lambda/${local.audit_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = local.tags
}

resource "aws_iam_role" "audit" {
  count = var.enable_audit_endpoint ? 1 : 0

  name                 = "${local.name}-csoc-audit"
  path                 = var.iam_role_path
  permissions_boundary = var.iam_permissions_boundary
  description          = "csoc-forwarder audit-records endpoint of ${var.common_name}"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json

  tags = local.tags
}

# The forwarder's delivery statements (iam_lambda.tf) and its own logs: no Kinesis, SQS or
# Secrets Manager.
data "aws_iam_policy_document" "audit" {
  count = var.enable_audit_endpoint ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.deliver.json]

  statement {
    sid    = "WriteOwnLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.audit[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "audit" {
  count = var.enable_audit_endpoint ? 1 : 0

  name   = "csoc-audit"
  role   = aws_iam_role.audit[0].id
  policy = data.aws_iam_policy_document.audit[0].json
}

# As for the forwarder: X-Ray's write actions when tracing is Active.
resource "aws_iam_role_policy_attachment" "audit_xray" {
  count = var.enable_audit_endpoint && var.tracing_mode == "Active" ? 1 : 0

  role       = aws_iam_role.audit[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_lambda_function" "audit" {
  #checkov:skip=CKV_AWS_117:Like the forwarder, the function reaches only AWS service endpoints (Firehose, S3, a public OpenSearch endpoint with SigV4); it needs no VPC, and putting it in one is a deployment choice outside this module.
  #checkov:skip=CKV_AWS_272:The zip is built by `make package` from this repository and deployed by path; AWS Signer code signing is not part of that pipeline.
  #checkov:skip=CKV_AWS_115:Only the IAM principals in audit_endpoint_invoker_arns may call it; reserving concurrency would take it from the account pool the forwarder shares.
  #checkov:skip=CKV_AWS_116:Invoked synchronously through its function URL, where a dead-letter queue never receives anything; the function dead-letters bad bodies to S3 itself.
  count = var.enable_audit_endpoint ? 1 : 0

  function_name = local.audit_function_name
  description   = "csoc-forwarder audit-records endpoint for ${var.common_name}: function URL (AWS_IAM) -> OpenSearch, Firehose archive, S3 dead letters"
  role          = aws_iam_role.audit[0].arn

  filename          = var.lambda_zip_path
  s3_bucket         = var.lambda_zip_path == null ? var.lambda_s3_bucket : null
  s3_key            = var.lambda_zip_path == null ? var.lambda_s3_key : null
  s3_object_version = var.lambda_zip_path == null ? var.lambda_s3_object_version : null
  source_code_hash  = var.lambda_zip_path == null ? null : filebase64sha256(var.lambda_zip_path)
  runtime           = "provided.al2023"
  handler           = "bootstrap"
  architectures     = [var.architecture]

  memory_size = var.audit_memory_size
  timeout     = var.audit_timeout
  kms_key_arn = aws_kms_key.this.arn

  environment {
    # local.audit_env (lambda.tf): the forwarder's environment minus local.audit_env_excluded.
    variables = local.audit_env
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  depends_on = [
    aws_cloudwatch_log_group.audit,
    aws_iam_role_policy.audit,
  ]
}

resource "aws_lambda_function_url" "audit" {
  count = var.enable_audit_endpoint ? 1 : 0

  function_name      = aws_lambda_function.audit[0].function_name
  authorization_type = "AWS_IAM"
  invoke_mode        = "BUFFERED"
}

# One resource-policy statement per invoker: lambda:InvokeFunctionUrl, only through an
# AWS_IAM function URL. Function URLs created since October 2025 also need
# lambda:InvokeFunction scoped to function-URL calls (lambda:InvokedViaFunctionUrl), which
# the aws provider expresses only from 6.x (invoked_via_function_url); see the README,
# "Audit-records endpoint", for adding it without raising this module's provider constraint.
resource "aws_lambda_permission" "audit_invoke_url" {
  for_each = var.enable_audit_endpoint ? toset(var.audit_endpoint_invoker_arns) : toset([])

  statement_id           = "AuditInvokeUrl-${substr(sha256(each.value), 0, 16)}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.audit[0].function_name
  principal              = each.value
  function_url_auth_type = "AWS_IAM"
}

# The identity policy every invoker needs in its own account: both actions on the endpoint's
# function, lambda:InvokeFunction only for calls through a function URL. Identity policies
# take any condition key, so this is expressible with every provider version; for invokers
# in this account it is all they need (no resource-policy statement).
data "aws_iam_policy_document" "audit_invoker" {
  count = var.enable_audit_endpoint ? 1 : 0

  statement {
    sid       = "CallAuditEndpointUrl"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunctionUrl"]
    resources = [aws_lambda_function.audit[0].arn]
    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionUrlAuthType"
      values   = ["AWS_IAM"]
    }
  }

  statement {
    sid       = "InvokeAuditEndpointViaUrlOnly"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.audit[0].arn]
    condition {
      test     = "Bool"
      variable = "lambda:InvokedViaFunctionUrl"
      values   = ["true"]
    }
  }
}
