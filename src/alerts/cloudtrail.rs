//! The CloudTrail event inside a document, and what an alert shows of one matching event.

use serde_json::Value;

use super::sigma::{RuleSet, reach};
use super::slack::cut;
use crate::document::{CLOUDTRAIL_FIELDS, CLOUDTRAIL_TEXT_FIELDS, Document, Kind, OVERFLOW_KEY};

/// The located top fields of a CloudTrail document's message, as the rules' prefilters
/// read them: those present that `paths` (the prefilters' fields) reach, with only what
/// the paths reach inside them ([`reach`]); `None` when they cannot stand for the event:
/// fields past the cap (restored into the event), a top key with a dot (a dotted Sigma
/// name may name it), a value that does not parse.
pub(super) fn top_fields(doc: &Document, paths: &[String]) -> Option<Value> {
    if doc.cloudtrail_field(OVERFLOW_KEY).ok()?.is_some() {
        return None;
    }
    let mut top = serde_json::Map::new();
    for name in CLOUDTRAIL_FIELDS.into_iter().filter(|n| *n != OVERFLOW_KEY) {
        if let Some(raw) = doc.cloudtrail_field(name).ok()?
            && let Some(value) = reach::parse_under(raw, name, paths)
        {
            top.insert(name.to_owned(), value.ok()?);
        }
    }
    Some(Value::Object(top))
}

/// Which of the free-form fields a CloudTrail document keeps as text
/// ([`CLOUDTRAIL_TEXT_FIELDS`]) are parsed back into the event.
pub(super) type TextFields = [bool; CLOUDTRAIL_TEXT_FIELDS.len()];

/// All of them, as [`restore_event`] does.
pub(super) const ALL_TEXT_FIELDS: TextFields = [true; CLOUDTRAIL_TEXT_FIELDS.len()];

/// What an alert shows of a CloudTrail event: all that [`Seen::of`] reads.
const SEEN_FIELDS: [&str; 12] = [
    "additionalEventData.UserName",
    "awsRegion",
    "eventName",
    "eventSource",
    "eventTime",
    "recipientAccountId",
    "sourceIPAddress",
    "userIdentity.accountId",
    "userIdentity.arn",
    "userIdentity.principalId",
    "userIdentity.type",
    "userIdentity.userName",
];

/// The free-form fields each rule reads, and those read whatever rules match (by an
/// alert, by the correlations' `group-by`): an event is given back as text only what
/// the rules that may match it, and the alert, read. A field not parsed back is a string
/// no path reads into, so every rule answers as on the whole event.
#[derive(Debug, Clone)]
pub(super) struct TextReads {
    per_rule: Vec<TextFields>,
    always: TextFields,
}

impl TextReads {
    pub(super) fn new(rules: &RuleSet) -> Self {
        let group_by = rules.correlations.iter().flat_map(|c| &c.group_by);
        Self {
            per_rule: rules.rules.iter().map(|r| read(r.fields())).collect(),
            always: read(Some(
                SEEN_FIELDS.into_iter().chain(group_by.map(String::as_str)),
            )),
        }
    }

    /// The fields to parse back when the rules `may` says may match.
    pub(super) fn of(&self, may: &[bool]) -> TextFields {
        let mut out = self.always;
        for (reads, _) in self.per_rule.iter().zip(may).filter(|(_, may)| **may) {
            out.iter_mut().zip(reads).for_each(|(o, r)| *o |= r);
        }
        out
    }
}

/// The free-form fields these field paths read into (`None`, every value: all): those a
/// path names or goes under, as [`any_value`](super::sigma::field::any_value) walks.
fn read<'p>(paths: Option<impl IntoIterator<Item = &'p str>>) -> TextFields {
    let Some(paths) = paths else {
        return ALL_TEXT_FIELDS;
    };
    let mut out = [false; CLOUDTRAIL_TEXT_FIELDS.len()];
    for path in paths {
        for (o, key) in out.iter_mut().zip(CLOUDTRAIL_TEXT_FIELDS) {
            *o |= (path.strip_prefix(key)).is_some_and(|r| r.is_empty() || r.starts_with('.'));
        }
    }
    out
}

/// The CloudTrail event of a CloudTrail document, with the free-form fields `text`
/// says parsed back from text: what the Sigma rules evaluate. Documents of any other
/// kind are not read.
///
/// The one parse alerting does: Sigma rules may name any field of the event (and
/// keyword searches read them all), so they need the event as a `Value`. Only the
/// message is parsed, never the whole document, and only for CloudTrail documents.
pub(super) fn cloudtrail_event(doc: &Document, text: &TextFields) -> Option<Value> {
    if doc.kind() != Kind::CloudTrail {
        return None;
    }
    let mut event: Value = serde_json::from_str(doc.message_json()?).ok()?;
    let obj = event.as_object_mut()?;
    // The kind says the message had the markers; they may have gone past the field cap.
    if !crate::document::CLOUDTRAIL_MARKERS
        .iter()
        .all(|k| obj.contains_key(*k))
    {
        return None;
    }
    restore(&mut event, text);
    Some(event)
}

/// A CloudTrail event as it was sent: the free-form fields the document keeps as text
/// (`requestParameters`, `responseElements`, …) and the fields past the document's cap
/// parsed back into objects.
pub fn restore_event(event: &mut Value) {
    restore(event, &ALL_TEXT_FIELDS);
}

/// [`restore_event`], parsing back only the free-form fields `text` says.
fn restore(event: &mut Value, text: &TextFields) {
    let Some(obj) = event.as_object_mut() else {
        return;
    };
    let keys = CLOUDTRAIL_TEXT_FIELDS.iter().zip(text);
    for key in keys.filter(|(_, parse)| **parse).map(|(key, _)| key) {
        if let Some(Value::String(text)) = obj.get(*key)
            && let Ok(v) = serde_json::from_str::<Value>(text)
            && (v.is_object() || v.is_array())
        {
            obj.insert((*key).to_owned(), v);
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

/// Where a CloudTrail document came from: its envelope fields, however they were read.
pub(super) struct Origin<'a> {
    pub(super) owner: &'a str,
    pub(super) at: &'a str,
    pub(super) commons: &'a str,
    pub(super) log_group: &'a str,
    pub(super) log_stream: &'a str,
}

impl Seen {
    /// What an alert shows of `event`, the CloudTrail event of `doc` (its envelope read
    /// from the document's header).
    pub(super) fn new(doc: &Document, event: &Value) -> Self {
        let (owner, at, commons) = (doc.owner(), doc.at(), doc.commons());
        let (log_group, log_stream) = (doc.log_group(), doc.log_stream());
        let origin = Origin {
            owner: &owner,
            at: &at,
            commons: &commons,
            log_group: &log_group,
            log_stream: &log_stream,
        };
        Self::of(&doc.id, &origin, event)
    }

    /// What an alert shows of `event`, from the document `doc_id` of `origin`.
    pub(super) fn of(doc_id: &str, origin: &Origin<'_>, event: &Value) -> Self {
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
            origin.owner,
        );
        Self {
            who_type: or(field("type"), "?"),
            who: or(who, "unknown"),
            event_source: s(event.get("eventSource")),
            event_name: s(event.get("eventName")),
            account,
            region: or(s(event.get("awsRegion")), "?"),
            source_ip: or(s(event.get("sourceIPAddress")), "?"),
            when: or(s(event.get("eventTime")), origin.at),
            doc_id: doc_id.to_owned(),
            at: origin.at.to_owned(),
            commons: origin.commons.to_owned(),
            source: cut(
                &format!("{} / {}", origin.log_group, origin.log_stream),
                200,
            ),
        }
    }
}

/// Events of one rule are grouped by who, what and where: one message per group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct HitKey<'s> {
    pub(super) rule: usize,
    pub(super) who: &'s str,
    pub(super) what: (&'s str, &'s str),
    pub(super) where_: (&'s str, &'s str, &'s str),
}

impl<'s> HitKey<'s> {
    pub(super) fn new(rule: usize, s: &'s Seen) -> Self {
        Self {
            rule,
            who: &s.who,
            what: (&s.event_source, &s.event_name),
            where_: (&s.account, &s.region, &s.source_ip),
        }
    }
}
