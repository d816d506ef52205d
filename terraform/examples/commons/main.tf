# The root a CSOC operator applies once per commons, in the CSOC account:
#   terraform apply -var child_account_id=123456789012 -var common_name=mycommons

provider "aws" {
  region = var.aws_region
}

# The CloudWatch Logs destination must be in the region of the child's log groups.
provider "aws" {
  alias  = "destination"
  region = var.child_account_region
}

module "commons" {
  source = "../../modules/csoc-commons"

  providers = {
    aws             = aws
    aws.destination = aws.destination
  }

  child_account_id     = var.child_account_id
  common_name          = var.common_name
  csoc_account_id      = var.csoc_account_id
  child_account_region = var.child_account_region
  elasticsearch_domain = var.elasticsearch_domain
  threshold            = var.threshold
  slack_webhook        = var.slack_webhook
  timeout              = var.timeout
  memory_size          = var.memory_size

  # The audit-records endpoint (issue #7): off unless enable_audit_endpoint.
  enable_audit_endpoint       = var.enable_audit_endpoint
  audit_endpoint_invoker_arns = var.audit_endpoint_invoker_arns

  lambda_zip_path = coalesce(var.lambda_zip_path, "${path.root}/../../../target/lambda/csoc-forwarder/bootstrap.zip")
  tags            = var.tags
}
