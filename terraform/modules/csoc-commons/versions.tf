terraform {
  # 1.11: write-only attributes (the Slack webhook never reaches the state).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100: secret_string_wo; < 7.0: a major version is adopted on purpose, after a test.
      version = ">= 5.100, < 7.0"
      # aws.destination: the child account's region, where the CloudWatch Logs destination
      # must live (a destination has to be in the same region as the log groups it serves).
      configuration_aliases = [aws.destination]
    }
  }
}
