//! Contract between the Terraform in `terraform/` and the binary, checked offline by parsing
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

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use csoc_forwarder::config::lambda_env_names;
use hcl::expr::{ForExpr, Operation, TemplateExpr, TraversalOperator, UnaryOperator};
use hcl::{Block, BlockLabel, Body, Expression, Identifier, ObjectKey};

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/// Every directory holding Terraform configuration, relative to `terraform/`.
const TF_DIRS: &[&str] = &[
    "modules/csoc-commons",
    "modules/child-subscription",
    "modules/opensearch-domain",
    "examples/commons",
    "examples/child",
];

/// The parsed `*.tf` files of one directory.
struct TfDir {
    rel: String,
    path: PathBuf,
    files: Vec<(String, Body)>,
}

fn terraform_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("terraform")
}

fn parse_files(rel: &str, sources: Vec<(String, String)>) -> TfDir {
    let files = sources
        .into_iter()
        .map(|(name, text)| {
            let body = hcl::parse(&text)
                .unwrap_or_else(|e| panic!("terraform/{rel}/{name} does not parse as HCL: {e}"));
            (name, body)
        })
        .collect();
    TfDir {
        rel: rel.to_string(),
        path: terraform_root().join(rel),
        files,
    }
}

fn load(rel: &str) -> TfDir {
    let dir = terraform_root().join(rel);
    let mut sources = Vec::new();
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "tf") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            sources.push((name, fs::read_to_string(&path).unwrap()));
        }
    }
    sources.sort();
    assert!(!sources.is_empty(), "terraform/{rel} holds no .tf file");
    parse_files(rel, sources)
}

fn load_all() -> Vec<TfDir> {
    TF_DIRS.iter().map(|rel| load(rel)).collect()
}

/// A small in-memory directory for the self-tests.
fn from_text(text: &str) -> TfDir {
    parse_files("synthetic", vec![("main.tf".into(), text.into())])
}

// ---------------------------------------------------------------------------------------
// HCL helpers
// ---------------------------------------------------------------------------------------

fn label(block: &Block, i: usize) -> &str {
    match block.labels().get(i) {
        Some(BlockLabel::String(s)) => s,
        Some(BlockLabel::Identifier(id)) => id.as_str(),
        None => "",
    }
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn sub_blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == ident)
}

fn show(expr: &Expression) -> String {
    hcl::format::to_string(expr).unwrap_or_else(|_| format!("{expr:?}"))
}

impl TfDir {
    /// Top-level blocks of one kind, with the file they are in.
    fn blocks<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = (&'a str, &'a Block)> + 'a {
        self.files.iter().flat_map(move |(file, body)| {
            body.blocks()
                .filter(move |b| b.identifier() == ident)
                .map(move |b| (file.as_str(), b))
        })
    }

    fn variables(&self) -> BTreeMap<String, &Block> {
        self.blocks("variable")
            .map(|(_, b)| (label(b, 0).to_string(), b))
            .collect()
    }

    fn outputs(&self) -> BTreeSet<String> {
        self.blocks("output")
            .map(|(_, b)| label(b, 0).to_string())
            .collect()
    }

    fn locals(&self) -> BTreeMap<String, &Expression> {
        self.blocks("locals")
            .flat_map(|(_, b)| {
                b.body()
                    .attributes()
                    .map(|a| (a.key().to_string(), a.expr()))
            })
            .collect()
    }

    /// `resource "<type>" "<name>"` blocks of one type.
    fn resources<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks("resource")
            .map(|(_, b)| b)
            .filter(move |b| label(b, 0) == ty)
    }

    fn variable_default(&self, name: &str) -> Option<Expression> {
        let vars = self.variables();
        let var = vars
            .get(name)
            .unwrap_or_else(|| panic!("terraform/{} has no variable {name:?}", self.rel));
        attr(var.body(), "default").cloned()
    }
}

/// `a.b.c` of a traversal rooted at a variable, e.g. `["local", "tags"]`.
fn traversal_path(expr: &Expression) -> Option<Vec<String>> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let mut path = vec![root.as_str().to_string()];
    for op in &t.operators {
        match op {
            TraversalOperator::GetAttr(id) => path.push(id.as_str().to_string()),
            _ => return None,
        }
    }
    Some(path)
}

fn is_ref(expr: &Expression, path: &[&str]) -> bool {
    traversal_path(expr).is_some_and(|p| p == path)
}

fn object_key(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Identifier(id) => Some(id.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        ObjectKey::Expression(Expression::TemplateExpr(t)) => match t.as_ref() {
            TemplateExpr::QuotedString(s) if !s.contains("${") => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn string_literal(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::String(s) => Some(s),
        _ => None,
    }
}

fn string_array(expr: &Expression) -> Option<Vec<&str>> {
    match expr {
        Expression::Array(items) => items.iter().map(string_literal).collect(),
        _ => None,
    }
}

/// Calls `f` on `expr` and every expression nested in it.
fn walk_expr<'a>(expr: &'a Expression, f: &mut dyn FnMut(&'a Expression)) {
    f(expr);
    match expr {
        Expression::Array(items) => items.iter().for_each(|e| walk_expr(e, f)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let ObjectKey::Expression(k) = k {
                    walk_expr(k, f);
                }
                walk_expr(v, f);
            }
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|e| walk_expr(e, f)),
        Expression::Parenthesis(e) => walk_expr(e, f),
        Expression::Conditional(c) => {
            walk_expr(&c.cond_expr, f);
            walk_expr(&c.true_expr, f);
            walk_expr(&c.false_expr, f);
        }
        Expression::ForExpr(fe) => {
            walk_expr(&fe.collection_expr, f);
            if let Some(k) = &fe.key_expr {
                walk_expr(k, f);
            }
            walk_expr(&fe.value_expr, f);
        }
        Expression::Traversal(t) => walk_expr(&t.expr, f),
        _ => {}
    }
}

/// Calls `f` on every attribute expression in `body`, however deeply nested in blocks.
fn walk_body<'a>(body: &'a Body, f: &mut dyn FnMut(&'a Expression)) {
    for a in body.attributes() {
        walk_expr(a.expr(), f);
    }
    for b in body.blocks() {
        walk_body(b.body(), f);
    }
}

// ---------------------------------------------------------------------------------------
// Check: the function's environment
// ---------------------------------------------------------------------------------------

/// The names an `environment.variables` expression sets. Understands object literals,
/// `local.<name>`, `merge(...)` and `{ for n in <list of names> : n => ... }`; anything
/// else is an error, so the test can never pass by not understanding the HCL.
fn env_names(
    expr: &Expression,
    locals: &BTreeMap<String, &Expression>,
) -> Result<BTreeSet<String>, String> {
    match expr {
        Expression::Object(obj) => obj
            .keys()
            .map(|k| object_key(k).ok_or_else(|| format!("non-literal environment key {k:?}")))
            .collect(),
        Expression::Parenthesis(e) => env_names(e, locals),
        Expression::Traversal(_) => match traversal_path(expr).as_deref() {
            Some([root, name]) if root == "local" => {
                let value = locals
                    .get(name.as_str())
                    .ok_or_else(|| format!("local.{name} is not defined"))?;
                env_names(value, locals)
            }
            _ => Err(format!("cannot resolve {}", show(expr))),
        },
        Expression::FuncCall(call) if call.name.name.as_str() == "merge" => {
            let mut names = BTreeSet::new();
            for arg in &call.args {
                names.extend(env_names(arg, locals)?);
            }
            Ok(names)
        }
        Expression::ForExpr(fe) if fe.key_var.is_some() => filtered_env_names(fe, locals),
        Expression::ForExpr(fe) => {
            let key_is_value_var = matches!(
                &fe.key_expr,
                Some(Expression::Variable(v)) if v.as_str() == fe.value_var.as_str()
            );
            if !key_is_value_var || fe.cond_expr.is_some() {
                return Err(format!("unsupported for expression {}", show(expr)));
            }
            let collection = match traversal_path(&fe.collection_expr).as_deref() {
                Some([root, name]) if root == "local" => *locals
                    .get(name.as_str())
                    .ok_or_else(|| format!("local.{name} is not defined"))?,
                _ => &fe.collection_expr,
            };
            let names = string_array(collection).ok_or_else(|| {
                format!(
                    "for expression must iterate a list of names: {}",
                    show(collection)
                )
            })?;
            Ok(names.into_iter().map(str::to_string).collect())
        }
        _ => Err(format!(
            "cannot resolve environment expression {}",
            show(expr)
        )),
    }
}

fn is_variable(expr: &Expression, id: &Identifier) -> bool {
    matches!(expr, Expression::Variable(v) if v.as_str() == id.as_str())
}

/// `local.<name>` resolved to its expression; any other expression as it is.
fn resolve_local<'a>(
    expr: &'a Expression,
    locals: &BTreeMap<String, &'a Expression>,
) -> Result<&'a Expression, String> {
    match traversal_path(expr).as_deref() {
        Some([root, name]) if root == "local" => locals
            .get(name.as_str())
            .copied()
            .ok_or_else(|| format!("local.{name} is not defined")),
        _ => Ok(expr),
    }
}

/// `{ for k, v in <env> : k => v if !contains(<names>, k) }`: the names of `<env>` minus
/// `<names>` (a list of string literals, or a local holding one). Any other shape with a
/// key variable is an error.
fn filtered_env_names(
    fe: &ForExpr,
    locals: &BTreeMap<String, &Expression>,
) -> Result<BTreeSet<String>, String> {
    let unsupported = || {
        format!(
            "unsupported for expression {}",
            show(&Expression::ForExpr(Box::new(fe.clone())))
        )
    };
    let key_var = fe.key_var.as_ref().ok_or_else(unsupported)?;
    let shape_ok = fe
        .key_expr
        .as_ref()
        .is_some_and(|k| is_variable(k, key_var))
        && is_variable(&fe.value_expr, &fe.value_var)
        && !fe.grouping;
    if !shape_ok {
        return Err(unsupported());
    }
    let Some(Expression::Operation(op)) = &fe.cond_expr else {
        return Err(unsupported());
    };
    let Operation::Unary(not) = op.as_ref() else {
        return Err(unsupported());
    };
    let Expression::FuncCall(call) = &not.expr else {
        return Err(unsupported());
    };
    if not.operator != UnaryOperator::Not
        || call.name.name.as_str() != "contains"
        || call.args.len() != 2
        || !is_variable(&call.args[1], key_var)
    {
        return Err(unsupported());
    }
    let excluded = string_array(resolve_local(&call.args[0], locals)?).ok_or_else(unsupported)?;
    let mut names = env_names(&fe.collection_expr, locals)?;
    for name in excluded {
        names.remove(name);
    }
    Ok(names)
}

/// The environment names of every `aws_lambda_function` in `dir`.
fn lambda_environments(dir: &TfDir) -> Vec<(String, Result<BTreeSet<String>, String>)> {
    let locals = dir.locals();
    dir.resources("aws_lambda_function")
        .map(|f| {
            let name = label(f, 1).to_string();
            let vars = sub_blocks(f.body(), "environment")
                .next()
                .and_then(|env| attr(env.body(), "variables"));
            let names = match vars {
                Some(expr) => env_names(expr, &locals),
                None => Err("has no environment { variables = ... }".to_string()),
            };
            (name, names)
        })
        .collect()
}

fn env_mismatch(actual: &BTreeSet<String>, expected: &BTreeSet<String>) -> Option<String> {
    if actual == expected {
        return None;
    }
    let missing: Vec<_> = expected.difference(actual).collect();
    let extra: Vec<_> = actual.difference(expected).collect();
    Some(format!(
        "missing (the binary reads them): {missing:?}; extra (the binary does not read them): {extra:?}"
    ))
}

#[test]
fn terraform_lambda_env_names_are_exactly_those_the_binary_reads() {
    let expected: BTreeSet<String> = lambda_env_names().map(str::to_string).collect();
    let dir = load("modules/csoc-commons");
    let envs = lambda_environments(&dir);
    let functions: BTreeSet<&str> = envs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        functions,
        BTreeSet::from(["audit", "this"]),
        "csoc-commons must define the forwarder (aws_lambda_function.this) and the audit-records endpoint (aws_lambda_function.audit), no other function"
    );
    // The forwarder reads every name; the audit endpoint a subset (checked below).
    let (name, names) = envs.iter().find(|(name, _)| name == "this").unwrap();
    let names = names
        .as_ref()
        .unwrap_or_else(|e| panic!("aws_lambda_function.{name}: {e}"));
    if let Some(msg) = env_mismatch(names, &expected) {
        panic!(
            "aws_lambda_function.{name} environment differs from config::lambda_env_names(): {msg}"
        );
    }
    // Names switched on later must have a value waiting in local.lambda_env_later.
    let locals = dir.locals();
    let later = env_names(locals["lambda_env_later"], &locals).unwrap();
    let enabled = string_array(locals["lambda_env_later_enabled"])
        .expect("local.lambda_env_later_enabled must be a list of string literals");
    for name in enabled {
        assert!(
            later.contains(name),
            "{name} is enabled but has no value in local.lambda_env_later"
        );
    }
}

#[test]
fn terraform_env_check_detects_a_missing_or_extra_name() {
    let dir = from_text(
        r#"
        locals {
          base  = { COMMON_NAME = "x", RUST_LOG = "info" }
          later = { NOT_A_SETTING = "u", DASHBOARDS_URL = "d" }
          on    = ["NOT_A_SETTING"]
        }
        resource "aws_lambda_function" "f" {
          environment {
            variables = merge(local.base, { for n in local.on : n => local.later[n] })
          }
        }
        "#,
    );
    let envs = lambda_environments(&dir);
    let names = envs[0].1.clone().unwrap();
    let want: BTreeSet<String> = ["COMMON_NAME", "RUST_LOG", "NOT_A_SETTING"]
        .map(String::from)
        .into();
    assert_eq!(names, want);
    let expected: BTreeSet<String> = lambda_env_names().map(str::to_string).collect();
    let msg = env_mismatch(&names, &expected).expect("a different set must be reported");
    assert!(
        msg.contains("NOT_A_SETTING") && msg.contains("FIREHOSE_STREAM"),
        "{msg}"
    );

    let opaque = from_text(
        r#"resource "aws_lambda_function" "f" {
             environment { variables = jsondecode(file("env.json")) }
           }"#,
    );
    assert!(
        lambda_environments(&opaque)[0].1.is_err(),
        "an unresolvable environment must fail"
    );
}

// ---------------------------------------------------------------------------------------
// Check: the audit-records endpoint (issue #7)
// ---------------------------------------------------------------------------------------

/// The file holding the endpoint's resources; every resource or data source in it, and any
/// named `*audit*` elsewhere, exists only with the flag.
const AUDIT_FILE: &str = "audit_endpoint.tf";
const AUDIT_FLAG: &[&str] = &["var", "enable_audit_endpoint"];

/// Names the endpoint needs: it archives (FIREHOSE_STREAM), indexes (OPENSEARCH_URL) and
/// dead-letters (DEAD_LETTER_BUCKET), per commons (COMMON_NAME).
const AUDIT_REQUIRED_ENV: &[&str] = &[
    "COMMON_NAME",
    "FIREHOSE_STREAM",
    "OPENSEARCH_URL",
    "DEAD_LETTER_BUCKET",
];

/// Names the endpoint must not get, with the reason.
const AUDIT_FORBIDDEN_ENV: &[(&str, &str)] = &[(
    "SLACK_WEBHOOK_SECRET_ARN",
    "the audit role may not read the Slack secret",
)];

/// Action prefixes the endpoint's role must not have, with the reason.
const AUDIT_FORBIDDEN_ACTIONS: &[(&str, &str)] = &[
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
fn requires_audit_flag(cond: &Expression) -> bool {
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
fn is_nothing(expr: &Expression) -> bool {
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
fn gated_by_audit_flag(body: &Body) -> bool {
    let Some(Expression::Conditional(c)) = attr(body, "count").or_else(|| attr(body, "for_each"))
    else {
        return false;
    };
    requires_audit_flag(&c.cond_expr) && is_nothing(&c.false_expr)
}

fn audit_gating_violations(dir: &TfDir) -> Vec<String> {
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

fn audit_url_violations(dir: &TfDir) -> Vec<String> {
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
                attr(u.body(), "authorization_type").map_or("nothing".to_string(), show)
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
const ALLOWED_MANAGED_POLICIES: &[(&str, &str)] = &[(
    "AWSXRayDaemonWriteAccess",
    "X-Ray writes only (PutTraceSegments, PutTelemetryRecords, GetSampling*), which take no resource-level permissions",
)];

/// The allowed managed policy an `aws_iam_role_policy_attachment` attaches
/// (`arn:${local.partition}:iam::aws:policy/<name>`), if it is one.
fn allowed_managed_policy(body: &Body) -> Option<&'static str> {
    let arn = show(attr(body, "policy_arn")?);
    ALLOWED_MANAGED_POLICIES
        .iter()
        .map(|(name, _)| *name)
        .find(|name| {
            arn.trim_matches('"')
                .ends_with(&format!(":iam::aws:policy/{name}"))
        })
}

fn managed_policy_violations(dir: &TfDir) -> Vec<String> {
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
fn audit_policy_violations(dir: &TfDir) -> Vec<String> {
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

fn audit_env_violations(dir: &TfDir) -> Vec<String> {
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

// ---------------------------------------------------------------------------------------
// Check: variables, defaults, versions
// ---------------------------------------------------------------------------------------

fn num(expr: &Expression) -> Option<f64> {
    match expr {
        Expression::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn assert_default(dir: &TfDir, name: &str, want: &Expression) {
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
        got.as_ref().map_or("no default".to_string(), show)
    );
}

fn s(v: &str) -> Expression {
    Expression::String(v.to_string())
}

fn n(v: i64) -> Expression {
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
    for dir in [&example, &module] {
        assert_default(dir, "csoc_account_id", &Expression::Null);
        assert_default(dir, "child_account_region", &s("us-east-1"));
        assert_default(dir, "elasticsearch_domain", &s("commons-logs"));
        assert_default(dir, "timeout", &n(300));
        assert_default(dir, "memory_size", &n(128));
        assert_default(dir, "threshold", &Expression::Null);
        assert_default(dir, "slack_webhook", &Expression::Null);
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
        "threshold",
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
        assert_eq!(
            attr(tf.body(), "required_version"),
            Some(&s(">= 1.5")),
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
        assert_eq!(
            version,
            Some(&s(">= 5.0")),
            "terraform/{}: aws provider version",
            dir.rel
        );
    }
}

// ---------------------------------------------------------------------------------------
// Check: tags
// ---------------------------------------------------------------------------------------

/// Resource types that take `tags` with every aws provider >= 5.0: each must get them.
const TAGGABLE: &[&str] = &[
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
const NOT_TAGGABLE: &[&str] = &[
    "aws_iam_role_policy_attachment",
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
fn carries_merged_tags(expr: &Expression) -> bool {
    match expr {
        Expression::FuncCall(call) if call.name.name.as_str() == "merge" => {
            call.args.iter().any(|a| is_ref(a, &["local", "tags"]))
        }
        other => is_ref(other, &["local", "tags"]),
    }
}

fn tag_violations(dir: &TfDir) -> Vec<String> {
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
                "{at}: resource type not classified; add it to TAGGABLE or NOT_TAGGABLE in tests/it/terraform_contract.rs"
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

// ---------------------------------------------------------------------------------------
// Check: IAM
// ---------------------------------------------------------------------------------------

fn is_wildcard_action(action: &str) -> bool {
    action == "*" || action.ends_with(":*")
}

/// Names of the policy documents used as KMS key policies: there, and only there, the
/// resource "*" means "this key".
fn key_policy_documents(dir: &TfDir) -> BTreeSet<String> {
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
fn policy_document_name(expr: &Expression) -> Option<String> {
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
const POLICY_ATTRIBUTES: &[&str] = &[
    "policy",
    "assume_role_policy",
    "access_policy",
    "access_policies",
    "policy_document",
    "inline_policy",
];

fn iam_violations(dir: &TfDir) -> Vec<String> {
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
fn inline_policy_violations(expr: &Expression) -> Vec<String> {
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

fn json_text_violations(text: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(v) => json_statement_violations(&v),
        Err(_) => Vec::new(),
    }
}

fn json_statement_violations(value: &serde_json::Value) -> Vec<String> {
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

// ---------------------------------------------------------------------------------------
// Check: the event source mapping
// ---------------------------------------------------------------------------------------

fn esm_violations(dir: &TfDir) -> Vec<String> {
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
        if on_failure.is_none_or(|p| p.first().map(String::as_str) != Some("aws_sqs_queue")) {
            problems.push(format!("{at}: needs an on-failure SQS destination"));
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

// ---------------------------------------------------------------------------------------
// Check: READMEs
// ---------------------------------------------------------------------------------------

/// Names in the first column of the table rows under a `## <heading>` section.
fn readme_table_names(readme: &str, heading: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut inside = false;
    for line in readme.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.trim().eq_ignore_ascii_case(heading);
            continue;
        }
        if !inside {
            continue;
        }
        let Some(row) = line.trim().strip_prefix('|') else {
            continue;
        };
        let first = row.split('|').next().unwrap_or("").trim();
        if let Some(name) = first.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
            names.insert(name.to_string());
        }
    }
    names
}

fn readme_violations(dir: &TfDir, readme: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let inputs = readme_table_names(readme, "Inputs");
    let outputs = readme_table_names(readme, "Outputs");
    let vars: BTreeSet<String> = dir.variables().into_keys().collect();
    for v in vars.difference(&inputs) {
        problems.push(format!(
            "{}/README.md: variable `{v}` missing from the Inputs table",
            dir.rel
        ));
    }
    for v in inputs.difference(&vars) {
        problems.push(format!(
            "{}/README.md: Inputs lists `{v}`, which is not a variable",
            dir.rel
        ));
    }
    let outs = dir.outputs();
    for o in outs.difference(&outputs) {
        problems.push(format!(
            "{}/README.md: output `{o}` missing from the Outputs table",
            dir.rel
        ));
    }
    for o in outputs.difference(&outs) {
        problems.push(format!(
            "{}/README.md: Outputs lists `{o}`, which is not an output",
            dir.rel
        ));
    }
    problems
}

#[test]
fn terraform_each_readme_lists_every_variable_and_output() {
    let mut problems = Vec::new();
    for dir in load_all() {
        let path = dir.path.join("README.md");
        match fs::read_to_string(&path) {
            Ok(readme) => problems.extend(readme_violations(&dir, &readme)),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn terraform_readme_check_detects_missing_and_stale_rows() {
    let dir = from_text(
        r#"
        variable "kept" { type = string }
        variable "new_one" { type = string }
        output "out" { value = 1 }
        "#,
    );
    let readme = "# m\n\n## Inputs\n\n| Name | Description |\n|---|---|\n| `kept` | k |\n| `gone` | g |\n\n## Outputs\n\n| Name | Description |\n|---|---|\n";
    let problems = readme_violations(&dir, readme).join("\n");
    assert!(
        problems.contains("variable `new_one` missing"),
        "{problems}"
    );
    assert!(problems.contains("Inputs lists `gone`"), "{problems}");
    assert!(problems.contains("output `out` missing"), "{problems}");
    assert!(!problems.contains("`kept`"), "{problems}");
}
