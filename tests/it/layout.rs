//! The source layout: no file under `src/` keeps more than about 450 lines of non-test
//! code, counted as the project guide counts them: the lines before the file's first
//! `#[cfg(test)]` (the whole file when it has none; none for a test-only file, which starts
//! with `#![cfg(test)]`), as `awk '/#!?\[cfg\(test\)\]/{exit} {c++} END{print c+0}' FILE`
//! does.

use std::path::{Path, PathBuf};

const MAX_NON_TEST_LINES: usize = 450;

/// Lines before the first line that holds `#[cfg(test)]` or `#![cfg(test)]`.
fn non_test_lines(text: &str) -> usize {
    text.lines()
        .take_while(|line| !line.contains("#[cfg(test)]") && !line.contains("#![cfg(test)]"))
        .count()
}

/// Every `.rs` file under `dir`, recursively, in path order.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_count_stops_at_the_first_cfg_test() {
    assert_eq!(non_test_lines(""), 0);
    assert_eq!(non_test_lines("fn a() {}\nfn b() {}\n"), 2);
    assert_eq!(non_test_lines("fn a() {}\nfn b() {}"), 2);
    assert_eq!(
        non_test_lines("use x;\n\nfn a() {}\n#[cfg(test)]\nmod tests {\n}\n#[cfg(test)]\n"),
        3
    );
    assert_eq!(non_test_lines("#[cfg(test)]\nmod tests {}\n"), 0);
    // A test-only file: its inner attribute comes after the module's doc comment.
    assert_eq!(
        non_test_lines("//! Tests only.\n#![cfg(test)]\nuse x;\nfn a() {}\n"),
        1
    );
}

#[test]
fn no_source_file_keeps_more_than_450_lines_of_non_test_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .expect("under the crate")
                .display()
                .to_string()
        })
        .collect();
    // The walk sees the tree, not an empty or wrong directory.
    for expected in ["src/lib.rs", "src/main.rs", "src/replay/mod.rs"] {
        assert!(names.iter().any(|n| n == expected), "{expected} not found");
    }
    assert!(names.len() > 50, "only {} files under src/", names.len());

    let over: Vec<String> = files
        .iter()
        .zip(&names)
        .filter_map(|(path, name)| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
            let n = non_test_lines(&text);
            (n > MAX_NON_TEST_LINES).then(|| format!("{name}: {n} lines"))
        })
        .collect();
    assert!(
        over.is_empty(),
        "files with more than {MAX_NON_TEST_LINES} lines before their first #[cfg(test)] \
         (split them by job):\n  {}",
        over.join("\n  ")
    );
}
