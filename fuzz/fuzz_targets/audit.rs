//! Fuzzes the audit-records endpoint's reading of a request: the input is the body of a
//! function URL event, sent as text, and base64-encoded with `Content-Encoding: gzip`
//! (so the fuzzer reaches the gzip, UTF-8 and schema checks), then every record's
//! document is built. Any input must give a request or a 400/413, never a panic.
#![no_main]

use base64::Engine as _;
use csoc_forwarder::audit;
use csoc_forwarder::document::{DocumentBuilder, Limits};
use csoc_forwarder::event::{self, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let builder = DocumentBuilder::new("fuzz", "csoc-logs", Limits::default());
    let text = String::from_utf8_lossy(data).into_owned();
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    for (body, base64, headers) in [
        (text, false, serde_json::json!({})),
        (encoded, true, serde_json::json!({"content-encoding": "gzip"})),
    ] {
        let event = serde_json::json!({
            "version": "2.0", "rawPath": "/fuzz%20node", "headers": headers,
            "requestContext": {"timeEpoch": 0, "http": {"method": "POST", "sourceIp": "127.0.0.1"}},
            "body": body, "isBase64Encoded": base64,
        });
        let bytes = serde_json::to_vec(&event).expect("event");
        let Ok(Input::FunctionUrl(req)) = event::parse(&bytes) else {
            panic!("a function URL event is recognised");
        };
        match audit::read(&req, 1 << 20) {
            Ok(request) => {
                assert!(!request.post.audit_records.is_empty());
                for record in &request.post.audit_records {
                    let doc = audit::audit_document(
                        &builder,
                        &request.node,
                        &request.post.message_type,
                        &audit::Caller::of(&req),
                        record,
                    )
                    .expect("a checked record always gives a document");
                    assert!(serde_json::from_str::<serde_json::Value>(&doc.source).is_ok());
                }
            }
            Err(refusal) => assert!(matches!(refusal.status, 400 | 413), "{refusal:?}"),
        }
    }
});
