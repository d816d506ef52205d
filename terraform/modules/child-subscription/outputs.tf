output "subscribed_log_group_names" {
  description = "Log groups subscribed to the destination (including the CloudTrail one, when created)."
  value       = concat(sort(tolist(local.subscribed_log_groups)), aws_cloudwatch_log_group.cloudtrail[*].name)
}

output "cloudtrail_arn" {
  description = "ARN of the created CloudTrail, or null."
  value       = one(aws_cloudtrail.this[*].arn)
}

output "cloudtrail_log_group_name" {
  description = "Name of the CloudTrail log group, or null."
  value       = one(aws_cloudwatch_log_group.cloudtrail[*].name)
}

output "eventbridge_rule_arn" {
  description = "ARN of the rule forwarding CloudTrail events to the CSOC bus, or null."
  value       = one(aws_cloudwatch_event_rule.to_csoc[*].arn)
}
