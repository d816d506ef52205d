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

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
