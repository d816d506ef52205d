//! Tests only: alert evaluation as it was before documents carried a header, parsing
//! each document's JSON again; the property that evaluation from the header gives the
//! same candidates and the same Slack payloads on generated documents; and that it
//! reads nothing of a document but what its header points at.
#![cfg(test)]

use std::borrow::Cow;

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::cloudtrail::{Seen, restore_event};
use super::message::finish;
use super::slack::cut;
use super::slow::{Environment, SlowCheck, SlowRequest, redact_query, seconds, text};
use super::{Alerter, Candidate, Kind, group_value};
use crate::decode::{Envelope, LogEvent};
use crate::document::{Document, DocumentBuilder, Limits};

// ---- The JSON-based evaluation, as it was (src/alerts/{mod,cloudtrail,slow}.rs) ----

#[derive(Deserialize)]
struct CtHead {
    #[serde(rename = "@timestamp", default)]
    at: String,
    #[serde(default)]
    owner: String,
    #[serde(rename = "logGroup", default)]
    log_group: String,
    #[serde(rename = "logStream", default)]
    log_stream: String,
    #[serde(default)]
    commons: String,
    message: Value,
}

fn json_cloudtrail_event(doc: &Document) -> Option<(CtHead, Value)> {
    let s = &doc.source;
    if !(s.contains("\"eventSource\"") && s.contains("\"eventName\"")) {
        return None;
    }
    let mut head: CtHead = serde_json::from_str(s).ok()?;
    let mut event = std::mem::take(&mut head.message);
    let obj = event.as_object_mut()?;
    if !["eventVersion", "eventSource", "eventName", "eventTime"]
        .iter()
        .all(|k| obj.contains_key(*k))
    {
        return None;
    }
    restore_event(&mut event);
    Some((head, event))
}

fn json_seen(doc: &Document, head: &CtHead, event: &Value) -> Seen {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    let or = |a: String, b: &str| if a.is_empty() { b.to_owned() } else { a };
    let id = event.get("userIdentity");
    let field = |k: &str| s(id.and_then(|i| i.get(k)));
    let who = or(
        or(field("arn"), &field("principalId")),
        &or(
            field("userName"),
            &s(event.pointer("/additionalEventData/UserName")),
        ),
    );
    let account = or(
        or(s(event.get("recipientAccountId")), &field("accountId")),
        &head.owner,
    );
    Seen {
        who_type: or(field("type"), "?"),
        who: or(who, "unknown"),
        event_source: s(event.get("eventSource")),
        event_name: s(event.get("eventName")),
        account,
        region: or(s(event.get("awsRegion")), "?"),
        source_ip: or(s(event.get("sourceIPAddress")), "?"),
        when: or(s(event.get("eventTime")), &head.at),
        doc_id: doc.id.clone(),
        at: head.at.clone(),
        commons: head.commons.clone(),
        source: cut(&format!("{} / {}", head.log_group, head.log_stream), 200),
    }
}

#[derive(Deserialize)]
struct SlowHead<'a> {
    #[serde(default)]
    commons: String,
    #[serde(rename = "logGroup", default)]
    log_group: String,
    #[serde(rename = "logStream", borrow, default)]
    log_stream: Cow<'a, str>,
    #[serde(borrow)]
    message: &'a RawValue,
}

#[derive(Deserialize)]
struct Access {
    http_response_time: Option<Value>,
    http_request: Option<Value>,
    http_verb: Option<Value>,
    http_referer: Option<Value>,
    network_client_ip: Option<Value>,
    date_access: Option<Value>,
    kubernetes: Option<Value>,
    kubernetes_pod_name: Option<Value>,
}

fn json_slow(check: &SlowCheck, doc: &Document) -> Option<(Environment, SlowRequest)> {
    if !doc.source.contains("http_response_time")
        || !check
            .streams
            .iter()
            .any(|s| doc.source.contains(s.as_str()))
    {
        return None;
    }
    let head: SlowHead<'_> = serde_json::from_str(&doc.source).ok()?;
    if !check
        .streams
        .iter()
        .any(|s| head.log_stream.contains(s.as_str()))
    {
        return None;
    }
    let access: Access = serde_json::from_str(head.message.get()).ok()?;
    let response_time = access.http_response_time.as_ref().and_then(seconds)?;
    if response_time <= check.threshold {
        return None;
    }
    let pod = access
        .kubernetes
        .as_ref()
        .and_then(|k| k.get("pod_name"))
        .or(access.kubernetes_pod_name.as_ref())
        .and_then(text);
    let path = access.http_request.as_ref().and_then(text);
    let request = match (access.http_verb.as_ref().and_then(text), path) {
        (Some(verb), Some(path)) => Some(format!("{verb} {}", redact_query(&path))),
        (None, Some(path)) => Some(redact_query(&path)),
        _ => None,
    };
    Some((
        Environment {
            commons: head.commons,
            log_group: head.log_group,
        },
        SlowRequest {
            response_time,
            pod,
            request,
            referer: access
                .http_referer
                .as_ref()
                .and_then(text)
                .map(|r| redact_query(&r)),
            client_ip: access.network_client_ip.as_ref().and_then(text),
            date_access: access.date_access.as_ref().and_then(text),
            doc_id: doc.id.clone(),
        },
    ))
}

/// `Alerter::candidate` as it was.
fn json_candidate(alerter: &Alerter, doc: &Document) -> Option<Candidate> {
    if let Some(check) = &alerter.slow
        && let Some((env, req)) = json_slow(check, doc)
    {
        return Some(Candidate(Kind::Slow(env, req)));
    }
    let (head, event) = json_cloudtrail_event(doc)?;
    let matched: Vec<usize> = alerter.rules.matching(&event).collect();
    if matched.is_empty() {
        return None;
    }
    let groups = alerter
        .rules
        .correlations
        .iter()
        .enumerate()
        .filter(|(_, corr)| corr.rules.iter().any(|r| matched.contains(r)))
        .map(|(c, corr)| {
            let key = corr
                .group_by
                .iter()
                .map(|f| group_value(&event, f))
                .collect();
            (c, key)
        })
        .collect();
    let seen = json_seen(doc, &head, &event);
    Some(Candidate(Kind::CloudTrail {
        matched,
        groups,
        seen,
    }))
}

// ---- Generated documents ----

/// A scalar, as log messages hold them.
fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0u64..5000).prop_map(|n| json!(n)),
        (0u32..5000).prop_map(|n| json!(f64::from(n) / 1000.0)),
        prop::sample::select(vec![
            "",
            "-",
            " 1.5",
            "2.25",
            "0.9",
            "x",
            "GET",
            "/a/b?token=s#f",
            "é\"q\\",
            "10.0.0.1",
            "nginx-7f9",
            "Root",
            "AssumedRole",
            "arn:aws:iam::1:user/eve",
            "No",
            "Failure",
        ])
        .prop_map(|s| json!(s)),
    ]
}

/// A scalar or small container.
fn arb_value() -> impl Strategy<Value = Value> {
    arb_scalar().prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["pod_name", "pod.name", "a", "b.c", "UserName", "x"]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// An access-log message: some of the fields the slow check reads (some under dotted
/// names that the document rewrites to them), and others.
fn arb_access() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(vec![
            "aaa",
            "aab",
            "date_access",
            "http.response_time",
            "http_referer",
            "http_request",
            "http_response_time",
            "http_response_time",
            "http_verb",
            "kubernetes",
            "kubernetes.pod_name",
            "kubernetes_pod_name",
            "network_client_ip",
            "time",
            "zz.z",
        ]),
        prop_oneof![3 => arb_scalar(), 1 => arb_value()],
        0..9,
    )
    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// A CloudTrail-like event: usually all four markers, the fields alerts show, and
/// fields that sort first (so small field caps push the markers past the cap).
fn arb_cloudtrail() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec![
        "StopLogging",
        "ConsoleLogin",
        "CreateUser",
        "DescribeInstances",
        "TerminateInstances",
        "ScheduleKeyDeletion",
        "AuthorizeSecurityGroupIngress",
        "PutBucketPolicy",
    ]);
    let source = prop::sample::select(vec![
        "cloudtrail.amazonaws.com",
        "signin.amazonaws.com",
        "iam.amazonaws.com",
        "ec2.amazonaws.com",
        "kms.amazonaws.com",
        "s3.amazonaws.com",
    ]);
    let extra = prop::collection::btree_map(
        prop::sample::select(vec![
            "aa",
            "ab",
            "additionalEventData",
            "awsRegion",
            "errorCode",
            "recipientAccountId",
            "requestParameters",
            "responseElements",
            "sourceIPAddress",
            "userIdentity",
            "serviceEventDetails",
        ]),
        arb_value(),
        0..8,
    );
    let identity = (
        prop::sample::select(vec!["Root", "IAMUser", "AssumedRole"]),
        prop::option::of(prop::sample::select(vec!["arn:aws:iam::1:root", "arn:x"])),
        prop::option::of(prop::sample::select(vec!["eve", "bob"])),
    );
    (name, source, extra, identity, 0u8..8, any::<bool>()).prop_map(
        |(name, source, extra, (kind, arn, user), drop, mfa)| {
            let mut m: serde_json::Map<String, Value> =
                extra.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            m.insert("eventName".into(), json!(name));
            m.insert("eventSource".into(), json!(source));
            m.insert("eventTime".into(), json!("2026-11-22T08:15:30Z"));
            m.insert("eventVersion".into(), json!("1.08"));
            if drop == 0 {
                m.remove("eventVersion");
            }
            if drop == 1 {
                m.insert(
                    "responseElements".into(),
                    json!({"ConsoleLogin": "Failure"}),
                );
                m.insert(
                    "additionalEventData".into(),
                    json!({"MFAUsed": if mfa { "Yes" } else { "No" }, "UserName": "eve"}),
                );
            }
            if drop == 2 {
                m.insert("errorCode".into(), json!("AccessDenied"));
            }
            let mut id = serde_json::Map::new();
            id.insert("type".into(), json!(kind));
            if let Some(arn) = arn {
                id.insert("arn".into(), json!(arn));
            }
            if let Some(user) = user {
                id.insert("userName".into(), json!(user));
            }
            if drop != 3 {
                m.insert("userIdentity".into(), Value::Object(id));
            }
            Value::Object(m)
        },
    )
}

/// A message's text: JSON (compact, sometimes spaced or with keys reversed, so both
/// build paths run) or plain text.
fn arb_message() -> impl Strategy<Value = String> {
    let json = prop_oneof![arb_access(), arb_cloudtrail()];
    prop_oneof![
        4 => (json, 0u8..3).prop_map(|(v, shape)| match shape {
            0 => v.to_string(),
            1 => serde_json::to_string_pretty(&v).unwrap_or_default(),
            _ => reversed(&v),
        }),
        1 => prop::sample::select(vec![
            "plain text http_response_time eventSource eventName",
            "{\"eventSource\": broken",
            "[1,2]",
        ])
        .prop_map(str::to_owned),
    ]
}

fn reversed(value: &Value) -> String {
    match value {
        Value::Object(m) => {
            let entries: Vec<String> = m
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), reversed(v)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(reversed).collect::<Vec<_>>().join(",")),
        v => v.to_string(),
    }
}

pub(super) fn documents(
    messages: &[String],
    stream: &str,
    limits: Limits,
    free_form_objects: bool,
) -> Vec<Document> {
    let env = Envelope {
        message_type: Cow::Borrowed("DATA_MESSAGE"),
        owner: Cow::Borrowed("123456789012"),
        log_group: Cow::Borrowed("/eks/app"),
        log_stream: Cow::Borrowed(stream),
        subscription_filters: vec![Cow::Borrowed("f")],
        log_events: Vec::new(),
    };
    let builder = DocumentBuilder::new("commons-1", "csoc-logs", limits)
        .with_free_form_objects(free_form_objects);
    messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let event = LogEvent {
                id: Cow::Owned(i.to_string()),
                timestamp: 1_763_800_000_000 + i as i64,
                message: Cow::Borrowed(m),
            };
            builder.build(&env, &event).ok()
        })
        .collect()
}

/// `doc` with every byte its header does not point at replaced by `x`: no longer
/// JSON, the same header.
fn blanked(doc: &Document) -> Document {
    let spans = doc.header.spans();
    let bytes: Vec<u8> = doc
        .source
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            if spans.iter().any(|s| s.contains(&i)) || !b.is_ascii() {
                b
            } else {
                b'x'
            }
        })
        .collect();
    let mut out = doc.clone();
    out.source = String::from_utf8(bytes).unwrap_or_default();
    out
}

fn alerter() -> Alerter {
    Alerter::new(
        Some(SlowCheck {
            threshold: 1.0,
            streams: vec!["nginx".into(), "api".into()],
        }),
        super::sigma::RuleSet::builtin(),
        Some("https://dash.example".into()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// On any document, evaluation from the header gives the candidate the JSON-based
    /// evaluation gave, and a batch gives the same Slack payloads; replayed documents
    /// (header read back from their JSON) too.
    #[test]
    fn header_evaluation_equals_json_evaluation(
        messages in prop::collection::vec(arb_message(), 1..12),
        stream in prop::sample::select(vec!["ingress-nginx-1", "api", "worker", ""]),
        max_depth in 1usize..6,
        max_fields in prop_oneof![1usize..12, Just(200)],
        free_form_objects in any::<bool>(),
    ) {
        let alerter = alerter();
        let limits = Limits { max_depth, max_fields };
        let docs = documents(&messages, stream, limits, free_form_objects);
        let replayed: Vec<Document> = docs
            .iter()
            .map(|d| Document::from_source(d.id.clone(), d.index.clone(), d.source.clone()))
            .collect();
        for doc in docs.iter().chain(&replayed) {
            prop_assert_eq!(
                format!("{:?}", alerter.candidate(doc)),
                format!("{:?}", json_candidate(&alerter, doc)),
                "document {}", doc.source
            );
        }
        // Nothing outside the header's spans is read: blank it all out, same alerts.
        for doc in &docs {
            prop_assert_eq!(
                format!("{:?}", alerter.candidate(&blanked(doc))),
                format!("{:?}", alerter.candidate(doc))
            );
        }
        let old: Vec<Candidate> = docs.iter().filter_map(|d| json_candidate(&alerter, d)).collect();
        prop_assert_eq!(alerter.evaluate(&docs), finish(alerter.alerts_of(&old)));
    }
}

#[test]
fn the_generated_documents_do_fire_both_kinds_of_alert() {
    // The property above is only as good as its documents: some must be candidates.
    let alerter = alerter();
    let messages = [
        json!({"http_response_time": "2.5", "http_request": "/a?t=1", "kubernetes": {"pod_name": "p"}}).to_string(),
        json!({"eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com",
               "eventTime": "2026-11-22T08:15:30Z", "eventVersion": "1.08",
               "userIdentity": {"type": "Root", "arn": "arn:aws:iam::1:root"}}).to_string(),
    ];
    let docs = documents(&messages, "ingress-nginx-1", Limits::default(), false);
    let new: Vec<String> = docs
        .iter()
        .map(|d| format!("{:?}", alerter.candidate(d)))
        .collect();
    assert!(new[0].starts_with("Some(Candidate(Slow("), "{}", new[0]);
    assert!(
        new[1].starts_with("Some(Candidate(CloudTrail"),
        "{}",
        new[1]
    );
    for (doc, new) in docs.iter().zip(&new) {
        assert_eq!(*new, format!("{:?}", json_candidate(&alerter, doc)));
        let blank = blanked(doc);
        assert!(serde_json::from_str::<Value>(&blank.source).is_err());
        assert_eq!(*new, format!("{:?}", alerter.candidate(&blank)));
    }
}
