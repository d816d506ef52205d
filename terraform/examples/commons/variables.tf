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
  description = "AWS account id of the CSOC account. null (the default) means the account being applied in; when set it must be that account."
  type        = string
  default     = null

  validation {
    condition     = var.csoc_account_id == null || can(regex("^[0-9]{12}$", var.csoc_account_id))
    error_message = "csoc_account_id must be null or a 12-digit AWS account id."
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
  description = "Slow-response alert threshold in seconds; null turns the check off."
  type        = number
  default     = null

  validation {
    condition     = var.threshold == null || try(var.threshold > 0, false)
    error_message = "threshold must be null or a positive number of seconds."
  }
}

variable "slack_webhook" {
  description = "Slack incoming-webhook URL for alerts (stored in Secrets Manager). null: no alerts to Slack."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.slack_webhook == null || can(regex("^https://", var.slack_webhook))
    error_message = "slack_webhook must be null or an https:// URL."
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
  description = "Path to the zip from `make package`; null means target/lambda/csoc-forwarder/bootstrap.zip of this repository."
  type        = string
  default     = null
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

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
