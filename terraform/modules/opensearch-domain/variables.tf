variable "domain_name" {
  description = "Name of the shared OpenSearch domain (the csoc-commons module's elasticsearch_domain)."
  type        = string
  default     = "commons-logs"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.domain_name))
    error_message = "domain_name must be 3-28 characters, lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "engine_version" {
  description = "OpenSearch engine version."
  type        = string
  default     = "OpenSearch_2.17"

  validation {
    condition     = can(regex("^OpenSearch_[0-9]+\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must look like OpenSearch_2.17."
  }
}

variable "instance_type" {
  description = "Instance type of the data nodes."
  type        = string
  default     = "r6g.large.search"
}

variable "instance_count" {
  description = "Number of data nodes (a multiple of availability_zone_count)."
  type        = number
  default     = 3

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 80
    error_message = "instance_count must be between 1 and 80."
  }
}

variable "availability_zone_count" {
  description = "Availability zones the data nodes spread over (2 or 3)."
  type        = number
  default     = 3

  validation {
    condition     = contains([2, 3], var.availability_zone_count)
    error_message = "availability_zone_count must be 2 or 3."
  }
}

variable "dedicated_master_type" {
  description = "Instance type of the three dedicated master nodes."
  type        = string
  default     = "m6g.large.search"
}

variable "ebs_volume_size" {
  description = "EBS (gp3) volume size per data node, in GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.ebs_volume_size >= 10 && var.ebs_volume_size <= 16384
    error_message = "ebs_volume_size must be between 10 and 16384 GiB."
  }
}

variable "master_user_arn" {
  description = "IAM ARN of the fine-grained access control master user (who maps the function roles to OpenSearch roles)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", var.master_user_arn))
    error_message = "master_user_arn must be an IAM role or user ARN."
  }
}

variable "function_role_arns" {
  description = "ARNs of further roles admitted by the access policy. The csoc-commons roles (<commons>-csoc-forwarder, <commons>-csoc-audit in this account) are admitted by name pattern and need not be listed."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.function_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "Every function_role_arns entry must be an IAM role ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the domain's log groups (application, slow and audit logs), in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts."
  }
}

variable "alarm_topic_arns" {
  description = "SNS topics the domain's alarms notify (cluster red, free storage, index writes blocked, JVM memory pressure)."
  type        = list(string)
  default     = []
}

variable "free_storage_threshold_mb" {
  description = "FreeStorageSpace (MiB, the smallest node) below which the free-storage alarm fires; default 25% of ebs_volume_size."
  type        = number
  default     = null
}

variable "jvm_memory_pressure_threshold" {
  description = "JVMMemoryPressure (%) above which the JVM alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.jvm_memory_pressure_threshold > 0 && var.jvm_memory_pressure_threshold <= 100
    error_message = "jvm_memory_pressure_threshold must be a percentage."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
