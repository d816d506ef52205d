//! JSON strings written as serde_json writes them (`"`, `\` and control bytes escaped,
//! `\u00XX` in lower-case hex where no short escape exists, everything else as it is),
//! the bytes to escape found 16 to 64 at a time (`json-escape-simd`: SSE2, AVX2 or NEON,
//! chosen at run time). The tests hold it to serde_json's bytes.

/// Appends `text` as a JSON string, quotes included.
pub(crate) fn json_string(out: &mut Vec<u8>, text: &str) {
    json_escape_simd::escape_into(text, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(text: &str) -> Vec<u8> {
        let mut out = b"x".to_vec();
        json_string(&mut out, text);
        out.split_off(1)
    }

    #[test]
    fn every_character_below_0x800_is_written_as_serde_json_writes_it() {
        for c in (0..0x800).filter_map(char::from_u32) {
            for text in [
                c.to_string(),
                format!("{c}abcdefghijklmnopqrstuvwxyz0123456789{c}"),
            ] {
                let theirs = serde_json::to_vec(&text).unwrap();
                assert_eq!(ours(&text), theirs, "{c:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_is_written_as_serde_json_writes_it(
            text in proptest::string::string_regex(
                "[a-z \"\\\\/\\n\\r\\t\\x00-\\x1f\\x7fé€😀{}:,]{0,300}"
            ).unwrap()
        ) {
            prop_assert_eq!(ours(&text), serde_json::to_vec(&text).unwrap());
        }

        #[test]
        fn any_unicode_text_is_written_as_serde_json_writes_it(text in any::<String>()) {
            prop_assert_eq!(ours(&text), serde_json::to_vec(&text).unwrap());
        }
    }
}
