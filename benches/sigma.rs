//! Sigma evaluation throughput: CloudTrail events per CPU-second with 100 rules loaded
//! (the 10 built-in rules and 90 generated ones using every modifier), on one thread.
//!
//! Two figures: evaluation alone (`RuleSet::matching` on parsed events), and the whole
//! alert path on documents (`Alerter::alerts`: parse the document, restore the text
//! fields, evaluate, group). The corpus is generated from a fixed seed.

use std::time::Instant;

use csoc_forwarder::alerts::Alerter;
use csoc_forwarder::alerts::sigma::RuleSet;
use csoc_forwarder::decode::{Envelope, LogEvent};
use csoc_forwarder::document::{Document, DocumentBuilder, Limits};
use serde_json::{Value, json};

mod common;
use common::Rng;

const EVENTS: usize = 5_000;
const RULES: usize = 100;

const SOURCES: &[&str] = &[
    "ec2",
    "iam",
    "s3",
    "kms",
    "sts",
    "cloudtrail",
    "lambda",
    "logs",
];
const NAMES: &[&str] = &[
    "DescribeInstances",
    "RunInstances",
    "TerminateInstances",
    "AuthorizeSecurityGroupIngress",
    "CreateAccessKey",
    "AttachRolePolicy",
    "GetObject",
    "PutBucketPolicy",
    "AssumeRole",
    "Decrypt",
    "ScheduleKeyDeletion",
    "ListBuckets",
    "PutLogEvents",
    "StopLogging",
];

fn event(rng: &mut Rng, n: usize) -> Value {
    let name = rng.pick(NAMES);
    let denied = rng.next().is_multiple_of(10);
    let mut ev = json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": rng.pick(&["IAMUser", "AssumedRole", "Root", "AWSService"]),
            "principalId": format!("AIDA{n:012}"), "arn": format!("arn:aws:iam::123456789012:user/u{}", rng.next() % 50),
            "accountId": "123456789012", "userName": format!("u{}", rng.next() % 50)},
        "eventTime": "2026-11-29T10:00:00Z",
        "eventSource": format!("{}.amazonaws.com", rng.pick(SOURCES)),
        "eventName": name,
        "awsRegion": rng.pick(&["us-east-1", "us-west-2", "eu-west-1"]),
        "sourceIPAddress": format!("{}.{}.{}.{}", rng.next() % 223 + 1, rng.next() % 256, rng.next() % 256, rng.next() % 256),
        "userAgent": rng.pick(&["aws-cli/2.15.0 Python/3.11.6 Linux/6.1", "Boto3/1.34.0 Python/3.12", "console.amazonaws.com", "terraform/1.9"]),
        "requestParameters": {"groupId": "sg-0a1b2c3d", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": rng.next() % 65535, "ipRanges": {"items": [{"cidrIp": rng.pick(&["10.0.0.0/8", "0.0.0.0/0", "192.168.0.0/16"])}]}}]},
            "bucketName": format!("bucket-{}", rng.next() % 100), "userData": "IyEvYmluL3NoCmN1cmwgaHR0cDovL2V4YW1wbGUuY29tCg=="},
        "responseElements": {"_return": true},
        "requestID": format!("req-{n}"),
        "eventID": format!("ev-{n}"),
        "readOnly": name.starts_with("Describe") || name.starts_with("Get") || name.starts_with("List"),
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012",
    });
    if denied {
        ev["errorCode"] = json!("AccessDenied");
    }
    ev
}

/// 90 rules beside the built-in ones, cycling through the modifiers and condition forms.
fn generated_rules(count: usize) -> String {
    let forms = [
        "  sel:\n    eventName: NAME\n    eventSource|endswith: .amazonaws.com\n  condition: sel",
        "  sel:\n    eventName|startswith: NAME\n  filter:\n    errorCode|exists: true\n  condition: sel and not filter",
        "  sel:\n    userAgent|contains|all: [python, 'NAME']\n  condition: sel",
        "  sel:\n    eventName|re|i: '^NAME$'\n  condition: sel",
        "  sel:\n    sourceIPAddress|cidr: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]\n    eventName: NAME\n  condition: sel",
        "  sel:\n    requestParameters.ipPermissions.items.fromPort|lt: 1024\n    requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0\n    eventName: NAME\n  condition: sel",
        "  sel:\n    requestParameters.userData|base64offset|contains: 'NAME'\n  condition: sel",
        "  sel_a:\n    userIdentity.type: Root\n  sel_b:\n    eventName: NAME\n  filter_x:\n    userIdentity.accountId|fieldref: recipientAccountId\n  condition: 1 of sel_* and not 1 of filter_*",
        "  sel:\n    eventName:\n      - NAME\n      - '*Key*'\n      - Put*Policy\n    errorCode: null\n  condition: sel",
    ];
    let mut out = String::new();
    for i in 0..count {
        let name = NAMES[i % NAMES.len()];
        let detection = forms[i % forms.len()].replace("NAME", name);
        out.push_str(&format!(
            "---\ntitle: Generated {i}\nid: gen-{i}\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n{detection}\nlevel: low\n"
        ));
    }
    out
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    u.ru_utime.tv_sec as f64
        + u.ru_utime.tv_usec as f64 / 1e6
        + u.ru_stime.tv_sec as f64
        + u.ru_stime.tv_usec as f64 / 1e6
}

fn rate(label: &str, events: usize, mut f: impl FnMut() -> usize) {
    f(); // warm up
    let mut rates = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        let (c0, t0) = (cpu_seconds(), Instant::now());
        let mut n = 0;
        while t0.elapsed().as_secs_f64() < 1.0 {
            found = f();
            n += events;
        }
        rates.push(n as f64 / (cpu_seconds() - c0).max(1e-9));
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{label}: {:.0} events per CPU-second (median of 5; {found} matches a pass)",
        rates[2]
    );
}

fn main() {
    let mut set = RuleSet::builtin();
    let builtin = set.rules.len() + set.correlations.len();
    let extra = RuleSet::from_yaml("generated.yml", &generated_rules(RULES - builtin))
        .expect("generated rules load");
    set.rules.extend(extra.rules);
    assert_eq!(set.rules.len() + set.correlations.len(), RULES);
    let mut rng = Rng(42);
    let events: Vec<Value> = (0..EVENTS).map(|n| event(&mut rng, n)).collect();
    println!("{RULES} rules loaded ({builtin} built-in), {EVENTS} CloudTrail events");
    rate("evaluation (RuleSet::matching)", EVENTS, || {
        events.iter().map(|e| set.matching(e).count()).sum()
    });

    let messages: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    let log_events: Vec<LogEvent<'_>> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| LogEvent {
            id: format!("{i:056}").into(),
            timestamp: 1_764_410_400_000,
            message: m.as_str().into(),
        })
        .collect();
    let env = Envelope {
        message_type: "DATA_MESSAGE".into(),
        owner: "123456789012".into(),
        log_group: "cloudtrail".into(),
        log_stream: "123456789012_CloudTrail_us-east-1".into(),
        subscription_filters: vec!["csoc".into()],
        log_events,
    };
    let builder = DocumentBuilder::new("bench", "csoc-logs", Limits::default());
    let docs: Vec<Document> = env
        .log_events
        .iter()
        .map(|e| builder.build(&env, e).expect("doc"))
        .collect();
    let alerter = Alerter::new(None, set, None);
    rate("alert path on documents (Alerter::alerts)", EVENTS, || {
        alerter.alerts(&docs).len()
    });
}
