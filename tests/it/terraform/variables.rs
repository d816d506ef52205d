use super::*;

// ---------------------------------------------------------------------------------------
// Check: variables, defaults, versions
// ---------------------------------------------------------------------------------------

pub(super) fn num(expr: &Expression) -> Option<f64> {
    match expr {
        Expression::Number(n) => n.as_f64(),
        _ => None,
    }
}

pub(super) fn assert_default(dir: &TfDir, name: &str, want: &Expression) {
    let got = dir.variable_default(name);
    let ok = match (&got, want) {
        (Some(g), Expression::Number(_)) => num(g) == num(want),
        (Some(g), w) => g == w,
        (None, _) => false,
    };
    assert!(
        ok,
        "terraform/{}: variable {name:?} must default to {}, found {}",
        dir.rel,
        show(want),
        got.as_ref().map_or_else(|| "no default".to_string(), show)
    );
}

pub(super) fn s(v: &str) -> Expression {
    Expression::String(v.to_string())
}

pub(super) fn n(v: i64) -> Expression {
    Expression::Number(v.into())
}

#[test]
fn terraform_required_variables_have_no_default() {
    for rel in ["modules/csoc-commons", "examples/commons"] {
        let dir = load(rel);
        for name in ["child_account_id", "common_name"] {
            assert_eq!(
                dir.variable_default(name),
                None,
                "terraform/{rel}: {name} is required and must have no default"
            );
        }
    }
}

#[test]
fn terraform_documented_defaults_hold() {
    let example = load("examples/commons");
    let module = load("modules/csoc-commons");
    // The seed's interface: its tfvars apply unchanged (`-var threshold=` and
    // `-var slack_webhook=` mean off).
    assert_default(&example, "csoc_account_id", &s("433568766270"));
    assert_default(&example, "threshold", &s(""));
    assert_default(&example, "slack_webhook", &s(""));
    assert_default(&module, "csoc_account_id", &Expression::Null);
    assert_default(&module, "threshold", &Expression::Null);
    assert_default(&module, "slack_webhook", &Expression::Null);
    for dir in [&example, &module] {
        assert_default(dir, "child_account_region", &s("us-east-1"));
        assert_default(dir, "elasticsearch_domain", &s("commons-logs"));
        assert_default(dir, "timeout", &n(300));
        assert_default(dir, "memory_size", &n(128));
        let vars = dir.variables();
        assert_eq!(
            attr(vars["slack_webhook"].body(), "sensitive"),
            Some(&Expression::Bool(true)),
            "terraform/{}: slack_webhook must be sensitive",
            dir.rel
        );
    }
    assert_default(&example, "aws_region", &s("us-east-1"));
    assert_default(&module, "architecture", &s("arm64"));

    // csoc_account_id = null means the account applied in: resolved from the caller identity.
    assert!(
        module
            .blocks("data")
            .any(|(_, b)| label(b, 0) == "aws_caller_identity"),
        "csoc-commons must read data.aws_caller_identity to resolve a null csoc_account_id"
    );
    let locals = module.locals();
    let resolved = locals
        .get("csoc_account_id")
        .expect("csoc-commons must define local.csoc_account_id");
    let text = show(resolved);
    assert!(
        text.starts_with("coalesce(var.csoc_account_id"),
        "local.csoc_account_id must be coalesce(var.csoc_account_id, <caller account>), found {text}"
    );

    // The example passes each variable of the system it replaces on unchanged.
    let (_, call) = example
        .blocks("module")
        .find(|(_, b)| label(b, 0) == "commons")
        .expect("examples/commons must call module \"commons\"");
    for name in [
        "child_account_id",
        "common_name",
        "csoc_account_id",
        "child_account_region",
        "elasticsearch_domain",
        "slack_webhook",
        "timeout",
        "memory_size",
    ] {
        let value = attr(call.body(), name);
        assert!(
            value.is_some_and(|v| is_ref(v, &["var", name])),
            "examples/commons: module \"commons\" must set {name} = var.{name}"
        );
    }
    // threshold is the seed's string: "" is off, anything else a number of seconds.
    let threshold = attr(call.body(), "threshold").map(show).unwrap_or_default();
    assert!(
        threshold.contains("var.threshold == \"\"")
            && threshold.contains("tonumber(var.threshold)"),
        "examples/commons: module \"commons\" must turn threshold \"\" into null and others into numbers, found {threshold}"
    );
    let providers: Vec<_> = example.blocks("provider").map(|(_, b)| b).collect();
    let region_of = |alias: Option<&str>| {
        providers
            .iter()
            .find(|p| attr(p.body(), "alias").and_then(string_literal) == alias)
            .and_then(|p| attr(p.body(), "region"))
    };
    assert!(
        region_of(None).is_some_and(|r| is_ref(r, &["var", "aws_region"])),
        "examples/commons: the default aws provider must use region = var.aws_region"
    );
    assert!(
        region_of(Some("destination")).is_some_and(|r| is_ref(r, &["var", "child_account_region"])),
        "examples/commons: provider aws.destination must use region = var.child_account_region"
    );

    // The function itself.
    let f = module
        .resources("aws_lambda_function")
        .find(|f| label(f, 1) == "this")
        .expect("csoc-commons must define the function (aws_lambda_function.this)");
    let b = f.body();
    assert_eq!(attr(b, "runtime"), Some(&s("provided.al2023")));
    assert_eq!(attr(b, "handler"), Some(&s("bootstrap")));
    for key in ["memory_size", "timeout"] {
        assert!(
            attr(b, key).is_some_and(|e| is_ref(e, &["var", key])),
            "aws_lambda_function: {key} must be var.{key}"
        );
    }
    assert!(
        attr(b, "filename").is_some_and(|e| is_ref(e, &["var", "lambda_zip_path"])),
        "aws_lambda_function: filename must be var.lambda_zip_path (the zip from `make package`)"
    );
}

#[test]
fn terraform_variables_are_typed_described_and_validated() {
    let mut problems = Vec::new();
    for dir in load_all() {
        for (name, var) in dir.variables() {
            let body = var.body();
            if attr(body, "type").is_none() {
                problems.push(format!("{}: variable {name} has no type", dir.rel));
            }
            match attr(body, "description").and_then(string_literal) {
                Some(d) if !d.trim().is_empty() => {}
                _ => problems.push(format!("{}: variable {name} has no description", dir.rel)),
            }
            let validations: Vec<String> = sub_blocks(body, "validation")
                .filter_map(|v| attr(v.body(), "condition").map(show))
                .collect();
            let needs =
                |what: &str| format!("{}: variable {name} needs a validation ({what})", dir.rel);
            if name.ends_with("account_id") && !validations.iter().any(|c| c.contains("[0-9]{12}"))
            {
                problems.push(needs("12-digit account id"));
            }
            if name == "common_name" && !validations.iter().any(|c| c.contains("regex(")) {
                problems.push(needs("a name pattern"));
            }
            if ["memory_size", "timeout"].contains(&name.as_str())
                && !validations
                    .iter()
                    .any(|c| c.contains(">=") && c.contains("<="))
            {
                problems.push(needs("a range"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_version_constraints() {
    for dir in load_all() {
        let (_, tf) = dir
            .blocks("terraform")
            .next()
            .unwrap_or_else(|| panic!("terraform/{} has no terraform block", dir.rel));
        // 1.11: write-only attributes (the Slack webhook never reaches the state).
        assert_eq!(
            attr(tf.body(), "required_version"),
            Some(&s(">= 1.11")),
            "terraform/{}: required_version",
            dir.rel
        );
        let providers = sub_blocks(tf.body(), "required_providers")
            .next()
            .unwrap_or_else(|| panic!("terraform/{}: no required_providers", dir.rel));
        let Some(Expression::Object(aws)) = attr(providers.body(), "aws") else {
            panic!("terraform/{}: required_providers must declare aws", dir.rel);
        };
        let version = aws
            .iter()
            .find(|(k, _)| object_key(k).as_deref() == Some("version"))
            .map(|(_, v)| v);
        // Modules: a lower bound (secret_string_wo) and an upper one (a major version is
        // adopted on purpose); examples: the minor series, the lock file pins the build.
        let want = if dir.rel.starts_with("examples/") {
            "~> 5.100"
        } else {
            ">= 5.100, < 7.0"
        };
        assert_eq!(
            version,
            Some(&s(want)),
            "terraform/{}: aws provider version",
            dir.rel
        );
        if dir.rel.starts_with("examples/") {
            assert!(
                dir.path.join(".terraform.lock.hcl").is_file(),
                "terraform/{}: the lock file must be committed",
                dir.rel
            );
        }
    }
}
