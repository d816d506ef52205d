//! The bytes a JSON string copies through as they are, found 16 bytes at a time (SIMD
//! where the target has 128-bit vectors as a baseline) or 8 (SWAR): shared by the
//! envelope reader ([`crate::decode`]) and the one-pass message path
//! ([`crate::document`]); and whether a short text (a key) holds a given byte, 8 bytes
//! at a time.

/// Bytes a JSON string copies through as they are (not `"`, `\`, or a control byte).
pub const PLAIN: [bool; 256] = {
    let mut t = [true; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = false;
        i += 1;
    }
    t[b'"' as usize] = false;
    t[b'\\' as usize] = false;
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of a little-endian word that are not [`PLAIN`], each flagged by its high
/// bit. Only the lowest flag is exact (a false flag can only sit above a true one, where
/// a borrow ran on), so read it with [`first`].
#[inline(always)]
fn specials(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (w.wrapping_sub(ONES * 0x20) & !w))
        & HIGH
}

/// The index in its word of the first byte [`specials`] flags (`flags` is not 0).
#[inline(always)]
fn first(flags: u64) -> usize {
    (flags.trailing_zeros() / 8) as usize
}

/// The word at `s[i..i + 8]`, if there are 8 bytes there.
#[inline(always)]
fn word(s: &[u8], i: usize) -> Option<u64> {
    let bytes: [u8; 8] = s.get(i..i.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Whether `s` holds `byte`, 8 bytes at a time: for short texts such as keys, below the
/// 16 bytes from which a vector search (`memchr`) leaves its byte-by-byte loop.
pub fn has_byte(s: &[u8], byte: u8) -> bool {
    let spread = ONES * u64::from(byte);
    let mut i = 0;
    while let Some(w) = word(s, i) {
        let x = w ^ spread;
        // A zero byte of `x` (a match) sets its high bit here; no other byte does
        // before the first zero, and any flag means there is a zero.
        if x.wrapping_sub(ONES) & !x & HIGH != 0 {
            return true;
        }
        i += 8;
    }
    s.get(i..).is_some_and(|rest| rest.contains(&byte))
}

/// The 16 bytes at `s[i..i + 16]`, if there are 16 bytes there.
#[inline(always)]
pub fn block(s: &[u8], i: usize) -> Option<&[u8; 16]> {
    s.get(i..i.checked_add(16)?)?.try_into().ok()
}

/// The index in `block` of its first byte that is not [`PLAIN`]: 16 bytes at once with
/// SSE2 on x86_64 and NEON on aarch64 (both part of every target of the arch).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn first_special(block: &[u8; 16]) -> Option<usize> {
    use std::arch::x86_64::*;
    // SAFETY: the load reads the 16 bytes of `block`; the other intrinsics only need
    // SSE2, which every x86_64 target has.
    let flags = unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // A control byte is its own minimum with 0x1f.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
    };
    (flags != 0).then(|| flags.trailing_zeros() as usize)
}

/// The index in `block` of its first byte that is not [`PLAIN`]: 16 bytes at once with
/// SSE2 on x86_64 and NEON on aarch64 (both part of every target of the arch).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub fn first_special(block: &[u8; 16]) -> Option<usize> {
    use std::arch::aarch64::*;
    // SAFETY: the load reads the 16 bytes of `block`; the other intrinsics only need
    // NEON, which every aarch64 target has.
    let nibbles = unsafe {
        let v = vld1q_u8(block.as_ptr());
        let quote = vceqq_u8(v, vdupq_n_u8(b'"'));
        let backslash = vceqq_u8(v, vdupq_n_u8(b'\\'));
        let control = vcltq_u8(v, vdupq_n_u8(0x20));
        let any = vorrq_u8(vorrq_u8(quote, backslash), control);
        // Four bits a byte: the usual stand-in for x86's movemask.
        vget_lane_u64(
            vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(any), 4)),
            0,
        )
    };
    (nibbles != 0).then(|| nibbles.trailing_zeros() as usize / 4)
}

/// The index in `block` of its first byte that is not [`PLAIN`]: two words.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
pub fn first_special(block: &[u8; 16]) -> Option<usize> {
    first_special_swar(block)
}

/// [`first_special`] with words only (the other targets', and the tests' reference).
#[cfg(any(test, not(any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline(always)]
fn first_special_swar(block: &[u8; 16]) -> Option<usize> {
    let (low, high) = (word(block, 0)?, word(block, 8)?);
    match (specials(low), specials(high)) {
        (0, 0) => None,
        (0, flags) => Some(8 + first(flags)),
        (flags, _) => Some(first(flags)),
    }
}

/// The end of the run of [`PLAIN`] bytes from `i`: 16 bytes at a time, then 8, then byte
/// by byte.
pub fn plain_run(s: &[u8], mut i: usize) -> usize {
    while let Some(b) = block(s, i) {
        if let Some(at) = first_special(b) {
            return i + at;
        }
        i += 16;
    }
    while let Some(w) = word(s, i) {
        let found = specials(w);
        if found != 0 {
            return i + first(found);
        }
        i += 8;
    }
    while s.get(i).is_some_and(|&b| PLAIN[b as usize]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn has_byte_is_contains(s in proptest::collection::vec(any::<u8>(), 0..80), byte in any::<u8>()) {
            prop_assert_eq!(has_byte(&s, byte), s.contains(&byte));
        }
    }

    #[test]
    fn has_byte_finds_the_byte_at_every_place_and_length() {
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert!(!has_byte(&plain, b'.'), "{len} bytes, none");
            for at in 0..len {
                let mut s = plain.clone();
                s[at] = b'.';
                assert!(has_byte(&s, b'.'), "{len} bytes, at {at}");
                // Bytes next to it in value never count.
                s[at] = b'-';
                assert!(!has_byte(&s, b'.'), "{len} bytes, a near byte at {at}");
                s[at] = b'/';
                assert!(!has_byte(&s, b'.'), "{len} bytes, a near byte at {at}");
                s[at] = b'.' | 0x80;
                assert!(!has_byte(&s, b'.'), "{len} bytes, high bit at {at}");
            }
        }
    }

    #[test]
    fn plain_runs_stop_at_the_first_quote_backslash_or_control_byte() {
        for text in [
            "",
            "abc",
            "abcdefghijklmnop\"",
            "abcdefgh\\ijk",
            "ab\u{1f}cdefghijkl",
            "é\u{7f}ÿabcdefgh\"x",
            "\"",
            "0123456\u{0}",
            "\u{0}\u{1}\"\\\u{1f} \"\u{0}",
        ] {
            let b = text.as_bytes();
            for start in 0..=b.len() {
                let expected = b[start..]
                    .iter()
                    .position(|&c| !PLAIN[c as usize])
                    .map_or(b.len(), |p| start + p);
                assert_eq!(plain_run(b, start), expected, "{text:?} from {start}");
            }
        }
    }

    #[test]
    fn every_byte_value_is_classed_as_the_table_says_at_every_place_in_a_block() {
        for b in 0..=255u8 {
            for at in 0..16 {
                // Alone, or with a quote or a high byte after it.
                for (later, fill) in (at..16).flat_map(|l| [(l, b'"'), (l, 0xff)]) {
                    let mut bytes = [b'a'; 16];
                    bytes[later] = fill;
                    bytes[at] = b;
                    let expected = bytes.iter().position(|&c| !PLAIN[c as usize]);
                    assert_eq!(first_special(&bytes), expected, "{bytes:?}");
                    assert_eq!(first_special_swar(&bytes), expected, "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn every_byte_value_is_classed_as_the_table_says_at_every_place_in_a_word() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[at] = b;
                let flags = specials(u64::from_le_bytes(bytes));
                if PLAIN[b as usize] {
                    assert_eq!(flags, 0, "{b:#x} at {at}");
                } else {
                    assert_eq!(first(flags), at, "{b:#x} at {at}");
                }
            }
        }
    }
}
