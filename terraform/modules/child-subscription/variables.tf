variable "common_name" {
  description = "Name of the commons; names the subscription filters and the CloudTrail resources."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.common_name))
    error_message = "common_name must be 2-32 characters of lower-case letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "destination_arn" {
  description = "ARN of the CSOC's CloudWatch Logs destination for this commons (csoc-commons module's destination_arn output). It must be in this provider's region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:destination:.+$", var.destination_arn))
    error_message = "destination_arn must be a CloudWatch Logs destination ARN (arn:aws:logs:<region>:<account>:destination:<name>)."
  }
}

variable "log_group_names" {
  description = "Names of the existing log groups in this account to forward to the CSOC."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.log_group_names : can(regex("^[\\.\\-_/#A-Za-z0-9]{1,512}$", name))])
    error_message = "Every log group name must be 1-512 characters of letters, digits and . - _ / #."
  }
}

variable "filter_pattern" {
  description = "CloudWatch Logs filter pattern of the subscriptions; empty forwards every event."
  type        = string
  default     = ""
}

variable "enable_cloudtrail" {
  description = "Create a multi-region CloudTrail delivered to a CloudWatch Logs group that is subscribed too."
  type        = bool
  default     = false
}

variable "cloudtrail_s3_bucket_name" {
  description = "Existing S3 bucket (with a CloudTrail bucket policy) that receives the trail's log files; required when enable_cloudtrail is true."
  type        = string
  default     = null
}

variable "cloudtrail_log_retention_days" {
  description = "Retention of the CloudTrail log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudtrail_log_retention_days)
    error_message = "cloudtrail_log_retention_days must be a retention CloudWatch Logs accepts."
  }
}

variable "enable_eventbridge_forwarding" {
  description = "Forward this account's CloudTrail management events (API calls, console sign-ins) from its default event bus to the CSOC's bus (csoc_event_bus_arn), where the csoc-commons module's rule (enable_cloudtrail_events) sends them to the function."
  type        = bool
  default     = false
}

variable "csoc_event_bus_arn" {
  description = "ARN of the CSOC account's event bus (the csoc-commons module's event_bus_name, default bus: arn:aws:events:<region>:<csoc account>:event-bus/default); required with enable_eventbridge_forwarding."
  type        = string
  default     = null

  validation {
    condition     = var.csoc_event_bus_arn == null || can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.csoc_event_bus_arn))
    error_message = "csoc_event_bus_arn must be null or an event bus ARN."
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
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
