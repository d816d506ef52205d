################################################################################
# The commons' archive bucket: Firehose writes logs/<commons>/ (and errors/<commons>/),
# the function writes dead-letter/. Encrypted, versioned, private, TLS only; objects
# move to STANDARD_IA at 60 days, GLACIER at 90 and expire at 1827 (5 years), as in the
# system this replaces.
################################################################################

resource "aws_s3_bucket" "archive" {
  #checkov:skip=CKV_AWS_144:Cross-region replication of the log archive is an organisation-level choice (it doubles storage); it is not part of this module.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object-created events of the archive; notifications would have no target.
  bucket        = local.bucket_name
  force_destroy = var.archive_force_destroy

  # A destroy would lose the archive. Terraform takes no variable here: to destroy a
  # commons on purpose, see the README ("Removing a commons", an override file).
  lifecycle {
    prevent_destroy = true
  }

  tags = local.tags
}

resource "aws_s3_bucket_ownership_controls" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "archive" {
  bucket = aws_s3_bucket.archive.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "archive" {
  bucket = aws_s3_bucket.archive.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    id     = "archive"
    status = "Enabled"

    filter {}

    transition {
      days          = 60
      storage_class = "STANDARD_IA"
    }

    transition {
      days          = 90
      storage_class = "GLACIER"
    }

    expiration {
      days = 1827
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.archive]
}

resource "aws_s3_bucket_logging" "archive" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.archive.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3-access/${local.bucket_name}/"
}

data "aws_iam_policy_document" "archive_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [
      aws_s3_bucket.archive.arn,
      "${aws_s3_bucket.archive.arn}/*",
    ]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "archive" {
  bucket = aws_s3_bucket.archive.id
  policy = data.aws_iam_policy_document.archive_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.archive]
}

# The prefix the function writes records it could not deliver to.
resource "aws_s3_object" "dead_letter_prefix" {
  bucket       = aws_s3_bucket.archive.id
  key          = "dead-letter/"
  content      = ""
  content_type = "application/x-directory"
  kms_key_id   = aws_kms_key.this.arn

  tags = local.tags

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.archive]
}
