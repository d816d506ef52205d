use super::*;

// ---------------------------------------------------------------------------------------
// Check: READMEs
// ---------------------------------------------------------------------------------------

/// Names in the first column of the table rows under a `## <heading>` section.
pub(super) fn readme_table_names(readme: &str, heading: &str) -> BTreeSet<String> {
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

pub(super) fn readme_violations(dir: &TfDir, readme: &str) -> Vec<String> {
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
