//! Tests only: alert evaluation as it was before documents carried a header, parsing
//! each document's JSON again (what differs: where the envelope and the fields come
//! from; the event's rendering and the correlation groups are shared with today's code);
//! the property that evaluation from the header gives the same candidates and the same
//! Slack payloads on generated documents (`test_documents.rs`); and that it reads
//! nothing of a document but what its header points at.
#![cfg(test)]

use std::borrow::Cow;

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::test_documents::{arb_message, documents};

use super::cloudtrail::{Origin, Seen, restore_event};
use super::message::finish;
use super::slow::{Environment, SlowCheck, SlowRequest, redact_query, seconds, text};
use super::{Alerter, Candidate, Kind};
use crate::document::{Document, Limits};

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

/// What the alert showed: the envelope from the parsed document, the rest as today
/// (`Seen::of` reads only the event).
fn json_seen(doc: &Document, head: &CtHead, event: &Value) -> Seen {
    let origin = Origin {
        owner: &head.owner,
        at: &head.at,
        commons: &head.commons,
        log_group: &head.log_group,
        log_stream: &head.log_stream,
    };
    Seen::of(&doc.id, &origin, event)
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
    alerter.cloudtrail_hit(matched, &event, || json_seen(doc, &head, &event))
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
