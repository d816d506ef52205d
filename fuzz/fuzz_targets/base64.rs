//! Fuzzes the record data's base64 decoding (SIMD, falling back to the `base64` crate)
//! against the `base64` crate alone: the input is the base64 text. Nothing panics, and
//! the answer (bytes or error) is the same.
#![no_main]

use base64::Engine as _;
use csoc_forwarder::decode::base64_data::decode_into;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ours = Vec::new();
    let ours = decode_into(data, &mut ours).map(|()| ours);
    let theirs = base64::engine::general_purpose::STANDARD.decode(data);
    assert_eq!(ours, theirs);
});
