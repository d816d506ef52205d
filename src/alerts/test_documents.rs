//! Tests only: generated log messages (access logs, CloudTrail events, other JSON,
//! text, written in several ways) and the documents the builder makes of them, for the
//! alerts' property tests.
#![cfg(test)]

use std::borrow::Cow;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::decode::{Envelope, LogEvent};
use crate::document::{Document, DocumentBuilder, Limits};

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
pub(super) fn arb_message() -> impl Strategy<Value = String> {
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
