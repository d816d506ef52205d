//! Fuzzes the one-pass message path against the tree path: the input is a log event's
//! message (the first two bytes set the depth and field caps and free-form objects).
//! Nothing panics, and both paths give the same document (or the same error), byte for
//! byte: messages in any key order, with repeated keys, dotted keys and CloudTrail
//! markers included.
#![no_main]

use std::borrow::Cow;

use csoc_forwarder::decode::{Envelope, LogEvent};
use csoc_forwarder::document::{DocumentBuilder, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [depth, fields, rest @ ..] = data else {
        return;
    };
    let limits = Limits {
        max_depth: 1 + usize::from(depth % 8),
        max_fields: 1 + usize::from(*fields % 64),
    };
    let builder = DocumentBuilder::new("fuzz", "csoc-logs", limits)
        .with_free_form_objects(depth & 0x80 != 0);
    let message = String::from_utf8_lossy(rest);
    let env = Envelope {
        message_type: Cow::Borrowed("DATA_MESSAGE"),
        owner: Cow::Borrowed("123456789012"),
        log_group: Cow::Borrowed("g"),
        log_stream: Cow::Borrowed("s"),
        subscription_filters: vec![],
        log_events: vec![LogEvent {
            id: Cow::Borrowed("1"),
            timestamp: 1_520_520_148_130,
            message,
        }],
    };
    let event = &env.log_events[0];
    assert_eq!(builder.build(&env, event), builder.build_by_tree(&env, event));
});
