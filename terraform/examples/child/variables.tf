variable "region" {
  description = "Region of the log groups; must be the region of the CSOC destination (the CSOC side's child_account_region)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "common_name" {
  description = "Name of the commons (as given to the CSOC side)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.common_name))
    error_message = "common_name must be 2-32 characters of lower-case letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "destination_arn" {
  description = "The CSOC's destination ARN for this commons (examples/commons output destination_arn)."
  type        = string
}

variable "log_group_names" {
  description = "Log groups of this account to forward."
  type        = list(string)
  default     = []
}

variable "enable_cloudtrail" {
  description = "Create a CloudTrail delivered to a log group that is forwarded too."
  type        = bool
  default     = false
}

variable "cloudtrail_s3_bucket_name" {
  description = "Existing bucket for the trail's log files (required with enable_cloudtrail)."
  type        = string
  default     = null
}

variable "enable_eventbridge_forwarding" {
  description = "Forward this account's CloudTrail management events to the CSOC event bus (csoc_event_bus_arn)."
  type        = bool
  default     = false
}

variable "csoc_event_bus_arn" {
  description = "ARN of the CSOC event bus; required with enable_eventbridge_forwarding."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
