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
  # Each commons writes its own indices (csoc-logs-<commons>-YYYY.MM.DD): csoc-logs-* still
  # finds every commons, and the role may write only under its own prefix.
  index_prefix = coalesce(var.index_prefix, "csoc-logs-${var.common_name}")
  # The Slack webhook, "" (the replaced system's "no Slack") read as none.
  slack_webhook_given = nonsensitive(var.slack_webhook != null && var.slack_webhook != "")

  tags = merge(
    {
      Project   = "csoc-forwarder"
      Commons   = var.common_name
      ManagedBy = "terraform"
    },
    var.tags,
  )
}

# Checked before anything is created: the package comes from exactly one place (a local
# zip, or an S3 object: one build for every commons), and the credentials are in the CSOC
# account.
resource "terraform_data" "guards" {
  lifecycle {
    precondition {
      condition     = (var.lambda_zip_path != null) != (var.lambda_s3_bucket != null && var.lambda_s3_key != null)
      error_message = "Give the function's package either as lambda_zip_path or as lambda_s3_bucket + lambda_s3_key, not both and not neither."
    }
    precondition {
      condition     = var.csoc_account_id == null || var.csoc_account_id == local.account_id
      error_message = "csoc_account_id is set but differs from the account of the aws provider's credentials: apply this module in the CSOC account (or fix csoc_account_id)."
    }
  }
}
