//! Fuzzes the hand-written envelope reader against serde_json: the input is an
//! envelope's JSON text. Nothing panics, and where the reader answers, serde_json gives
//! the same envelope.
#![no_main]

use csoc_forwarder::decode::Envelope;
use csoc_forwarder::decode::reader::read;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(ours) = read(text, &mut Vec::new()) {
        let theirs: Envelope<'_> = serde_json::from_str(text).expect("serde_json reads it too");
        assert_eq!(ours, theirs);
    }
});
