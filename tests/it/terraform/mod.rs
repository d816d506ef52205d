//! The Terraform in `terraform/`. Contract between the Terraform in `terraform/` and the binary, checked offline by parsing
//! the HCL with hcl-rs (issue #6). Each check is a function returning its violations, so the
//! `*_detects_*` tests below can show on small bad inputs that it fails when it should.
//!
//! - the function's environment names are exactly `config::lambda_env_names()`;
//! - the audit-records endpoint (issue #7) is gated by `var.enable_audit_endpoint`, its URL
//!   uses AWS_IAM auth, its role has no Kinesis/SQS/Secrets Manager action and its
//!   environment is a subset of `config::lambda_env_names()` with what the endpoint needs;
//! - required variables have no default and the documented defaults hold;
//! - every resource of a taggable type gets the merged tags; every type is classified;
//! - no IAM statement allows `*` or `service:*`, every statement has a sid, policies are
//!   `aws_iam_policy_document`s;
//! - the Kinesis event source mapping reports batch item failures and retries boundedly;
//! - each module README lists every variable and output.

//!
//! Files: `load` (parsing, HCL helpers), one file per contract check (`env`, `audit`,
//! `variables`, `tags`, `iam`, `esm`, `readme`), and `apply` (the example applied against
//! moto, then logs sent through what it created).

mod apply;
mod audit;
mod env;
mod esm;
mod iam;
mod load;
mod readme;
mod tags;
mod variables;

#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};
#[allow(unused_imports)]
use std::fs;
#[allow(unused_imports)]
use std::path::{Path, PathBuf};

#[allow(unused_imports)]
use csoc_forwarder::config::lambda_env_names;
#[allow(unused_imports)]
use hcl::expr::{ForExpr, Operation, TemplateExpr, TraversalOperator, UnaryOperator};
#[allow(unused_imports)]
use hcl::{Block, BlockLabel, Body, Expression, Identifier, ObjectKey};

#[allow(unused_imports)]
use self::audit::*;
#[allow(unused_imports)]
use self::env::*;
#[allow(unused_imports)]
use self::iam::*;
#[allow(unused_imports)]
use self::load::*;
#[allow(unused_imports)]
use self::variables::*;
