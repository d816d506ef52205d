################################################################################
# Retention of this commons' indices in the shared cluster.
#
# The function puts an ISM policy for its own index prefix (<index_prefix>-retention,
# for <index_prefix>-*) at every cold start, at a priority above the shared csoc-logs-*
# policy, so this value overrides the shared retention for this commons only
# (README "Retention per commons"). It reaches the function as OPENSEARCH_RETENTION_DAYS
# (lambda.tf), and the audit-records function too: both put the same policy.
################################################################################

variable "index_retention_days" {
  description = "Days this commons' OpenSearch indices are kept (OPENSEARCH_RETENTION_DAYS: the ISM policy for its index prefix, which overrides the shared csoc-logs-* one). 0 puts no policy."
  type        = number
  default     = 90

  validation {
    condition     = var.index_retention_days >= 0 && var.index_retention_days <= 36500 && floor(var.index_retention_days) == var.index_retention_days
    error_message = "index_retention_days must be a whole number of days from 0 to 36500."
  }
}
