################################################################################
# The stream the CloudWatch Logs destination writes into and the function reads.
################################################################################

resource "aws_kinesis_stream" "this" {
  name             = "${local.name}-csoc-logs"
  shard_count      = var.kinesis_stream_mode == "PROVISIONED" ? var.kinesis_shard_count : null
  retention_period = var.kinesis_retention_hours
  encryption_type  = "KMS"
  kms_key_id       = aws_kms_key.this.arn

  stream_mode_details {
    stream_mode = var.kinesis_stream_mode
  }

  tags = local.tags
}
