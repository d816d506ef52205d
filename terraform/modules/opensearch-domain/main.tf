################################################################################
# opensearch-domain: the shared Amazon OpenSearch Service domain, applied once.
# Encryption at rest (KMS), node-to-node encryption, HTTPS only (TLS 1.2),
# fine-grained access control with an IAM master user, an access policy admitting
# the per-commons function roles, and every log type published to CloudWatch Logs.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  domain_arn = "arn:${local.partition}:es:${local.region}:${local.account_id}:domain/${var.domain_name}"

  tags = merge(
    {
      Project   = "csoc-forwarder"
      ManagedBy = "terraform"
    },
    var.tags,
  )

  log_types = {
    INDEX_SLOW_LOGS     = "index-slow"
    SEARCH_SLOW_LOGS    = "search-slow"
    ES_APPLICATION_LOGS = "application"
    AUDIT_LOGS          = "audit"
  }
}

resource "aws_opensearch_domain" "this" {
  #checkov:skip=CKV_AWS_137:The commons' functions reach the domain over its public HTTPS endpoint with SigV4 and fine-grained access control; a VPC domain would force every function into that VPC.
  #checkov:skip=CKV_AWS_248:Security groups apply only to VPC domains; this domain is not in a VPC (see CKV_AWS_137).
  domain_name    = var.domain_name
  engine_version = var.engine_version

  cluster_config {
    instance_type            = var.instance_type
    instance_count           = var.instance_count
    zone_awareness_enabled   = true
    dedicated_master_enabled = true
    dedicated_master_type    = var.dedicated_master_type
    dedicated_master_count   = 3

    zone_awareness_config {
      availability_zone_count = var.availability_zone_count
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.ebs_volume_size
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = aws_kms_key.this.arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-2019-07"
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false

    master_user_options {
      master_user_arn = var.master_user_arn
    }
  }

  log_publishing_options {
    enabled                  = true
    log_type                 = "INDEX_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["INDEX_SLOW_LOGS"].arn
  }

  log_publishing_options {
    enabled                  = true
    log_type                 = "SEARCH_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["SEARCH_SLOW_LOGS"].arn
  }

  log_publishing_options {
    enabled                  = true
    log_type                 = "ES_APPLICATION_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["ES_APPLICATION_LOGS"].arn
  }

  log_publishing_options {
    enabled                  = true
    log_type                 = "AUDIT_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["AUDIT_LOGS"].arn
  }

  tags = local.tags

  depends_on = [aws_cloudwatch_log_resource_policy.this]
}

# Every commons' forwarder and audit roles are admitted by name pattern, so a new commons
# needs no edit here: the CSOC account is the principal and aws:PrincipalArn must match
# <any path>/<commons>-csoc-forwarder or -csoc-audit (the csoc-commons module's role
# names). What each role may write is decided by its own IAM policy (its index prefix) and
# by fine-grained access control (README: the role mapping).
data "aws_iam_policy_document" "access" {
  statement {
    sid    = "CommonsFunctionsIndex"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "es:ESHttpGet",
      "es:ESHttpPost",
      "es:ESHttpPut",
    ]
    resources = ["${local.domain_arn}/*"]
    condition {
      test     = "ArnLike"
      variable = "aws:PrincipalArn"
      values = [
        "arn:${local.partition}:iam::${local.account_id}:role/*-csoc-forwarder",
        "arn:${local.partition}:iam::${local.account_id}:role/*-csoc-audit",
      ]
    }
  }

  # Roles outside the naming pattern, when given (never an empty principal list).
  dynamic "statement" {
    for_each = length(var.function_role_arns) > 0 ? [1] : []
    content {
      sid    = "OtherFunctionsIndex"
      effect = "Allow"
      principals {
        type        = "AWS"
        identifiers = var.function_role_arns
      }
      actions = [
        "es:ESHttpGet",
        "es:ESHttpPost",
        "es:ESHttpPut",
      ]
      resources = ["${local.domain_arn}/*"]
    }
  }

  statement {
    sid    = "MasterUserAdministers"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = [var.master_user_arn]
    }
    actions = [
      "es:ESHttpDelete",
      "es:ESHttpGet",
      "es:ESHttpHead",
      "es:ESHttpPatch",
      "es:ESHttpPost",
      "es:ESHttpPut",
    ]
    resources = ["${local.domain_arn}/*"]
  }
}

resource "aws_opensearch_domain_policy" "this" {
  domain_name     = aws_opensearch_domain.this.domain_name
  access_policies = data.aws_iam_policy_document.access.json
}
