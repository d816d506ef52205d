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
      account_id = "111111111111"
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
  master_user_arn    = "arn:aws:iam::111111111111:role/opensearch-admin"
  function_role_arns = ["arn:aws:iam::111111111111:role/other-writer"]
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_opensearch_domain.this.domain_name == "commons-logs"
    error_message = "the domain defaults to commons-logs"
  }

  assert {
    condition     = aws_opensearch_domain.this.encrypt_at_rest[0].enabled && aws_opensearch_domain.this.node_to_node_encryption[0].enabled
    error_message = "encryption at rest and node-to-node encryption must be on"
  }

  assert {
    condition     = aws_opensearch_domain.this.domain_endpoint_options[0].enforce_https
    error_message = "HTTPS must be enforced"
  }

  assert {
    condition     = aws_opensearch_domain.this.advanced_security_options[0].enabled
    error_message = "fine-grained access control must be on"
  }
}

run "first_apply_admits_every_commons_by_pattern" {
  command = plan

  variables {
    function_role_arns = []
  }

  assert {
    condition     = length(data.aws_iam_policy_document.access.statement) == 2 && alltrue([for st in data.aws_iam_policy_document.access.statement : length(flatten([for p in st.principals : tolist(p.identifiers)])) > 0])
    error_message = "with no extra roles the policy has the pattern and master statements only, and no statement has an empty principal list"
  }

  assert {
    condition     = contains(flatten([for st in data.aws_iam_policy_document.access.statement : [for c in st.condition : tolist(c.values) if c.variable == "aws:PrincipalArn" && c.test == "ArnLike"]]), "arn:aws:iam::111111111111:role/*-csoc-forwarder")
    error_message = "every commons' forwarder role is admitted by name pattern"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.domain) == 4
    error_message = "cluster red, free storage, index writes blocked and JVM memory pressure alarms"
  }
}

run "rejects_non_role_function_arn" {
  command = plan

  variables {
    function_role_arns = ["arn:aws:iam::111111111111:user/someone"]
  }

  expect_failures = [var.function_role_arns]
}
