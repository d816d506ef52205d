use super::*;

// ---------------------------------------------------------------------------------------
// Check: the audit-records endpoint (issue #7)
// ---------------------------------------------------------------------------------------

/// The file holding the endpoint's resources; every resource or data source in it, and any
/// named `*audit*` elsewhere, exists only with the flag.
pub(super) const AUDIT_FILE: &str = "audit_endpoint.tf";
pub(super) const AUDIT_FLAG: &[&str] = &["var", "enable_audit_endpoint"];

/// Names the endpoint needs: it archives (FIREHOSE_STREAM), indexes (OPENSEARCH_URL) and
/// dead-letters (DEAD_LETTER_BUCKET), per commons (COMMON_NAME).
pub(super) const AUDIT_REQUIRED_ENV: &[&str] = &[
    "COMMON_NAME",
    "FIREHOSE_STREAM",
    "OPENSEARCH_URL",
    "DEAD_LETTER_BUCKET",
];

/// Names the endpoint must not get, with the reason.
pub(super) const AUDIT_FORBIDDEN_ENV: &[(&str, &str)] = &[(
    "SLACK_WEBHOOK_SECRET_ARN",
    "the audit role may not read the Slack secret",
)];

/// Action prefixes the endpoint's role must not have, with the reason.
pub(super) const AUDIT_FORBIDDEN_ACTIONS: &[(&str, &str)] = &[
    ("kinesis:", "the endpoint reads no stream"),
    (
        "sqs:",
        "the endpoint has no failure queue (it is invoked synchronously)",
    ),
    (
        "secretsmanager:",
        "the endpoint sends no Slack alerts and OpenSearch uses SigV4",
    ),
];

/// `<cond>` requires the flag: it is the flag, or an `&&` with the flag on one side.
pub(super) fn requires_audit_flag(cond: &Expression) -> bool {
    match cond {
        Expression::Parenthesis(e) => requires_audit_flag(e),
        Expression::Operation(op) => match op.as_ref() {
            Operation::Binary(b) => {
                b.operator == hcl::expr::BinaryOperator::And
                    && (requires_audit_flag(&b.lhs_expr) || requires_audit_flag(&b.rhs_expr))
            }
            Operation::Unary(_) => false,
        },
        other => is_ref(other, AUDIT_FLAG),
    }
}

/// `0`, `[]`, `{}`, or `toset([])` / `tomap({})` / `tolist([])`.
pub(super) fn is_nothing(expr: &Expression) -> bool {
    match expr {
        Expression::Number(n) => n.as_f64() == Some(0.0),
        Expression::Array(items) => items.is_empty(),
        Expression::Object(obj) => obj.is_empty(),
        Expression::Parenthesis(e) => is_nothing(e),
        Expression::FuncCall(call) => {
            ["toset", "tomap", "tolist"].contains(&call.name.name.as_str())
                && call.args.len() == 1
                && is_nothing(&call.args[0])
        }
        _ => false,
    }
}

/// `count` or `for_each` is `<cond requiring the flag> ? <x> : <nothing>`.
pub(super) fn gated_by_audit_flag(body: &Body) -> bool {
    let Some(Expression::Conditional(c)) = attr(body, "count").or_else(|| attr(body, "for_each"))
    else {
        return false;
    };
    requires_audit_flag(&c.cond_expr) && is_nothing(&c.false_expr)
}

pub(super) fn audit_gating_violations(dir: &TfDir) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = 0;
    for kind in ["resource", "data"] {
        for (file, b) in dir.blocks(kind) {
            if file != AUDIT_FILE && !label(b, 1).contains("audit") {
                continue;
            }
            seen += 1;
            if !gated_by_audit_flag(b.body()) {
                problems.push(format!(
                    "{}/{file}: {kind} {}.{} is not gated: it needs count (or for_each) = var.enable_audit_endpoint ? ... : 0 (or an empty collection)",
                    dir.rel,
                    label(b, 0),
                    label(b, 1)
                ));
            }
        }
    }
    if seen == 0 {
        problems.push(format!(
            "{}: no audit-endpoint resource ({AUDIT_FILE})",
            dir.rel
        ));
    }
    problems
}

pub(super) fn audit_url_violations(dir: &TfDir) -> Vec<String> {
    let mut problems = Vec::new();
    let urls: Vec<_> = dir.resources("aws_lambda_function_url").collect();
    if urls.is_empty() {
        problems.push(format!("{}: no aws_lambda_function_url", dir.rel));
    }
    for u in urls {
        let at = format!("{}: aws_lambda_function_url.{}", dir.rel, label(u, 1));
        if attr(u.body(), "authorization_type") != Some(&s("AWS_IAM")) {
            problems.push(format!(
                "{at}: authorization_type must be \"AWS_IAM\", found {}",
                attr(u.body(), "authorization_type").map_or_else(|| "nothing".to_string(), show)
            ));
        }
        if sub_blocks(u.body(), "cors").next().is_some() {
            problems.push(format!(
                "{at}: has a cors block (callers are services, not browsers)"
            ));
        }
    }
    // Function-URL permissions apply to AWS_IAM URLs only.
    for p in dir.resources("aws_lambda_permission") {
        if attr(p.body(), "action") == Some(&s("lambda:InvokeFunctionUrl"))
            && attr(p.body(), "function_url_auth_type") != Some(&s("AWS_IAM"))
        {
            problems.push(format!(
                "{}: aws_lambda_permission.{}: lambda:InvokeFunctionUrl needs function_url_auth_type = \"AWS_IAM\"",
                dir.rel,
                label(p, 1)
            ));
        }
    }
    problems
}

/// AWS managed policies a role may have attached, with why each is least privilege.
pub(super) const ALLOWED_MANAGED_POLICIES: &[(&str, &str)] = &[(
    "AWSXRayDaemonWriteAccess",
    "X-Ray writes only (PutTraceSegments, PutTelemetryRecords, GetSampling*), which take no resource-level permissions",
)];

/// The allowed managed policy an `aws_iam_role_policy_attachment` attaches
/// (`arn:${local.partition}:iam::aws:policy/<name>`), if it is one.
pub(super) fn allowed_managed_policy(body: &Body) -> Option<&'static str> {
    let arn = show(attr(body, "policy_arn")?);
    ALLOWED_MANAGED_POLICIES
        .iter()
        .map(|(name, _)| *name)
        .find(|name| {
            arn.trim_matches('"')
                .ends_with(&format!(":iam::aws:policy/{name}"))
        })
}

pub(super) fn managed_policy_violations(dir: &TfDir) -> Vec<String> {
    dir.blocks("resource")
        .filter(|(_, b)| label(b, 0) == "aws_iam_role_policy_attachment")
        .filter(|(_, b)| allowed_managed_policy(b.body()).is_none())
        .map(|(file, b)| {
            format!(
                "{}/{file}: aws_iam_role_policy_attachment.{} attaches {}, not one of ALLOWED_MANAGED_POLICIES",
                dir.rel,
                label(b, 1),
                attr(b.body(), "policy_arn").map_or_else(|| "nothing".to_owned(), show)
            )
        })
        .collect()
}

#[test]
fn terraform_attaches_only_allowed_managed_policies() {
    let problems: Vec<String> = load_all()
        .iter()
        .flat_map(managed_policy_violations)
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_managed_policy_check_detects_a_broad_policy() {
    let dir = from_text(
        r#"
        resource "aws_iam_role_policy_attachment" "xray" {
          role       = aws_iam_role.lambda.name
          policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
        }
        resource "aws_iam_role_policy_attachment" "admin" {
          role       = aws_iam_role.lambda.name
          policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }
        "#,
    );
    let problems = managed_policy_violations(&dir);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("AdministratorAccess"), "{problems:?}");
}

/// The actions of the policies attached to `aws_iam_role.audit` must avoid
/// AUDIT_FORBIDDEN_ACTIONS; they must be `aws_iam_policy_document`s with literal actions.
pub(super) fn audit_policy_violations(dir: &TfDir) -> Vec<String> {
    let mut problems = Vec::new();
    let mut documents = BTreeSet::new();
    for (file, b) in dir.blocks("resource") {
        let ty = label(b, 0);
        if !ty.starts_with("aws_iam_role_policy") {
            continue;
        }
        let on_audit_role = attr(b.body(), "role").is_some_and(|r| {
            show(r)
                .strip_prefix("aws_iam_role.audit")
                .is_some_and(|rest| rest.starts_with(['[', '.']))
        });
        if !on_audit_role {
            continue;
        }
        let at = format!("{}/{file}: {ty}.{}", dir.rel, label(b, 1));
        if ty == "aws_iam_role_policy_attachment" && allowed_managed_policy(b.body()).is_some() {
            continue;
        }
        match attr(b.body(), "policy").and_then(policy_document_name) {
            Some(name) => {
                documents.insert(name);
            }
            None => problems.push(format!(
                "{at}: attaches a policy the check cannot read (give it a data.aws_iam_policy_document)"
            )),
        }
    }
    if documents.is_empty() && problems.is_empty() {
        problems.push(format!(
            "{}: no aws_iam_role_policy on aws_iam_role.audit",
            dir.rel
        ));
    }
    // Statements merged in from other documents count too.
    let mut pending: Vec<String> = documents.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let Some((file, doc)) = dir
            .blocks("data")
            .find(|(_, b)| label(b, 0) == "aws_iam_policy_document" && label(b, 1) == name)
        else {
            continue;
        };
        for key in ["source_policy_documents", "override_policy_documents"] {
            let Some(Expression::Array(sources)) = attr(doc.body(), key) else {
                if attr(doc.body(), key).is_some() {
                    problems.push(format!(
                        "{}/{file}: data.aws_iam_policy_document.{name}: {key} must be a list of document references",
                        dir.rel
                    ));
                }
                continue;
            };
            for source in sources {
                match policy_document_name(source) {
                    Some(merged) if documents.insert(merged.clone()) => pending.push(merged),
                    Some(_) => {}
                    None => problems.push(format!(
                        "{}/{file}: data.aws_iam_policy_document.{name}: {key} holds {}, which the check cannot read",
                        dir.rel,
                        show(source)
                    )),
                }
            }
        }
    }
    for (file, doc) in dir
        .blocks("data")
        .filter(|(_, b)| label(b, 0) == "aws_iam_policy_document")
        .filter(|(_, b)| documents.contains(label(b, 1)))
    {
        let at = format!(
            "{}/{file}: data.aws_iam_policy_document.{}",
            dir.rel,
            label(doc, 1)
        );
        if sub_blocks(doc.body(), "dynamic").next().is_some() {
            problems.push(format!(
                "{at}: dynamic statements cannot be checked; write each statement out"
            ));
        }
        for (i, st) in sub_blocks(doc.body(), "statement").enumerate() {
            let Some(actions) = attr(st.body(), "actions").and_then(string_array) else {
                problems.push(format!(
                    "{at} statement #{}: actions must be a list of string literals",
                    i + 1
                ));
                continue;
            };
            for action in actions {
                for (prefix, why) in AUDIT_FORBIDDEN_ACTIONS {
                    if action.to_ascii_lowercase().starts_with(prefix) {
                        problems.push(format!(
                            "{at} statement #{}: allows {action} ({why})",
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    problems
}

pub(super) fn audit_env_violations(dir: &TfDir) -> Vec<String> {
    let binary: BTreeSet<String> = lambda_env_names().map(str::to_string).collect();
    let envs = lambda_environments(dir);
    let Some((_, names)) = envs.iter().find(|(name, _)| name == "audit") else {
        return vec![format!("{}: no aws_lambda_function.audit", dir.rel)];
    };
    let names = match names {
        Ok(names) => names,
        Err(e) => return vec![format!("{}: aws_lambda_function.audit: {e}", dir.rel)],
    };
    let mut problems = Vec::new();
    for extra in names.difference(&binary) {
        problems.push(format!(
            "aws_lambda_function.audit sets {extra}, which the binary does not read (not in config::lambda_env_names())"
        ));
    }
    for required in AUDIT_REQUIRED_ENV {
        if !names.contains(*required) {
            problems.push(format!(
                "aws_lambda_function.audit lacks {required}, which the endpoint needs"
            ));
        }
    }
    for (name, why) in AUDIT_FORBIDDEN_ENV {
        if names.contains(*name) {
            problems.push(format!("aws_lambda_function.audit sets {name} ({why})"));
        }
    }
    problems
}

#[test]
fn terraform_audit_resources_are_gated_by_the_flag() {
    let problems = audit_gating_violations(&load("modules/csoc-commons"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_audit_gating_check_detects_ungated_resources() {
    let dir = from_text(
        r#"
        resource "aws_lambda_function" "audit" {
          count = var.enable_audit_endpoint ? 1 : 0
        }
        resource "aws_lambda_function_url" "audit" {
          count = 1
        }
        resource "aws_iam_role" "audit" {}
        resource "aws_lambda_permission" "audit_invoke" {
          for_each = var.enable_audit_endpoint ? toset(var.invokers) : toset(["x"])
        }
        resource "aws_cloudwatch_metric_alarm" "audit_errors" {
          count = var.enable_audit_endpoint && var.create_alarms ? 1 : 0
        }
        resource "aws_lambda_permission" "audit_ok" {
          for_each = var.enable_audit_endpoint ? toset(var.invokers) : toset([])
        }
        resource "aws_sqs_queue" "unrelated" {}
        "#,
    );
    let problems = audit_gating_violations(&dir).join("\n");
    for bad in [
        "aws_lambda_function_url.audit",
        "aws_iam_role.audit",
        "aws_lambda_permission.audit_invoke ",
    ] {
        assert!(problems.contains(bad), "{bad} must be reported: {problems}");
    }
    for ok in [
        "aws_lambda_function.audit ",
        "audit_errors",
        "audit_ok",
        "unrelated",
    ] {
        assert!(!problems.contains(ok), "{ok} is fine: {problems}");
    }
    // In audit_endpoint.tf every resource and data source counts, whatever its name.
    let file = parse_files(
        "synthetic",
        vec![(
            AUDIT_FILE.to_string(),
            r#"
            locals { n = 1 }
            data "aws_iam_policy_document" "anything" {}
            resource "aws_sqs_queue" "anything" {
              count = var.enable_audit_endpoint ? 1 : 0
            }
            "#
            .to_string(),
        )],
    );
    let problems = audit_gating_violations(&file).join("\n");
    assert!(
        problems.contains("data aws_iam_policy_document.anything is not gated"),
        "{problems}"
    );
    assert!(!problems.contains("aws_sqs_queue"), "{problems}");
    assert!(
        audit_gating_violations(&from_text("locals {}"))
            .join("\n")
            .contains("no audit-endpoint resource"),
        "a module without the endpoint must be reported"
    );
}

#[test]
fn terraform_audit_url_uses_aws_iam_auth() {
    let problems = audit_url_violations(&load("modules/csoc-commons"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_audit_url_check_detects_public_urls() {
    let dir = from_text(
        r#"
        resource "aws_lambda_function_url" "audit" {
          authorization_type = "NONE"
          cors {
            allow_origins = ["*"]
          }
        }
        resource "aws_lambda_permission" "public" {
          action                 = "lambda:InvokeFunctionUrl"
          principal              = "*"
          function_url_auth_type = "NONE"
        }
        "#,
    );
    let problems = audit_url_violations(&dir).join("\n");
    assert!(
        problems.contains(r#"authorization_type must be "AWS_IAM", found "NONE""#),
        "{problems}"
    );
    assert!(problems.contains("has a cors block"), "{problems}");
    assert!(
        problems.contains("aws_lambda_permission.public: lambda:InvokeFunctionUrl needs"),
        "{problems}"
    );
    assert!(
        audit_url_violations(&from_text("locals {}"))
            .join("\n")
            .contains("no aws_lambda_function_url"),
        "a missing URL must be reported"
    );
}

#[test]
fn terraform_audit_role_has_no_stream_queue_or_secret_actions() {
    let problems = audit_policy_violations(&load("modules/csoc-commons"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_audit_policy_check_detects_kinesis_sqs_and_secrets() {
    let dir = from_text(
        r#"
        data "aws_iam_policy_document" "shared" {
          statement {
            sid       = "Merged"
            actions   = ["kinesis:DescribeStream"]
            resources = ["arn:aws:kinesis:us-east-1:111111111111:stream/x"]
          }
        }
        data "aws_iam_policy_document" "audit" {
          count                   = 1
          source_policy_documents = [data.aws_iam_policy_document.shared.json]
          statement {
            sid       = "Fine"
            actions   = ["firehose:PutRecordBatch"]
            resources = ["arn:aws:firehose:us-east-1:111111111111:deliverystream/x"]
          }
          statement {
            sid       = "Stream"
            actions   = ["kinesis:GetRecords", "Kinesis:ListShards"]
            resources = ["arn:aws:kinesis:us-east-1:111111111111:stream/x"]
          }
          statement {
            sid       = "Queue"
            actions   = ["sqs:SendMessage"]
            resources = ["arn:aws:sqs:us-east-1:111111111111:q"]
          }
        }
        data "aws_iam_policy_document" "extra" {
          statement {
            sid       = "Secret"
            actions   = ["secretsmanager:GetSecretValue"]
            resources = ["arn:aws:secretsmanager:us-east-1:111111111111:secret:s"]
          }
        }
        data "aws_iam_policy_document" "forwarder" {
          statement {
            sid       = "NotTheAuditRole"
            actions   = ["kinesis:SubscribeToShard"]
            resources = ["arn:aws:kinesis:us-east-1:111111111111:stream/x"]
          }
        }
        resource "aws_iam_role_policy" "audit" {
          count  = 1
          role   = aws_iam_role.audit[0].id
          policy = data.aws_iam_policy_document.audit[0].json
        }
        resource "aws_iam_role_policy" "audit_extra" {
          role   = aws_iam_role.audit[0].name
          policy = data.aws_iam_policy_document.extra.json
        }
        resource "aws_iam_role_policy" "forwarder" {
          role   = aws_iam_role.lambda.id
          policy = data.aws_iam_policy_document.forwarder.json
        }
        resource "aws_iam_role_policy_attachment" "audit_managed" {
          role       = aws_iam_role.audit[0].name
          policy_arn = "arn:aws:iam::aws:policy/AmazonKinesisFullAccess"
        }
        "#,
    );
    let problems = audit_policy_violations(&dir).join("\n");
    for want in [
        "allows kinesis:GetRecords",
        "allows Kinesis:ListShards",
        "allows sqs:SendMessage",
        "allows secretsmanager:GetSecretValue",
        "data.aws_iam_policy_document.shared statement #1: allows kinesis:DescribeStream",
        "aws_iam_role_policy_attachment.audit_managed: attaches a policy the check cannot read",
    ] {
        assert!(problems.contains(want), "expected {want:?}: {problems}");
    }
    assert!(
        !problems.contains("firehose") && !problems.contains("SubscribeToShard"),
        "{problems}"
    );
    assert!(
        audit_policy_violations(&from_text("locals {}"))
            .join("\n")
            .contains("no aws_iam_role_policy on aws_iam_role.audit"),
        "a role without a policy must be reported"
    );
}

#[test]
fn terraform_audit_env_is_a_subset_of_what_the_binary_reads() {
    let problems = audit_env_violations(&load("modules/csoc-commons"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_audit_env_check_detects_extra_missing_and_forbidden_names() {
    let dir = from_text(
        r#"
        locals {
          all      = merge({ COMMON_NAME = "x", THRESHOLD = "" }, { NOT_A_SETTING = "u", SLACK_WEBHOOK_SECRET_ARN = "s" })
          excluded = ["THRESHOLD"]
          audit    = { for name, value in local.all : name => value if !contains(local.excluded, name) }
        }
        resource "aws_lambda_function" "audit" {
          environment {
            variables = local.audit
          }
        }
        "#,
    );
    let names = lambda_environments(&dir)[0].1.clone().unwrap();
    let want: BTreeSet<String> = ["COMMON_NAME", "NOT_A_SETTING", "SLACK_WEBHOOK_SECRET_ARN"]
        .map(String::from)
        .into();
    assert_eq!(names, want, "the filter must drop the excluded names");
    let problems = audit_env_violations(&dir).join("\n");
    for want in [
        "sets NOT_A_SETTING, which the binary does not read",
        "lacks FIREHOSE_STREAM",
        "lacks OPENSEARCH_URL",
        "lacks DEAD_LETTER_BUCKET",
        "sets SLACK_WEBHOOK_SECRET_ARN",
    ] {
        assert!(problems.contains(want), "expected {want:?}: {problems}");
    }
    assert!(!problems.contains("COMMON_NAME"), "{problems}");

    // A filter the check does not understand fails rather than passing unread.
    let opaque = from_text(
        r#"
        locals { all = { COMMON_NAME = "x" } }
        resource "aws_lambda_function" "audit" {
          environment {
            variables = { for k, v in local.all : k => v if k != "THRESHOLD" }
          }
        }
        "#,
    );
    let problems = audit_env_violations(&opaque).join("\n");
    assert!(
        problems.contains("unsupported for expression"),
        "{problems}"
    );
    assert!(
        audit_env_violations(&from_text("locals {}"))
            .join("\n")
            .contains("no aws_lambda_function.audit"),
        "a missing function must be reported"
    );
}
