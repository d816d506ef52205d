# Plan-only tests with a mocked AWS provider: `terraform init -backend=false && terraform test`.

mock_provider "aws" {
  # The mock's random string is not JSON; resources that take a policy validate it.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "222222222222"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id   = "us-east-1"
      name = "us-east-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  common_name     = "testcommons"
  destination_arn = "arn:aws:logs:us-east-1:111111111111:destination:testcommons_destination"
  log_group_names = ["/aws/lambda/app", "/var/log/syslog"]
}

run "subscribes_each_log_group" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_log_subscription_filter.this) == 2
    error_message = "every listed log group must be subscribed"
  }

  assert {
    condition     = aws_cloudwatch_log_subscription_filter.this["/aws/lambda/app"].destination_arn == var.destination_arn
    error_message = "subscriptions must point at the CSOC destination"
  }

  assert {
    condition     = length(aws_cloudtrail.this) == 0
    error_message = "CloudTrail is off by default"
  }
}

run "cloudtrail_is_subscribed_too" {
  command = plan

  variables {
    enable_cloudtrail         = true
    cloudtrail_s3_bucket_name = "org-cloudtrail-bucket"
  }

  assert {
    condition     = length(aws_cloudtrail.this) == 1 && aws_cloudtrail.this[0].enable_log_file_validation
    error_message = "enable_cloudtrail must create a validated trail"
  }

  assert {
    condition     = length(aws_cloudwatch_log_subscription_filter.cloudtrail) == 1
    error_message = "the trail's log group must be subscribed"
  }
}

run "rejects_destination_in_other_region" {
  command = plan

  variables {
    destination_arn = "arn:aws:logs:eu-west-1:111111111111:destination:testcommons_destination"
  }

  expect_failures = [aws_cloudwatch_log_subscription_filter.this]
}

run "rejects_non_destination_arn" {
  command = plan

  variables {
    destination_arn = "arn:aws:kinesis:us-east-1:111111111111:stream/x"
  }

  expect_failures = [var.destination_arn]
}
