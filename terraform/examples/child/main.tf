# The root the commons (child) account applies, after the CSOC side gave it a destination.

provider "aws" {
  region = var.region
}

module "subscription" {
  source = "../../modules/child-subscription"

  common_name               = var.common_name
  destination_arn           = var.destination_arn
  log_group_names           = var.log_group_names
  enable_cloudtrail         = var.enable_cloudtrail
  cloudtrail_s3_bucket_name = var.cloudtrail_s3_bucket_name

  enable_eventbridge_forwarding = var.enable_eventbridge_forwarding
  csoc_event_bus_arn            = var.csoc_event_bus_arn
  tags                          = var.tags
}
