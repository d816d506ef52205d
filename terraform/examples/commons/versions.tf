terraform {
  # Partial configuration: `terraform init -backend-config=backend.hcl` (bucket, key,
  # region, use_lockfile). Each workspace (= commons) gets its own state object,
  # env:/<common_name>/<key>; see README.md, "Deploy".
  backend "s3" {}

  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100" # the lock file (.terraform.lock.hcl) pins the exact build
    }
  }
}
