//! Documents: snapshots per fixture, the flattening rules, ids, index names, properties.

use std::borrow::Cow;

use csoc_forwarder::decode::LogEvent;
use csoc_forwarder::document::{self, DocumentBuilder, Limits};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common::{builder, envelope, fixture_documents, kinesis_fixtures};

/// The document for one message, parsed.
fn doc_for(message: &str) -> Value {
    doc_with(builder(), message)
}

fn doc_with(b: DocumentBuilder, message: &str) -> Value {
    let env = envelope("group", "stream", &[message]);
    let d = b.build(&env, &env.log_events[0]).expect("document");
    serde_json::from_str(&d.source).expect("document is JSON")
}

#[test]
fn snapshot_documents_of_every_fixture() {
    for name in kinesis_fixtures() {
        let docs: Vec<Value> = fixture_documents(&name)
            .into_iter()
            .map(|d| json!({"_id": d.id, "_index": d.index, "_source": serde_json::from_str::<Value>(&d.source).expect("json")}))
            .collect();
        insta::assert_json_snapshot!(format!("documents-{name}"), docs);
    }
}

#[test]
fn text_messages_become_log_fields() {
    let d = doc_for("just some text");
    assert_eq!(d["message"], json!({"log": "just some text"}));
    for not_object in ["123", "\"a string\"", "[1,2]", "{broken json", "null"] {
        assert_eq!(
            doc_for(not_object)["message"],
            json!({"log": not_object}),
            "{not_object}"
        );
    }
}

#[test]
fn envelope_fields_and_commons_are_copied() {
    let d = doc_for("x");
    assert_eq!(d["messageType"], "DATA_MESSAGE");
    assert_eq!(d["owner"], "123456789012");
    assert_eq!(d["logGroup"], "group");
    assert_eq!(d["logStream"], "stream");
    assert_eq!(d["subscriptionFilters"], json!(["test-filter"]));
    assert_eq!(d["commons"], "testcommons");
    assert_eq!(d["@timestamp"], "2018-03-08T14:42:28.130Z");
}

#[test]
fn timestamp_defaults_to_the_event_time_never_the_wall_clock() {
    let d = doc_for("no time here");
    assert_eq!(d["timestamp"], d["@timestamp"]);
}

#[test]
fn json_time_fields_set_timestamp() {
    let d = doc_for(r#"{"time":"2018-03-08T14:41:57.123Z","msg":"x"}"#);
    assert_eq!(d["timestamp"], "2018-03-08T14:41:57.123Z");
    assert_eq!(d["@timestamp"], "2018-03-08T14:42:28.130Z");
}

#[test]
fn dotted_keys_are_rewritten_at_every_depth() {
    let d = doc_for(r#"{"a.b":1,"k":{"app.kubernetes.io/name":"x","deep":[{"c.d":true}]}}"#);
    assert_eq!(
        d["message"],
        json!({"a_b": 1, "k": {"app_kubernetes_io/name": "x", "deep": [{"c_d": true}]}})
    );
}

#[test]
fn a_rewritten_key_never_overwrites_another() {
    let d = doc_for(r#"{"a.b":1,"a_b":2,"a.b.":3,"a_b_":4}"#);
    let m = d["message"].as_object().expect("object");
    assert_eq!(m.len(), 4, "{m:?}");
    assert_eq!(m["a_b"], 2);
    assert_eq!(m["a_b_"], 4);
    let mut moved: Vec<i64> = m
        .iter()
        .filter(|(k, _)| k.ends_with("_2"))
        .map(|(_, v)| v.as_i64().expect("int"))
        .collect();
    moved.sort();
    assert_eq!(moved, vec![1, 3]);
}

#[test]
fn depth_over_the_cap_is_kept_as_text() {
    let b = DocumentBuilder::new(
        "c",
        "p",
        Limits {
            max_depth: 2,
            max_fields: 100,
        },
    );
    let d = doc_with(b, r#"{"l1":{"l2":{"l3.x":1}},"arr":[[1,2]]}"#);
    assert_eq!(d["message"]["l1"]["l2"], json!(r#"{"l3.x":1}"#));
    assert_eq!(d["message"]["arr"], json!(["[1,2]"]));
}

#[test]
fn fields_over_the_cap_are_kept_as_text_in_overflow() {
    // Keys are visited in sorted order: `_overflow`, `b`, `b.c`, then the cap is reached.
    let b = DocumentBuilder::new(
        "c",
        "p",
        Limits {
            max_depth: 8,
            max_fields: 3,
        },
    );
    let d = doc_with(b, r#"{"_overflow":"mine","b":{"c":2,"d":3,"e":4},"f":5}"#);
    let m = &d["message"];
    assert_eq!(m["_overflow"], "mine", "an existing key keeps its name");
    assert_eq!(m["b"]["c"], 2);
    assert_eq!(m["b"]["_overflow"], json!(r#"{"d":3,"e":4}"#));
    assert_eq!(
        m["_overflow_2"],
        json!(r#"{"f":5}"#),
        "the rest of the top steps aside"
    );
    assert_eq!(m.as_object().map(|o| o.len()), Some(3));
}

#[test]
fn cloudtrail_free_form_fields_are_stored_as_text() {
    let ct = json!({
        "eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
        "eventTime": "2018-03-08T14:40:00Z",
        "requestParameters": {"userName": "bob", "tags": [{"key": "a.b", "value": "c"}]},
        "responseElements": {"user": {"userName": "bob"}},
        "additionalEventData": {"MFAUsed": "No"},
        "serviceEventDetails": null,
        "userIdentity": {"type": "Root", "arn": "arn:aws:iam::1:root"}
    });
    let d = doc_for(&ct.to_string());
    let m = &d["message"];
    for field in document::CLOUDTRAIL_TEXT_FIELDS {
        if field == "serviceEventDetails" {
            assert_eq!(m[field], Value::Null);
            continue;
        }
        let text = m[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is text"));
        assert_eq!(
            serde_json::from_str::<Value>(text).expect("json"),
            ct[field],
            "{field}"
        );
    }
    assert_eq!(m["userIdentity"]["type"], "Root");
    assert_eq!(d["timestamp"], "2018-03-08T14:40:00.000Z");
}

#[test]
fn objects_missing_a_cloudtrail_marker_are_not_treated_as_cloudtrail() {
    let d = doc_for(r#"{"eventSource":"x","eventName":"y","requestParameters":{"a":1}}"#);
    assert_eq!(d["message"]["requestParameters"], json!({"a": 1}));
}

#[test]
fn ids_are_deterministic_unique_and_short() {
    let a = document::document_id("1", "g", "s", "e1");
    assert_eq!(a, document::document_id("1", "g", "s", "e1"));
    assert_ne!(a, document::document_id("1", "g", "s", "e2"));
    assert_ne!(
        document::document_id("1", "ab", "c", "e"),
        document::document_id("1", "a", "bc", "e")
    );
    let long = "x".repeat(2000);
    assert!(document::document_id(&long, &long, &long, &long).len() <= 512);
    assert_eq!(a.len(), 64);
}

#[test]
fn index_is_daily_in_utc() {
    let t = "2019-12-31T23:59:59.999Z".parse().expect("time");
    assert_eq!(document::index_name("csoc-logs", t), "csoc-logs-2019.12.31");
    let env = envelope("g", "s", &["x"]);
    let ev = LogEvent {
        id: Cow::Borrowed("1"),
        timestamp: 1_577_836_800_000,
        message: Cow::Borrowed("x"),
    };
    assert_eq!(
        builder().build(&env, &ev).expect("doc").index,
        "csoc-logs-2020.01.01"
    );
}

#[test]
fn an_out_of_range_event_timestamp_is_an_error_not_a_panic() {
    let env = envelope("g", "s", &["x"]);
    let ev = LogEvent {
        id: Cow::Borrowed("1"),
        timestamp: i64::MAX,
        message: Cow::Borrowed("x"),
    };
    assert!(builder().build(&env, &ev).is_err());
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(12, 256, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z._]{0,6}|\\PC{0,6}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// No dotted keys, no container deeper than the cap, and a bounded number of distinct
/// field paths (what the index mapping would hold; arrays are transparent there).
fn assert_sane(d: &Value, limits: Limits) {
    fn walk(
        v: &Value,
        depth: usize,
        path: &str,
        limits: Limits,
        paths: &mut std::collections::BTreeSet<String>,
    ) {
        match v {
            Value::Object(m) => {
                assert!(depth <= limits.max_depth, "object at depth {depth}");
                for (k, child) in m {
                    assert!(!k.contains('.'), "dotted key {k:?}");
                    let p = format!("{path}.{k}");
                    paths.insert(p.clone());
                    walk(child, depth + 1, &p, limits, paths);
                }
            }
            Value::Array(items) => {
                assert!(depth <= limits.max_depth, "array at depth {depth}");
                items
                    .iter()
                    .for_each(|i| walk(i, depth + 1, path, limits, paths));
            }
            _ => {}
        }
    }
    let mut paths = std::collections::BTreeSet::new();
    walk(&d["message"], 1, "", limits, &mut paths);
    // Real fields up to the cap, plus at most one `_overflow` per object path.
    assert!(
        paths.len() <= 2 * limits.max_fields + 1,
        "{} field paths",
        paths.len()
    );
}

proptest! {
    #[test]
    fn flattening_never_panics_on_arbitrary_text(text in any::<String>()) {
        let d = doc_for(&text);
        prop_assert!(d["message"].is_object());
    }

    #[test]
    fn flattened_json_respects_the_caps_and_keeps_every_leaf(value in arb_json()) {
        let limits = Limits { max_depth: 4, max_fields: 20 };
        let d = doc_with(DocumentBuilder::new("c", "p", limits), &value.to_string());
        assert_sane(&d, limits);
        // Nothing dropped: every string leaf of the input appears in the output text.
        let out = d["message"].to_string();
        fn leaves(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
                Value::Object(m) => m.values().for_each(|x| leaves(x, out)),
                _ => {}
            }
        }
        let mut strings = Vec::new();
        leaves(&value, &mut strings);
        for s in strings {
            // A leaf may sit inside JSON text (escaped once more); look for its escaped form too.
            let once = serde_json::to_string(&s).expect("json");
            let twice = serde_json::to_string(&once).expect("json");
            let found = out.contains(&once[1..once.len() - 1]) || out.contains(&twice[1..twice.len() - 1]);
            prop_assert!(found, "leaf {s:?} missing");
        }
    }
}

/// Keys that exercise the rules: dotted keys and their rewrites (collisions), CloudTrail
/// markers and text fields, the time fields, the raw-value token, escapes.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c._]{0,4}",
        "\\PC{0,4}",
        prop::sample::select(vec![
            "eventVersion",
            "eventSource",
            "eventName",
            "eventTime",
            "requestParameters",
            "responseElements",
            "additionalEventData",
            "serviceEventDetails",
            "time",
            "timestamp",
            "@timestamp",
            "date_access",
            "log",
            "a.b",
            "a_b",
            "a_b_2",
            "_overflow",
            "$serde_json::private::RawValue",
            "k\"q",
            "k/s",
        ])
        .prop_map(str::to_owned),
    ]
}

fn arb_message_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-100i64..100).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "2026-11-22T06:00:00Z",
            "1795327200",
            "Nov 22 06:00:01 host x",
            "a\nb\t\"c\"\\d/e",
            "2026-11-22T06:00:00.5+01:00 GET /a?b=1&c=<é>",
        ])
        .prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(arb_key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    // Half of them with the four CloudTrail markers: a CloudTrail event.
    (
        proptest::collection::btree_map(arb_key(), value, 0..10),
        any::<bool>(),
    )
        .prop_map(|(m, cloudtrail)| {
            let mut m: serde_json::Map<String, Value> = m.into_iter().collect();
            if cloudtrail {
                for marker in csoc_forwarder::document::CLOUDTRAIL_MARKERS {
                    m.insert(marker.to_owned(), Value::from("x"));
                }
            }
            Value::Object(m)
        })
}

/// A message's text in one of the shapes logs arrive in: serde_json's own (sorted keys,
/// canonical escapes), pretty-printed, keys in reverse order, a repeated key, `\/` and
/// `\u` escapes, a float written differently, keys in a shuffled order, floats in
/// exponent form, strings escaped as Go and Python write them, trailing text.
fn message_text(value: &Value, shape: u8) -> String {
    let compact = value.to_string();
    match shape {
        0 => compact,
        1 => serde_json::to_string_pretty(value).expect("json"),
        2 => reversed(value),
        3 => match compact.strip_prefix('{') {
            Some(rest) if rest != "}" => {
                format!("{{\"dup\":1,{rest}").replacen('}', ",\"dup\":2}", 1)
            }
            _ => compact,
        },
        4 => compact.replace('/', "\\/").replacen('a', "\\u0061", 2),
        5 => compact.replacen(":0", ":0.0", 1).replacen(":1", ":1e0", 1),
        6 => shuffled(value),
        8 => exponent_floats(value),
        9 => escaped_strings(&shuffled(value)),
        _ => format!("{compact} x"),
    }
}

/// The JSON text `compact` with its strings escaped as Go's `encoding/json` (`&`, `<`,
/// `>`, U+2028 and U+2029 as `\u0026`, …) and Python's `json.dumps` (every non-ASCII
/// character as `\uXXXX`, astral ones as a surrogate pair) write them, and `/` as `\/`:
/// the same strings, in escapes serde_json never writes.
fn escaped_strings(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut chars = compact.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                out.extend(chars.next());
            }
            '/' => out.push_str("\\/"),
            '&' | '<' | '>' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if c.is_ascii() => out.push(c),
            c => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
    out
}

/// The JSON text of `value` with every float in exponent form (`1.5e0`, `1e2`,
/// `-2.5e-7`): the same numbers, written as serde_json never writes them.
fn exponent_floats(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_f64() => format!("{:e}", n.as_f64().unwrap_or_default()),
        Value::Object(m) => {
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), exponent_floats(v)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(exponent_floats).collect();
            format!("[{}]", items.join(","))
        }
        v => v.to_string(),
    }
}

/// The JSON text of `value` with every object's keys in reverse (unsorted) order.
fn reversed(value: &Value) -> String {
    reordered(value, &|entries| entries.reverse())
}

/// The JSON text of `value` with every object's keys in an order of their own (by a hash
/// of the key: neither sorted nor reversed).
fn shuffled(value: &Value) -> String {
    let hash = |k: &str| {
        k.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    reordered(value, &|entries| entries.sort_by_key(|(k, _)| hash(k)))
}

/// An object's entries, in the order they are written.
type Entries<'v> = Vec<(&'v String, &'v Value)>;

/// The JSON text of `value` with every object's entries (sorted, as serde_json keeps
/// them) put in the order `arrange` gives.
fn reordered(value: &Value, arrange: &dyn Fn(&mut Entries<'_>)) -> String {
    match value {
        Value::Object(m) => {
            let mut entries: Entries<'_> = m.iter().collect();
            arrange(&mut entries);
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), reordered(v, arrange)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(|v| reordered(v, arrange)).collect();
            format!("[{}]", items.join(","))
        }
        v => v.to_string(),
    }
}

/// The document of a log event with the message `text`, built by the one-pass path
/// (when it takes the message) and by the tree path: the same bytes, and the same header
/// (kind, spans), which points at the document's own bytes.
fn both_paths_agree(
    text: &str,
    limits: Limits,
    free_form_objects: bool,
) -> Result<(), TestCaseError> {
    let b = DocumentBuilder::new("c", "p", limits).with_free_form_objects(free_form_objects);
    let env = envelope("g", "s", &[text]);
    let ev = &env.log_events[0];
    let fast = b.build(&env, ev);
    prop_assert_eq!(&fast, &b.build_by_tree(&env, ev), "message {}", text);
    if let Ok(doc) = &fast {
        assert_header_matches_json(doc, false);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The one-pass path (taken when the message is in canonical form but for its key
    /// order) and the tree path give the same document, byte for byte, under any caps.
    #[test]
    fn one_pass_and_tree_paths_give_the_same_bytes(
        value in arb_message_value(),
        shape in 0u8..10,
        max_depth in 1usize..6,
        max_fields in 1usize..40,
        free_form_objects in any::<bool>(),
    ) {
        let text = message_text(&value, shape);
        both_paths_agree(&text, Limits { max_depth, max_fields }, free_form_objects)?;
    }
}

/// Finite floats: any, and some that are written several ways (`0.1`, `1e-7`, `-0.0`,
/// epoch seconds with a fraction).
fn float_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        prop::sample::select(vec![0.1, 1.5, 100.0, 1e-7, 1e21, -0.0, 1_795_327_200.125]),
    ]
    .prop_map(Value::from)
}

/// Values the one-pass path takes: small integers, floats (written back in serde_json's
/// form), strings (with characters Go and Python write escaped), booleans, null, and
/// containers of them (keys that the rewrite changes included).
fn canonical_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        float_value(),
        "[a-z \"&<>/\u{1}é\u{2028}😀]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-c._0]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// CloudTrail events (the four markers) in any key order, with values the one-pass
    /// path takes: its free-form fields are text (or, with free-form objects on, objects)
    /// even when they come before the markers, and both paths give the same bytes.
    #[test]
    fn cloudtrail_events_in_any_key_order_take_the_tree_paths_bytes(
        fields in proptest::collection::btree_map(
            prop::sample::select(vec![
                "additionalEventData",
                "requestParameters",
                "responseElements",
                "serviceEventDetails",
                "userIdentity",
                "awsRegion",
                "a.b",
                "zz",
            ]),
            canonical_value(),
            0..6,
        ),
        shape in prop::sample::select(vec![0u8, 2, 6, 8, 9]),
        max_depth in 1usize..6,
        max_fields in 1usize..40,
        free_form_objects in any::<bool>(),
    ) {
        let mut event: serde_json::Map<String, Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        for marker in csoc_forwarder::document::CLOUDTRAIL_MARKERS {
            event.insert(marker.to_owned(), Value::from("x"));
        }
        let text = message_text(&Value::Object(event), shape);
        both_paths_agree(&text, Limits { max_depth, max_fields }, free_form_objects)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Messages with floats, written in serde_json's form or in exponent form, in any key
    /// order: the one-pass path writes each float as serde_json writes the number it
    /// reads, and reads float time fields (epoch seconds) as the tree path does.
    #[test]
    fn floats_in_any_notation_take_the_tree_paths_bytes(
        fields in proptest::collection::btree_map(
            prop::sample::select(vec!["time", "timestamp", "@timestamp", "a.b", "n", "zz"]),
            prop_oneof![float_value(), canonical_value()],
            1..6,
        ),
        shape in prop::sample::select(vec![0u8, 2, 6, 8, 9]),
        max_depth in 1usize..6,
        max_fields in 1usize..40,
    ) {
        let message: serde_json::Map<String, Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let text = message_text(&Value::Object(message), shape);
        both_paths_agree(&text, Limits { max_depth, max_fields }, false)?;
    }
}

/// A log document's bytes as serde_json writes its fields in the builder's order: what
/// the envelope fields written once per envelope and copied must give.
#[derive(serde::Serialize)]
struct Layout<'a> {
    #[serde(rename = "@timestamp")]
    at: &'a str,
    timestamp: &'a str,
    #[serde(rename = "messageType")]
    message_type: &'a str,
    owner: &'a str,
    #[serde(rename = "logGroup")]
    log_group: &'a str,
    #[serde(rename = "logStream")]
    log_stream: &'a str,
    #[serde(rename = "subscriptionFilters")]
    subscription_filters: &'a [Cow<'a, str>],
    commons: &'a str,
    message: &'a serde_json::value::RawValue,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every document of an envelope, built with the envelope's fields written once, has
    /// the bytes of the fields written one by one for it (any text in them, escapes
    /// included), its own times and id, and a header that points at its own bytes.
    #[test]
    fn documents_of_one_envelope_share_its_fields_and_keep_their_own(
        owner in "\\PC{0,12}|[\"\\\\\u{0}-\u{1f}a]{0,6}",
        group in "\\PC{0,24}",
        stream in "[\"\\\\\u{0}-\u{1f}/a-z\u{e9}\u{1f600}]{0,30}",
        filters in proptest::collection::vec("\\PC{0,8}", 0..3),
        commons in "\\PC{0,10}",
        times in proptest::collection::vec(0i64..253_402_300_799_999, 1..5),
    ) {
        let b = DocumentBuilder::new(commons.as_str(), "p", Limits::default());
        let messages: Vec<String> = (0..times.len())
            .map(|i| if i % 2 == 0 { format!("plain text {i}") } else { format!(r#"{{"k":"v{i}","n":{i}}}"#) })
            .collect();
        let env = csoc_forwarder::decode::Envelope {
            message_type: Cow::Borrowed("DATA_MESSAGE"),
            owner: Cow::Borrowed(&owner),
            log_group: Cow::Borrowed(&group),
            log_stream: Cow::Borrowed(&stream),
            subscription_filters: filters.iter().map(|f| Cow::Borrowed(f.as_str())).collect(),
            log_events: times
                .iter()
                .zip(&messages)
                .enumerate()
                .map(|(i, (t, m))| LogEvent {
                    id: Cow::Owned(format!("{}{i}", 1000 + t % 1000)),
                    timestamp: *t,
                    message: Cow::Borrowed(m),
                })
                .collect(),
        };
        let documents = b.envelope(&env);
        for ev in &env.log_events {
            let doc = documents.build(ev).expect("document");
            let at = chrono::DateTime::from_timestamp_millis(ev.timestamp)
                .expect("in range")
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let message = doc.message_json().expect("a message");
            let expected = serde_json::to_string(&Layout {
                at: &at,
                timestamp: &at,
                message_type: "DATA_MESSAGE",
                owner: &owner,
                log_group: &group,
                log_stream: &stream,
                subscription_filters: &env.subscription_filters,
                commons: &commons,
                message: &serde_json::value::RawValue::from_string(message.to_owned())
                    .expect("json"),
            })
            .expect("serializes");
            prop_assert_eq!(&doc.source, &expected);
            prop_assert_eq!(&doc.id, &document::document_id(&owner, &group, &stream, &ev.id));
            prop_assert_eq!(&doc, &b.build(&env, ev).expect("document"));
            assert_header_matches_json(&doc, true);
        }
    }
}

/// What the header says of a document agrees with the document's JSON: envelope
/// fields, times, the message and the access-log fields as written; and reading the
/// header back from the JSON (as replay does) gives the same header (`same_read_back`:
/// not so when CloudTrail's markers went past the field cap, or a JSON message is
/// `{"log": text}`, which the JSON alone cannot tell from a text message).
fn assert_header_matches_json(doc: &document::Document, same_read_back: bool) {
    // A message whose first key is serde_json's raw-value token is written as it came,
    // and a `Value` cannot read the document back: nothing to compare with.
    if doc.source.contains("\"$serde_json::private::RawValue\"") {
        return;
    }
    let v: Value = serde_json::from_str(&doc.source).expect("json");
    let text = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    assert_eq!(doc.at(), text("@timestamp"));
    assert_eq!(doc.owner(), text("owner"));
    assert_eq!(doc.log_group(), text("logGroup"));
    assert_eq!(doc.log_stream(), text("logStream"));
    assert_eq!(doc.commons(), text("commons"));
    let millis = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(&text(k))
            .expect("a time")
            .timestamp_millis()
    };
    assert_eq!(doc.header.at_millis, Some(millis("@timestamp")));
    assert_eq!(doc.header.time_millis, Some(millis("timestamp")));
    let message = doc.message_json().expect("a message");
    assert_eq!(
        serde_json::from_str::<Value>(message).expect("json"),
        v["message"]
    );
    for name in document::ACCESS_FIELDS {
        assert_eq!(
            doc.access_field(name)
                .map(|j| serde_json::from_str::<Value>(j).expect("json")),
            v["message"].get(name).cloned(),
            "{name}"
        );
    }
    let read_back =
        document::Document::from_source(doc.id.clone(), doc.index.clone(), doc.source.clone());
    if same_read_back {
        assert_eq!(read_back.header, doc.header, "{}", doc.source);
    } else {
        assert_eq!(read_back.message_json(), doc.message_json());
    }
}

#[test]
fn headers_say_what_each_kind_of_fixture_document_holds() {
    use document::Kind;
    for (name, kinds) in [
        ("kinesis-cloudtrail.json", vec![Kind::CloudTrail]),
        ("kinesis-kubernetes.json", vec![Kind::AccessLog, Kind::Json]),
        ("kinesis-syslog.json", vec![Kind::Text]),
        (
            "kinesis-mixed.json",
            vec![Kind::AccessLog, Kind::CloudTrail, Kind::Json, Kind::Text],
        ),
    ] {
        let docs = fixture_documents(name);
        let mut seen: Vec<Kind> = docs.iter().map(|d| d.kind()).collect();
        seen.sort_by_key(|k| format!("{k:?}"));
        seen.dedup();
        assert_eq!(seen, kinds, "{name}");
        for doc in &docs {
            assert_header_matches_json(doc, true);
        }
    }
    // One of each, in detail.
    let trail = &fixture_documents("kinesis-cloudtrail.json")[0];
    assert_eq!(trail.owner(), "123456789012");
    assert!(
        trail
            .message_json()
            .expect("message")
            .contains("\"eventName\"")
    );
    assert_eq!(trail.access_field("http_response_time"), None);
    let access = &fixture_documents("kinesis-kubernetes.json")[0];
    assert_eq!(access.log_group(), "qaplanetv1");
    assert_eq!(
        access.log_stream(),
        "revproxy-deployment-5d9c8b7f6-x7k2p_default_revproxy"
    );
    assert_eq!(access.commons(), "testcommons");
    assert_eq!(access.at(), "2018-03-08T14:42:27.570Z");
    assert_eq!(access.header.at_millis, Some(1_520_520_147_570));
    assert_eq!(access.header.time_millis, Some(1_520_520_147_000));
    assert_eq!(access.access_field("http_response_time"), Some("\"0.052\""));
    assert_eq!(access.access_field("http_verb"), Some("\"GET\""));
    assert!(
        access
            .access_field("kubernetes")
            .expect("kubernetes")
            .contains("\"pod_name\":\"revproxy-deployment-5d9c8b7f6-x7k2p\"")
    );
    let text = &fixture_documents("kinesis-syslog.json")[0];
    assert_eq!(
        text.message_json(),
        Some(
            r#"{"log":"Mar  8 14:42:01 ip-172-31-1-10 systemd[1]: Started Session 42 of user ubuntu."}"#
        )
    );
}

#[test]
fn audit_documents_carry_their_kind_and_time() {
    let (request, docs) = crate::common::fixture_audit_documents();
    for (record, doc) in request.post.audit_records.iter().zip(&docs) {
        let v: Value = serde_json::from_str(&doc.source).expect("json");
        assert_eq!(doc.kind(), document::Kind::Audit);
        assert_eq!(doc.at(), v["@timestamp"].as_str().expect("time"));
        assert_eq!(
            doc.header.at_millis,
            Some(record.datetime.0.timestamp_millis())
        );
        assert_eq!(doc.message_json(), None);
        assert_eq!(doc.log_stream(), "");
        let read_back =
            document::Document::from_source(doc.id.clone(), doc.index.clone(), doc.source.clone());
        assert_eq!(read_back.kind(), document::Kind::Audit);
        assert_eq!(read_back.at(), doc.at());
    }
}

/// The document of `second`, built on a new thread after the document of `first` (or
/// alone): the builder keeps buffers per thread from one document to the next.
fn built_after(first: Option<&str>, second: &str) -> String {
    let (first, second) = (first.map(str::to_owned), second.to_owned());
    std::thread::spawn(move || {
        let b = builder();
        if let Some(first) = first {
            let env = envelope("group", "stream", &[first.as_str()]);
            b.build(&env, &env.log_events[0]).expect("first document");
        }
        let env = envelope("group", "stream", &[second.as_str()]);
        b.build(&env, &env.log_events[0]).expect("document").source
    })
    .join()
    .expect("thread")
}

#[test]
fn a_document_does_not_depend_on_the_one_built_before() {
    let big = format!("{{\"log\":\"{}\"}}", "x".repeat(100 * 1024));
    let messages = [
        r#"{"b":1,"a":{"c.d":2}}"#,
        r#"{"a":1,"a":2}"#, // a repeated key: the one-pass path gives up part-way
        "plain text with a \"quote\"",
        big.as_str(), // past the buffer kept for the next document
        "",
    ];
    for first in messages {
        for second in messages {
            assert_eq!(
                built_after(Some(first), second),
                built_after(None, second),
                "{second:.40} after {first:.40}"
            );
        }
    }
}

/// Documents are kept until their batch is delivered, so one does not keep the room that
/// was reserved for writing its message: escaping a text message reserves six times its
/// length.
#[test]
fn a_document_keeps_little_more_memory_than_its_bytes() {
    let b = builder();
    let text = "plain text, nothing to escape ".repeat(40);
    let json = format!(r#"{{"level":"info","msg":"{}","n":1}}"#, "y".repeat(1200));
    // CloudTrail's free-form fields are written as JSON text: every quote escaped.
    let cloudtrail = serde_json::json!({
        "eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "PutRolePolicy",
        "eventTime": "2026-11-29T10:00:00Z", "awsRegion": "us-east-1",
        "requestParameters": {"policyDocument": "{\"Statement\":[]}".repeat(40), "roleName": "r"},
        "responseElements": {"a": [1, 2, {"b": "c"}]},
    })
    .to_string();
    for message in [text.as_str(), json.as_str(), cloudtrail.as_str(), "", "x"] {
        let env = envelope("group", "stream", &[message]);
        let doc = b.build(&env, &env.log_events[0]).expect("document");
        let (len, capacity) = (doc.source.len(), doc.source.capacity());
        assert!(
            capacity <= len + len / 4 + 64,
            "{message:.40}: {capacity} bytes kept for {len}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn documents_built_in_turn_are_as_if_built_alone(
        first in arb_message_value(),
        second in arb_message_value(),
        shapes in (0u8..10, 0u8..10),
    ) {
        let (first, second) = (message_text(&first, shapes.0), message_text(&second, shapes.1));
        prop_assert_eq!(built_after(Some(&first), &second), built_after(None, &second));
    }
}
