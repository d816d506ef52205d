//! A record's base64 data → its bytes, with SIMD (`base64-simd`: AVX2 or SSSE3 on
//! x86_64, NEON on aarch64, chosen at run time) where the text is valid. What it refuses
//! is decoded again by the `base64` crate, whose answer is then the answer: its error
//! (with the offending byte's position) for bad data, exactly as before.
//!
//! Both take standard base64 with canonical padding and zero trailing bits, so where the
//! SIMD decoder answers, the `base64` crate gives the same bytes; a property test and
//! the `base64` fuzz target hold the two to that. base64 was a tenth of decode's
//! instructions (BENCHMARKS.md, "Nineteenth round").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Appends the bytes `text` (standard base64, padded) encodes to `out`; on an error
/// `out` is as it was.
pub fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    // On an error base64-simd leaves `out` as it was.
    if base64_simd::STANDARD.decode_append(text, out).is_ok() {
        return Ok(());
    }
    let start = out.len();
    // The `base64` crate leaves its working length in `out` on an error.
    STANDARD
        .decode_vec(text, out)
        .inspect_err(|_| out.truncate(start))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The `base64` crate's answer alone.
    fn reference(text: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(text)
    }

    fn ours(text: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
        let mut out = b"kept".to_vec();
        let answer = decode_into(text, &mut out);
        assert_eq!(&out[..4], b"kept", "what was in the buffer stays");
        if answer.is_err() {
            assert_eq!(out, b"kept", "nothing appended on an error");
        }
        answer.map(|()| out.split_off(4))
    }

    #[test]
    fn padding_and_trailing_bits_as_the_base64_crate_reads_them() {
        for text in [
            "", "QQ==", "QUI=", "QUJD", "QR==", "QUJ=", "QQ=", "QQ", "Q===", "====", "QQ==QQ==",
            "=QQ=", "QUJD\n", "QUJD ", "Q-JD", "Q_JD", "QUJDRA", "QUJDRA==", "QUJDREU=",
            "QUJDREVG", "QQ==\0", "QUJD====",
        ] {
            assert_eq!(
                ours(text.as_bytes()),
                reference(text.as_bytes()),
                "{text:?}"
            );
        }
    }

    /// Long enough for every vector width, valid and with one byte changed anywhere.
    #[test]
    fn one_wrong_byte_at_every_place_of_a_long_text() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        for len in [0, 1, 2, 3, 47, 48, 49, 95, 96, 97, 191, 192, 193, 300] {
            let text = STANDARD.encode(&bytes[..len]).into_bytes();
            assert_eq!(ours(&text), Ok(bytes[..len].to_vec()));
            for at in 0..text.len() {
                for b in [b'=', b'-', b'_', b' ', b'\n', b'\\', 0x80, 0, b'A'] {
                    let mut bad = text.clone();
                    bad[at] = b;
                    assert_eq!(ours(&bad), reference(&bad), "byte {b} at {at} of {len}");
                }
            }
        }
    }

    fn base64ish() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            20 => proptest::sample::select(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".to_vec()
            ),
            2 => Just(b'='),
            1 => any::<u8>(),
        ];
        proptest::collection::vec(byte, 0..200)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Texts of the alphabet with `=` and any byte among them: the same answer.
        #[test]
        fn the_same_answer_as_the_base64_crate(text in base64ish()) {
            prop_assert_eq!(ours(&text), reference(&text));
        }

        /// Encoded data, cut short or with its end changed: the same answer.
        #[test]
        fn encoded_data_changed_at_its_end(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            cut in 0usize..4,
            last in any::<u8>(),
        ) {
            let mut text = STANDARD.encode(&bytes).into_bytes();
            prop_assert_eq!(ours(&text), Ok(bytes));
            text.truncate(text.len().saturating_sub(cut));
            prop_assert_eq!(ours(&text), reference(&text));
            if let Some(end) = text.last_mut() {
                *end = last;
            }
            prop_assert_eq!(ours(&text), reference(&text));
        }
    }
}
