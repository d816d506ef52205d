################################################################################
# csoc-commons: the CSOC-account side of one commons, applied once per commons.
#
# child account log groups --subscription--> CloudWatch Logs destination (child region)
#   --> Kinesis stream (KMS) --> event source mapping --> Lambda (csoc-forwarder)
#   --> OpenSearch + Firehose --> S3 archive, Slack alerts; failures --> SQS.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id      = data.aws_caller_identity.current.account_id
  csoc_account_id = coalesce(var.csoc_account_id, local.account_id)
  partition       = data.aws_partition.current.partition
  region          = data.aws_region.current.id

  # Every resource name starts with the commons' name.
  name          = var.common_name
  function_name = "${var.common_name}-csoc-forwarder"
  # The binary's default FIREHOSE_STREAM is <COMMON_NAME>_firehose; keep the same name.
  firehose_name = "${var.common_name}_firehose"
  bucket_name   = coalesce(var.archive_bucket_name, "${var.common_name}-csoc-logs-${local.account_id}")

  tags = merge(
    {
      Project   = "csoc-forwarder"
      Commons   = var.common_name
      ManagedBy = "terraform"
    },
    var.tags,
  )
}
