//! `csoc-forwarder dashboards install`, seen on the wire by the recording fault server:
//! one multipart `POST /api/saved_objects/_import?overwrite=true` carrying the shipped
//! NDJSON, with `osd-xsrf: true`, unauthenticated, with basic auth, and SigV4-signed
//! (service `es`, as Amazon OpenSearch Service Dashboards expects); and the exit codes
//! when Dashboards refuses the import.

use std::process::{Command, Output};

use csoc_forwarder::dashboards::{self, SAVED_OBJECTS};

use crate::common::fault_server::{Action, FaultServer, Seen};
use crate::common::moto::REGION;
use crate::opensearch_auth::{KEY_ID, SECRET_KEY, assert_signed};

const IMPORTED: &str = r#"{"success":true,"successCount":13,"successResults":[]}"#;

fn install(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::TempDir::new().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .args(["dashboards", "install"])
        .args(args)
        .env_clear()
        .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .expect("run csoc-forwarder")
}

fn only_request(server: &FaultServer) -> Seen {
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    seen.into_iter().next().expect("one")
}

/// The import request as Dashboards needs it, carrying exactly the shipped objects.
fn assert_import(seen: &Seen, base_path: &str) {
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.path,
        format!("{base_path}/api/saved_objects/_import?overwrite=true")
    );
    assert_eq!(seen.header("osd-xsrf"), Some("true"));
    let content_type = seen.header("content-type").expect("content-type");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {content_type}"));
    let body = String::from_utf8(seen.body.clone()).expect("utf-8 body");
    let (head, rest) = body
        .strip_prefix(&format!("--{boundary}\r\n"))
        .expect("opening boundary")
        .split_once("\r\n\r\n")
        .expect("part headers");
    assert!(
        head.contains(
            r#"Content-Disposition: form-data; name="file"; filename="csoc-overview.ndjson""#
        ),
        "{head}"
    );
    let file = rest
        .strip_suffix(&format!("\r\n--{boundary}--\r\n"))
        .expect("closing boundary");
    assert_eq!(file, SAVED_OBJECTS);
    assert_eq!(dashboards::parse(file).expect("ndjson").len(), 13);
}

fn assert_ok(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary line");
    assert_eq!(line["imported"], 13, "{line}");
}

#[test]
fn install_without_auth_posts_the_saved_objects() {
    let server = FaultServer::memory(|_| Action::Respond(200, IMPORTED.into()));
    let out = install(&["--url", &server.url, "--auth", "none"], &[]);
    assert_ok(&out);
    let seen = only_request(&server);
    assert_import(&seen, "");
    assert_eq!(seen.header("authorization"), None);
}

#[test]
fn install_with_basic_auth_from_the_environment() {
    let server = FaultServer::memory(|_| Action::Respond(200, IMPORTED.into()));
    let out = install(
        &[],
        &[
            ("DASHBOARDS_URL", &server.url),
            ("OPENSEARCH_AUTH", "basic"),
            ("OPENSEARCH_USERNAME", "u"),
            ("OPENSEARCH_PASSWORD", "p"),
        ],
    );
    assert_ok(&out);
    let seen = only_request(&server);
    assert_import(&seen, "");
    assert_eq!(seen.header("authorization"), Some("Basic dTpw"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("dTpw"));
}

/// Amazon OpenSearch Service serves Dashboards under `/_dashboards` on the domain
/// endpoint, with SigV4 for the service `es`.
#[test]
fn install_with_sigv4_signs_the_import() {
    let server = FaultServer::memory(|_| Action::Respond(200, IMPORTED.into()));
    let url = format!("{}/_dashboards", server.url);
    let out = install(
        &["--url", &url, "--auth", "sigv4"],
        &[
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ],
    );
    assert_ok(&out);
    let seen = only_request(&server);
    assert_import(&seen, "/_dashboards");
    let host = server.url.strip_prefix("http://").expect("http url");
    assert_signed(&seen, "es", host);
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET_KEY));
}

#[test]
fn a_refused_or_partial_import_fails_and_says_why() {
    let server = FaultServer::memory(|_| {
        Action::Respond(
            403,
            r#"{"statusCode":403,"error":"Forbidden","message":"no permissions"}"#.into(),
        )
    });
    let out = install(&["--url", &server.url, "--auth", "none"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("HTTP 403") && stderr.contains("no permissions"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let server = FaultServer::memory(|_| {
        Action::Respond(
            200,
            r#"{"success":false,"successCount":12,"errors":[{"id":"csoc-overview","type":"dashboard","error":{"type":"missing_references"}}]}"#.into(),
        )
    });
    let out = install(&["--url", &server.url, "--auth", "none"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing_references"), "{stderr}");
}

#[test]
fn install_needs_a_url_and_valid_objects() {
    let out = install(&[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--url"));
    let server = FaultServer::memory(|_| Action::Respond(200, IMPORTED.into()));
    let dir = tempfile::TempDir::new().expect("tempdir");
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(&bad, "{\"id\":\"x\"}\n").expect("write");
    let out = install(&["--url", &server.url, "--auth", "none", "--file"], &[]);
    assert_eq!(out.status.code(), Some(2), "--file needs a value");
    let out = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .args([
            "dashboards",
            "install",
            "--auth",
            "none",
            "--url",
            &server.url,
            "--file",
        ])
        .arg(&bad)
        .env_clear()
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
    assert!(server.seen().is_empty(), "nothing sent for a bad file");
}
