//! `make package`: a bad ARCH is refused, and when the Rust target for arm64 cannot be
//! installed (no internet) the target says what to do instead of failing obscurely. The
//! build itself is long (~20 min) and is measured in BENCHMARKS.md, not run here.

use std::process::{Command, Output};

fn make_package(arch: &str, path_prefix: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new("make");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-s", "package", &format!("ARCH={arch}")])
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS");
    if let Some(dir) = path_prefix {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", dir.display()));
    }
    cmd.output().expect("run make")
}

#[test]
fn a_bad_arch_is_refused_with_the_choices() {
    let out = make_package("sparc", None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ARCH must be arm64 or x86_64, not sparc"),
        "{stderr}"
    );
}

#[test]
fn a_rust_target_that_cannot_be_installed_says_what_to_do() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::TempDir::new().expect("tempdir");
    // A rustup that knows no installed target and cannot download one, as offline.
    let rustup = dir.path().join("rustup");
    std::fs::write(
        &rustup,
        "#!/bin/sh\necho 'error: could not download nonexistent component' >&2\nexit 1\n",
    )
    .expect("write");
    std::fs::set_permissions(&rustup, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = make_package("arm64", Some(dir.path()));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for want in [
        "could not install the Rust target aarch64-unknown-linux-gnu",
        "rustup target add aarch64-unknown-linux-gnu",
        "make package ARCH=x86_64",
    ] {
        assert!(stderr.contains(want), "expected {want:?} in: {stderr}");
    }
}
