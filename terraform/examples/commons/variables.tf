# The variables of the system this replaces; each keeps its meaning.

variable "child_account_id" {
  description = "AWS account id of the commons (child) account whose logs are forwarded."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.child_account_id))
    error_message = "child_account_id must be a 12-digit AWS account id."
  }
}

variable "common_name" {
  description = "Name of the commons; prefixes every resource and is the function's COMMON_NAME."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.common_name))
    error_message = "common_name must be 2-32 characters of lower-case letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "csoc_account_id" {
  description = "AWS account id of the CSOC account. The apply stops unless the provider's credentials are in this account."
  type        = string
  default     = "433568766270"

  validation {
    condition     = can(regex("^[0-9]{12}$", var.csoc_account_id))
    error_message = "csoc_account_id must be a 12-digit AWS account id."
  }
}

variable "child_account_region" {
  description = "Region of the child account's log groups; the CloudWatch Logs destination is created there."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.child_account_region))
    error_message = "child_account_region must be an AWS region name such as us-east-1."
  }
}

variable "aws_region" {
  description = "Region of the CSOC resources (stream, function, archive, alarms)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as us-east-1."
  }
}

variable "elasticsearch_domain" {
  description = "Name of the shared OpenSearch (formerly Elasticsearch) domain in the CSOC account."
  type        = string
  default     = "commons-logs"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.elasticsearch_domain))
    error_message = "elasticsearch_domain must be 3-28 characters, lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "threshold" {
  description = "Slow-response alert threshold in seconds, as a string (the replaced system's type); \"\" (the default) turns the check off."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.threshold == "" || try(tonumber(var.threshold) > 0, false)
    error_message = "threshold must be \"\" (off) or a positive number of seconds."
  }
}

variable "slack_webhook" {
  description = "Slack incoming-webhook URL for alerts (stored in Secrets Manager as a write-only value, never in state). \"\" (the default): no alerts to Slack."
  type        = string
  default     = ""
  nullable    = false
  sensitive   = true

  validation {
    condition     = var.slack_webhook == "" || can(regex("^https://", var.slack_webhook))
    error_message = "slack_webhook must be \"\" or an https:// URL."
  }
}

variable "slack_webhook_version" {
  description = "Bump when slack_webhook changes: the webhook is write-only, so Terraform cannot see a new value."
  type        = number
  default     = 1
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

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

# Not in the system this replaces.

variable "lambda_zip_path" {
  description = "Path to the zip from `make package`; null means target/lambda/csoc-forwarder/bootstrap.zip of this repository, unless lambda_s3_bucket is set."
  type        = string
  default     = null
}

variable "lambda_s3_bucket" {
  description = "Bucket (in aws_region) holding the released zip, so every commons deploys the same build; with lambda_s3_key, instead of lambda_zip_path."
  type        = string
  default     = null
}

variable "lambda_s3_key" {
  description = "Key of the zip in lambda_s3_bucket."
  type        = string
  default     = null
}

variable "lambda_s3_object_version" {
  description = "Version of the zip object (versioned buckets)."
  type        = string
  default     = null
}

variable "opensearch_endpoint" {
  description = "HTTPS endpoint of the shared domain (the opensearch-domain module's endpoint output); null looks the domain up by elasticsearch_domain."
  type        = string
  default     = null
}

variable "index_prefix" {
  description = "Index prefix of this commons; null: csoc-logs-<common_name>."
  type        = string
  default     = null
}

variable "iam_role_path" {
  description = "Path of the IAM roles created for this commons."
  type        = string
  default     = "/"
}

variable "iam_permissions_boundary" {
  description = "Permissions boundary (managed policy ARN) of the IAM roles created for this commons; null: none."
  type        = string
  default     = null
}

variable "create_alarm_topic" {
  description = "Create an SNS topic the alarms notify."
  type        = bool
  default     = false
}

variable "alarm_topic_arn" {
  description = "An existing SNS topic the alarms notify."
  type        = string
  default     = null
}

variable "archive_force_destroy" {
  description = "Let `terraform destroy` delete a non-empty archive bucket (also needs the prevent_destroy override, see the README)."
  type        = bool
  default     = false
}

variable "enable_audit_endpoint" {
  description = "Create the audit-records endpoint: a function URL (AWS_IAM auth) where services outside AWS POST audit records."
  type        = bool
  default     = false
}

variable "audit_endpoint_invoker_arns" {
  description = "IAM principals (role/user/root ARNs or 12-digit account ids) allowed to call the audit endpoint's URL."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.audit_endpoint_invoker_arns : can(regex("^([0-9]{12}|arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/-]+))$", p))])
    error_message = "Every audit_endpoint_invoker_arns entry must be a 12-digit account id or an IAM ARN (arn:<partition>:iam::<account>:root, :role/<name> or :user/<name>)."
  }
}

variable "enable_cloudtrail_events" {
  description = "Receive the commons' CloudTrail management events through EventBridge: a rule on event_bus_name matching only child_account_id's events (the child side's enable_eventbridge_forwarding sends them)."
  type        = bool
  default     = false
}

variable "event_bus_name" {
  description = "Event bus in the CSOC account that receives the commons' CloudTrail events (with enable_cloudtrail_events)."
  type        = string
  default     = "default"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]{1,256}$", var.event_bus_name))
    error_message = "event_bus_name must be an event bus name (letters, digits, . _ / -)."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
