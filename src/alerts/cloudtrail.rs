//! The CloudTrail event inside a document, and what an alert shows of one matching event.

use serde::Deserialize;
use serde_json::Value;

use super::slack::cut;
use crate::document::{CLOUDTRAIL_TEXT_FIELDS, Document, OVERFLOW_KEY};

/// The document fields alerting reads.
#[derive(Deserialize)]
pub(super) struct Head {
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

/// The CloudTrail event inside `doc`, with its free-form fields parsed back from text.
pub(super) fn cloudtrail_event(doc: &Document) -> Option<(Head, Value)> {
    let s = &doc.source;
    if !(s.contains("\"eventSource\"") && s.contains("\"eventName\"")) {
        return None;
    }
    let mut head: Head = serde_json::from_str(s).ok()?;
    let mut event = std::mem::take(&mut head.message);
    let obj = event.as_object_mut()?;
    if !["eventVersion", "eventSource", "eventName", "eventTime"]
        .iter()
        .all(|k| obj.contains_key(*k))
    {
        return None;
    }
    for key in CLOUDTRAIL_TEXT_FIELDS {
        if let Some(Value::String(text)) = obj.get(key)
            && let Ok(v) = serde_json::from_str::<Value>(text)
            && (v.is_object() || v.is_array())
        {
            obj.insert(key.to_owned(), v);
        }
    }
    // Fields past the document's field cap are kept as text: put them back.
    if let Some(Value::String(text)) = obj.get(OVERFLOW_KEY)
        && let Ok(Value::Object(rest)) = serde_json::from_str::<Value>(text)
    {
        obj.remove(OVERFLOW_KEY);
        for (k, v) in rest {
            obj.entry(k).or_insert(v);
        }
    }
    Some((head, event))
}

/// One matching event, as shown in an alert.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) who_type: String,
    pub(super) who: String,
    pub(super) event_source: String,
    pub(super) event_name: String,
    pub(super) account: String,
    pub(super) region: String,
    pub(super) source_ip: String,
    pub(super) when: String,
    pub(super) doc_id: String,
    pub(super) at: String,
    pub(super) commons: String,
    /// Where the document came from: `logGroup / logStream`.
    pub(super) source: String,
}

impl Seen {
    pub(super) fn new(doc: &Document, head: &Head, event: &Value) -> Self {
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
        Self {
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
}

/// Events of one rule are grouped by who, what and where: one message per group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct HitKey {
    pub(super) rule: usize,
    pub(super) who: String,
    pub(super) what: (String, String),
    pub(super) where_: (String, String, String),
}

impl HitKey {
    pub(super) fn new(rule: usize, s: &Seen) -> Self {
        Self {
            rule,
            who: s.who.clone(),
            what: (s.event_source.clone(), s.event_name.clone()),
            where_: (s.account.clone(), s.region.clone(), s.source_ip.clone()),
        }
    }
}
