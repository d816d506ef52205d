use super::*;

// ---------------------------------------------------------------------------------------
// Check: tags
// ---------------------------------------------------------------------------------------

/// Resource types that take `tags` with every aws provider >= 5.0: each must get them.
pub(super) const TAGGABLE: &[&str] = &[
    "aws_cloudtrail",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_log_destination",
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_metric_alarm",
    "aws_dynamodb_table",
    "aws_iam_role",
    "aws_kinesis_firehose_delivery_stream",
    "aws_kinesis_stream",
    "aws_kms_key",
    "aws_lambda_function",
    "aws_opensearch_domain",
    "aws_s3_bucket",
    "aws_s3_object",
    "aws_secretsmanager_secret",
    "aws_sns_topic",
    "aws_sqs_queue",
];

/// Resource types without `tags` (in provider 5.0). aws_lambda_event_source_mapping gained
/// `tags` only in provider 5.70; move it to TAGGABLE when versions.tf requires >= 5.70.
pub(super) const NOT_TAGGABLE: &[&str] = &[
    "aws_iam_role_policy_attachment",
    "aws_cloudwatch_event_permission",
    "terraform_data",
    "aws_cloudwatch_event_target",
    "aws_cloudwatch_log_destination_policy",
    "aws_cloudwatch_log_resource_policy",
    "aws_cloudwatch_log_stream",
    "aws_cloudwatch_log_subscription_filter",
    "aws_iam_role_policy",
    "aws_kms_alias",
    "aws_lambda_event_source_mapping",
    "aws_lambda_function_url",
    "aws_lambda_permission",
    "aws_opensearch_domain_policy",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_secretsmanager_secret_version",
];

/// `tags` must carry the module's merged tags: `local.tags` or `merge(local.tags, ...)`.
pub(super) fn carries_merged_tags(expr: &Expression) -> bool {
    match expr {
        Expression::FuncCall(call) if call.name.name.as_str() == "merge" => {
            call.args.iter().any(|a| is_ref(a, &["local", "tags"]))
        }
        other => is_ref(other, &["local", "tags"]),
    }
}

pub(super) fn tag_violations(dir: &TfDir) -> Vec<String> {
    let mut problems = Vec::new();
    for (file, block) in dir.blocks("resource") {
        let (ty, name) = (label(block, 0), label(block, 1));
        let at = format!("{}/{file}: {ty}.{name}", dir.rel);
        if TAGGABLE.contains(&ty) {
            match attr(block.body(), "tags") {
                Some(t) if carries_merged_tags(t) => {}
                Some(t) => problems.push(format!(
                    "{at}: tags = {} does not carry local.tags",
                    show(t)
                )),
                None => problems.push(format!("{at}: takes tags but has none")),
            }
        } else if !NOT_TAGGABLE.contains(&ty) {
            problems.push(format!(
                "{at}: resource type not classified; add it to TAGGABLE or NOT_TAGGABLE in tests/it/terraform/"
            ));
        }
    }
    // Modules that take tags must be given them.
    for (file, call) in dir.blocks("module") {
        if attr(call.body(), "tags").is_none_or(|t| !is_ref(t, &["var", "tags"])) {
            problems.push(format!(
                "{}/{file}: module {} must get tags = var.tags",
                dir.rel,
                label(call, 0)
            ));
        }
    }
    problems
}

#[test]
fn terraform_every_taggable_resource_gets_the_tags() {
    let problems: Vec<String> = load_all().iter().flat_map(tag_violations).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_tag_check_detects_missing_tags_and_unknown_types() {
    let dir = from_text(
        r#"
        locals { tags = {} }
        resource "aws_sqs_queue" "untagged" { name = "q" }
        resource "aws_kms_key" "wrong" { tags = { a = "b" } }
        resource "aws_sns_topic" "ok" { tags = merge(local.tags, { x = "y" }) }
        resource "aws_new_thing" "x" {}
        "#,
    );
    let problems = tag_violations(&dir).join("\n");
    assert!(
        problems.contains("aws_sqs_queue.untagged: takes tags but has none"),
        "{problems}"
    );
    assert!(problems.contains("aws_kms_key.wrong"), "{problems}");
    assert!(
        problems.contains("aws_new_thing.x: resource type not classified"),
        "{problems}"
    );
    assert!(!problems.contains("aws_sns_topic.ok"), "{problems}");
}
