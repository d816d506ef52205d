//! How the OpenSearch sink authenticates, seen on the wire by the recording fault server:
//! SigV4 (service `es`, and `aoss` for an OpenSearch Serverless host name), basic auth
//! from a Secrets Manager secret (moto), and basic auth from the environment.
//!
//! The client reads AWS credentials, region and endpoint from the process environment
//! (the SDK's default chain), so each test runs `csoc-forwarder process` as a child
//! process with a cleared environment holding only what the test sets.

use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::fault_server::{Action, FaultServer, Seen};
use crate::common::moto::{Moto, REGION};

pub const KEY_ID: &str = "AKIDCSOCTEST";
pub const SECRET_KEY: &str = "csoc-test-secret-access-key";

/// `csoc-forwarder process` on the mixed fixture, with exactly `env` (plus no template).
fn process(env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .args(["process", "--out"])
        .arg(dir.path())
        .arg(crate::common::fixture_path("kinesis-mixed.json"))
        .env_clear()
        .env("OPENSEARCH_TEMPLATE", "false")
        .env("RUST_LOG", "debug")
        // No shared config or credentials files, no instance metadata.
        .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .expect("run csoc-forwarder");
    (out, dir)
}

fn assert_indexed_all(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let line: Value = serde_json::from_slice(&out.stdout).expect("summary line");
    assert_eq!(line["indexed"], 15, "{line}\n{stderr}");
}

fn only_bulk(server: &FaultServer) -> Seen {
    let bulks = server.bulk_requests();
    assert_eq!(bulks.len(), 1, "{bulks:?}");
    bulks.into_iter().next().expect("one")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut k = if key.len() > BLOCK {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(BLOCK, 0);
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct SigV4 {
    credential: String,
    signed_headers: String,
    signature: String,
}

fn parse_sigv4(header: &str) -> SigV4 {
    let rest = header
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .unwrap_or_else(|| panic!("not a SigV4 authorization: {header}"));
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no {name} in {header}"))
            .to_owned()
    };
    SigV4 {
        credential: field("Credential"),
        signed_headers: field("SignedHeaders"),
        signature: field("Signature"),
    }
}

/// Checks a signed request: the credential scope, the date, the payload hash, and
/// the signature itself, recomputed here from the request as received and the secret
/// (the query string, when there is one, is one `name=value` already in canonical form).
pub fn assert_signed(seen: &Seen, service: &str, host: &str) {
    let auth = parse_sigv4(
        seen.header("authorization")
            .expect("an Authorization header"),
    );
    let date = seen.header("x-amz-date").expect("an x-amz-date header");
    assert!(
        date.len() == 16
            && date.as_bytes()[8] == b'T'
            && date.ends_with('Z')
            && date[..8].bytes().all(|b| b.is_ascii_digit()),
        "x-amz-date {date}"
    );
    let day = &date[..8];
    let scope = format!("{day}/{REGION}/{service}/aws4_request");
    assert_eq!(auth.credential, format!("{KEY_ID}/{scope}"));
    assert_eq!(seen.header("host"), Some(host));
    // The body is signed (OpenSearch Serverless requires x-amz-content-sha256).
    let payload_hash = sha256_hex(&seen.body);
    assert_eq!(
        seen.header("x-amz-content-sha256"),
        Some(payload_hash.as_str())
    );
    let signed: Vec<&str> = auth.signed_headers.split(';').collect();
    for h in ["host", "x-amz-date", "x-amz-content-sha256"] {
        assert!(signed.contains(&h), "{h} not signed: {signed:?}");
    }

    // The signature verifies with the secret key (SigV4 as AWS documents it).
    let path = seen
        .path
        .strip_prefix("http://")
        .map_or(seen.path.as_str(), |p| &p[p.find('/').unwrap_or(p.len())..]);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    assert!(!query.contains('&'), "one query parameter at most: {query}");
    let canonical_headers: String = signed
        .iter()
        .map(|h| format!("{h}:{}\n", seen.header(h).expect("signed header sent")))
        .collect();
    let canonical_request = format!(
        "{}\n{path}\n{query}\n{canonical_headers}\n{}\n{payload_hash}",
        seen.method, auth.signed_headers
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mut key = hmac(format!("AWS4{SECRET_KEY}").as_bytes(), day.as_bytes());
    for part in [REGION, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    assert_eq!(
        auth.signature,
        hex::encode(hmac(&key, to_sign.as_bytes())),
        "the signature does not verify; canonical request:\n{canonical_request}"
    );
}

fn sigv4_env(url: &str) -> Vec<(&str, &str)> {
    vec![
        ("OPENSEARCH_URL", url),
        ("OPENSEARCH_AUTH", "sigv4"),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ]
}

#[test]
fn sigv4_signs_bulk_requests_for_service_es_in_the_sdk_region() {
    let server = FaultServer::memory(|_| Action::Handle(None));
    let (out, _dir) = process(&sigv4_env(&server.url));
    assert_indexed_all(&out);
    let bulk = only_bulk(&server);
    let host = server.url.strip_prefix("http://").expect("http url");
    assert_signed(&bulk, "es", host);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(SECRET_KEY),
        "the secret key is never logged"
    );
}

/// An OpenSearch Serverless host name selects service `aoss` and the host's region. The
/// host cannot resolve here, so the request goes through the fault server as an HTTP
/// proxy (`HTTP_PROXY`): it arrives with the Serverless `Host` it was signed for.
#[test]
fn sigv4_signs_for_aoss_when_the_host_is_opensearch_serverless() {
    let server = FaultServer::memory(|_| Action::Handle(None));
    let aoss_host = "csoctest123.us-east-1.aoss.amazonaws.com";
    let url = format!("http://{aoss_host}");
    let mut env = sigv4_env(&url);
    // No OPENSEARCH_AUTH: the Amazon host name makes SigV4 the default. The region comes
    // from the host name, not from the SDK's region.
    env.retain(|(k, _)| *k != "OPENSEARCH_AUTH" && *k != "AWS_REGION");
    env.push(("AWS_REGION", "eu-west-3"));
    env.push(("HTTP_PROXY", &server.url));
    let (out, _dir) = process(&env);
    assert_indexed_all(&out);
    let bulk = only_bulk(&server);
    assert!(
        bulk.path.starts_with(&format!("{url}/")),
        "proxied: {}",
        bulk.path
    );
    assert_signed(&bulk, "aoss", aoss_host);
}

#[test]
fn basic_auth_from_a_secrets_manager_secret() {
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        aws_sdk_secretsmanager::Client::new(&moto.sdk_config().await)
            .create_secret()
            .name("csoc/opensearch")
            .secret_string(r#"{"username":"u","password":"p"}"#)
            .send()
            .await
            .expect("create secret");
    });
    let server = FaultServer::memory(|_| Action::Handle(None));
    let moto_env = moto.env();
    let mut env: Vec<(&str, &str)> = moto_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.extend([
        ("OPENSEARCH_URL", server.url.as_str()),
        ("OPENSEARCH_AUTH", "basic"),
        ("OPENSEARCH_SECRET_ID", "csoc/opensearch"),
    ]);
    let (out, _dir) = process(&env);
    assert_indexed_all(&out);
    let bulk = only_bulk(&server);
    assert_eq!(bulk.header("authorization"), Some("Basic dTpw"));

    // The configuration holds the secret's id only: never the password.
    let dir = tempfile::TempDir::new().expect("tempdir");
    let config = crate::opensearch::config_for(
        &server.url,
        dir.path(),
        &[
            ("OPENSEARCH_AUTH", "basic"),
            ("OPENSEARCH_SECRET_ID", "csoc/opensearch"),
        ],
    );
    let debug = format!("{config:?}");
    assert!(debug.contains("csoc/opensearch"), "{debug}");
    assert!(!debug.contains(r#""p""#), "{debug}");
}

#[test]
fn a_missing_secret_fails_the_start_naming_the_secret() {
    let moto = Moto::start();
    let server = FaultServer::memory(|_| Action::Handle(None));
    let moto_env = moto.env();
    let mut env: Vec<(&str, &str)> = moto_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.extend([
        ("OPENSEARCH_URL", server.url.as_str()),
        ("OPENSEARCH_AUTH", "basic"),
        ("OPENSEARCH_SECRET_ID", "csoc/absent"),
    ]);
    let (out, _dir) = process(&env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("csoc/absent"), "{stderr}");
    assert!(server.bulk_requests().is_empty());
}

#[test]
fn basic_auth_from_the_environment() {
    let password = "s3cret-Env-Passw0rd";
    let server = FaultServer::memory(|_| Action::Handle(None));
    let (out, dir) = process(&[
        ("OPENSEARCH_URL", server.url.as_str()),
        ("OPENSEARCH_AUTH", "basic"),
        ("OPENSEARCH_USERNAME", "admin"),
        ("OPENSEARCH_PASSWORD", password),
    ]);
    assert_indexed_all(&out);
    let bulk = only_bulk(&server);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"))
    );
    assert_eq!(bulk.header("authorization"), Some(expected.as_str()));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(password),
        "the password is never logged"
    );
    let config = crate::opensearch::config_for(
        &server.url,
        dir.path(),
        &[
            ("OPENSEARCH_AUTH", "basic"),
            ("OPENSEARCH_USERNAME", "admin"),
            ("OPENSEARCH_PASSWORD", password),
        ],
    );
    assert!(!format!("{config:?}").contains(password));
}

#[test]
fn no_auth_sends_no_authorization_header() {
    let server = FaultServer::memory(|_| Action::Handle(None));
    let (out, _dir) = process(&[
        ("OPENSEARCH_URL", server.url.as_str()),
        ("OPENSEARCH_AUTH", "none"),
    ]);
    assert_indexed_all(&out);
    let bulk = only_bulk(&server);
    assert_eq!(bulk.header("authorization"), None);
    assert_eq!(bulk.header("x-amz-date"), None);
}
