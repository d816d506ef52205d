//! Tests only: generated log messages (access logs, CloudTrail events, other JSON,
//! text, written in several ways) and the documents the builder makes of them, for the
//! alerts' property tests (CloudTrail messages for the rules' prefilters at the end).
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

/// A CloudTrail message (the markers sometimes missing), and extra top fields, for the
/// rules of `prefilter_tests.rs`.
pub(super) fn cloudtrail_message() -> impl Strategy<Value = Value> {
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
        (any::<bool>(), 0u8..4, any::<bool>(), any::<bool>()),
    )
        .prop_map(|((name, source, error, read_only), (who, by, extra, dotted), (how, mfa), (named, additional, place, noise))| {
            let mut m = json!({
                "eventVersion": "1.08",
                "eventTime": "2026-11-29T10:00:00Z",
                "sourceIPAddress": "203.0.113.7",
                "responseElements": {"ConsoleLogin": "Success"},
                "requestParameters": {"ipPermissions": {"items": [{"ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
            });
            if named && let Some(name) = &name {
                // What the `fieldref` rule compares the name with.
                m["requestParameters"]["name"] = Value::from(name.to_lowercase());
                m["requestParameters"]["target"] = Value::from("the-target");
                m["serviceEventDetails"] = json!({"name": name});
            }
            let o = m.as_object_mut().expect("an object");
            // What alerts show, and fields no rule reads.
            match additional {
                0 => {}
                1 => {
                    o.insert("additionalEventData".to_owned(), json!({"MFAUsed": "No", "UserName": "u", "x": [1]}));
                }
                2 => {
                    o.insert("additionalEventData".to_owned(), json!([{"MFAUsed": "No", "UserName": "v"}]));
                }
                _ => {
                    o.insert("additionalEventData".to_owned(), json!("No"));
                }
            }
            if place {
                o.insert("recipientAccountId".to_owned(), json!("222233334444"));
                o.insert("awsRegion".to_owned(), json!("eu-west-1"));
            }
            if noise {
                o.insert("resources".to_owned(), json!([{"ARN": "arn:x", "type": "AWS::S3::Bucket"}]));
                o.insert("tlsDetails".to_owned(), json!({"tlsVersion": "TLSv1.3", "note": "\u{e9}\"\\ \u{1F600}"}));
                o.insert("userAgent".to_owned(), json!("aws-cli/2 Terminate"));
            }
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
                if place {
                    id["arn"] = json!("arn:aws:sts::1:assumed-role/r/s");
                    id["accountId"] = json!("111122223333");
                } else if noise {
                    id["principalId"] = json!("AIDAEXAMPLE");
                    id["userName"] = json!("alice");
                }
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
pub(super) fn cloudtrail_documents(messages: &[Value]) -> Vec<Document> {
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
