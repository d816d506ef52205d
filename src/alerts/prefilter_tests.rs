//! Tests only: the rules' prefilters (`sigma/prefilter.rs`) skip only CloudTrail events
//! no rule can match, and parsing back only the free-form fields the rules that may match
//! read (`cloudtrail::TextReads`) changes no answer. A property: on generated CloudTrail
//! documents (`test_documents.rs`), the candidates and the alerts with both are exactly
//! those with neither, for the built-in rules and for rules using `or`, `not`, `1 of`,
//! keywords, modifiers, `fieldref`, lists of maps and correlations. And the prefilter
//! derived for each built-in rule.
#![cfg(test)]

use proptest::prelude::*;
use serde_json::json;

use super::Alerter;
use super::cloudtrail::ALL_TEXT_FIELDS;
use super::sigma::RuleSet;
use super::test_documents::{cloudtrail_documents, cloudtrail_message, documents};
use crate::document::{Document, Limits};

/// A rule that reads every value of the event: alerting parses all of it.
const KEYWORDS: &str = r#"title: Keywords and a name
logsource: {product: aws, service: cloudtrail}
detection:
  kw:
    - '*Terminate*'
  name:
    eventSource|startswith: EC2
  condition: kw and name
---
title: A keyword only a free-form field holds
logsource: {product: aws, service: cloudtrail}
detection:
  kw:
    - the-target
  condition: kw
"#;

/// Rules whose conditions a prefilter must see through (or give up on). Of the free-form
/// fields kept as text, each is read by one thing only: `requestParameters` by a
/// `fieldref`, `responseElements` whole, `serviceEventDetails` by a correlation's
/// `group-by`, `additionalEventData` by the alerts (who).
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
    eventName|fieldref: requestParameters.name
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
title: A whole free-form field
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    responseElements|contains: success
  condition: sel
---
title: Root burst
correlation:
  type: event_count
  rules: [dotted]
  group-by: [eventName, serviceEventDetails.name]
  timespan: 10m
  condition:
    gte: 2
level: high
"#;

/// The rules of `sets` as one set (correlations keep naming their rules).
fn merged(sets: &[RuleSet]) -> RuleSet {
    let mut all = RuleSet::default();
    for set in sets {
        let base = all.rules.len();
        all.rules.extend(set.rules.iter().cloned());
        all.correlations
            .extend(set.correlations.iter().cloned().map(|mut c| {
                c.rules.iter_mut().for_each(|r| *r += base);
                c
            }));
    }
    all
}

/// The built-in rules, the extra ones, both, both with keywords, and the built-in rules
/// with keywords (which read every free-form field).
fn rule_sets() -> Vec<RuleSet> {
    let builtin = RuleSet::builtin();
    let extra = RuleSet::from_yaml("extra.yml", EXTRA).expect("the extra rules load");
    let keywords = RuleSet::from_yaml("keywords.yml", KEYWORDS).expect("the rule loads");
    let both = merged(&[builtin.clone(), extra.clone()]);
    let all = merged(&[both.clone(), keywords.clone()]);
    let builtin_keywords = merged(&[builtin.clone(), keywords]);
    vec![builtin, extra, both, all, builtin_keywords]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_prefilter_and_the_lean_event_change_no_candidate_and_no_alert(
        messages in proptest::collection::vec(cloudtrail_message(), 1..8)
    ) {
        let docs = cloudtrail_documents(&messages);
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

/// The free-form fields given back as objects: those the rules that may match read, and
/// what alerts show; all of them for keywords.
#[test]
fn only_the_free_form_fields_read_are_parsed_back() {
    let sets = rule_sets();
    let builtin = Alerter::new(None, sets[0].clone(), None);
    // `additionalEventData.UserName` names who, when the identity has no name.
    assert_eq!(builtin.text_reads.of(&[]), [false, false, true, false]);
    let only = |file: &str| -> Vec<bool> {
        let rules = &builtin.rules.rules;
        rules.iter().map(|r| r.meta.file.ends_with(file)).collect()
    };
    let open_world = only("security-group-open-to-world.yml");
    assert_eq!(
        builtin.text_reads.of(&open_world),
        [true, false, true, false]
    );
    let no_mfa = only("console-signin-without-mfa.yml");
    assert_eq!(builtin.text_reads.of(&no_mfa), [false, true, true, false]);
    assert_eq!(
        builtin.text_reads.of(&only("iam-change.yml")),
        [false, false, true, false]
    );
    // The extra rules' correlation groups by a field of `serviceEventDetails`.
    let extra = Alerter::new(None, sets[1].clone(), None);
    assert_eq!(extra.text_reads.of(&[]), [false, false, true, true]);
    assert_eq!(extra.text_reads.of(&[true; 16]), ALL_TEXT_FIELDS);
    let keywords = RuleSet::from_yaml("keywords.yml", KEYWORDS).expect("loads");
    let keywords = Alerter::new(None, keywords, None);
    assert_eq!(keywords.text_reads.of(&[true, false]), ALL_TEXT_FIELDS);
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
    let extra = RuleSet::from_yaml("extra.yml", &format!("{EXTRA}---\n{KEYWORDS}")).expect("loads");
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
        ("A whole free-form field", vec![]),
        ("Keywords and a name", vec!["eventSource"]),
        ("A keyword only a free-form field holds", vec![]),
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
