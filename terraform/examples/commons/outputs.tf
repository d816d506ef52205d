output "destination_arn" {
  description = "CloudWatch Logs destination ARN to give to the child account (examples/child's destination_arn)."
  value       = module.commons.destination_arn
}

output "lambda_function_name" {
  description = "Name of the csoc-forwarder function."
  value       = module.commons.lambda_function_name
}

output "lambda_role_arn" {
  description = "The function's role ARN, to admit in the OpenSearch domain's access policy."
  value       = module.commons.lambda_role_arn
}

output "archive_bucket_name" {
  description = "Name of the commons' archive bucket."
  value       = module.commons.archive_bucket_name
}

output "failure_queue_url" {
  description = "URL of the queue holding what the function gave up on."
  value       = module.commons.failure_queue_url
}

output "audit_endpoint_url" {
  description = "URL of the audit-records endpoint (POST /<node-name>, SigV4 for service lambda), or null when enable_audit_endpoint is false."
  value       = module.commons.audit_endpoint_url
}

output "audit_role_arn" {
  description = "The audit endpoint's role ARN, to admit in the OpenSearch domain's access policy (null when disabled)."
  value       = module.commons.audit_role_arn
}

output "kinesis_stream_arn" {
  description = "ARN of the commons' Kinesis stream."
  value       = module.commons.kinesis_stream_arn
}

output "index_prefix" {
  description = "Index prefix of this commons (its documents are in <prefix>-YYYY.MM.DD)."
  value       = module.commons.index_prefix
}

output "event_bus_arn" {
  description = "Give to the child account as csoc_event_bus_arn (examples/child) with enable_eventbridge_forwarding; null unless enable_cloudtrail_events."
  value       = module.commons.event_bus_arn
}

output "audit_invoker_policy_json" {
  description = "Identity policy (JSON) the audit endpoint's callers attach in their own account; null unless enable_audit_endpoint."
  value       = module.commons.audit_invoker_policy_json
}
