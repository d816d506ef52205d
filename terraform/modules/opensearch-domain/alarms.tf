################################################################################
# The domain's alarms (AWS's recommended set for what stops indexing): cluster red,
# free storage low, index writes blocked, JVM memory pressure.
################################################################################

locals {
  alarm_dimensions = {
    DomainName = aws_opensearch_domain.this.domain_name
    ClientId   = local.account_id
  }
  free_storage_threshold_mb = coalesce(var.free_storage_threshold_mb, var.ebs_volume_size * 1024 / 4)

  alarms = {
    cluster-red = {
      description = "At least one primary shard is unassigned: documents of its index cannot be written."
      metric      = "ClusterStatus.red"
      statistic   = "Maximum"
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      periods     = 1
    }
    free-storage = {
      description = "A node has less than ${local.free_storage_threshold_mb} MiB free; at the flood stage indices become read-only."
      metric      = "FreeStorageSpace"
      statistic   = "Minimum"
      operator    = "LessThanOrEqualToThreshold"
      threshold   = local.free_storage_threshold_mb
      periods     = 1
    }
    index-writes-blocked = {
      description = "The cluster blocks writes: every commons' documents go to retries and dead letters."
      metric      = "ClusterIndexWritesBlocked"
      statistic   = "Maximum"
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      periods     = 1
    }
    jvm-memory-pressure = {
      description = "JVM memory pressure above ${var.jvm_memory_pressure_threshold}% on a node for 15 minutes."
      metric      = "JVMMemoryPressure"
      statistic   = "Maximum"
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = var.jvm_memory_pressure_threshold
      periods     = 3
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "domain" {
  for_each = local.alarms

  alarm_name          = "${var.domain_name}-${each.key}"
  alarm_description   = "OpenSearch domain ${var.domain_name}: ${each.value.description}"
  namespace           = "AWS/ES"
  metric_name         = each.value.metric
  dimensions          = local.alarm_dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.operator
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns

  tags = local.tags
}
