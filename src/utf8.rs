//! UTF-8 validation of whole texts on the hot path: each gunzipped record
//! ([`crate::decode`]) and each built document ([`crate::document`]). SIMD (`simdutf8`)
//! on valid text, several times faster than `std::str::from_utf8` on ~1 KB of mostly
//! ASCII; invalid text goes through std as well, for the error's position. Same results
//! as std (a property test holds them together).

use std::str::Utf8Error;
use std::string::FromUtf8Error;

/// `bytes` as text; the error says where the first invalid byte is.
pub fn as_str(bytes: &[u8]) -> Result<&str, Utf8Error> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => std::str::from_utf8(bytes),
    }
}

/// `bytes` as a `String`, with no copy; the error gives the bytes back.
pub fn into_string(bytes: Vec<u8>) -> Result<String, FromUtf8Error> {
    if simdutf8::basic::from_utf8(&bytes).is_ok() {
        // SAFETY: `bytes` was just validated as UTF-8, and is moved, not changed, since.
        Ok(unsafe { String::from_utf8_unchecked(bytes) })
    } else {
        String::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Mostly valid text with a few bytes that may break it, at any length (the SIMD
    /// path works in 64-byte blocks: invalid bytes land at every offset in a block).
    fn texts() -> impl Strategy<Value = Vec<u8>> {
        (
            ".{0,300}",
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        )
            .prop_map(|(text, bytes)| {
                let mut out = text.into_bytes();
                for (at, b) in bytes {
                    let at = if out.is_empty() { 0 } else { at % out.len() };
                    out.insert(at, b);
                }
                out
            })
    }

    proptest! {
        #[test]
        fn agrees_with_std(bytes in texts()) {
            let std_result = std::str::from_utf8(&bytes);
            prop_assert_eq!(as_str(&bytes), std_result);
            let owned = into_string(bytes.clone());
            match std_result {
                Ok(text) => prop_assert_eq!(owned.ok(), Some(text.to_owned())),
                Err(e) => {
                    let err = owned.expect_err("std refuses it");
                    prop_assert_eq!(err.utf8_error(), e);
                    prop_assert_eq!(err.into_bytes(), bytes);
                }
            }
        }
    }

    #[test]
    fn the_error_says_where() {
        let mut bytes = vec![b'a'; 100];
        bytes[70] = 0xff;
        assert_eq!(as_str(&bytes).map_err(|e| e.valid_up_to()), Err(70));
        let err = into_string(bytes).expect_err("invalid");
        assert_eq!(err.utf8_error().valid_up_to(), 70);
        assert_eq!(as_str("é∑😀".as_bytes()), Ok("é∑😀"));
    }
}
