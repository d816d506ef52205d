################################################################################
# Identity of the commons
################################################################################

variable "child_account_id" {
  description = "AWS account id of the commons (child) account whose CloudWatch Logs are forwarded. It is the only account allowed to subscribe to the destination."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.child_account_id))
    error_message = "child_account_id must be a 12-digit AWS account id."
  }
}

variable "common_name" {
  description = "Name of the commons. Prefixes every resource name, is the COMMON_NAME of the function and the per-commons prefix in the archive bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.common_name))
    error_message = "common_name must be 2-32 characters of lower-case letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "csoc_account_id" {
  description = "AWS account id of the CSOC account (where this module is applied). null means the account of the aws provider's credentials; when set it must equal that account."
  type        = string
  default     = null

  validation {
    condition     = var.csoc_account_id == null || can(regex("^[0-9]{12}$", var.csoc_account_id))
    error_message = "csoc_account_id must be null or a 12-digit AWS account id."
  }
}

variable "child_account_region" {
  description = "Region of the child account's log groups, and so of the CloudWatch Logs destination. Must match the region of the aws.destination provider passed to this module."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.child_account_region))
    error_message = "child_account_region must be an AWS region name such as us-east-1."
  }
}

variable "iam_role_path" {
  description = "Path of every IAM role this module creates."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([\\x21-\\x7e]*/)?$", var.iam_role_path))
    error_message = "iam_role_path must start and end with /."
  }
}

variable "iam_permissions_boundary" {
  description = "ARN of the managed policy set as permissions boundary of every IAM role this module creates; null: none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags merged onto every resource (after the module's own Project/Commons/ManagedBy tags)."
  type        = map(string)
  default     = {}
}

################################################################################
# Lambda function
################################################################################

variable "lambda_zip_path" {
  description = "Path to the function's zip, as built by `make package` (target/lambda/csoc-forwarder/bootstrap.zip). Give this or lambda_s3_bucket + lambda_s3_key."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null || try(endswith(var.lambda_zip_path, ".zip"), false)
    error_message = "lambda_zip_path must be null or point at the .zip built by `make package`."
  }
}

variable "lambda_s3_bucket" {
  description = "Bucket holding the function's zip (one build deployed by every commons), with lambda_s3_key; instead of lambda_zip_path. Must be in the function's region."
  type        = string
  default     = null
}

variable "lambda_s3_key" {
  description = "Key of the function's zip in lambda_s3_bucket."
  type        = string
  default     = null
}

variable "lambda_s3_object_version" {
  description = "Version of the zip object in lambda_s3_bucket (versioned buckets); a new version redeploys the function."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set of the function; must match the target `make package` built for."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout of the function in seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the function; null leaves it unreserved (concurrency is still bounded by shards x parallelization_factor)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 0, false)
    error_message = "reserved_concurrency must be null or >= 0."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's (and Firehose's) CloudWatch log groups, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the functions. Active attaches AWS's AWSXRayDaemonWriteAccess policy to their roles."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

################################################################################
# What the function does (its environment)
################################################################################

variable "index_prefix" {
  description = "OpenSearch index prefix (INDEX_PREFIX); documents go to <prefix>-YYYY.MM.DD. null: csoc-logs-<common_name>, so each commons writes its own indices and csoc-logs-* finds them all. The function's role may write only under this prefix."
  type        = string
  default     = null

  validation {
    condition     = var.index_prefix == null || can(regex("^[a-z0-9][a-z0-9_-]*$", var.index_prefix))
    error_message = "index_prefix must be lower-case letters, digits, '_' and '-' (an OpenSearch index name prefix)."
  }
}

variable "threshold" {
  description = "Slow-response alert threshold in seconds (THRESHOLD). null turns the check off (the function gets an empty THRESHOLD)."
  type        = number
  default     = null

  validation {
    condition     = var.threshold == null || try(var.threshold > 0, false)
    error_message = "threshold must be null or a positive number of seconds."
  }
}

variable "rust_log" {
  description = "Log filter of the function (RUST_LOG, tracing EnvFilter syntax)."
  type        = string
  default     = "info"
}

variable "elasticsearch_domain" {
  description = "Name of the shared Amazon OpenSearch Service domain in the CSOC account the function writes to. The function's role may call es:ESHttpGet/Post/Put on it."
  type        = string
  default     = "commons-logs"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.elasticsearch_domain))
    error_message = "elasticsearch_domain must be a valid domain name: 3-28 characters, lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "opensearch_endpoint" {
  description = "HTTPS endpoint of the OpenSearch domain (e.g. https://search-commons-logs-xyz.us-east-1.es.amazonaws.com). null looks the domain up by elasticsearch_domain once the function is given OPENSEARCH_URL or DASHBOARDS_URL."
  type        = string
  default     = null

  validation {
    condition     = var.opensearch_endpoint == null || can(regex("^https://", var.opensearch_endpoint))
    error_message = "opensearch_endpoint must be null or start with https://."
  }
}

variable "opensearch_auth" {
  description = "How the function authenticates to OpenSearch (for OPENSEARCH_AUTH, once the binary reads it)."
  type        = string
  default     = "sigv4"
}

variable "dashboards_url" {
  description = "OpenSearch Dashboards URL linked from Slack alerts (DASHBOARDS_URL). null derives <endpoint>/_dashboards."
  type        = string
  default     = null
}

variable "slow_log_streams" {
  description = "Log stream name parts checked for slow responses (SLOW_LOG_STREAMS); joined with commas; empty means the binary's default (revproxy, sheepdog, peregrine)."
  type        = list(string)
  default     = []
}

variable "slack_webhook" {
  description = "Slack incoming-webhook URL for alerts. Stored in Secrets Manager as a write-only value (never in Terraform state); only the secret's ARN reaches the function. null or \"\" creates the secret without a value (no Slack)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.slack_webhook == null || var.slack_webhook == "" || can(regex("^https://", var.slack_webhook))
    error_message = "slack_webhook must be null, empty or an https:// URL."
  }
}

variable "slack_webhook_version" {
  description = "Bump to store a new slack_webhook: the value is write-only (not in state), so Terraform cannot see that it changed."
  type        = number
  default     = 1
}

################################################################################
# Kinesis stream
################################################################################

variable "kinesis_stream_mode" {
  description = "Capacity mode of the Kinesis stream: PROVISIONED (kinesis_shard_count shards) or ON_DEMAND."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.kinesis_stream_mode)
    error_message = "kinesis_stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "kinesis_shard_count" {
  description = "Shards of the Kinesis stream in PROVISIONED mode (ignored for ON_DEMAND)."
  type        = number
  default     = 1

  validation {
    condition     = var.kinesis_shard_count >= 1 && var.kinesis_shard_count <= 500
    error_message = "kinesis_shard_count must be between 1 and 500."
  }
}

variable "kinesis_retention_hours" {
  description = "Retention of the Kinesis stream in hours (24-8760)."
  type        = number
  default     = 24

  validation {
    condition     = var.kinesis_retention_hours >= 24 && var.kinesis_retention_hours <= 8760
    error_message = "kinesis_retention_hours must be between 24 and 8760."
  }
}

################################################################################
# Event source mapping
################################################################################

variable "batch_size" {
  description = "Largest number of Kinesis records per invocation."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long the event source mapping gathers records before invoking (0-300 s)."
  type        = number
  default     = 5

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (1-10)."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10
    error_message = "parallelization_factor must be between 1 and 10."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before it goes to the on-failure queue. Bounded: -1 (infinite) is not accepted."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 10000
    error_message = "maximum_retry_attempts must be between 0 and 10000 (infinite retries are not allowed)."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this are sent to the on-failure queue instead of being processed (60-604800 s)."
  type        = number
  default     = 86400

  validation {
    condition     = var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800
    error_message = "maximum_record_age_in_seconds must be between 60 and 604800 (infinite age is not allowed)."
  }
}

################################################################################
# Archive (Firehose + S3)
################################################################################

variable "archive_bucket_name" {
  description = "Name of the commons' archive bucket. null uses <common_name>-csoc-logs-<csoc account id>."
  type        = string
  default     = null

  validation {
    condition     = var.archive_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.archive_bucket_name))
    error_message = "archive_bucket_name must be null or a valid S3 bucket name."
  }
}

variable "archive_force_destroy" {
  description = "Let `terraform destroy` delete a non-empty archive bucket. Keep false outside tests."
  type        = bool
  default     = false
}

variable "access_log_bucket" {
  description = "Bucket that receives S3 server access logs of the archive bucket; null turns access logging off."
  type        = string
  default     = null
}

variable "firehose_buffering_size" {
  description = "Firehose buffer size in MiB before a write to S3."
  type        = number
  default     = 5

  validation {
    condition     = var.firehose_buffering_size >= 1 && var.firehose_buffering_size <= 128
    error_message = "firehose_buffering_size must be between 1 and 128 MiB."
  }
}

variable "firehose_buffering_interval" {
  description = "Firehose buffer interval in seconds before a write to S3."
  type        = number
  default     = 300

  validation {
    condition     = var.firehose_buffering_interval >= 0 && var.firehose_buffering_interval <= 900
    error_message = "firehose_buffering_interval must be between 0 and 900 seconds."
  }
}

################################################################################
# EventBridge, alarms
################################################################################

variable "enable_cloudtrail_events" {
  description = "Send the commons' CloudTrail management events to the function through EventBridge: a rule on event_bus_name matching only events of child_account_id, and a bus permission letting that account put events on the bus (the child-subscription module's enable_eventbridge_forwarding sends them)."
  type        = bool
  default     = false
}

variable "event_bus_name" {
  description = "Event bus in the CSOC account that receives the commons' CloudTrail events."
  type        = string
  default     = "default"
}

variable "create_alarm_topic" {
  description = "Create an SNS topic (KMS-encrypted) that the alarms notify."
  type        = bool
  default     = false
}

variable "alarm_topic_arn" {
  description = "An existing SNS topic the alarms notify (besides the created one, if any)."
  type        = string
  default     = null
}

variable "iterator_age_threshold_ms" {
  description = "IteratorAge (ms) above which the iterator-age alarm fires."
  type        = number
  default     = 600000

  validation {
    condition     = var.iterator_age_threshold_ms > 0
    error_message = "iterator_age_threshold_ms must be positive."
  }
}

variable "silent_alarm_hours" {
  description = "The \"commons went silent\" alarm fires when the commons' stream receives no record for this many hours (1-24)."
  type        = number
  default     = 6

  validation {
    condition     = var.silent_alarm_hours >= 1 && var.silent_alarm_hours <= 24 && floor(var.silent_alarm_hours) == var.silent_alarm_hours
    error_message = "silent_alarm_hours must be a whole number of hours between 1 and 24."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the alarms' metrics in seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be 60, 300, 900 or 3600."
  }
}

################################################################################
# Audit-records endpoint (audit_endpoint.tf)
################################################################################

variable "enable_audit_endpoint" {
  description = "Create the audit-records endpoint: a second function from the same zip behind a Lambda function URL with AWS_IAM auth, with its own role (no Kinesis, SQS or Slack permissions), log group and Errors alarm."
  type        = bool
  default     = false
}

variable "audit_endpoint_invoker_arns" {
  description = "IAM principals allowed to call the audit endpoint's URL (lambda:InvokeFunctionUrl, AWS_IAM): IAM role or user ARNs, account root ARNs or 12-digit account ids. Ignored while enable_audit_endpoint is false."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.audit_endpoint_invoker_arns : can(regex("^([0-9]{12}|arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/-]+))$", p))])
    error_message = "Every audit_endpoint_invoker_arns entry must be a 12-digit account id or an IAM ARN (arn:<partition>:iam::<account>:root, :role/<name> or :user/<name>)."
  }

  validation {
    condition     = length(distinct(var.audit_endpoint_invoker_arns)) == length(var.audit_endpoint_invoker_arns)
    error_message = "audit_endpoint_invoker_arns must not repeat an entry."
  }
}

variable "audit_memory_size" {
  description = "Memory of the audit endpoint's function in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.audit_memory_size >= 128 && var.audit_memory_size <= 10240 && floor(var.audit_memory_size) == var.audit_memory_size
    error_message = "audit_memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "audit_timeout" {
  description = "Timeout of the audit endpoint's function in seconds (a function URL caller waits at most this long)."
  type        = number
  default     = 30

  validation {
    condition     = var.audit_timeout >= 1 && var.audit_timeout <= 900 && floor(var.audit_timeout) == var.audit_timeout
    error_message = "audit_timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "enable_batch_operations_replay" {
  description = "Create a role for S3 Batch Operations jobs that replay archive objects and dead letters through the forwarder (LambdaInvoke), and let the forwarder read them and move replayed dead letters under replayed/. See README.md, \"Replay at scale\"."
  type        = bool
  default     = false
}

################################################################################
# Alert suppression (suppression.tf)
################################################################################

variable "enable_alert_suppression" {
  description = "Create the DynamoDB table where the forwarder's invocations claim alert fingerprints, so an alert posts once per window (30 minutes, or the rule's suppression_window) across invocations. Off: suppression is per invocation."
  type        = bool
  default     = true
}
