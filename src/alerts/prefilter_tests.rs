//! Tests only: the rules' prefilters (`sigma/prefilter.rs`) skip only CloudTrail events
//! no rule can match. A property: on generated CloudTrail documents (built ones, with
//! small and default field caps and free-form objects, and ones read back with dotted
//! keys), the candidates and the alerts with the prefilter are exactly those without,
//! for the built-in rules and for rules using `or`, `not`, `1 of`, keywords, modifiers,
//! lists of maps and correlations. And the prefilter derived for each built-in rule.
#![cfg(test)]

use proptest::prelude::*;
use serde_json::{Value, json};

use super::Alerter;
use super::sigma::RuleSet;
use super::test_documents::documents;
use crate::document::{Document, Limits};

/// Rules whose conditions a prefilter must see through (or give up on).
const EXTRA: &str = r#"title: Or of selections
logsource: {product: aws, service: cloudtrail}
detection:
  a:
    eventName: StopLogging
  b:
    eventSource: kms.amazonaws.com
  condition: a or b
---
title: Not
logsource: {product: aws, service: cloudtrail}
detection:
  a:
    eventName: ConsoleLogin
  condition: not a
---
title: One of them
logsource: {product: aws, service: cloudtrail}
detection:
  sel_a:
    errorCode: AccessDenied
  sel_b:
    eventName|contains: Delete
  condition: 1 of sel_*
---
title: Keywords and a name
logsource: {product: aws, service: cloudtrail}
detection:
  kw:
    - '*Terminate*'
  name:
    eventSource|startswith: EC2
  condition: kw and name
---
title: Modifiers
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName|re: '^(Put|Delete)Bucket'
    eventSource|endswith: '.amazonaws.com'
    errorCode|exists: false
  condition: sel
---
title: Cased and null
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName|cased: DeleteTrail
    errorCode: null
  condition: sel and not filter
  filter:
    userIdentity.invokedBy: '?*'
---
title: List of maps
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    - eventName: CreateUser
    - errorCode: AccessDenied
  condition: sel
---
title: Fieldref
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName|fieldref: eventSource
  condition: sel
---
title: Dotted root
name: dotted
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    userIdentity.type: Root
    eventName|startswith: [Get, Put]
  condition: all of them
---
title: Deep path
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    userIdentity.sessionContext.attributes.mfaAuthenticated: 'false'
    userIdentity.sessionContext.sessionIssuer.type: role
  condition: sel
---
title: Root burst
correlation:
  type: event_count
  rules: [dotted]
  group-by: [eventName]
  timespan: 10m
  condition:
    gte: 2
level: high
"#;

const NAMES: &[&str] = &[
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "ConsoleLogin",
    "TerminateInstances",
    "CreateUser",
    "ScheduleKeyDeletion",
    "PutBucketPolicy",
    "AuthorizeSecurityGroupIngress",
    "GetObject",
    "ListBuckets",
    "DescribeInstances",
    "StartLogging",
    "ec2.amazonaws.com",
];
const SOURCES: &[&str] = &[
    "cloudtrail.amazonaws.com",
    "ec2.amazonaws.com",
    "iam.amazonaws.com",
    "kms.amazonaws.com",
    "s3.amazonaws.com",
    "signin.amazonaws.com",
    "sts.amazonaws.com",
];
const ERRORS: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "ThrottlingException",
    "",
];

/// `text` in one of four cases: as is, upper, lower, or flipped at the bits of `mix`.
fn cased(text: &str, how: u8, mix: u64) -> String {
    match how % 4 {
        0 => text.to_owned(),
        1 => text.to_uppercase(),
        2 => text.to_lowercase(),
        _ => text
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if mix >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect(),
    }
}

/// A value drawn from `pool` (case-varied) or a random word.
fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..pool.len(), any::<u8>(), any::<u64>())
            .prop_map(move |(i, how, mix)| cased(pool[i], how, mix)),
        1 => "[A-Za-z.]{0,12}",
    ]
}

/// A CloudTrail message (the markers sometimes missing), and extra top fields.
fn message() -> impl Strategy<Value = Value> {
    (
        (
            proptest::option::of(pick(NAMES)),
            proptest::option::of(pick(SOURCES)),
            proptest::option::of(pick(ERRORS)),
            proptest::option::of(any::<bool>()),
        ),
        (
            proptest::option::of(pick(&["Root", "IAMUser", "AssumedRole", "root"])),
            proptest::option::of(pick(&["ec2.amazonaws.com", ""])),
            0usize..4,
            any::<bool>(),
        ),
        (0u8..6, pick(&["true", "false", "FALSE"])),
    )
        .prop_map(|((name, source, error, read_only), (who, by, extra, dotted), (how, mfa))| {
            let mut m = json!({
                "eventVersion": "1.08",
                "eventTime": "2026-11-29T10:00:00Z",
                "sourceIPAddress": "203.0.113.7",
                "responseElements": {"ConsoleLogin": "Success"},
                "requestParameters": {"ipPermissions": {"items": [{"ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
            });
            let o = m.as_object_mut().expect("an object");
            for (k, v) in [("eventName", name), ("eventSource", source), ("errorCode", error)] {
                if let Some(v) = v {
                    o.insert(k.to_owned(), Value::from(v));
                }
            }
            if let Some(r) = read_only {
                o.insert("readOnly".to_owned(), Value::from(r));
            }
            if let Some(who) = who {
                let mut id = json!({"type": who});
                if let Some(by) = by {
                    id["invokedBy"] = Value::from(by);
                }
                // The session context, where only some rules look (the prefilter's top
                // fields keep only what their paths reach): nested, dotted, in a list.
                let attributes = json!({"mfaAuthenticated": mfa, "creationDate": "t"});
                let issuer = json!({"type": "Role", "arn": "arn:aws:iam::1:role/r"});
                let context = match how {
                    0 => None,
                    1 => Some(json!({"attributes": attributes, "sessionIssuer": issuer})),
                    2 => Some(json!({"attributes.mfaAuthenticated": mfa, "sessionIssuer": issuer})),
                    3 => Some(json!([{"attributes": {"x": 1}}, {"attributes": attributes, "sessionIssuer": issuer}])),
                    4 => {
                        id["sessionContext.attributes"] = attributes;
                        None
                    }
                    _ => Some(json!(mfa)),
                };
                if let Some(context) = context {
                    id["sessionContext"] = context;
                }
                o.insert("userIdentity".to_owned(), id);
            }
            if dotted {
                o.insert("userIdentity.type".to_owned(), Value::from("Root"));
            }
            for i in 0..extra * 3 {
                o.insert(format!("extra{i}"), Value::from(i));
            }
            m
        })
}

/// Documents of `messages`: built (default caps, a small field cap, free-form
/// objects) and read back from JSON that keeps dotted keys.
fn docs(messages: &[Value]) -> Vec<Document> {
    let texts: Vec<String> = messages.iter().map(Value::to_string).collect();
    let mut out = documents(&texts, "s", Limits::default(), false);
    let small = Limits {
        max_fields: 9,
        ..Limits::default()
    };
    out.extend(documents(&texts, "s", small, false));
    out.extend(documents(&texts, "s", Limits::default(), true));
    for (i, m) in messages.iter().enumerate() {
        let source = json!({"@timestamp": "2026-11-29T10:00:00.000Z", "message": m});
        out.push(Document::from_source(
            format!("r{i}"),
            "i".to_owned(),
            source.to_string(),
        ));
    }
    out
}

fn rule_sets() -> Vec<RuleSet> {
    let mut both = RuleSet::builtin();
    let extra = RuleSet::from_yaml("extra.yml", EXTRA).expect("the extra rules load");
    let base = both.rules.len();
    both.rules.extend(extra.rules.clone());
    both.correlations
        .extend(extra.correlations.iter().cloned().map(|mut c| {
            c.rules.iter_mut().for_each(|r| *r += base);
            c
        }));
    vec![RuleSet::builtin(), extra, both]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_prefilter_changes_no_candidate_and_no_alert(
        messages in proptest::collection::vec(message(), 1..8)
    ) {
        let docs = docs(&messages);
        for rules in rule_sets() {
            let alerter = Alerter::new(None, rules, None);
            let with: Vec<_> = docs.iter().filter_map(|d| alerter.cloudtrail_candidate(d, true)).collect();
            let without: Vec<_> = docs.iter().filter_map(|d| alerter.cloudtrail_candidate(d, false)).collect();
            prop_assert_eq!(format!("{with:?}"), format!("{without:?}"));
            let labels = |c: &[super::Candidate]| {
                alerter.alerts_of(c).into_iter().map(|a| a.label).collect::<Vec<_>>()
            };
            prop_assert_eq!(labels(&with), labels(&without));
        }
    }
}

/// The fields of each built-in rule's prefilter, by file.
#[test]
fn each_builtin_rule_has_the_prefilter_its_condition_allows() {
    let rules = RuleSet::builtin();
    let want: &[(&str, &[&str])] = &[
        ("access-denied-burst.yml", &["errorCode"]),
        ("cloudtrail-tampering.yml", &["eventSource", "eventName"]),
        ("console-signin-failure.yml", &["eventName"]),
        (
            "console-signin-without-mfa.yml",
            &["eventName", "userIdentity.type"],
        ),
        ("ec2-terminate-instances.yml", &["eventSource", "eventName"]),
        ("iam-change.yml", &["eventSource", "eventName"]),
        ("kms-key-deletion.yml", &["eventSource", "eventName"]),
        ("root-activity.yml", &["userIdentity.type"]),
        ("s3-bucket-access-change.yml", &["eventSource", "eventName"]),
        (
            "security-group-open-to-world.yml",
            &["eventSource", "eventName"],
        ),
    ];
    assert_eq!(rules.rules.len(), want.len());
    for (file, fields) in want {
        let rule = rules
            .rules
            .iter()
            .find(|r| r.meta.file.ends_with(file))
            .unwrap_or_else(|| panic!("{file} is built in"));
        let got = rule.prefilter().map(|p| p.fields()).unwrap_or_default();
        assert_eq!(&got, fields, "{file}");
    }
}

/// Equality is Sigma's: case-insensitive, and a value not named fails.
#[test]
fn a_prefilter_passes_any_case_of_the_values_and_nothing_else() {
    let rules = RuleSet::builtin();
    let tampering = rules
        .rules
        .iter()
        .find(|r| r.meta.file.ends_with("cloudtrail-tampering.yml"))
        .and_then(|r| r.prefilter())
        .expect("a prefilter");
    let top = |source: &str, name: &str| json!({"eventSource": source, "eventName": name});
    assert!(tampering.passes(&top("cloudtrail.amazonaws.com", "StopLogging")));
    assert!(tampering.passes(&top("CloudTrail.Amazonaws.COM", "stoplogging")));
    assert!(!tampering.passes(&top("cloudtrail.amazonaws.com", "StartLogging")));
    assert!(!tampering.passes(&top("s3.amazonaws.com", "StopLogging")));
    assert!(!tampering.passes(&json!({"eventName": "StopLogging"})));
    let denied = rules
        .rules
        .iter()
        .find(|r| r.meta.file.ends_with("access-denied-burst.yml"))
        .and_then(|r| r.prefilter())
        .expect("a prefilter");
    assert!(denied.passes(&json!({"errorCode": "accessdenied"})));
    assert!(!denied.passes(&json!({"eventName": "GetObject"})));
    // An event none of the built-in rules can match is skipped: no rule may match it.
    let top = json!({"eventName": "GetObject", "eventSource": "s3.amazonaws.com",
        "userIdentity": {"type": "AssumedRole"}});
    assert!(!rules.may_match(Some(&top)).contains(&true));
    assert!(rules.may_match(None).iter().all(|m| *m));
}

/// Rules whose condition allows no prefilter have none.
#[test]
fn or_not_one_of_keywords_lists_and_fieldref_give_no_prefilter() {
    let extra = RuleSet::from_yaml("extra.yml", EXTRA).expect("loads");
    let fields: Vec<(String, Vec<&str>)> = extra
        .rules
        .iter()
        .map(|r| {
            let f = r.prefilter().map(|p| p.fields()).unwrap_or_default();
            (r.meta.title.clone(), f)
        })
        .collect();
    let want: Vec<(String, Vec<&str>)> = [
        ("Or of selections", vec![]),
        ("Not", vec![]),
        ("One of them", vec![]),
        ("Keywords and a name", vec!["eventSource"]),
        ("Modifiers", vec!["eventName", "eventSource", "errorCode"]),
        ("Cased and null", vec!["eventName", "errorCode"]),
        ("List of maps", vec![]),
        ("Fieldref", vec![]),
        ("Dotted root", vec!["userIdentity.type", "eventName"]),
        (
            "Deep path",
            vec![
                "userIdentity.sessionContext.attributes.mfaAuthenticated",
                "userIdentity.sessionContext.sessionIssuer.type",
            ],
        ),
    ]
    .into_iter()
    .map(|(t, f)| (t.to_owned(), f))
    .collect();
    assert_eq!(fields, want);
}

/// Messages the generator does not write: a repeated key (the last one is the event's),
/// an escaped key, an escaped value.
#[test]
fn repeated_and_escaped_keys_give_the_same_candidates() {
    let messages = [
        r#"{"eventVersion":"1","eventTime":"t","eventSource":"cloudtrail.amazonaws.com","eventName":"StartLogging","eventName":"StopLogging"}"#,
        r#"{"eventVersion":"1","eventTime":"t","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","eventName":"StartLogging"}"#,
        r#"{"eventVersion":"1","eventTime":"t","eventSource":"cloudtrail.amazonaws.com","event\u004eame":"StopLogging"}"#,
        r#"{"eventVersion":"1","eventTime":"t","eventSource":"cloudtrail.amazonaws.com","eventName":"Stop\u004cogging"}"#,
        r#"{"eventVersion":"1","eventTime":"t","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","user\u0049dentity":{"type":"Root"}}"#,
    ];
    let texts: Vec<String> = messages.iter().map(|m| (*m).to_owned()).collect();
    let mut all = documents(&texts, "s", Limits::default(), false);
    for (i, m) in messages.iter().enumerate() {
        let source = format!(r#"{{"@timestamp":"2026-11-29T10:00:00.000Z","message":{m}}}"#);
        all.push(Document::from_source(
            format!("r{i}"),
            "i".to_owned(),
            source,
        ));
    }
    let mut some = 0;
    for rules in rule_sets() {
        let alerter = Alerter::new(None, rules, None);
        for doc in &all {
            let with = alerter.cloudtrail_candidate(doc, true);
            let without = alerter.cloudtrail_candidate(doc, false);
            some += usize::from(without.is_some());
            assert_eq!(
                format!("{with:?}"),
                format!("{without:?}"),
                "{}",
                doc.source
            );
        }
    }
    assert!(some > 0, "some of these match a rule");
}
