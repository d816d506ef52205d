//! Alerts: EventBridge input, the default rules on every fixture (hits and misses), bursts,
//! slow responses (aggregation, redaction), rule files, and `process` on EventBridge files.

use std::path::Path;

use csoc_forwarder::alerts::sigma::RuleSet;
use csoc_forwarder::alerts::slow::SlowCheck;
use csoc_forwarder::alerts::{Alerter, MAX_MESSAGES};
use csoc_forwarder::decode;
use csoc_forwarder::document::{Document, document_id};
use serde_json::Value;

use crate::common::{
    builder, config_from, envelope, files, fixture, fixture_path, kinesis_event, local_pipeline,
    run,
};

/// Every `fixtures/eventbridge-*.json` name, sorted.
fn eventbridge_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("eventbridge-") && n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// The Slack payloads the local sink wrote.
fn slack_payloads(dir: &Path) -> Vec<Value> {
    files(dir, "slack")
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
        .collect()
}

/// The rule ids named in payloads (context line "rule `<id>` · …"), sorted.
fn rule_ids(payloads: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = payloads
        .iter()
        .filter_map(|p| {
            let text = p.to_string();
            let start = text.find("rule `")? + "rule `".len();
            let len = text[start..].find('`')?;
            Some(text[start..start + len].to_owned())
        })
        .collect();
    ids.sort();
    ids
}

fn rules_fired_on(fixture_name: &str) -> (csoc_forwarder::report::Report, Vec<String>) {
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &fixture(fixture_name));
    let payloads = slack_payloads(dir.path());
    assert_eq!(report.counts.alerts, payloads.len(), "{fixture_name}");
    (report, rule_ids(&payloads))
}

/// The names alerts carry for the built-in rules that alert: detection rules that alert
/// on their own, and correlations.
fn alerting_rule_names(rules: &RuleSet) -> Vec<(String, bool)> {
    let mut names: Vec<(String, bool)> = rules
        .rules
        .iter()
        .filter(|r| r.generate)
        .map(|r| (r.meta.key().to_owned(), false))
        .collect();
    names.extend(
        rules
            .correlations
            .iter()
            .map(|c| (c.meta.key().to_owned(), true)),
    );
    names
}

#[test]
fn every_default_rule_has_an_eventbridge_fixture_that_fires_it_alone() {
    let names = eventbridge_fixtures();
    let rules = alerting_rule_names(&RuleSet::builtin());
    assert_eq!(rules.len(), 10, "one Sigma rule per old JSON rule");
    for (rule, _) in &rules {
        assert!(
            names.contains(&format!("eventbridge-{rule}.json")),
            "no fixture for default rule {rule}"
        );
    }
    for name in names.iter().filter(|n| !n.starts_with("eventbridge-miss-")) {
        let (report, fired) = rules_fired_on(name);
        assert_eq!(report.kind, "event_bridge", "{name}");
        assert_eq!(report.error, None, "{name}");
        let c = &report.counts;
        assert_eq!(
            (
                c.records,
                c.documents,
                c.indexed,
                c.archived,
                c.dead_lettered
            ),
            (1, 1, 1, 1, 0),
            "{name}"
        );
        // The longest rule name the fixture name starts with (`…-ipv6` variants share it).
        let stem = name
            .trim_start_matches("eventbridge-")
            .trim_end_matches(".json");
        let (rule, correlation) = rules
            .iter()
            .filter(|(r, _)| stem.starts_with(r.as_str()))
            .max_by_key(|(r, _)| r.len())
            .unwrap_or_else(|| panic!("{name} names no rule"));
        let expected: Vec<String> = if *correlation {
            Vec::new() // One event is not a burst.
        } else {
            vec![rule.clone()]
        };
        assert_eq!(fired, expected, "{name}");
        assert_eq!(report.response["retry"], false);
    }
}

#[test]
fn read_only_failed_and_benign_events_fire_nothing_but_are_indexed() {
    let misses: Vec<String> = eventbridge_fixtures()
        .into_iter()
        .filter(|n| n.starts_with("eventbridge-miss-"))
        .collect();
    assert!(misses.len() >= 4);
    for name in misses {
        let (report, fired) = rules_fired_on(&name);
        assert_eq!(fired, Vec::<String>::new(), "{name}");
        assert_eq!(report.counts.alerts, 0, "{name}");
        assert_eq!(report.counts.indexed, 1, "{name}");
    }
}

#[test]
fn an_eventbridge_event_becomes_a_document() {
    let raw = fixture("eventbridge-root-activity.json");
    let event: Value = serde_json::from_slice(&raw).expect("json");
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &raw);
    let bulk = std::fs::read_to_string(&files(dir.path(), "opensearch")[0]).expect("bulk");
    let mut lines = bulk.lines();
    let action: Value = serde_json::from_str(lines.next().expect("action")).expect("json");
    let doc: Value = serde_json::from_str(lines.next().expect("doc")).expect("json");
    let id = document_id(
        "123456789012",
        "eventbridge",
        "AWS API Call via CloudTrail",
        event["id"].as_str().expect("id"),
    );
    assert_eq!(action["create"]["_id"], id.as_str());
    assert_eq!(action["create"]["_index"], "csoc-logs-2018.03.08");
    assert_eq!(doc["messageType"], "EVENTBRIDGE");
    assert_eq!(doc["owner"], "123456789012");
    assert_eq!(doc["logGroup"], "eventbridge");
    assert_eq!(doc["logStream"], "AWS API Call via CloudTrail");
    assert_eq!(doc["subscriptionFilters"], serde_json::json!([]));
    assert_eq!(doc["@timestamp"], "2018-03-08T14:41:00.000Z");
    assert_eq!(doc["timestamp"], "2018-03-08T14:41:00.000Z");
    assert_eq!(doc["commons"], "testcommons");
    assert_eq!(doc["message"]["eventName"], "UpdateAccountPasswordPolicy");
    // Sanitised like CloudTrail in log streams: free-form fields as text.
    assert_eq!(
        doc["message"]["requestParameters"],
        r#"{"minimumPasswordLength":8}"#
    );
    assert_eq!(
        report.response,
        serde_json::json!({"id": event["id"], "documents": 1, "indexed": 1, "archived": 1,
                           "alerts": 1, "dead_lettered": 0, "retry": false})
    );
    // The alert names the document.
    let payloads = slack_payloads(dir.path());
    assert!(payloads[0].to_string().contains(&id));
}

#[test]
fn a_bad_eventbridge_event_is_dead_lettered_whole() {
    let (pipeline, dir) = local_pipeline();
    let bad = br#"{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"1","time":"yesterday","region":"us-east-1","resources":[],"detail":{}}"#;
    let report = run(&pipeline, bad);
    assert_eq!(report.kind, "event_bridge");
    assert!(report.error.as_deref().unwrap_or("").contains("time"));
    assert_eq!(report.counts.dead_lettered, 1);
    assert!(files(dir.path(), "opensearch").is_empty());
}

#[test]
fn cloudtrail_in_log_streams_fires_the_same_rules() {
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &fixture("kinesis-cloudtrail.json"));
    let fired = rule_ids(&slack_payloads(dir.path()));
    // CreateAccessKey, SG 0.0.0.0/0, root console sign-in failure (two rules);
    // DescribeInstances is read-only.
    assert_eq!(
        fired,
        [
            "console-signin-failure",
            "iam-change",
            "root-activity",
            "security-group-open-to-world"
        ]
    );
    assert_eq!(report.counts.alerts, 4);
    assert_eq!(report.response["batchItemFailures"], serde_json::json!([]));
}

/// The CloudTrail detail of a fixture as a log stream message, with another event id.
fn cloudtrail_message(fixture_name: &str, n: usize) -> String {
    let mut ev: Value = serde_json::from_slice(&fixture(fixture_name)).expect("json");
    let detail = ev["detail"].as_object_mut().expect("detail");
    detail.insert("eventID".into(), Value::String(format!("burst-{n}")));
    serde_json::to_string(detail).expect("json")
}

fn documents(group: &str, stream: &str, messages: &[String]) -> Vec<Document> {
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let env = envelope(group, stream, &refs);
    env.log_events
        .iter()
        .map(|e| builder().build(&env, e).expect("doc"))
        .collect()
}

#[test]
fn a_burst_of_access_denied_alerts_once_with_the_count() {
    let denied: Vec<String> = (0..12)
        .map(|n| cloudtrail_message("eventbridge-access-denied-burst.json", n))
        .collect();
    let alerter = Alerter::default();
    let payloads = alerter.evaluate(&documents("ct", "s", &denied));
    assert_eq!(rule_ids(&payloads), ["access-denied-burst"]);
    let text = payloads[0].to_string();
    assert!(text.contains("12 events in one batch"), "{text}");
    assert!(
        text.contains("arn:aws:iam::123456789012:user/eve"),
        "{text}"
    );
    assert!(text.contains("+7 more"), "{text}");
    // Under the minimum: nothing.
    assert!(
        alerter
            .evaluate(&documents("ct", "s", &denied[..9]))
            .is_empty()
    );

    // Through the whole pipeline, from a Kinesis batch.
    let refs: Vec<&str> = denied.iter().map(String::as_str).collect();
    let data = decode::encode(&envelope("ct", "s", &refs));
    let (pipeline, dir) = local_pipeline();
    let report = run(&pipeline, &kinesis_event(&[data]));
    assert_eq!(report.counts.alerts, 1);
    assert_eq!(
        rule_ids(&slack_payloads(dir.path())),
        ["access-denied-burst"]
    );
}

#[test]
fn identical_events_make_one_message_and_messages_are_capped() {
    let same = vec![cloudtrail_message("eventbridge-kms-key-deletion.json", 1); 3];
    let mut docs = documents("ct", "s", &same);
    docs.extend(docs.clone());
    let payloads = Alerter::default().evaluate(&docs);
    assert_eq!(payloads.len(), 1);
    assert!(payloads[0].to_string().contains("6 events"));

    // 15 distinct alerts (different principals): MAX_MESSAGES payloads, the last a summary.
    let many: Vec<String> = (0..15)
        .map(|n| {
            cloudtrail_message("eventbridge-kms-key-deletion.json", n)
                .replace("user/alice", &format!("user/u{n}"))
        })
        .collect();
    let payloads = Alerter::default().evaluate(&documents("ct", "s", &many));
    assert_eq!(payloads.len(), MAX_MESSAGES);
    assert!(
        payloads[MAX_MESSAGES - 1]["text"]
            .as_str()
            .expect("text")
            .contains("6 more alerts")
    );
}

fn revproxy(time: &str, path: &str, extra: &str) -> String {
    format!(
        r#"{{"date_access":"2018-03-08T14:42:28+00:00","network_client_ip":"73.12.201.4","http_request":"{path}","http_verb":"GET","http_referer":"https://qa.example.org/files?token=REFSECRET#frag","http_response_time":{time},"kubernetes":{{"pod_name":"revproxy-deployment-5d9c8b7f6-x7k2p"}}{extra}}}"#
    )
}

fn slow_alerter(threshold: f64) -> Alerter {
    Alerter::new(
        Some(SlowCheck {
            threshold,
            streams: vec!["revproxy".into(), "sheepdog".into(), "peregrine".into()],
        }),
        RuleSet::builtin(),
        None,
    )
}

#[test]
fn slow_responses_are_aggregated_per_log_group_and_redacted() {
    let mut messages: Vec<String> = (1..=25)
        .map(|i| {
            revproxy(
                &format!("\"{}.5\"", i),
                &format!("/user/data/download/{i}?expires_in=900&signature=QSIGSECRET{i}"),
                "",
            )
        })
        .collect();
    messages.push(revproxy("0.2", "/fast", "")); // under the threshold
    messages.push(revproxy("99", "/number", "")); // a number works too
    messages.push("not json at all http_response_time".to_owned());
    messages.push(r#"{"http_response_time":"slow"}"#.to_owned());
    messages.push(r#"{"http_response_time":null}"#.to_owned());
    messages.push(r#"{"http_response_time":"7","kubernetes":"odd"}"#.to_owned());
    let mut docs = documents(
        "qaplanetv1",
        "revproxy-deployment-5d9c8b7f6-x7k2p_default_revproxy",
        &messages,
    );
    // Another log group: its own message. A stream not checked: nothing.
    docs.extend(documents(
        "otherlogs",
        "peregrine-deployment-1_default_peregrine",
        &[revproxy("3", "/x", "")],
    ));
    docs.extend(documents(
        "qaplanetv1",
        "fence-deployment-7d9f8c6b5-q2w3e_default_fence",
        &[revproxy("30", "/fence", "")],
    ));

    let payloads = slow_alerter(1.0).evaluate(&docs);
    assert_eq!(payloads.len(), 2);
    let text: Vec<String> = payloads.iter().map(Value::to_string).collect();
    // 25 + the number + the incomplete-but-timed one (fields shown as "-").
    let main = text
        .iter()
        .find(|t| t.contains("qaplanetv1"))
        .expect("qaplanetv1 message");
    assert!(main.contains("27 slow responses over 1 s"), "{main}");
    assert!(main.contains("worst 99.000 s"), "{main}");
    assert!(main.contains("p95 25.500 s"), "{main}");
    assert!(main.contains("+17 more"), "{main}");
    assert!(main.contains("revproxy-deployment-5d9c8b7f6-x7k2p"));
    assert!(main.contains("73.12.201.4"));
    assert!(main.contains("2018-03-08T14:42:28+00:00"));
    assert!(main.contains("GET /user/data/download/25?..."), "{main}");
    assert!(!main.contains("/fence"));
    let other = text
        .iter()
        .find(|t| t.contains("otherlogs"))
        .expect("other");
    assert!(other.contains("1 slow responses"), "{other}");
    for t in &text {
        for secret in [
            "QSIGSECRET",
            "signature=",
            "expires_in",
            "REFSECRET",
            "token=",
            "frag",
        ] {
            assert!(!t.contains(secret), "{secret} leaked: {t}");
        }
    }

    // Threshold off: nothing.
    assert!(Alerter::default().evaluate(&docs).is_empty());
}

#[test]
fn the_bundled_fixture_redacts_signed_urls() {
    let mut docs = crate::common::fixture_documents("kinesis-mixed.json");
    docs.retain(|d| d.source.contains("http_response_time"));
    let payloads = slow_alerter(1.0).evaluate(&docs);
    assert_eq!(payloads.len(), 1);
    let text = payloads[0].to_string();
    assert!(text.contains("12.840 s"), "{text}");
    assert!(
        !text.contains("c2VjcmV0") && !text.contains("eyJhbGciOi"),
        "{text}"
    );
}

#[test]
fn alert_rules_that_cannot_be_used_stop_the_start_naming_the_file() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    for (i, (rule, why)) in [
        ("title: [unclosed", "not valid YAML"),
        (
            "title: T\nlogsource: {product: aws}\ndetection:\n  sel:\n    eventName|sortof: x\n  condition: sel\n",
            "unknown modifier `sortof`",
        ),
        (
            "title: T\nlogsource: {product: aws}\ndetection:\n  sel:\n    eventName: x\n  condition: sel and other\n",
            "`other` is not a selection",
        ),
        (
            "title: T\nlogsource: {product: aws}\ndetection:\n  sel:\n    eventName|re: '(unclosed'\n  condition: sel\n",
            "regular expression",
        ),
        (
            "title: T\nlogsource: {product: aws}\ndetection:\n  sel:\n    eventName: x\n",
            "no `condition`",
        ),
        (
            "title: T\nlevel: severe\nlogsource: {product: aws}\ndetection:\n  sel:\n    eventName: x\n  condition: sel\n",
            "not a Sigma level",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.path().join(format!("bad-{i}.yml"));
        std::fs::write(&path, rule).expect("write");
        let config = config_from(&[("ALERT_RULES", path.to_str().expect("utf8"))]).expect("config");
        let err = Alerter::from_config(&config).expect_err(rule).to_string();
        assert!(
            err.contains(&format!("bad-{i}.yml")) && err.contains(why),
            "{err}"
        );
    }
    let config = config_from(&[("ALERT_RULES", "/nonexistent/rules.yml")]).expect("config");
    let err = Alerter::from_config(&config)
        .expect_err("missing")
        .to_string();
    assert!(
        err.contains("/nonexistent/rules.yml") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn alert_rules_can_be_replaced_from_a_file() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let path = dir.path().join("describe.yml");
    std::fs::write(
        &path,
        "title: Describe calls\nid: describe\nlevel: low\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  selection:\n    eventName|startswith: describe\n  condition: selection\n",
    )
    .expect("write");
    let config = config_from(&[("ALERT_RULES", path.to_str().expect("utf8"))]).expect("valid");
    let alerter = Alerter::from_config(&config).expect("rules load");
    let docs = crate::common::fixture_documents("kinesis-cloudtrail.json");
    // No hidden read-only filter: the rule says what it matches.
    assert_eq!(rule_ids(&alerter.evaluate(&docs)), ["describe"]);
}

#[test]
fn dashboards_links_point_at_the_document() {
    let config = config_from(&[("DASHBOARDS_URL", "https://search.example.org/_dashboards/")])
        .expect("valid");
    let docs = documents(
        "ct",
        "s",
        &[cloudtrail_message(
            "eventbridge-cloudtrail-tampering.json",
            1,
        )],
    );
    let text = Alerter::from_config(&config)
        .expect("rules")
        .evaluate(&docs)[0]
        .to_string();
    assert!(
        text.contains(&format!(
            "<https://search.example.org/_dashboards/app/discover#/?_g=(time:(from:'2018-03-07T14:42:28.130Z',to:'2018-03-09T14:42:28.130Z'))&_a=(query:(language:kuery,query:'_id:%22{}%22'))|{}>",
            docs[0].id, docs[0].id
        )),
        "{text}"
    );
}

#[test]
fn process_handles_eventbridge_files() {
    let dir = tempfile::TempDir::new().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csoc-forwarder"))
        .args(["process", "--out"])
        .arg(dir.path())
        .arg(fixture_path("eventbridge-cloudtrail-tampering.json"))
        .arg(fixture_path("eventbridge-miss-read-only-root.json"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("SLACK_WEBHOOK_URL")
        .env_remove("SLACK_WEBHOOK_SECRET_ARN")
        .env_remove("ALERT_RULES")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines[0]["kind"], "event_bridge");
    assert_eq!(lines[0]["alerts"], 1);
    assert_eq!(lines[0]["alert_failures"], 0);
    assert_eq!(lines[1]["alerts"], 0);
    assert_eq!(lines[1]["indexed"], 1);
    assert_eq!(
        rule_ids(&slack_payloads(dir.path())),
        ["cloudtrail-tampering"]
    );
}
