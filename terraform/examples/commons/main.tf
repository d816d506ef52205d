# The root a CSOC operator applies once per commons, in the CSOC account, in the workspace
# named after the commons (one state per commons; see README.md, "Deploy"):
#   terraform workspace select -or-create mycommons
#   terraform apply -var child_account_id=123456789012 -var common_name=mycommons

# One state per commons: applying commons B in commons A's state would plan to replace A.
resource "terraform_data" "one_state_per_commons" {
  lifecycle {
    precondition {
      condition     = terraform.workspace == var.common_name
      error_message = "Select the commons' own workspace first: terraform workspace select -or-create ${var.common_name} (one state per commons)."
    }
  }
}

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

  child_account_id      = var.child_account_id
  common_name           = var.common_name
  csoc_account_id       = var.csoc_account_id
  child_account_region  = var.child_account_region
  elasticsearch_domain  = var.elasticsearch_domain
  threshold             = var.threshold == "" ? null : tonumber(var.threshold)
  slack_webhook         = var.slack_webhook
  slack_webhook_version = var.slack_webhook_version
  opensearch_endpoint   = var.opensearch_endpoint
  index_prefix          = var.index_prefix
  timeout               = var.timeout
  memory_size           = var.memory_size

  # The audit-records endpoint (issue #7): off unless enable_audit_endpoint.
  enable_audit_endpoint       = var.enable_audit_endpoint
  audit_endpoint_invoker_arns = var.audit_endpoint_invoker_arns

  # CloudTrail management events through EventBridge (the child's
  # enable_eventbridge_forwarding): off unless enable_cloudtrail_events.
  enable_cloudtrail_events = var.enable_cloudtrail_events
  event_bus_name           = var.event_bus_name

  lambda_zip_path          = var.lambda_s3_bucket == null ? coalesce(var.lambda_zip_path, "${path.root}/../../../target/lambda/csoc-forwarder/bootstrap.zip") : null
  lambda_s3_bucket         = var.lambda_s3_bucket
  lambda_s3_key            = var.lambda_s3_key
  lambda_s3_object_version = var.lambda_s3_object_version

  iam_role_path            = var.iam_role_path
  iam_permissions_boundary = var.iam_permissions_boundary
  create_alarm_topic       = var.create_alarm_topic
  alarm_topic_arn          = var.alarm_topic_arn
  archive_force_destroy    = var.archive_force_destroy

  # No depends_on on the guard: it would defer the module's data sources (and so its
  # account check) to apply time. A failed precondition stops the whole plan anyway.
  tags = var.tags
}
