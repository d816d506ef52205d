//! The envelope reader held to serde_json: where it answers, serde_json answers the
//! same; where serde_json refuses, it does not answer; and what CloudWatch Logs writes,
//! it reads itself.

use proptest::prelude::*;

use super::reader::read;
use super::{Envelope, LogEvent};

fn serde(text: &str) -> Option<Envelope<'_>> {
    serde_json::from_str(text).ok()
}

/// Text with escapes, control bytes, quotes and characters of every UTF-8 length.
fn texts() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z \"\\\\/\u{0}-\u{1f}\u{7f}é€😀{}:,]{0,40}",
        1 => any::<String>(),
    ]
}

fn arb_envelope() -> impl Strategy<Value = Envelope<'static>> {
    let event = (texts(), any::<i64>(), texts()).prop_map(|(id, timestamp, message)| LogEvent {
        id: id.into(),
        timestamp,
        message: message.into(),
    });
    (
        texts(),
        texts(),
        texts(),
        texts(),
        proptest::collection::vec(texts(), 0..3),
        proptest::collection::vec(event, 0..6),
    )
        .prop_map(
            |(message_type, owner, log_group, log_stream, filters, events)| Envelope {
                message_type: message_type.into(),
                owner: owner.into(),
                log_group: log_group.into(),
                log_stream: log_stream.into(),
                subscription_filters: filters.into_iter().map(Into::into).collect(),
                log_events: events,
            },
        )
}

/// A JSON string for `text`, in one of the ways a writer may escape it.
fn quoted(text: &str, style: u8) -> String {
    match style % 3 {
        0 => serde_json::to_string(text).unwrap_or_default(),
        1 => {
            // Every character as `\u` escapes (pairs past the BMP).
            let mut out = String::from("\"");
            for unit in text.encode_utf16() {
                out.push_str(&format!("\\u{unit:04x}"));
            }
            out.push('"');
            out
        }
        _ => serde_json::to_string(text)
            .unwrap_or_default()
            .replace('/', "\\/"),
    }
}

/// Numbers of every form, in range and out, and other JSON that is not a string.
fn numbers() -> impl Strategy<Value = String> {
    prop::sample::select(NUMBERS).prop_map(str::to_owned)
}

const NUMBERS: &[&str] = &[
    "0",
    "01",
    "-0",
    "-5",
    "7",
    "1.5",
    "1e3",
    "2E1",
    "-",
    "--1",
    "1.",
    "0x1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "null",
    "true",
    "{}",
    "[]",
    "[\"a\",\"b\"]",
    "{\"a\":1}",
    "\"\\ud83d\"",
];

/// A value any field may be given.
fn values() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => (texts(), any::<u8>()).prop_map(|(t, style)| quoted(&t, style)),
        1 => numbers(),
    ]
}

/// JSON whitespace, and rarely a space JSON does not allow.
fn spaces() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        200 => prop::sample::select(vec!["", "", "", " ", "\n\t", "\r "]),
        1 => Just("\u{a0}"),
    ]
}

/// An object of `members` (each a key's JSON and a value's), with whitespace.
fn object(members: Vec<(String, String, &'static str)>) -> String {
    let body: Vec<String> = members
        .into_iter()
        .map(|(key, value, space)| format!("{space}{key}{space}:{space}{value}{space}"))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn key(name: &'static str) -> impl Strategy<Value = String> {
    (0u8..40).prop_map(move |style| match style {
        0 => quoted(name, 1),
        _ => format!("\"{name}\""),
    })
}

/// Mostly a value of the right kind, sometimes any value.
fn or_any(right: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![40 => right, 1 => values()]
}

fn strings() -> impl Strategy<Value = String> {
    or_any((texts(), any::<u8>()).prop_map(|(t, style)| quoted(&t, style)))
}

fn array(items: impl Strategy<Value = String>, len: usize) -> impl Strategy<Value = String> {
    (proptest::collection::vec(items, 0..len), spaces())
        .prop_map(|(items, space)| format!("[{space}{}{space}]", items.join(",")))
}

/// Named members in any order, one sometimes dropped or given twice, unknown ones
/// added, with whitespace.
fn members(named: Vec<(&'static str, BoxedStrategy<String>)>) -> impl Strategy<Value = String> {
    let count = named.len();
    let named: Vec<_> = named
        .into_iter()
        .map(|(name, value)| (key(name), value, spaces()))
        .collect();
    let unknown = (key("policyLevel"), values(), spaces());
    (
        named,
        proptest::collection::vec(unknown, 0..2),
        prop_oneof![20 => Just(None), 1 => (0..count).prop_map(Some)],
        prop_oneof![20 => Just(None), 1 => (0..count).prop_map(Some)],
    )
        .prop_flat_map(|(mut members, unknown, drop, twice)| {
            if let Some(i) = twice {
                members.push(members[i].clone());
            }
            if let Some(i) = drop {
                members.remove(i);
            }
            members.extend(unknown);
            Just(members).prop_shuffle()
        })
        .prop_map(object)
}

fn event_objects() -> impl Strategy<Value = String> {
    let id = prop_oneof![
        3 => strings(),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => numbers(),
    ];
    let timestamp = prop_oneof![
        6 => any::<i64>().prop_map(|n| n.to_string()),
        1 => numbers(),
    ];
    members(vec![
        ("id", id.boxed()),
        ("timestamp", timestamp.boxed()),
        ("message", strings().boxed()),
    ])
}

/// Envelopes as CloudWatch Logs writes them, and many it does not: fields missing,
/// twice, unknown, escaped, of the wrong type; numbers of every form; whitespace; text
/// after the end; cut short.
fn envelope_texts() -> impl Strategy<Value = String> {
    let text = members(vec![
        ("messageType", strings().boxed()),
        ("owner", strings().boxed()),
        ("logGroup", strings().boxed()),
        ("logStream", strings().boxed()),
        ("subscriptionFilters", or_any(array(strings(), 3)).boxed()),
        ("logEvents", or_any(array(event_objects(), 4)).boxed()),
    ]);
    (
        text,
        spaces(),
        prop_oneof![20 => Just(""), 1 => prop::sample::select(vec!["x", "{}", ",", "]"])],
        prop_oneof![20 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)],
    )
        .prop_map(|(text, space, after, cut)| {
            let text = format!("{space}{text}{space}{after}");
            match cut {
                Some(at) => {
                    let at = at.index(text.len() + 1);
                    let at = (0..=at)
                        .rev()
                        .find(|&i| text.is_char_boundary(i))
                        .unwrap_or(0);
                    text[..at].to_owned()
                }
                None => text,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_reader_answers_as_serde_json_does(text in envelope_texts()) {
        let ours = read(&text, &mut Vec::new());
        let theirs = serde(&text);
        if ours.is_some() || theirs.is_none() {
            prop_assert_eq!(ours, theirs, "{}", text);
        }
    }

    #[test]
    fn the_reader_reads_what_serde_json_writes(env in arb_envelope(), pretty: bool) {
        let text = if pretty {
            serde_json::to_string_pretty(&env)?
        } else {
            serde_json::to_string(&env)?
        };
        prop_assert_eq!(read(&text, &mut Vec::new()), Some(env));
    }
}

#[test]
fn what_the_reader_leaves_to_serde_json_is_still_read() {
    let events = r#"[{"id":"1","timestamp":2,"message":"m"}]"#;
    let common = r#""owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[]"#;
    for (text, read_here) in [
        (
            format!(r#"{{"messageType":"DATA_MESSAGE",{common},"logEvents":{events}}}"#),
            true,
        ),
        (
            format!(
                r#"{{"messageType":"DATA_MESSAGE",{common},"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":{events}}}"#
            ),
            true,
        ),
        (
            format!(
                r#"{{"messageType":"DATA_MESSAGE",{common},"extra":{{"a":[1]}},"logEvents":{events}}}"#
            ),
            false,
        ),
        (
            format!(r#"{{"\u006dessageType":"DATA_MESSAGE",{common},"logEvents":{events}}}"#),
            true,
        ),
        (
            format!(
                r#"{{"messageType":"DATA_MESSAGE",{common},"logEvents":[{{"id":-1,"timestamp":2,"message":"m"}}]}}"#
            ),
            false,
        ),
        (
            format!(r#"{{"messageType":"DATA_MESSAGE",{common}}}"#),
            true,
        ),
        (
            r#"{"messageType":"CONTROL_MESSAGE","owner":"1","logGroup":"g","logStream":"s"}"#
                .to_owned(),
            true,
        ),
    ] {
        let ours = read(&text, &mut Vec::new());
        assert_eq!(ours.is_some(), read_here, "{text}");
        for after in [" x", " {}", ",", "\u{a0}"] {
            let more = format!("{text}{after}");
            assert!(
                read(&more, &mut Vec::new()).is_none() && serde(&more).is_none(),
                "{more}"
            );
        }
        let theirs = serde(&text);
        assert!(theirs.is_some(), "{text}");
        if read_here {
            assert_eq!(ours, theirs);
        }
    }
}

/// Every number form (and other values) as an id, a timestamp and an unknown field's
/// value: read as serde_json reads it, or left to it.
#[test]
fn every_number_form_is_read_as_serde_json_reads_it() {
    for n in NUMBERS {
        for event in [
            format!(r#"{{"id":{n},"timestamp":1,"message":"m"}}"#),
            format!(r#"{{"id":"1","timestamp":{n},"message":"m"}}"#),
            format!(r#"{{"id":"1","timestamp":1,"message":"m","extra":{n}}}"#),
        ] {
            let text = format!(
                r#"{{"messageType":"m","owner":"o","logGroup":"g","logStream":"s","logEvents":[{event}]}}"#
            );
            let ours = read(&text, &mut Vec::new());
            let theirs = serde(&text);
            if ours.is_some() || theirs.is_none() {
                assert_eq!(ours, theirs, "{text}");
            }
        }
    }
}

/// A record with a long escaped message leaves no more than [`super::SCRATCH_KEPT`] of
/// working space behind once the next record is read.
#[test]
fn a_long_escaped_message_leaves_no_large_scratch_behind() {
    let envelope = |message: String| {
        super::encode(&Envelope {
            message_type: "DATA_MESSAGE".into(),
            owner: "1".into(),
            log_group: "g".into(),
            log_stream: "s".into(),
            subscription_filters: vec![],
            log_events: vec![LogEvent {
                id: "1".into(),
                timestamp: 1,
                message: message.into(),
            }],
        })
    };
    let long = "\"quoted\" ".repeat(300_000);
    let mut decoder = super::Decoder::new(8 << 20);
    let env = decoder.decode(&envelope(long.clone())).expect("decodes");
    assert_eq!(env.log_events[0].message, long);
    assert!(decoder.scratch.capacity() > super::SCRATCH_KEPT);
    let env = decoder
        .decode(&envelope("\"short\"".into()))
        .expect("decodes");
    assert_eq!(env.log_events[0].message, "\"short\"");
    assert!(decoder.scratch.capacity() <= super::SCRATCH_KEPT);
}
