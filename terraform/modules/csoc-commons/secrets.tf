################################################################################
# The Slack webhook, kept out of the function's environment: the function gets
# only the secret's ARN.
################################################################################

resource "aws_secretsmanager_secret" "slack_webhook" {
  #checkov:skip=CKV2_AWS_57:A Slack incoming-webhook URL cannot be rotated by a rotation Lambda; it is rotated by issuing a new webhook in Slack and re-applying with the new slack_webhook.
  name                    = "${local.name}/csoc-forwarder/slack-webhook"
  description             = "Slack incoming webhook for csoc-forwarder alerts of ${var.common_name}"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7

  tags = local.tags
}

# The webhook is write-only (secret_string_wo, Terraform >= 1.11): it is sent to Secrets
# Manager and never stored in the Terraform state or plan. Terraform cannot compare it, so
# a new webhook is stored when slack_webhook_version changes.
resource "aws_secretsmanager_secret_version" "slack_webhook" {
  # Only whether a webhook was given is revealed, never the webhook.
  count = local.slack_webhook_given ? 1 : 0

  secret_id                = aws_secretsmanager_secret.slack_webhook.id
  secret_string_wo         = var.slack_webhook
  secret_string_wo_version = var.slack_webhook_version
}
