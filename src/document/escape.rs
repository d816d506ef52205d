//! JSON strings written as serde_json writes them (`"`, `\` and control bytes escaped,
//! `\u00XX` in lower-case hex where no short escape exists, everything else as it is),
//! the bytes to escape found 16 or 32 at a time (`json-escape-simd`: SSE2, AVX2 or NEON,
//! chosen at run time). The tests hold it to serde_json's bytes.

/// Bytes of text escaped at a time. The escaper reserves six times what it is given (its
/// SIMD stores may run ahead of what it writes), so a long text goes in pieces: what is
/// reserved past the output stays under ~100 KB, however long the text.
const PIECE: usize = 16 * 1024;

/// What [`json_string`] may reserve past the output for a text of `len` bytes: a buffer
/// with that much room past its end is never grown by it for a text up to 16 KiB.
pub(crate) fn room_for(len: usize) -> usize {
    6 * len.min(PIECE) + 35
}

/// Appends `text` as a JSON string, quotes included.
pub(crate) fn json_string(out: &mut Vec<u8>, text: &str) {
    in_pieces(out, text, PIECE);
}

/// [`json_string`], `text` escaped `piece` bytes at a time (never splitting a character):
/// escaping is character by character, so the pieces' escapes put together are the
/// text's.
fn in_pieces(out: &mut Vec<u8>, text: &str, piece: usize) {
    if text.len() <= piece {
        json_escape_simd::escape_into(text, out);
        return;
    }
    out.push(b'"');
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = piece.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (head, tail) = rest.split_at(end);
        // Each piece is written between quotes: drop them.
        let start = out.len();
        json_escape_simd::escape_into(head, out);
        out.pop();
        out.remove(start);
        rest = tail;
    }
    out.push(b'"');
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
    fn a_long_text_is_written_as_serde_json_writes_it() {
        let text = "\"quoted\" \\ line\n é€😀 ".repeat(3 * PIECE / 16);
        assert!(text.len() > 2 * PIECE);
        assert_eq!(ours(&text), serde_json::to_vec(&text).unwrap());
    }

    #[test]
    fn a_long_text_reserves_a_bounded_amount_past_its_output() {
        let text = "\"".repeat(1 << 20);
        let mut out = Vec::new();
        json_string(&mut out, &text);
        assert_eq!(out.len(), 2 * text.len() + 2);
        // Whole, the escaper would have reserved six times the text (6 MiB and more).
        assert!(
            out.capacity() <= 2 * (out.len() + 6 * PIECE + 35),
            "{}",
            out.capacity()
        );
    }

    #[test]
    fn a_buffer_with_room_for_the_text_is_not_grown() {
        for text in ["", "plain", "\"\\\n\u{1}", &"\u{1}".repeat(PIECE)] {
            let mut out = Vec::with_capacity(1 + room_for(text.len()));
            out.push(b'x');
            let (at, room) = (out.as_ptr(), out.capacity());
            json_string(&mut out, text);
            assert_eq!((out.as_ptr(), out.capacity()), (at, room));
        }
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

        #[test]
        fn text_escaped_in_pieces_is_the_text_escaped_whole(
            text in proptest::string::string_regex("[a \"\\\\\\n\\x01é€😀]{0,64}").unwrap(),
            piece in 1usize..10,
        ) {
            let mut out = b"x".to_vec();
            in_pieces(&mut out, &text, piece);
            let theirs = serde_json::to_vec(&text).unwrap();
            prop_assert_eq!(&out[1..], theirs.as_slice());
        }
    }
}
