//! What a newcomer runs first: `make run`, the README's Quick start and its "Try it
//! locally" snippet, exactly as written.

use std::path::Path;
use std::process::{Command, Output};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README")
}

/// The README section that starts with `heading` (a `## ` heading), up to the next one.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    readme
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has no ## {heading}"))
        .split("\n## ")
        .next()
        .expect("section")
}

fn make_run(out: &Path, fake_cargo: &Path) -> Output {
    Command::new("make")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("run")
        .arg(format!("CARGO={}", fake_cargo.display()))
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_csoc-forwarder")))
        .arg(format!("OUT={}", out.display()))
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("OPENSEARCH_URL")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .expect("run make")
}

#[test]
fn make_run_shows_cargos_progress_and_lists_only_this_runs_files() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::TempDir::new().expect("tempdir");
    // A cargo that records how it was called (the binary is already built by the tests).
    let calls = dir.path().join("cargo-calls");
    let cargo = dir.path().join("cargo");
    std::fs::write(
        &cargo,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", calls.display()),
    )
    .expect("write");
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = dir.path().join("out");
    // Leftovers of an earlier run must not be listed as this run's output.
    std::fs::create_dir_all(out.join("dead-letter")).expect("mkdir");
    std::fs::write(out.join("dead-letter/stale-leftover.json"), b"{}").expect("write");

    let first = make_run(&out, &cargo);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let called = std::fs::read_to_string(&calls).expect("cargo was called");
    assert!(called.starts_with("build"), "{called}");
    assert!(
        !called
            .split_whitespace()
            .any(|a| a == "--quiet" || a == "-q"),
        "cargo's progress must show on a first build: {called}"
    );
    let listed = |o: &Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with("  "))
            .map(|l| l.trim().to_owned())
            .collect()
    };
    let files = listed(&first);
    assert!(
        !files.is_empty(),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    assert!(
        files.iter().all(|f| !f.contains("stale-leftover")),
        "leftovers listed: {files:?}"
    );
    for f in &files {
        assert!(Path::new(f).is_file(), "{f} is listed but not there");
    }
    // A second run writes somewhere fresh again.
    let second = make_run(&out, &cargo);
    assert!(second.status.success());
    let again = listed(&second);
    assert_eq!(again.len(), files.len());
    assert!(again.iter().all(|f| !files.contains(f)), "{again:?}");
}

#[test]
fn the_quick_start_lists_the_prerequisites_and_points_to_deployment() {
    let readme = readme();
    let quick = section(&readme, "Quick start");
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version");
    for want in [
        &format!("Rust {rust_version} or newer") as &str,
        "python3-venv",
        "C compiler",
        "disk",
        "minutes",
        "crates.io",
        "pypi.org",
        "terraform/README.md",
        "make package",
    ] {
        assert!(quick.contains(want), "Quick start lacks {want:?}");
    }
}

#[test]
fn the_try_it_locally_snippet_works_as_written() {
    let readme = readme();
    let after = readme
        .split("**Try it locally**")
        .nth(1)
        .expect("Try it locally");
    let snippet = after
        .split("```sh\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("a sh block");
    let bin = "./target/debug/csoc-forwarder";
    assert!(
        snippet.starts_with(bin),
        "the snippet runs the binary `make run` built: {snippet}"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let script = snippet
        .replace(bin, env!("CARGO_BIN_EXE_csoc-forwarder"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = Command::new("timeout")
        .current_dir(dir.path())
        .args(["120", "bash", "-e", "-c"])
        .arg(format!(
            "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}\nwait"
        ))
        .env_remove("OPENSEARCH_URL")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() || out.status.code() == Some(143),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches("HTTP/1.1 201 Created").count(),
        2,
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("out/serve/firehose").is_dir());
}
