//! Credential scrubbing through the whole pipeline (local sinks): slow-response access
//! logs with tokens in query strings and referers give documents and archive records
//! without them, the same Slack alerts, and counts per pattern; `SCRUB=off` keeps them
//! (so the test can fail); and a property: scrubbing never drops or changes a field that
//! holds no credential.

use std::collections::BTreeMap;
use std::path::Path;

use csoc_forwarder::report::Report;
use csoc_forwarder::scrub::{Redactions, Scrubber};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::{b64, config_from, envelope, fixture, gzip, invocation, kinesis_event};

const JWT: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJpYXQiOjE1MjA1MjAxNDh9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";

/// The secrets planted in the events below (and the one in the bundled fixture).
const SECRETS: &[&str] = &[
    "REFSECRET1",
    "SIGSECRET2",
    "CREDSECRET3",
    "ACCSECRET4",
    "PWSECRET5",
    JWT,
    "c2VjcmV0",
];

fn access_log(time: &str, request: &str, referer: &str) -> String {
    json!({
        "gen3log": "nginx",
        "date_access": "2018-03-08T14:42:28+00:00",
        "network_client_ip": "73.12.201.4",
        "http_verb": "GET",
        "http_request": request,
        "http_referer": referer,
        "http_status_code": 200,
        "http_response_time": time,
        "kubernetes": {"pod_name": "revproxy-deployment-5d9c8b7f6-x7k2p", "namespace_name": "default"}
    })
    .to_string()
}

fn slow_event() -> Vec<u8> {
    let messages = [
        access_log(
            "2.5",
            "/files/a.bam?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=CREDSECRET3&X-Amz-Signature=SIGSECRET2",
            "https://qa.example.org/files?token=REFSECRET1#top",
        ),
        access_log(
            "3.25",
            "/user/oauth2/callback?state=xyz&access_token=ACCSECRET4",
            &format!("https://login.example.org/?id_token={JWT}"),
        ),
        access_log("0.1", "/login?user=a&password=PWSECRET5", "-"),
        format!("[fence] INFO issued token {JWT} for user-1"),
    ];
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let env = envelope(
        "qaplanetv1",
        "revproxy-deployment-5d9c8b7f6-x7k2p_default_revproxy",
        &refs,
    );
    kinesis_event(&[b64(&gzip(&serde_json::to_vec(&env).expect("json")))])
}

/// Runs `event` through the pipeline on the local sinks (threshold 1 s) with `extra`
/// configuration; returns the report and the text of every file each sink wrote.
fn run(event: &[u8], extra: &[(&str, &str)]) -> (Report, BTreeMap<&'static str, String>) {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = dir.path().display().to_string();
    let mut pairs = vec![
        ("OUT_DIR", out.as_str()),
        ("THRESHOLD", "1"),
        ("COMMON_NAME", "testcommons"),
    ];
    pairs.extend_from_slice(extra);
    let config = config_from(&pairs).expect("config");
    let report = crate::common::runtime().block_on(async {
        let pipeline = csoc_forwarder::startup::pipeline(&config)
            .await
            .expect("pipeline");
        pipeline.handle(event, &invocation()).await
    });
    let files = ["opensearch", "firehose", "slack", "dead-letter"]
        .into_iter()
        .map(|sink| (sink, read_all(&dir.path().join(sink))))
        .collect();
    (report, files)
}

fn read_all(dir: &Path) -> String {
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).expect("read")).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn tokens_in_query_strings_and_referers_reach_neither_the_index_nor_the_archive() {
    for event in [slow_event(), fixture("kinesis-kubernetes.json")] {
        let (report, files) = run(&event, &[]);
        let (plain_report, plain) = run(&event, &[("SCRUB", "off")]);
        assert_eq!(report.counts.documents, plain_report.counts.documents);
        assert_eq!(report.counts.indexed, report.counts.documents, "{report:?}");
        assert_eq!(
            report.counts.archived, report.counts.documents,
            "{report:?}"
        );
        assert!(!files["opensearch"].is_empty() && !files["firehose"].is_empty());
        let mut planted = 0;
        for secret in SECRETS {
            for sink in ["opensearch", "firehose", "dead-letter"] {
                assert!(
                    !files[sink].contains(secret),
                    "{secret} reached {sink}: {}",
                    files[sink]
                );
            }
            planted += usize::from(plain["opensearch"].contains(secret));
        }
        assert!(planted > 0, "SCRUB=off keeps what the scrubber removes");
        assert!(files["opensearch"].contains("REDACTED"));
        // The alerts are the ones sent without scrubbing (they show no query string).
        assert!(!files["slack"].is_empty(), "the slow responses alert");
        assert_eq!(files["slack"], plain["slack"]);
        assert_eq!(report.counts.alerts, plain_report.counts.alerts);
        assert!(plain_report.counts.redacted.is_empty());
        assert!(!report.counts.redacted.is_empty());
    }
    let (report, files) = run(&slow_event(), &[]);
    assert_eq!(
        report.counts.redacted,
        Redactions::from([("jwt".to_owned(), 1), ("query_param".to_owned(), 6),])
    );
    // The rest of each request is kept.
    assert!(files["opensearch"].contains(
        "/files/a.bam?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"
    ));
    assert!(files["opensearch"].contains("https://qa.example.org/files?token=REDACTED#top"));
    // The summary line counts per pattern.
    let line = serde_json::to_value(&report).expect("json");
    assert_eq!(line["redacted"], json!({"jwt": 1, "query_param": 6}));
}

#[test]
fn scrubbing_is_deterministic_and_extra_patterns_count_under_their_names() {
    let (a, first) = run(&slow_event(), &[]);
    let (b, second) = run(&slow_event(), &[]);
    assert_eq!(a.counts, b.counts);
    assert_eq!(first["opensearch"], second["opensearch"]);
    let (report, files) = run(
        &slow_event(),
        &[(
            "SCRUB_PATTERNS",
            r#"{"user_param":"[?&]user=(?P<secret>[^&\\s\"]+)"}"#,
        )],
    );
    assert_eq!(report.counts.redacted["user_param"], 1);
    assert!(files["opensearch"].contains("/login?user=REDACTED&password=REDACTED"));
    let err = config_from(&[("SCRUB_PATTERNS", r#"{"bad":"("}"#)]).expect_err("bad regex");
    assert!(err.to_string().contains("SCRUB_PATTERNS"), "{err}");
    assert!(config_from(&[("SCRUB", "maybe")]).is_err());
}

/// A CloudTrail event goes through unchanged: what AWS redacts matches no pattern.
#[test]
fn cloudtrail_events_are_left_as_aws_wrote_them() {
    let event = fixture("kinesis-cloudtrail.json");
    let (report, files) = run(&event, &[]);
    let (_, plain) = run(&event, &[("SCRUB", "off")]);
    assert!(
        report.counts.redacted.is_empty(),
        "{:?}",
        report.counts.redacted
    );
    assert_eq!(files["opensearch"], plain["opensearch"]);
}

fn plain_text() -> impl Strategy<Value = String> {
    let scrubber = Scrubber::built_in();
    "[ -~]{0,40}".prop_filter("holds no credential", move |s| !scrubber.matches(s))
}

fn credential() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "token",
            "access_token",
            "id_token",
            "X-Amz-Signature",
            "X-Amz-Credential",
            "X-Amz-Security-Token",
            "password",
            "secret",
            "api_key",
            "signature",
        ]),
        "[A-Za-z0-9%/+]{1,30}",
        "[a-z/]{0,10}",
    )
        .prop_map(|(name, value, path)| format!("https://h/{path}?a=1&{name}={value}&b=2"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any JSON object of fields without credentials and fields with URL credentials:
    /// the scrubbed text is still JSON with the same keys, every credential-free field
    /// is unchanged, and no credential value is left.
    #[test]
    fn scrubbing_never_drops_a_field_without_a_credential(
        plain in prop::collection::btree_map("[a-z_]{1,10}", plain_text(), 0..12),
        nested in prop::collection::btree_map("[a-z_]{1,10}", plain_text(), 0..4),
        secret in prop::collection::btree_map("[a-z_]{1,10}", credential(), 0..4),
    ) {
        let mut obj = Map::new();
        for (k, v) in &plain {
            obj.insert(format!("p_{k}"), json!(v));
        }
        obj.insert("nested".into(), json!(nested));
        for (k, v) in &secret {
            obj.insert(format!("s_{k}"), json!(v));
        }
        let text = Value::Object(obj.clone()).to_string();
        let mut counts = Redactions::new();
        let scrubbed = Scrubber::built_in().scrub(&text, &mut counts).into_owned();
        let out: Map<String, Value> = serde_json::from_str(&scrubbed)
            .map_err(|e| TestCaseError::fail(format!("{e}: {scrubbed}")))?;
        prop_assert_eq!(out.keys().collect::<Vec<_>>(), obj.keys().collect::<Vec<_>>());
        for (k, v) in &obj {
            if !k.starts_with("s_") {
                prop_assert_eq!(&out[k], v);
            }
        }
        for (k, v) in &secret {
            let kept = out[&format!("s_{k}")].as_str().expect("string").to_owned();
            prop_assert!(kept.contains("=REDACTED&b=2"), "{} → {}", v, kept);
            prop_assert!(kept.starts_with("https://h/"));
        }
        prop_assert_eq!(counts.values().sum::<usize>(), secret.len());
        // Scrubbing again changes nothing.
        let mut again = Redactions::new();
        let twice = Scrubber::built_in().scrub(&scrubbed, &mut again).into_owned();
        prop_assert_eq!(twice, scrubbed);
        prop_assert!(again.is_empty());
    }
}
