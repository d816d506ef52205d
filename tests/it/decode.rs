//! Decoding one record: every bad-input kind, the cap, id forms, and properties.

use std::borrow::Cow;

use csoc_forwarder::decode::{self, DecodeError, Decoder, Envelope, LogEvent};
use proptest::prelude::*;

use crate::common::{b64, envelope, gzip};

const CAP: usize = 1 << 20;

fn decode_err(data: &str) -> DecodeError {
    Decoder::new(CAP).decode(data).expect_err("must fail")
}

fn valid_json() -> Vec<u8> {
    serde_json::to_vec(&envelope("g", "s", &["hello"])).expect("json")
}

#[test]
fn decodes_a_real_fixture_record() {
    let event: serde_json::Value =
        serde_json::from_slice(&crate::common::fixture("kinesis-syslog.json")).expect("json");
    let data = event["Records"][0]["kinesis"]["data"]
        .as_str()
        .expect("data");
    let mut decoder = Decoder::new(CAP);
    let env = decoder.decode(data).expect("decodes");
    assert_eq!(env.message_type, "DATA_MESSAGE");
    assert_eq!(env.owner, "123456789012");
    assert_eq!(env.log_group, "qaplanetv1");
    assert_eq!(env.subscription_filters, vec!["qaplanetv1-csoc"]);
    assert_eq!(env.log_events.len(), 8);
    assert!(env.log_events[0].message.starts_with("Mar  8 14:42:01"));
}

#[test]
fn control_message_is_recognised() {
    let event: serde_json::Value =
        serde_json::from_slice(&crate::common::fixture("kinesis-control-message.json"))
            .expect("json");
    let data = event["Records"][0]["kinesis"]["data"]
        .as_str()
        .expect("data");
    let mut decoder = Decoder::new(CAP);
    assert!(decoder.decode(data).expect("decodes").is_control_message());
}

#[test]
fn not_base64_is_a_clear_error() {
    let err = decode_err("this is not base64!!");
    assert!(matches!(err, DecodeError::Base64(_)), "{err:?}");
    assert_eq!(err.kind(), "bad_base64");
    assert!(err.to_string().contains("not valid base64"), "{err}");
}

#[test]
fn not_gzip_is_a_clear_error() {
    let err = decode_err(&b64(&valid_json()));
    assert!(matches!(err, DecodeError::NotGzip), "{err:?}");
    assert!(err.to_string().contains("not gzip"));
}

#[test]
fn truncated_gzip_is_a_clear_error() {
    let gz = gzip(&valid_json());
    let err = decode_err(&b64(&gz[..gz.len() / 2]));
    assert!(matches!(err, DecodeError::Gzip(_)), "{err:?}");
    assert!(err.to_string().contains("truncated or corrupt"), "{err}");
}

#[test]
fn corrupt_gzip_body_is_a_clear_error() {
    let mut gz = gzip(&valid_json());
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 8] {
        *b ^= 0xa5;
    }
    assert!(matches!(decode_err(&b64(&gz)), DecodeError::Gzip(_)));
}

#[test]
fn gzip_bomb_stops_at_the_cap() {
    // 256 MiB of zeros gzips to about 256 KB; decoding stops at the 1 MiB cap.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        std::io::Write::write_all(&mut gz, &zeros).expect("write");
    }
    let bomb = gz.finish().expect("gzip");
    assert!(bomb.len() < 1 << 20);
    let err = decode_err(&b64(&bomb));
    assert!(matches!(err, DecodeError::TooLarge { cap: CAP }), "{err:?}");
    assert_eq!(err.kind(), "too_large");
}

#[test]
fn the_cap_itself_is_allowed_and_one_byte_more_is_not() {
    let json = valid_json();
    let mut padded = json.clone();
    padded.resize(CAP, b' ');
    assert!(Decoder::new(CAP).decode(&b64(&gzip(&padded))).is_ok());
    padded.push(b' ');
    assert!(matches!(
        Decoder::new(CAP).decode(&b64(&gzip(&padded))),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn invalid_utf8_is_a_clear_error_with_its_offset() {
    let mut bytes = br#"{"messageType":"DATA_MESSAGE","owner":"#.to_vec();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\"\xff\xfe\"}");
    let err = decode_err(&b64(&gzip(&bytes)));
    assert!(
        matches!(err, DecodeError::Utf8 { offset: o } if o == offset + 1),
        "{err:?}"
    );
}

#[test]
fn not_json_is_a_clear_error() {
    let err = decode_err(&b64(&gzip(b"plain text, not json")));
    assert!(matches!(err, DecodeError::Envelope(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("not a CloudWatch Logs subscription message")
    );
}

#[test]
fn wrong_schema_is_a_clear_error() {
    for bad in [
        r#"{"hello":"world"}"#,
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":"nope"}"#,
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":"soon","message":"m"}]}"#,
        r#"[1,2,3]"#,
    ] {
        let err = decode_err(&b64(&gzip(bad.as_bytes())));
        assert!(matches!(err, DecodeError::Envelope(_)), "{bad}: {err:?}");
    }
}

#[test]
fn integer_event_ids_from_emulators_are_accepted() {
    let json = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s",
        "subscriptionFilters":["f"],"logEvents":[{"id":0,"timestamp":1,"message":"a"},{"id":18446744073709551615,"timestamp":2,"message":"b"}]}"#;
    let mut decoder = Decoder::new(CAP);
    let env = decoder
        .decode(&b64(&gzip(json.as_bytes())))
        .expect("decodes");
    assert_eq!(env.log_events[0].id, "0");
    assert_eq!(env.log_events[1].id, "18446744073709551615");
}

#[test]
fn unknown_envelope_fields_are_tolerated() {
    let json = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s",
        "subscriptionFilters":["f"],"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{"id":"1","timestamp":1,"message":"a","extra":true}]}"#;
    let mut decoder = Decoder::new(CAP);
    let env = decoder
        .decode(&b64(&gzip(json.as_bytes())))
        .expect("decodes");
    assert_eq!(env.log_events.len(), 1);
}

#[test]
fn concatenated_gzip_members_are_read_whole() {
    let json = valid_json();
    let (a, b) = json.split_at(json.len() / 2);
    let mut gz = gzip(a);
    gz.extend(gzip(b));
    assert!(Decoder::new(CAP).decode(&b64(&gz)).is_ok());
}

#[test]
fn members_larger_than_the_last_one_grow_the_output_within_the_cap() {
    // The output is first sized from the last member's ISIZE, here a quarter of the whole.
    let json =
        serde_json::to_vec(&envelope("g", "s", &["x".repeat(400_000).as_str()])).expect("json");
    let gz: Vec<u8> = json.chunks(json.len() / 4 + 1).flat_map(gzip).collect();
    let mut decoder = Decoder::new(CAP);
    let env = decoder.decode(&b64(&gz)).expect("decodes");
    assert_eq!(env.log_events[0].message.len(), 400_000);
    // The same in members that add up to more than the cap.
    let json = serde_json::to_vec(&envelope("g", "s", &["x".repeat(CAP).as_str()])).expect("json");
    let gz: Vec<u8> = json.chunks(json.len() / 4 + 1).flat_map(gzip).collect();
    assert!(matches!(
        decode_err(&b64(&gz)),
        DecodeError::TooLarge { cap: CAP }
    ));
}

#[test]
fn text_after_the_last_gzip_member_is_an_error() {
    let mut gz = gzip(&valid_json());
    gz.extend_from_slice(b"not gzip");
    assert!(matches!(decode_err(&b64(&gz)), DecodeError::Gzip(_)));
    let mut gz = gzip(&valid_json());
    gz.extend_from_slice(&[0; 16]);
    assert!(matches!(decode_err(&b64(&gz)), DecodeError::Gzip(_)));
}

#[test]
fn surrounding_whitespace_in_base64_is_ignored() {
    let data = format!("\n {} \n", decode::encode(&envelope("g", "s", &["x"])));
    assert!(Decoder::new(CAP).decode(&data).is_ok());
}

#[test]
fn the_decoder_is_reusable_after_an_error() {
    let mut decoder = Decoder::new(CAP);
    assert!(decoder.decode("%%%").is_err());
    let good = decode::encode(&envelope("g", "s", &["after"]));
    assert_eq!(
        decoder.decode(&good).expect("decodes").log_events[0].message,
        "after"
    );
}

fn arb_envelope() -> impl Strategy<Value = Envelope<'static>> {
    let event =
        (any::<String>(), any::<i64>(), any::<String>()).prop_map(|(id, timestamp, message)| {
            LogEvent {
                id: Cow::Owned(id),
                timestamp,
                message: Cow::Owned(message),
            }
        });
    (
        prop_oneof![
            Just("DATA_MESSAGE".to_owned()),
            Just("CONTROL_MESSAGE".to_owned()),
            any::<String>()
        ],
        any::<String>(),
        any::<String>(),
        any::<String>(),
        proptest::collection::vec(any::<String>(), 0..3),
        proptest::collection::vec(event, 0..8),
    )
        .prop_map(|(t, owner, group, stream, filters, events)| Envelope {
            message_type: Cow::Owned(t),
            owner: Cow::Owned(owner),
            log_group: Cow::Owned(group),
            log_stream: Cow::Owned(stream),
            subscription_filters: filters.into_iter().map(Cow::Owned).collect(),
            log_events: events,
        })
}

proptest! {
    #[test]
    fn envelope_survives_encode_then_decode(env in arb_envelope()) {
        let data = decode::encode(&env);
        let mut decoder = Decoder::new(CAP);
        let back = decoder.decode(&data).expect("round trip");
        prop_assert_eq!(back, env);
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(data in any::<String>()) {
        let _ = Decoder::new(CAP).decode(&data);
    }

    #[test]
    fn decoding_arbitrary_gzip_payloads_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Decoder::new(CAP).decode(&b64(&gzip(&bytes)));
        let _ = Decoder::new(CAP).decode(&b64(&bytes));
    }
}
