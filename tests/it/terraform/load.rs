use super::*;

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/// Every directory holding Terraform configuration, relative to `terraform/`.
pub(super) const TF_DIRS: &[&str] = &[
    "modules/csoc-commons",
    "modules/child-subscription",
    "modules/opensearch-domain",
    "examples/commons",
    "examples/child",
];

/// The parsed `*.tf` files of one directory.
pub(super) struct TfDir {
    pub(super) rel: String,
    pub(super) path: PathBuf,
    pub(super) files: Vec<(String, Body)>,
}

pub(super) fn terraform_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("terraform")
}

pub(super) fn parse_files(rel: &str, sources: Vec<(String, String)>) -> TfDir {
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

pub(super) fn load(rel: &str) -> TfDir {
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

pub(super) fn load_all() -> Vec<TfDir> {
    TF_DIRS.iter().map(|rel| load(rel)).collect()
}

/// A small in-memory directory for the self-tests.
pub(super) fn from_text(text: &str) -> TfDir {
    parse_files("synthetic", vec![("main.tf".into(), text.into())])
}

// ---------------------------------------------------------------------------------------
// HCL helpers
// ---------------------------------------------------------------------------------------

pub(super) fn label(block: &Block, i: usize) -> &str {
    match block.labels().get(i) {
        Some(BlockLabel::String(s)) => s,
        Some(BlockLabel::Identifier(id)) => id.as_str(),
        None => "",
    }
}

pub(super) fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

pub(super) fn sub_blocks<'a>(
    body: &'a Body,
    ident: &'a str,
) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == ident)
}

pub(super) fn show(expr: &Expression) -> String {
    hcl::format::to_string(expr).unwrap_or_else(|_| format!("{expr:?}"))
}

impl TfDir {
    /// Top-level blocks of one kind, with the file they are in.
    pub(super) fn blocks<'a>(
        &'a self,
        ident: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Block)> + 'a {
        self.files.iter().flat_map(move |(file, body)| {
            body.blocks()
                .filter(move |b| b.identifier() == ident)
                .map(move |b| (file.as_str(), b))
        })
    }

    pub(super) fn variables(&self) -> BTreeMap<String, &Block> {
        self.blocks("variable")
            .map(|(_, b)| (label(b, 0).to_string(), b))
            .collect()
    }

    pub(super) fn outputs(&self) -> BTreeSet<String> {
        self.blocks("output")
            .map(|(_, b)| label(b, 0).to_string())
            .collect()
    }

    pub(super) fn locals(&self) -> BTreeMap<String, &Expression> {
        self.blocks("locals")
            .flat_map(|(_, b)| {
                b.body()
                    .attributes()
                    .map(|a| (a.key().to_string(), a.expr()))
            })
            .collect()
    }

    /// `resource "<type>" "<name>"` blocks of one type.
    pub(super) fn resources<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks("resource")
            .map(|(_, b)| b)
            .filter(move |b| label(b, 0) == ty)
    }

    pub(super) fn variable_default(&self, name: &str) -> Option<Expression> {
        let vars = self.variables();
        let var = vars
            .get(name)
            .unwrap_or_else(|| panic!("terraform/{} has no variable {name:?}", self.rel));
        attr(var.body(), "default").cloned()
    }
}

/// `a.b.c` of a traversal rooted at a variable, e.g. `["local", "tags"]`.
pub(super) fn traversal_path(expr: &Expression) -> Option<Vec<String>> {
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

pub(super) fn is_ref(expr: &Expression, path: &[&str]) -> bool {
    traversal_path(expr).is_some_and(|p| p == path)
}

pub(super) fn object_key(key: &ObjectKey) -> Option<String> {
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

pub(super) fn string_literal(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::String(s) => Some(s),
        _ => None,
    }
}

pub(super) fn string_array(expr: &Expression) -> Option<Vec<&str>> {
    match expr {
        Expression::Array(items) => items.iter().map(string_literal).collect(),
        _ => None,
    }
}

/// Calls `f` on `expr` and every expression nested in it.
pub(super) fn walk_expr<'a>(expr: &'a Expression, f: &mut dyn FnMut(&'a Expression)) {
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
pub(super) fn walk_body<'a>(body: &'a Body, f: &mut dyn FnMut(&'a Expression)) {
    for a in body.attributes() {
        walk_expr(a.expr(), f);
    }
    for b in body.blocks() {
        walk_body(b.body(), f);
    }
}
