use super::*;

// ---------------------------------------------------------------------------------------
// Check: the function's environment
// ---------------------------------------------------------------------------------------

/// The names an `environment.variables` expression sets. Understands object literals,
/// `local.<name>`, `merge(...)` and `{ for n in <list of names> : n => ... }`; anything
/// else is an error, so the test can never pass by not understanding the HCL.
pub(super) fn env_names(
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

pub(super) fn is_variable(expr: &Expression, id: &Identifier) -> bool {
    matches!(expr, Expression::Variable(v) if v.as_str() == id.as_str())
}

/// `local.<name>` resolved to its expression; any other expression as it is.
pub(super) fn resolve_local<'a>(
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
pub(super) fn filtered_env_names(
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
pub(super) fn lambda_environments(dir: &TfDir) -> Vec<(String, Result<BTreeSet<String>, String>)> {
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

pub(super) fn env_mismatch(
    actual: &BTreeSet<String>,
    expected: &BTreeSet<String>,
) -> Option<String> {
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
