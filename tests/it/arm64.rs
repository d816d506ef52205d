//! The default architecture runs (issue 17): the arm64 package `make package` builds (the
//! `bootstrap` inside target/lambda/csoc-forwarder/bootstrap.zip, exactly what Terraform
//! deploys) runs under qemu-user on the fixtures with the same summary lines and the same
//! output files, byte for byte, as the native debug build, and its cold start succeeds
//! under cargo-lambda's runtime emulator.
//!
//! `make arm64` builds the package once (release, LTO: the slow part) and runs this module;
//! `make unit` skips it (`--skip arm64::`). Without the package the test fails with the
//! command to run; without qemu-user it runs scripts/arm64-deps.sh, which installs the
//! Debian packages as root or stops with the one command to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::lambda_emulator::LambdaEmulator;
use crate::common::moto::{self, Moto, tool};
use crate::common::osmem::Osmem;
use crate::common::{fixture_path, stdout_of};

/// Where Debian's libc6-arm64-cross puts the aarch64 glibc and dynamic loader.
const SYSROOT: &str = "/usr/aarch64-linux-gnu";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The arm64 `bootstrap`, extracted from the package into `dir`.
fn arm64_bootstrap(dir: &Path) -> PathBuf {
    let zip = root().join("target/lambda/csoc-forwarder/bootstrap.zip");
    assert!(
        zip.is_file(),
        "{} is missing: run `make package` (ARCH=arm64, the default) first, or `make arm64`",
        zip.display()
    );
    stdout_of(
        Command::new(tool("python"))
            .args(["-m", "zipfile", "-e"])
            .arg(&zip)
            .arg(dir),
        "unzip (python -m zipfile)",
    );
    let bootstrap = dir.join("bootstrap");
    let head = std::fs::read(&bootstrap).expect("bootstrap in the zip");
    // ELF, e_machine (offset 18, little endian) 0xB7 = EM_AARCH64.
    assert!(
        head.starts_with(b"\x7fELF") && head.get(18..20) == Some(&[0xB7, 0x00][..]),
        "{} holds no aarch64 ELF bootstrap: was it built with ARCH=x86_64? Run `make package`",
        zip.display()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    bootstrap
}

/// qemu-aarch64, installed by scripts/arm64-deps.sh when missing.
fn qemu() -> PathBuf {
    stdout_of(
        Command::new("bash")
            .arg(root().join("scripts/arm64-deps.sh"))
            .stdin(Stdio::null()),
        "scripts/arm64-deps.sh",
    );
    PathBuf::from("/usr/bin/qemu-aarch64")
}

/// The fixtures `process` reads: every Kinesis and EventBridge event.
fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| {
            (n.starts_with("kinesis-") || n.starts_with("eventbridge-")) && n.ends_with(".json")
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| fixture_path(&n).display().to_string())
        .collect()
}

/// `process --out <out> <fixtures>` with a clean, equal environment.
fn process(program: &Path, prefix: &[&str], out: &Path) -> Output {
    Command::new(program)
        .args(prefix)
        .arg("process")
        .arg("--out")
        .arg(out)
        .args(fixtures())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("COMMON_NAME", "arm64")
        .stdin(Stdio::null())
        .output()
        .expect("run process")
}

/// Every file under `dir`, relative path and bytes, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("prefix")
                    .display()
                    .to_string();
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn arm64_package_processes_the_fixtures_byte_for_byte_like_the_native_build() {
    let work = tempfile::TempDir::new().expect("temp dir");
    let bootstrap = arm64_bootstrap(work.path());
    let qemu = qemu();
    let sysroot = ["-L", SYSROOT, bootstrap.to_str().expect("path")];

    let native_out = work.path().join("native");
    let arm_out = work.path().join("arm64");
    let native = process(
        Path::new(env!("CARGO_BIN_EXE_csoc-forwarder")),
        &[],
        &native_out,
    );
    let arm = process(&qemu, &sysroot, &arm_out);
    assert_eq!(
        native.status.code(),
        arm.status.code(),
        "exit codes differ; arm64 stderr:\n{}",
        String::from_utf8_lossy(&arm.stderr)
    );
    assert!(
        !native.stdout.is_empty(),
        "the native build printed no summary lines: {}",
        String::from_utf8_lossy(&native.stderr)
    );
    assert!(
        native.stdout == arm.stdout,
        "summary lines differ (a package older than the sources differs too: `make arm64` rebuilds it first):\n--- native\n{}\n--- arm64\n{}",
        String::from_utf8_lossy(&native.stdout),
        String::from_utf8_lossy(&arm.stdout)
    );
    let (native_files, arm_files) = (tree(&native_out), tree(&arm_out));
    assert!(!native_files.is_empty(), "no output files");
    assert_eq!(
        native_files.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        arm_files.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        "the two builds wrote different files"
    );
    for ((name, a), (_, b)) in native_files.iter().zip(&arm_files) {
        assert!(
            a == b,
            "{name} differs between the native and the arm64 build"
        );
    }
}

#[test]
fn arm64_package_cold_starts_under_the_lambda_runtime_emulator() {
    let work = tempfile::TempDir::new().expect("temp dir");
    let bootstrap = arm64_bootstrap(work.path());
    let qemu = qemu();
    let out_dir = work.path().join("out");
    // Lambda mode needs its real sinks: osmem for the index, moto for the archive
    // (Firehose into S3) and the dead letters.
    let os = Osmem::start();
    let moto = Moto::start();
    let rt = crate::common::runtime();
    rt.block_on(async {
        let sdk = moto.sdk_config().await;
        for bucket in ["arm64-dead-letter", "arm64-archive"] {
            moto::s3(&sdk)
                .create_bucket()
                .bucket(bucket)
                .send()
                .await
                .expect("bucket");
        }
        moto::create_delivery_stream(&sdk, "arm64_firehose", "arm64-archive").await;
    });
    let mut env: Vec<(String, String)> = [
        ("COMMON_NAME", "arm64"),
        ("RUST_LOG", "info"),
        ("OUT_DIR", out_dir.to_str().expect("path")),
        ("DEAD_LETTER_BUCKET", "arm64-dead-letter"),
        ("FIREHOSE_STREAM", "arm64_firehose"),
        ("OPENSEARCH_URL", os.url.as_str()),
        ("OPENSEARCH_AUTH", "none"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    env.extend(moto.env());
    let mut lambda = LambdaEmulator::start_program(
        &qemu,
        &["-L", SYSROOT, bootstrap.to_str().expect("path")],
        &env,
    );
    // Under qemu the cold start is slower; a function that stopped says why in its log.
    std::thread::sleep(std::time::Duration::from_secs(10));
    if let Some(status) = lambda.function_exit() {
        panic!(
            "the arm64 function exited at cold start ({status}):\n{}",
            lambda.logs()
        );
    }
    let event = std::fs::read(fixture_path("kinesis-mixed.json")).expect("fixture");
    let response = lambda.invoke(&event);
    assert_eq!(
        response["batchItemFailures"],
        serde_json::json!([]),
        "{response}\n{}",
        lambda.logs()
    );
    let indexed = rt.block_on(async {
        os.refresh().await;
        os.count("csoc-logs-*", None).await
    });
    assert!(
        indexed > 0,
        "the arm64 function indexed nothing: {}",
        lambda.logs()
    );
}
