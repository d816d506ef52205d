################################################################################
# child-subscription: the commons (child) account's side. Subscribes log groups
# to the CSOC's CloudWatch Logs destination; optionally creates a CloudTrail whose
# log group is subscribed too.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id

  tags = merge(
    {
      Project   = "csoc-forwarder"
      Commons   = var.common_name
      ManagedBy = "terraform"
    },
    var.tags,
  )

  subscribed_log_groups = toset(var.log_group_names)
}

resource "aws_cloudwatch_log_subscription_filter" "this" {
  for_each = local.subscribed_log_groups

  name            = "${var.common_name}-csoc"
  log_group_name  = each.value
  filter_pattern  = var.filter_pattern
  destination_arn = var.destination_arn

  lifecycle {
    precondition {
      condition     = split(":", var.destination_arn)[3] == local.region
      error_message = "destination_arn must be in this provider's region: a CloudWatch Logs destination serves log groups of its own region only."
    }
  }
}
