terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
      # aws.destination: the child account's region, where the CloudWatch Logs destination
      # must live (a destination has to be in the same region as the log groups it serves).
      configuration_aliases = [aws.destination]
    }
  }
}
