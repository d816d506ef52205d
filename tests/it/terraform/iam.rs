use super::*;

// ---------------------------------------------------------------------------------------
// Check: IAM
// ---------------------------------------------------------------------------------------

pub(super) fn is_wildcard_action(action: &str) -> bool {
    action == "*" || action.ends_with(":*")
}

/// Names of the policy documents used as KMS key policies: there, and only there, the
/// resource "*" means "this key".
pub(super) fn key_policy_documents(dir: &TfDir) -> BTreeSet<String> {
    dir.resources("aws_kms_key")
        .filter_map(|k| attr(k.body(), "policy").and_then(traversal_path))
        .filter_map(|p| match p.as_slice() {
            [d, ty, name, json]
                if d == "data" && ty == "aws_iam_policy_document" && json == "json" =>
            {
                Some(name.clone())
            }
            _ => None,
        })
        .collect()
}

/// `<name>` of `data.aws_iam_policy_document.<name>.json`, or of
/// `data.aws_iam_policy_document.<name>[<index>].json` (a document with `count`).
pub(super) fn policy_document_name(expr: &Expression) -> Option<String> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    if !matches!(&t.expr, Expression::Variable(v) if v.as_str() == "data") {
        return None;
    }
    let attr_name = |op: &TraversalOperator| match op {
        TraversalOperator::GetAttr(id) => Some(id.as_str().to_string()),
        _ => None,
    };
    let ops = &t.operators;
    let (ty, name, last) = match ops.as_slice() {
        [ty, name, last] => (ty, name, last),
        [
            ty,
            name,
            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_),
            last,
        ] => (ty, name, last),
        _ => return None,
    };
    if attr_name(ty)? != "aws_iam_policy_document" || attr_name(last)? != "json" {
        return None;
    }
    attr_name(name)
}

/// Policy attributes of resources; each must come from an aws_iam_policy_document.
pub(super) const POLICY_ATTRIBUTES: &[&str] = &[
    "policy",
    "assume_role_policy",
    "access_policy",
    "access_policies",
    "policy_document",
    "inline_policy",
];

pub(super) fn iam_violations(dir: &TfDir) -> Vec<String> {
    let mut problems = Vec::new();
    let key_policies = key_policy_documents(dir);

    for (file, doc) in dir
        .blocks("data")
        .filter(|(_, b)| label(b, 0) == "aws_iam_policy_document")
    {
        let doc_name = label(doc, 1);
        let mut sids = BTreeSet::new();
        for (i, st) in sub_blocks(doc.body(), "statement").enumerate() {
            let at = format!(
                "{}/{file}: data.aws_iam_policy_document.{doc_name} statement #{}",
                dir.rel,
                i + 1
            );
            let b = st.body();
            match attr(b, "sid").and_then(string_literal) {
                Some(sid) if !sid.is_empty() => {
                    if !sids.insert(sid.to_string()) {
                        problems.push(format!("{at}: duplicate sid {sid}"));
                    }
                }
                _ => problems.push(format!("{at}: has no literal sid")),
            }
            let allow = match attr(b, "effect") {
                None => true,
                Some(e) => match string_literal(e) {
                    Some("Allow") => true,
                    Some("Deny") => false,
                    _ => {
                        problems.push(format!("{at}: effect must be \"Allow\" or \"Deny\""));
                        true
                    }
                },
            };
            if !allow {
                continue;
            }
            if attr(b, "not_actions").is_some() || attr(b, "not_resources").is_some() {
                problems.push(format!("{at}: Allow with not_actions/not_resources"));
            }
            match attr(b, "actions").and_then(string_array) {
                Some(actions) if !actions.is_empty() => {
                    for a in actions.into_iter().filter(|a| is_wildcard_action(a)) {
                        problems.push(format!("{at}: allows action {a:?}"));
                    }
                }
                _ => problems.push(format!(
                    "{at}: actions must be a non-empty list of string literals"
                )),
            }
            let resources = attr(b, "resources");
            if resources.is_some_and(|r| string_array(r).is_some_and(|rs| rs.contains(&"*")))
                && !key_policies.contains(doc_name)
            {
                problems.push(format!(
                    "{at}: allows resource \"*\" outside a KMS key policy"
                ));
            }
            for p in sub_blocks(b, "principals") {
                if attr(p.body(), "identifiers")
                    .and_then(string_array)
                    .is_some_and(|ids| ids.contains(&"*"))
                {
                    problems.push(format!("{at}: allows principal \"*\""));
                }
            }
        }
    }

    for (file, block) in dir.blocks("resource") {
        let at = format!(
            "{}/{file}: {}.{}",
            dir.rel,
            label(block, 0),
            label(block, 1)
        );
        for key in POLICY_ATTRIBUTES {
            let Some(expr) = attr(block.body(), key) else {
                continue;
            };
            if policy_document_name(expr).is_none() {
                problems.push(format!(
                    "{at}: {key} must be data.aws_iam_policy_document.<name>.json, found {}",
                    show(expr)
                ));
            }
        }
    }

    // Belt and braces: any inline policy anywhere (jsonencode({...}) or a JSON string).
    for (file, body) in &dir.files {
        walk_body(body, &mut |e| {
            for msg in inline_policy_violations(e) {
                problems.push(format!("{}/{file}: inline policy {msg}", dir.rel));
            }
        });
    }
    problems
}

/// Wildcard actions allowed by an inline policy: an HCL object (as given to jsonencode)
/// or a string literal / heredoc holding JSON.
pub(super) fn inline_policy_violations(expr: &Expression) -> Vec<String> {
    match expr {
        Expression::Object(_) => {
            let Ok(value) = serde_json::to_value(hcl::Value::from(expr.clone())) else {
                return Vec::new();
            };
            json_statement_violations(&value)
        }
        Expression::String(text) => json_text_violations(text),
        Expression::TemplateExpr(t) => match t.as_ref() {
            TemplateExpr::Heredoc(h) => json_text_violations(&h.template),
            TemplateExpr::QuotedString(text) => json_text_violations(text),
        },
        _ => Vec::new(),
    }
}

pub(super) fn json_text_violations(text: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(v) => json_statement_violations(&v),
        Err(_) => Vec::new(),
    }
}

pub(super) fn json_statement_violations(value: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let Some(statements) = value.get("Statement") else {
        return Vec::new();
    };
    let statements = match statements {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    let mut problems = Vec::new();
    for st in statements {
        if st.get("Effect").and_then(Value::as_str) == Some("Deny") {
            continue;
        }
        if st.get("NotAction").is_some() {
            problems.push("allows NotAction".to_string());
        }
        let actions = match st.get("Action") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|a| a.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        for a in actions.into_iter().filter(|a| is_wildcard_action(a)) {
            problems.push(format!("allows action {a:?}"));
        }
    }
    problems
}

#[test]
fn terraform_iam_allows_no_wildcard_actions() {
    let problems: Vec<String> = load_all().iter().flat_map(iam_violations).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_iam_check_detects_wildcards_missing_sids_and_inline_json() {
    let dir = from_text(
        r#"
        data "aws_iam_policy_document" "bad" {
          statement {
            sid       = "All"
            actions   = ["s3:*"]
            resources = ["*"]
          }
          statement {
            actions   = ["*"]
            resources = ["arn:aws:s3:::b"]
          }
          statement {
            sid       = "DenyIsFine"
            effect    = "Deny"
            actions   = ["s3:*"]
            resources = ["*"]
            principals {
              type        = "*"
              identifiers = ["*"]
            }
          }
        }
        resource "aws_iam_role_policy" "inline" {
          policy = jsonencode({
            Statement = [{ Effect = "Allow", Action = "iam:*", Resource = "*" }]
          })
        }
        resource "aws_iam_role_policy" "counted" {
          policy = data.aws_iam_policy_document.bad[0].json
        }
        resource "aws_iam_role_policy" "splat" {
          policy = one(data.aws_iam_policy_document.bad[*].json)
        }
        resource "aws_iam_role" "heredoc" {
          assume_role_policy = <<-EOT
        {"Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": "*"}]}
        EOT
        }
        "#,
    );
    let problems = iam_violations(&dir).join("\n");
    assert!(problems.contains(r#"allows action "s3:*""#), "{problems}");
    assert!(problems.contains(r#"allows action "*""#), "{problems}");
    assert!(
        problems.contains("statement #2: has no literal sid"),
        "{problems}"
    );
    assert!(
        problems.contains("allows resource \"*\" outside a KMS key policy"),
        "{problems}"
    );
    assert!(
        problems.contains(r#"inline policy allows action "iam:*""#),
        "{problems}"
    );
    assert!(
        problems
            .contains("aws_iam_role_policy.inline: policy must be data.aws_iam_policy_document"),
        "{problems}"
    );
    assert!(
        problems.contains("aws_iam_role.heredoc: assume_role_policy must be"),
        "{problems}"
    );
    assert!(
        !problems.contains("aws_iam_role_policy.counted"),
        "an indexed document (count) is a document: {problems}"
    );
    assert!(
        problems.contains("aws_iam_role_policy.splat: policy must be"),
        "{problems}"
    );
    assert!(
        !problems.contains("statement #3"),
        "a Deny statement may use s3:* and \"*\": {problems}"
    );
}
