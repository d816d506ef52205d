use super::*;

// ---------------------------------------------------------------------------------------
// Check: the event source mapping
// ---------------------------------------------------------------------------------------

pub(super) fn esm_violations(dir: &TfDir) -> Vec<String> {
    let mut problems = Vec::new();
    let vars = dir.variables();
    let mappings: Vec<_> = dir.resources("aws_lambda_event_source_mapping").collect();
    if mappings.is_empty() {
        problems.push(format!("{}: no aws_lambda_event_source_mapping", dir.rel));
    }
    for m in mappings {
        let at = format!(
            "{}: aws_lambda_event_source_mapping.{}",
            dir.rel,
            label(m, 1)
        );
        let b = m.body();
        if attr(b, "function_response_types").and_then(string_array)
            != Some(vec!["ReportBatchItemFailures"])
        {
            problems.push(format!(
                "{at}: function_response_types must be [\"ReportBatchItemFailures\"]"
            ));
        }
        if attr(b, "starting_position") != Some(&s("TRIM_HORIZON")) {
            problems.push(format!("{at}: starting_position must be TRIM_HORIZON"));
        }
        if attr(b, "bisect_batch_on_function_error") != Some(&Expression::Bool(true)) {
            problems.push(format!("{at}: bisect_batch_on_function_error must be true"));
        }
        // Bounded retries: a literal in 0..=10000, or a variable whose default is and
        // which has a validation.
        let bounded = |v: f64| (0.0..=10000.0).contains(&v);
        match attr(b, "maximum_retry_attempts") {
            Some(e) if num(e).is_some_and(bounded) => {}
            Some(e) => match traversal_path(e).as_deref() {
                Some([root, name]) if root == "var" => {
                    let var = vars.get(name.as_str());
                    let default_ok = var
                        .and_then(|v| attr(v.body(), "default"))
                        .and_then(num)
                        .is_some_and(bounded);
                    let validated =
                        var.is_some_and(|v| sub_blocks(v.body(), "validation").next().is_some());
                    if !default_ok || !validated {
                        problems.push(format!(
                            "{at}: var.{name} must default to 0..=10000 and be validated (no -1)"
                        ));
                    }
                }
                _ => problems.push(format!(
                    "{at}: maximum_retry_attempts is not bounded: {}",
                    show(e)
                )),
            },
            None => problems.push(format!(
                "{at}: maximum_retry_attempts missing (the default is infinite)"
            )),
        }
        let on_failure = sub_blocks(b, "destination_config")
            .flat_map(|d| sub_blocks(d.body(), "on_failure"))
            .find_map(|o| attr(o.body(), "destination_arn"))
            .and_then(traversal_path);
        // S3 keeps the whole invocation record (the batch's records); SQS would keep only
        // shard and sequence numbers that point at records the stream deletes after its
        // retention.
        if on_failure.is_none_or(|p| p.first().map(String::as_str) != Some("aws_s3_bucket")) {
            problems.push(format!(
                "{at}: needs an on-failure S3 destination (the full invocation record)"
            ));
        }
    }
    problems
}

#[test]
fn terraform_event_source_mapping_reports_batch_item_failures() {
    let problems = esm_violations(&load("modules/csoc-commons"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_esm_check_detects_a_bad_mapping() {
    let dir = from_text(
        r#"
        variable "retries" {
          type    = number
          default = -1
        }
        resource "aws_lambda_event_source_mapping" "m" {
          starting_position       = "LATEST"
          maximum_retry_attempts  = var.retries
          function_response_types = []
        }
        "#,
    );
    let problems = esm_violations(&dir).join("\n");
    for want in [
        "function_response_types",
        "TRIM_HORIZON",
        "bisect",
        "var.retries",
        "on-failure",
    ] {
        assert!(
            problems.contains(want),
            "expected a problem about {want}: {problems}"
        );
    }
}
