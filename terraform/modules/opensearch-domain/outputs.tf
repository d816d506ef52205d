output "domain_arn" {
  description = "ARN of the OpenSearch domain."
  value       = aws_opensearch_domain.this.arn
}

output "domain_name" {
  description = "Name of the OpenSearch domain (the csoc-commons module's elasticsearch_domain)."
  value       = aws_opensearch_domain.this.domain_name
}

output "endpoint" {
  description = "HTTPS endpoint of the domain (the csoc-commons module's opensearch_endpoint)."
  value       = "https://${aws_opensearch_domain.this.endpoint}"
}

output "dashboards_url" {
  description = "URL of OpenSearch Dashboards."
  value       = "https://${aws_opensearch_domain.this.dashboard_endpoint}"
}

output "kms_key_arn" {
  description = "ARN of the domain's KMS key."
  value       = aws_kms_key.this.arn
}
