//! The header of a document read back from its JSON (replay, tests): found by reading
//! the source once. Documents built here get theirs while being built.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Header, Kind, Span, TopFields};
use crate::document::CLOUDTRAIL_MARKERS;
use crate::document::rewrite::{self, Members};

/// The top fields of a document, as `Value` parses them (a repeated field is refused).
#[derive(Deserialize)]
struct Top<'a> {
    #[serde(rename = "@timestamp", borrow)]
    at: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    owner: Option<&'a RawValue>,
    #[serde(rename = "logGroup", borrow)]
    log_group: Option<&'a RawValue>,
    #[serde(rename = "logStream", borrow)]
    log_stream: Option<&'a RawValue>,
    #[serde(borrow)]
    commons: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "null_too")]
    message: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "null_too")]
    attributes: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "null_too")]
    ingest_error: Option<&'a RawValue>,
    #[serde(
        rename = "_archive_truncated",
        borrow,
        default,
        deserialize_with = "null_too"
    )]
    archive_truncated: Option<&'a RawValue>,
}

/// A member's value, `null` too (where `Option` would read `null` as absent).
fn null_too<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The top fields of a message (its keys, each once).
#[derive(Deserialize)]
struct Fields<'a>(#[serde(borrow)] std::collections::BTreeMap<Cow<'a, str>, &'a RawValue>);

/// The header of a document read back from its JSON; `None` when it is not a JSON
/// object. When one of the envelope fields alerts read is not a string, only the
/// members a rewrite replaces are known.
pub(super) fn read_header(source: &str) -> Option<Header> {
    let top: Top<'_> = serde_json::from_str(source).ok()?;
    let span = |raw: Option<&RawValue>| {
        raw.map_or_else(Span::default, |r| {
            let start = r.get().as_ptr() as usize - source.as_ptr() as usize;
            Span::new(start, start + r.get().len())
        })
    };
    let members = read_members(source, &top, span);
    let strings = [
        top.at,
        top.owner,
        top.log_group,
        top.log_stream,
        top.commons,
    ];
    if strings.iter().flatten().any(|r| !r.get().starts_with('"')) {
        return Some(Header {
            members,
            ..Header::default()
        });
    }
    let millis = |raw: Option<&RawValue>| {
        let t = serde_json::from_str::<String>(raw?.get()).ok()?;
        chrono::DateTime::parse_from_rfc3339(&t)
            .ok()
            .map(|t| t.timestamp_millis())
    };
    let at_millis = millis(top.at);
    let mut header = Header {
        kind: Kind::Other,
        at_millis,
        time_millis: millis(top.timestamp).or(at_millis),
        at: span(top.at),
        owner: span(top.owner),
        log_group: span(top.log_group),
        log_stream: span(top.log_stream),
        commons: span(top.commons),
        message: Span::default(),
        access: TopFields::default(),
        members,
    };
    let Some(message) = top.message.filter(|m| m.get().starts_with('{')) else {
        let null = |raw: Option<&RawValue>| raw.is_none_or(|r| r.get() == "null");
        if null(top.message) && !null(top.attributes) {
            header.kind = Kind::Audit;
        }
        return Some(header);
    };
    header.message = span(Some(message));
    let Ok(Fields(fields)) = serde_json::from_str::<Fields<'_>>(message.get()) else {
        return Some(header);
    };
    for (key, raw) in &fields {
        let s = span(Some(raw));
        header
            .access
            .note(key.as_bytes(), s.start as usize, s.end as usize);
    }
    // The builders rewrite dots in keys; a document read back may hold some.
    header.access.1 = fields.keys().any(|k| k.contains('.'));
    let log_only = fields.len() == 1 && fields.get("log").is_some_and(|v| v.get().starts_with('"'));
    let cloudtrail = CLOUDTRAIL_MARKERS.iter().all(|k| fields.contains_key(*k));
    header.kind = if log_only {
        Kind::Text
    } else {
        header.access.kind(cloudtrail)
    };
    Some(header)
}

/// Where the members a rewrite replaces are in `source` (not rewritable when a key of
/// one of them is written with escapes).
fn read_members(source: &str, top: &Top<'_>, span: impl Fn(Option<&RawValue>) -> Span) -> Members {
    let member = |key: &str, raw: Option<&RawValue>| {
        let Some(value) = span(raw).range() else {
            return Some(Span::default());
        };
        rewrite::member_start(source, key, value.start).map(|start| Span::new(start, value.end))
    };
    let found = (
        member("message", top.message),
        member("attributes", top.attributes),
        member(rewrite::INGEST_ERROR, top.ingest_error),
        member(rewrite::ARCHIVE_TRUNCATED, top.archive_truncated),
    );
    match found {
        (Some(message), Some(attributes), Some(ingest_error), Some(archive_truncated)) => Members {
            rewritable: true,
            message,
            attributes,
            ingest_error,
            archive_truncated,
        },
        _ => Members::default(),
    }
}
