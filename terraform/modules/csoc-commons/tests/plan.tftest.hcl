# Plan-only tests with a mocked AWS provider: `terraform init -backend=false && terraform test`
# in this directory. They need the provider's schema, so `init` must reach the registry
# (this project's CI cannot; see terraform/README.md).

mock_provider "aws" {
  # The mock's random string is not JSON; resources that take a policy validate it.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id   = "us-east-1"
      name = "us-east-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

mock_provider "aws" {
  alias = "destination"

  # The mock's random string is not JSON; resources that take a policy validate it.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id   = "us-east-1"
      name = "us-east-1"
    }
  }
}

variables {
  child_account_id = "222222222222"
  common_name      = "testcommons"
  lambda_zip_path  = "tests/fixtures/bootstrap.zip"
}

run "defaults" {
  command = plan

  # The bucket's ARN is known only after apply; give the plan the one AWS would return.
  override_resource {
    target          = aws_s3_bucket.archive
    override_during = plan
    values = {
      arn = "arn:aws:s3:::testcommons-csoc-logs-111111111111"
    }
  }

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.lambda_xray) == 0
    error_message = "PassThrough tracing needs no X-Ray permissions"
  }

  assert {
    condition     = aws_lambda_function.this.memory_size == 128 && aws_lambda_function.this.timeout == 300
    error_message = "memory_size must default to 128 and timeout to 300"
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "the function must run the custom-runtime bootstrap on provided.al2023"
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "the function must default to arm64"
  }

  assert {
    condition     = toset(keys(aws_lambda_function.this.environment[0].variables)) == toset(["COMMON_NAME", "INDEX_PREFIX", "THRESHOLD", "FIREHOSE_STREAM", "RUST_LOG", "OPENSEARCH_URL", "OPENSEARCH_AUTH", "DEAD_LETTER_BUCKET", "SLOW_LOG_STREAMS", "SLACK_WEBHOOK_SECRET_ARN", "DASHBOARDS_URL", "OPENSEARCH_RETENTION_DAYS", "SUPPRESSION_TABLE"])
    error_message = "the function's environment must hold exactly the names the binary reads (see src/config/env.rs)"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["THRESHOLD"] == ""
    error_message = "an unset threshold must reach the function as an empty THRESHOLD"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["FIREHOSE_STREAM"] == "testcommons_firehose"
    error_message = "FIREHOSE_STREAM must name the commons' delivery stream"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.kinesis.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "the event source mapping must report batch item failures"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.kinesis.starting_position == "TRIM_HORIZON" && aws_lambda_event_source_mapping.kinesis.bisect_batch_on_function_error
    error_message = "the event source mapping must start at TRIM_HORIZON and bisect failing batches"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.kinesis.maximum_retry_attempts == 3
    error_message = "retries must be bounded (default 3)"
  }

  assert {
    condition     = aws_kinesis_stream.this.encryption_type == "KMS" && aws_kinesis_stream.this.shard_count == 1
    error_message = "the stream must be KMS-encrypted, one shard by default"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.archive.extended_s3_configuration[0].compression_format == "GZIP"
    error_message = "the archive must be GZIP"
  }

  assert {
    condition     = startswith(aws_kinesis_firehose_delivery_stream.archive.extended_s3_configuration[0].prefix, "logs/testcommons/")
    error_message = "the archive prefix must be per commons"
  }

  assert {
    condition     = aws_cloudwatch_log_destination.this.name == "testcommons_destination"
    error_message = "the destination is named after the commons"
  }

  assert {
    condition     = aws_s3_object.dead_letter_prefix.key == "dead-letter/"
    error_message = "the archive bucket must have the dead-letter/ prefix"
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.cloudtrail) == 0 && length(aws_sns_topic.alarms) == 0
    error_message = "the EventBridge rule and the alarm topic are off by default"
  }

  assert {
    condition     = length(aws_secretsmanager_secret_version.slack_webhook) == 0
    error_message = "no secret value without a slack_webhook"
  }

  assert {
    condition     = length(data.aws_opensearch_domain.this) == 1
    error_message = "without opensearch_endpoint the domain is looked up by name (the function is given OPENSEARCH_URL)"
  }

  assert {
    condition = (
      length(aws_lambda_function.audit) == 0 &&
      length(aws_lambda_function_url.audit) == 0 &&
      length(aws_iam_role.audit) == 0 &&
      length(aws_iam_role_policy.audit) == 0 &&
      length(data.aws_iam_policy_document.audit) == 0 &&
      length(aws_cloudwatch_log_group.audit) == 0 &&
      length(aws_lambda_permission.audit_invoke_url) == 0 &&
      !contains(keys(aws_cloudwatch_metric_alarm.this), "audit_errors")
    )
    error_message = "the audit-records endpoint is off by default: none of its resources exist"
  }

  assert {
    condition     = output.audit_endpoint_url == null && output.audit_function_name == null && output.audit_role_arn == null
    error_message = "the audit outputs are null while the endpoint is off"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["INDEX_PREFIX"] == "csoc-logs-testcommons"
    error_message = "each commons writes under its own index prefix, csoc-logs-<common_name>, by default"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.kinesis.destination_config[0].on_failure[0].destination_arn == "arn:aws:s3:::testcommons-csoc-logs-111111111111"
    error_message = "the mapping's on-failure destination is the archive bucket (the whole invocation record, not only SQS metadata)"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["silent"].evaluation_periods == 6 && aws_cloudwatch_metric_alarm.this["silent"].treat_missing_data == "breaching"
    error_message = "the commons-went-silent alarm fires after 6 hours without records, missing data included"
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset(["iterator_age", "errors", "throttles", "failure_queue_depth", "kinesis_write_throttled", "kinesis_iterator_age", "firehose_delivery", "silent"])
    error_message = "the operator's alarms: function iterator age, errors, throttles, failure queue, stream write throttling and iterator age, archive delivery, commons went silent"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["kinesis_write_throttled"].dimensions == tomap({ StreamName = "testcommons-csoc-logs" }) && aws_cloudwatch_metric_alarm.this["errors"].namespace == "AWS/Lambda"
    error_message = "each alarm watches its own metric and dimension"
  }

  assert {
    condition     = aws_iam_role.lambda.path == "/" && aws_iam_role.lambda.permissions_boundary == null
    error_message = "roles default to path / and no permissions boundary"
  }
}

run "audit_endpoint" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    enable_audit_endpoint       = true
    audit_endpoint_invoker_arns = ["333333333333", "arn:aws:iam::444444444444:role/auditor"]
  }

  assert {
    condition     = aws_lambda_function_url.audit[0].authorization_type == "AWS_IAM" && aws_lambda_function_url.audit[0].invoke_mode == "BUFFERED"
    error_message = "the audit endpoint's URL must use AWS_IAM auth, buffered"
  }

  assert {
    condition     = length(aws_lambda_function_url.audit[0].cors) == 0
    error_message = "the audit endpoint's URL has no CORS (callers are services, not browsers)"
  }

  assert {
    condition     = aws_lambda_function.audit[0].function_name == "testcommons-csoc-audit" && aws_iam_role.audit[0].name == "testcommons-csoc-audit"
    error_message = "the audit function and its own role are named after the commons"
  }

  assert {
    condition     = aws_lambda_function.audit[0].runtime == "provided.al2023" && aws_lambda_function.audit[0].handler == "bootstrap" && aws_lambda_function.audit[0].architectures == aws_lambda_function.this.architectures
    error_message = "the audit function runs the forwarder's bootstrap on the same runtime and architecture"
  }

  assert {
    condition     = aws_lambda_function.audit[0].memory_size == 128 && aws_lambda_function.audit[0].timeout == 30
    error_message = "audit_memory_size must default to 128 and audit_timeout to 30"
  }

  assert {
    condition     = toset(keys(aws_lambda_function.audit[0].environment[0].variables)) == toset(["COMMON_NAME", "INDEX_PREFIX", "FIREHOSE_STREAM", "RUST_LOG", "OPENSEARCH_URL", "OPENSEARCH_AUTH", "DEAD_LETTER_BUCKET", "OPENSEARCH_RETENTION_DAYS"])
    error_message = "the audit function gets the forwarder's environment without the alert-only names (THRESHOLD, SLOW_LOG_STREAMS, SLACK_WEBHOOK_SECRET_ARN, DASHBOARDS_URL, SUPPRESSION_TABLE)"
  }

  assert {
    condition     = aws_lambda_function.audit[0].environment[0].variables["FIREHOSE_STREAM"] == aws_lambda_function.this.environment[0].variables["FIREHOSE_STREAM"]
    error_message = "the audit function archives through the commons' delivery stream"
  }

  assert {
    condition = alltrue([
      for st in concat(data.aws_iam_policy_document.audit[0].statement, data.aws_iam_policy_document.deliver.statement) : alltrue([
        for a in st.actions : !startswith(a, "kinesis:") && !startswith(a, "sqs:") && !startswith(a, "secretsmanager:")
      ])
    ])
    error_message = "the audit role must have no Kinesis, SQS or Secrets Manager action"
  }

  assert {
    # The delivery document's JSON names resources created by this plan (unknown until
    # apply), so compare the count here; tests/it/terraform checks the reference itself.
    condition     = length(data.aws_iam_policy_document.audit[0].source_policy_documents) == 1
    error_message = "the audit role's statements are its own plus the shared delivery document only"
  }

  assert {
    condition     = contains(flatten([for st in concat(data.aws_iam_policy_document.audit[0].statement, data.aws_iam_policy_document.deliver.statement) : tolist(st.actions)]), "firehose:PutRecordBatch")
    error_message = "the audit role must be able to archive through Firehose"
  }

  assert {
    condition     = length(aws_lambda_permission.audit_invoke_url) == 2
    error_message = "one invoke permission per audit_endpoint_invoker_arns entry"
  }

  assert {
    condition = alltrue([
      for p in aws_lambda_permission.audit_invoke_url : p.action == "lambda:InvokeFunctionUrl" && p.function_url_auth_type == "AWS_IAM"
    ])
    error_message = "invokers get lambda:InvokeFunctionUrl, only through the AWS_IAM function URL"
  }

  assert {
    condition     = aws_lambda_permission.audit_invoke_url["333333333333"].principal == "333333333333"
    error_message = "an account id is granted as such"
  }

  assert {
    condition = (
      one(data.aws_iam_policy_document.audit_invoker[0].statement[0].actions) == "lambda:InvokeFunctionUrl"
      && one(data.aws_iam_policy_document.audit_invoker[0].statement[1].actions) == "lambda:InvokeFunction"
      && one(data.aws_iam_policy_document.audit_invoker[0].statement[1].condition).variable == "lambda:InvokedViaFunctionUrl"
      && one(data.aws_iam_policy_document.audit_invoker[0].statement[1].condition).values[0] == "true"
    )
    error_message = "the invokers' identity policy grants lambda:InvokeFunction only via the function URL"
  }

  assert {
    condition     = contains(keys(aws_cloudwatch_metric_alarm.this), "audit_errors")
    error_message = "the audit function's Errors alarm exists when the endpoint is on"
  }
}

run "threshold_on_demand_and_options" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    threshold                = 2.5
    kinesis_stream_mode      = "ON_DEMAND"
    slack_webhook            = "https://hooks.slack.com/services/T000/B000/XXXX"
    enable_cloudtrail_events = true
    create_alarm_topic       = true
    reserved_concurrency     = 5
    tracing_mode             = "Active"
    enable_audit_endpoint    = true
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.lambda_xray) == 1 && length(aws_iam_role_policy_attachment.audit_xray) == 1
    error_message = "Active tracing must give both roles X-Ray's write actions"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["THRESHOLD"] == "2.5"
    error_message = "threshold must reach the function as THRESHOLD"
  }

  assert {
    condition     = aws_kinesis_stream.this.shard_count == null && aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "ON_DEMAND"
    error_message = "ON_DEMAND streams take no shard count"
  }

  assert {
    condition     = length(aws_secretsmanager_secret_version.slack_webhook) == 1
    error_message = "a slack_webhook must be stored in the secret"
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.cloudtrail) == 1 && length(aws_lambda_permission.cloudtrail) == 1
    error_message = "enable_cloudtrail_events must create the rule and the invoke permission"
  }

  assert {
    condition     = length(aws_sns_topic.alarms) == 1
    error_message = "create_alarm_topic must create the topic"
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 5
    error_message = "reserved_concurrency must reach the function"
  }
}

run "given_opensearch_endpoint" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    opensearch_endpoint = "https://search-commons-logs-x.us-east-1.es.amazonaws.com"
  }

  assert {
    condition     = length(data.aws_opensearch_domain.this) == 0
    error_message = "a given opensearch_endpoint needs no domain lookup"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["OPENSEARCH_URL"] == "https://search-commons-logs-x.us-east-1.es.amazonaws.com"
    error_message = "opensearch_endpoint must reach the function as OPENSEARCH_URL"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["DASHBOARDS_URL"] == "https://search-commons-logs-x.us-east-1.es.amazonaws.com/_dashboards"
    error_message = "DASHBOARDS_URL defaults to <endpoint>/_dashboards"
  }
}

run "rejects_short_account_id" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    child_account_id = "12345"
  }

  expect_failures = [var.child_account_id]
}

run "rejects_bad_common_name" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    common_name = "Bad_Name"
  }

  expect_failures = [var.common_name]
}

run "rejects_memory_out_of_range" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    memory_size = 64
  }

  expect_failures = [var.memory_size]
}

run "rejects_infinite_retries" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    maximum_retry_attempts = -1
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_foreign_csoc_account" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    csoc_account_id = "333333333333"
  }

  expect_failures = [terraform_data.guards]
}

run "rejects_bad_audit_invoker" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    enable_audit_endpoint       = true
    audit_endpoint_invoker_arns = ["arn:aws:iam::12345:role/auditor"]
  }

  expect_failures = [var.audit_endpoint_invoker_arns]
}

run "rejects_audit_timeout_out_of_range" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    audit_timeout = 901
  }

  expect_failures = [var.audit_timeout]
}

run "seed_empty_strings_and_s3_package" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    slack_webhook            = ""
    lambda_zip_path          = null
    lambda_s3_bucket         = "releases"
    lambda_s3_key            = "csoc-forwarder/1.0.0/bootstrap.zip"
    enable_cloudtrail_events = true
    iam_role_path            = "/csoc/"
    iam_permissions_boundary = "arn:aws:iam::111111111111:policy/boundary"
  }

  assert {
    condition     = length(aws_secretsmanager_secret_version.slack_webhook) == 0
    error_message = "an empty slack_webhook (the replaced system's default) stores no webhook"
  }

  assert {
    condition     = aws_lambda_function.this.s3_bucket == "releases" && aws_lambda_function.this.filename == null
    error_message = "the package can come from S3"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.cloudtrail[0].event_pattern).account == ["222222222222"]
    error_message = "the CloudTrail rule matches only the commons' own account"
  }

  assert {
    condition     = aws_cloudwatch_event_permission.child[0].principal == "222222222222"
    error_message = "the child account may put events on the CSOC bus"
  }

  assert {
    condition     = alltrue([for r in [aws_iam_role.lambda, aws_iam_role.firehose, aws_iam_role.logs_to_kinesis] : r.path == "/csoc/" && r.permissions_boundary == "arn:aws:iam::111111111111:policy/boundary"])
    error_message = "every role takes iam_role_path and iam_permissions_boundary"
  }
}

run "rejects_two_package_sources" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    lambda_s3_bucket = "releases"
    lambda_s3_key    = "bootstrap.zip"
  }

  expect_failures = [terraform_data.guards]
}

run "batch_operations_replay" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  variables {
    enable_batch_operations_replay = true
  }

  assert {
    condition     = aws_iam_role.batch_operations[0].name == "testcommons-csoc-replay-batch" && length(aws_iam_role_policy.replay) == 1
    error_message = "the S3 Batch Operations role is named after the commons, and the forwarder gets the replay permissions"
  }

  assert {
    condition     = contains(flatten([for s in data.aws_iam_policy_document.batch_operations_assume[0].statement : [for p in s.principals : tolist(p.identifiers)]]), "batchoperations.s3.amazonaws.com")
    error_message = "only S3 Batch Operations may assume the replay role"
  }
}

run "batch_operations_replay_off_by_default" {
  command = plan

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  assert {
    condition     = length(aws_iam_role.batch_operations) == 0 && length(aws_iam_role_policy.replay) == 0 && output.batch_operations_role_arn == null
    error_message = "no S3 Batch Operations role or replay permissions unless enable_batch_operations_replay"
  }
}
