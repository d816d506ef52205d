output "subscribed_log_group_names" {
  description = "Log groups subscribed to the CSOC destination."
  value       = module.subscription.subscribed_log_group_names
}

output "cloudtrail_arn" {
  description = "ARN of the created CloudTrail, or null."
  value       = module.subscription.cloudtrail_arn
}
