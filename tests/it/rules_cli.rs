//! `csoc-forwarder rules check|test`, `--rules` and `ALERT_RULES`, and refusal at start.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{config_from, fixture_path};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"));
    for k in [
        "AWS_LAMBDA_RUNTIME_API",
        "ALERT_RULES",
        "SLACK_WEBHOOK_URL",
        "SLACK_WEBHOOK_SECRET_ARN",
        "OPENSEARCH_URL",
        "SUPPRESSION_TABLE",
    ] {
        c.env_remove(k);
    }
    c
}

/// Runs `cmd` and checks its exit code (showing its stderr when it differs).
fn exits(cmd: &mut Command, code: i32) -> Output {
    let out = cmd.output().expect("run csoc-forwarder");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn builtin_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))
}

const GOOD: &str = "title: Good\nid: good\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: DescribeInstances\n  condition: sel\n";
const BAD: &str = "title: Bad\nid: bad\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName|expand: '%x%'\n  condition: sel\n";
const OLD: &str = "title: Old\nid: old\nstatus: deprecated\nlogsource: {product: aws}\ndetection:\n  sel:\n    eventName: x\n  condition: sel\n";

#[test]
fn rules_check_on_the_builtin_rules_loads_every_one() {
    let out = exits(bin().args(["rules", "check"]).arg(builtin_dir()), 0);
    let l = lines(&out);
    assert_eq!(l.len(), 11, "10 rules and the access-denied base rule");
    for line in &l {
        assert_eq!(line["status"], "loaded", "{line}");
        assert_eq!(line["reason"], "");
        let keys: std::collections::BTreeSet<&str> = line
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["file", "id", "reason", "status", "title"].into());
    }
}

#[test]
fn rules_check_on_bad_and_mixed_directories_names_the_reason_and_exits_2() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    std::fs::write(dir.path().join("bad.yml"), BAD).expect("write");
    let out = exits(bin().args(["rules", "check"]).arg(dir.path()), 2);
    let l = lines(&out);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["status"], "refused");
    assert_eq!(l[0]["id"], "bad");
    assert!(l[0]["file"].as_str().expect("file").ends_with("bad.yml"));
    assert!(
        l[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("`expand`"),
        "{}",
        l[0]
    );

    std::fs::write(dir.path().join("good.yml"), GOOD).expect("write");
    std::fs::write(dir.path().join("old.yaml"), OLD).expect("write");
    let out = exits(bin().args(["rules", "check"]).arg(dir.path()), 2);
    let status: Vec<(String, String)> = lines(&out)
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap_or("").to_owned(),
                l["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("bad".into(), "refused".into()),
            ("good".into(), "loaded".into()),
            ("old".into(), "skipped".into())
        ]
    );

    // Good and skipped only: 0.
    std::fs::remove_file(dir.path().join("bad.yml")).expect("rm");
    exits(bin().args(["rules", "check"]).arg(dir.path()), 0);
}

#[test]
fn rules_test_prints_which_rules_match_which_events() {
    let out = exits(
        bin()
            .args(["rules", "test"])
            .arg(builtin_dir())
            .arg("--event")
            .arg(fixture_path("kinesis-cloudtrail.json"))
            .arg("--event")
            .arg(fixture_path("eventbridge-kms-key-deletion.json")),
        0,
    );
    let l = lines(&out);
    let matched: Vec<(String, Vec<String>)> = l
        .iter()
        .filter(|l| l.get("eventName").is_some())
        .map(|l| {
            (
                l["eventName"].as_str().expect("name").to_owned(),
                serde_json::from_value(l["rules"].clone()).expect("rules"),
            )
        })
        .collect();
    let names: Vec<&str> = matched.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"DescribeInstances") && names.contains(&"ScheduleKeyDeletion"),
        "{names:?}"
    );
    for (name, rules) in &matched {
        let expected: &[&str] = match name.as_str() {
            "CreateAccessKey" => &["iam-change"],
            "AuthorizeSecurityGroupIngress" => &["security-group-open-to-world"],
            "ConsoleLogin" => &["console-signin-failure", "root-activity"],
            "ScheduleKeyDeletion" => &["kms-key-deletion"],
            _ => &[],
        };
        let mut got = rules.clone();
        got.sort();
        assert_eq!(got, expected, "{name}");
    }

    // Rules that cannot be used: exit 2 with the file named.
    let dir = tempfile::TempDir::new().expect("tempdir");
    std::fs::write(dir.path().join("bad.yml"), BAD).expect("write");
    let out = exits(
        bin()
            .args(["rules", "test"])
            .arg(dir.path())
            .arg("--event")
            .arg(fixture_path("kinesis-cloudtrail.json")),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yml"));
}

#[test]
fn a_refused_rule_stops_process_with_exit_2_naming_the_file() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let bad = dir.path().join("rules").join("bad.yml");
    std::fs::create_dir(dir.path().join("rules")).expect("mkdir");
    std::fs::write(&bad, BAD).expect("write");
    for via_env in [false, true] {
        let mut cmd = bin();
        cmd.args(["process", "--out"]).arg(dir.path().join("out"));
        if via_env {
            cmd.env("ALERT_RULES", dir.path().join("rules"));
        } else {
            cmd.arg("--rules").arg(dir.path().join("rules"));
        }
        let out = exits(cmd.arg(fixture_path("kinesis-cloudtrail.json")), 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&bad.display().to_string()) && err.contains("`expand`"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "nothing processed");
    }
    // The cold start refuses the same way.
    let config = config_from(&[("ALERT_RULES", bad.to_str().expect("utf8"))]).expect("config");
    let err = crate::common::runtime()
        .block_on(csoc_forwarder::startup::pipeline(&config))
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("bad.yml") && err.contains("`expand`"), "{err}");
}

#[test]
fn process_uses_the_rules_given() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let rules = dir.path().join("good.yml");
    std::fs::write(&rules, GOOD).expect("write");
    let out = exits(
        bin()
            .args(["process", "--out"])
            .arg(dir.path().join("out"))
            .arg("--rules")
            .arg(&rules)
            .arg(fixture_path("kinesis-cloudtrail.json")),
        0,
    );
    assert_eq!(lines(&out)[0]["alerts"], 1, "DescribeInstances only");
}
