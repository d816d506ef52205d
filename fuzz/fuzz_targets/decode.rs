//! Fuzzes one record's path: base64 → capped gunzip → envelope → documents.
//! The input is used twice: as the record's base64 text, and (base64-encoded here) as
//! the raw bytes, so the fuzzer reaches gzip and JSON parsing directly.
#![no_main]

use base64::Engine as _;
use csoc_forwarder::decode::Decoder;
use csoc_forwarder::document::{DocumentBuilder, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let builder = DocumentBuilder::new("fuzz", "csoc-logs", Limits::default());
    let mut decoder = Decoder::new(1 << 20);
    let as_text = String::from_utf8_lossy(data).into_owned();
    let as_bytes = base64::engine::general_purpose::STANDARD.encode(data);
    for input in [as_text, as_bytes] {
        if let Ok(env) = decoder.decode(&input) {
            for event in &env.log_events {
                if let Ok(doc) = builder.build(&env, event) {
                    assert!(serde_json::from_str::<serde_json::Value>(&doc.source).is_ok());
                    assert!(doc.id.len() <= 512);
                }
            }
        }
    }
});
